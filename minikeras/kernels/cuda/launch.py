"""The launch shape shared by the launchers."""

#: Threads per block for 1-D launches: a multiple of the warp size (32), well under 1024.
THREADS_PER_BLOCK = 128
#: Grid-stride loops let a capped number of blocks cover any size.
MAX_BLOCKS = 1024


def grid_1d(n, threads=THREADS_PER_BLOCK):
    """(blocks, threads) for a grid-stride loop over ``n`` items."""
    assert 0 < threads <= 1024, "a CUDA block holds at most 1024 threads"
    blocks = min(max(1, (n + threads - 1) // threads), MAX_BLOCKS)
    return blocks, threads
