"""From DOT text to a picture: the one drawing step that ``utils.plot_model`` and
``debug.plot_tape`` share.

DOT is Graphviz's plain-text language for graphs (``a -> b;``). minikeras writes the text
itself; turning it into SVG, PNG or PDF needs Graphviz's ``dot`` program, called through
the ``graphviz`` Python package when it is installed, else run directly. Without ``dot``
the DOT text is written beside the picture and the error says how to install Graphviz.
"""
import os
import shutil
import subprocess
import sys

try:
    import graphviz
except ImportError:
    graphviz = None

from ..saving.files import atomic_write_bytes

__all__ = ["GraphvizNotFound", "quote", "write_picture", "render", "shown"]

FORMATS = ("svg", "png", "pdf")


class GraphvizNotFound(ImportError, RuntimeError):
    """Graphviz's ``dot`` program is not installed (an ImportError, as in Keras)."""


def quote(text):
    """``text`` as a DOT string: in double quotes, with quotes, backslashes and newlines
    escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_picture(dot_text, to_file, caller, default="png"):
    """Draw ``dot_text`` into ``to_file``, whose ending picks the format (.svg, .png, .pdf;
    .dot writes the text itself; no ending means ``default``). Returns the path written.
    ``caller`` names the public function in messages."""
    root, ext = os.path.splitext(str(to_file))
    fmt = ext.lstrip(".").lower() or default
    path = str(to_file) if ext else f"{root}.{fmt}"
    if fmt == "dot":
        atomic_write_bytes(path, dot_text.encode())
        return path
    if fmt not in FORMATS:
        raise ValueError(f"{caller}(): to_file must end in .svg, .png, .pdf or .dot; got "
                         f"{str(to_file)!r}. Pick one of those endings.")
    program = shutil.which("dot")
    if program is None:
        dot_file = root + ".dot"
        atomic_write_bytes(dot_file, dot_text.encode())
        raise GraphvizNotFound(
            f"{caller}(): Graphviz's `dot` program was not found, so {path} could not be "
            f"drawn; the DOT text was written to {dot_file}. Install Graphviz (Debian/Ubuntu: "
            "apt-get install graphviz; macOS: brew install graphviz; conda: conda install "
            "graphviz), or paste the .dot file into any Graphviz viewer.")
    atomic_write_bytes(path, render(dot_text, fmt, caller, program))
    return path


def render(dot_text, fmt, caller, program=None):
    """The picture's bytes (``fmt``: svg, png or pdf), from the graphviz package or from
    the ``dot`` program; None when ``dot`` is not installed."""
    program = program or shutil.which("dot")
    if program is None:
        return None
    if graphviz is not None:
        try:
            return graphviz.Source(dot_text).pipe(format=fmt)
        except graphviz.CalledProcessError as e:
            raise RuntimeError(f"{caller}(): dot failed: {e}") from None
    done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{caller}(): dot failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def shown(path):
    """In a notebook (a running IPython), a display object that shows the picture inline:
    ``IPython.display.SVG`` or ``Image``; elsewhere the path itself. IPython is never
    imported here: it is used only when it is already running."""
    ipython = sys.modules.get("IPython")
    display = sys.modules.get("IPython.display")
    if ipython is None or display is None or ipython.get_ipython() is None:
        return path
    if path.endswith(".svg"):
        return display.SVG(filename=path)
    if path.endswith(".png"):
        return display.Image(filename=path)
    return path
