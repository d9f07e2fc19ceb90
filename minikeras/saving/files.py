"""Atomic writes: a file is written beside its destination, then renamed over it.

``os.replace`` is atomic on POSIX and Windows when both paths are on the same file
system, so whoever opens the destination sees either the previous file whole or the new
file whole, never a half-written one, even if the process dies in the middle of a save.
"""
import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_path(filepath, overwrite=True):
    """A temporary path in the destination's folder to write to; on a clean exit it is
    flushed to disk and renamed to ``filepath``; on an error it is removed and
    ``filepath`` is left as it was."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} already exists; pass overwrite=True to replace it.")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Cannot save to {filepath}: it is an existing directory.")
    folder = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"No such file or directory: {filepath!r}: the folder {folder} "
                                "does not exist. Create it first, e.g. "
                                "os.makedirs(folder, exist_ok=True).")
    # a new name beside the target, created as `open` creates files (0666 less the umask;
    # tempfile.mkstemp would make it private)
    tmp = os.path.join(folder, f".{os.path.basename(filepath)}.{secrets.token_hex(4)}.tmp")
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # the bytes reach the disk before the rename
            os.fsync(f.fileno())
        if os.path.exists(filepath):  # a replaced file keeps its permissions
            os.chmod(tmp, os.stat(filepath).st_mode & 0o7777)
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def atomic_write_bytes(filepath, data, overwrite=True):
    """Write ``data`` to ``filepath`` atomically."""
    with atomic_path(filepath, overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
