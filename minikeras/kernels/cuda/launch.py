"""The launch shape shared by the launchers, and the hardware limits they are checked against.

Numba's simulator runs any block size and any amount of shared memory, so a launcher that
would fail on a real GPU passes there. Every launcher therefore goes through :func:`launch`,
which checks the grid, the block and the shared memory of the launch against the limits of
every NVIDIA GPU since compute capability 3.0 and raises before launching.
"""
import math

#: Threads per block for 1-D launches: a multiple of the warp size (32), well under 1024.
THREADS_PER_BLOCK = 128
#: Grid-stride loops let a capped number of blocks cover any size.
MAX_BLOCKS = 1024

#: The hardware limits (CUDA Programming Guide, "Compute Capabilities").
MAX_THREADS_PER_BLOCK = 1024
MAX_BLOCK_DIMS = (1024, 1024, 64)
MAX_GRID_DIMS = (2**31 - 1, 65535, 65535)
#: Shared memory one block may declare statically (``cuda.shared.array``).
MAX_SHARED_BYTES_PER_BLOCK = 48 * 1024
WARP_SIZE = 32


class LaunchError(ValueError):
    """A launch that a real GPU would refuse (the simulator would run it)."""


def _dims(d):
    return tuple(d) if isinstance(d, (tuple, list)) else (d,)


def check_launch(name, grid, block, shared_bytes=0):
    """Raise :class:`LaunchError` if ``kernel[grid, block]`` with ``shared_bytes`` of shared
    memory per block exceeds what a GPU allows; return the (grid, block) tuples."""
    grid, block = _dims(grid), _dims(block)
    if not 1 <= len(block) <= 3 or not 1 <= len(grid) <= 3:
        raise LaunchError(f"{name}: grid and block have 1 to 3 dimensions; got grid {grid}, "
                          f"block {block}")
    for what, dims, limits in (("block", block, MAX_BLOCK_DIMS), ("grid", grid, MAX_GRID_DIMS)):
        for axis, (n, limit) in enumerate(zip(dims, limits)):
            if not isinstance(n, int) or n < 1:
                raise LaunchError(f"{name}: every {what} dimension is a positive int; got "
                                  f"{what} {dims}")
            if n > limit:
                raise LaunchError(f"{name}: {what} dimension {'xyz'[axis]} is {n}, more than "
                                  f"the {limit} a GPU allows ({what} {dims})")
    threads = math.prod(block)
    if threads > MAX_THREADS_PER_BLOCK:
        raise LaunchError(f"{name}: a block of {block} has {threads} threads; a GPU runs at "
                          f"most {MAX_THREADS_PER_BLOCK} threads per block")
    if shared_bytes > MAX_SHARED_BYTES_PER_BLOCK:
        raise LaunchError(f"{name}: {shared_bytes} bytes of shared memory per block; a GPU "
                          f"gives a block at most {MAX_SHARED_BYTES_PER_BLOCK} bytes")
    return grid, block


def launch(kernel, grid, block, *args, shared_bytes=0):
    """``kernel[grid, block](*args)`` after :func:`check_launch` (``shared_bytes``: the
    shared memory the kernel declares per block)."""
    name = getattr(getattr(kernel, "py_func", kernel), "__name__", str(kernel))
    check_launch(name, grid, block, shared_bytes)
    kernel[grid, block](*args)


def grid_1d(n, threads=THREADS_PER_BLOCK):
    """(blocks, threads) for a grid-stride loop over ``n`` items."""
    check_launch("grid_1d", 1, threads)
    blocks = min(max(1, (n + threads - 1) // threads), MAX_BLOCKS)
    return blocks, threads
