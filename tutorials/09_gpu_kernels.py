# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 09: GPU kernels, in the simulator
#
# A GPU runs the same small function, the **kernel**, in thousands of threads at once. Each
# thread knows its own number and works on its own piece of the data. In this lesson you
# write three kernels with [Numba](https://numba.readthedocs.io)'s `cuda.jit`: an elementwise
# kernel, a sum (a *reduction*) with shared memory and a barrier, and a matrix product in
# tiles. Then you read minikeras's own GPU kernels and watch them run under `model.fit`'s
# training step.
#
# You need no GPU. Numba has a **CUDA simulator** that runs each GPU thread as a Python
# thread on the CPU: slow, but the same code, with readable errors. On a machine with an
# NVIDIA GPU the same lesson runs on the GPU.
#
# **What you will learn**
#
# - threads, blocks and the grid: which thread computes which element, and why a kernel
#   checks its bounds;
# - shared memory and `cuda.syncthreads()`: a block's threads working together, and what
#   goes wrong without the barrier;
# - a tiled matrix product, the classic GPU kernel;
# - what the simulator hides from you, and how minikeras's CUDA backend is built.
#
# **Prerequisites:** lesson 08 (a kernel as a loop over elements). Lesson 04 (matrix
# products inside a convolution) helps.
#
# **Time:** about 60 minutes.
#
# The first cell must run before anything imports Numba: the simulator is chosen when Numba
# is imported, once per process. (In a notebook: restart the kernel, then run from the top.)

# %%
import os

GPU = os.path.exists("/dev/nvidia0")            # an NVIDIA GPU and its driver are here
if not GPU:
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")   # before anything imports numba
try:
    import cupy  # noqa: F401  (minikeras's cuda backend needs CuPy on a real GPU)
    HAVE_CUPY = True
except ImportError:
    HAVE_CUPY = False
if not GPU or HAVE_CUPY:
    os.environ.setdefault("MINIKERAS_BACKEND", "cuda")   # minikeras on its GPU backend

import inspect
import math
import tempfile
import time

import numpy as np
import numba
from numba import cuda

from exercises import exercise, optional, show

SIMULATED = cuda.to_device.__module__.startswith("numba.cuda.simulator")
assert SIMULATED or GPU, "restart the kernel and run this cell first: numba came in before it"
rng = np.random.default_rng(0)
workdir = tempfile.mkdtemp()
print("running on", "Numba's CUDA simulator (no GPU here)" if SIMULATED else "the GPU")

# %% [markdown]
# ## 1. Threads and blocks, as a Python loop
#
# A launch starts a **grid** of **blocks**; each block holds the same number of **threads**
# (`blockDim`). Thread `threadIdx` of block `blockIdx` computes its global index
#
# $$i = \mathrm{blockIdx}\cdot\mathrm{blockDim} + \mathrm{threadIdx}.$$
#
# Before any GPU, here is a launch written as two plain Python loops (this is how the
# fast.ai course starts, too). The kernel is an ordinary function of one thread. With 10
# elements and blocks of 4 threads we need 3 blocks: 12 threads, so the last 2 have nothing
# to do. That is why every kernel starts with a **bounds check**, `if i < n`.

# %%
def launch_in_python(kernel, blocks, threads, *args):
    """Run `kernel` once per (block, thread), one after the other."""
    for block in range(blocks):
        for thread in range(threads):
            kernel(block, thread, threads, *args)


def double_one(block, thread, threads, x, out):
    i = block * threads + thread           # this thread's element
    if i < x.size:                         # the bounds check: threads past the end do nothing
        out[i] = 2 * x[i]


N_ELEMENTS = 10
x = np.arange(N_ELEMENTS, dtype=np.float32)
out = np.zeros_like(x)
threads = 4
blocks = math.ceil(x.size / threads)       # 3 blocks, 12 threads for 10 elements
launch_in_python(double_one, blocks, threads, x, out)
assert blocks * threads == 12 and np.array_equal(out, 2 * x)
print(out)

# %% [markdown]
# ## 2. The same kernel with `cuda.jit`
#
# On the GPU, the two loops are gone: all threads run at once. Inside the kernel,
# `cuda.blockIdx.x`, `cuda.blockDim.x` and `cuda.threadIdx.x` say who we are
# (`cuda.grid(1)` computes $i$ in one call). A launch is written `kernel[blocks, threads](args)`.
# The kernel returns nothing: it writes into an output array.
#
# To see who did what, this kernel also writes its block and thread number next to each
# element. (In the simulator the arrays are NumPy arrays; on a GPU, Numba copies them to the
# device and back.)

# %%
@cuda.jit
def double_kernel(x, out, who_block, who_thread):
    i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    if i < x.size:
        out[i] = 2 * x[i]
        who_block[i] = cuda.blockIdx.x
        who_thread[i] = cuda.threadIdx.x


out = np.zeros_like(x)
who_block = np.full(x.size, -1, dtype=np.int32)
who_thread = np.full(x.size, -1, dtype=np.int32)
double_kernel[blocks, threads](x, out, who_block, who_thread)
assert np.array_equal(out, 2 * x)
assert np.array_equal(who_block, np.arange(10) // 4) and np.array_equal(who_thread, np.arange(10) % 4)
print("block: ", who_block)
print("thread:", who_thread)

# %% [markdown]
# ### Your turn: the body of an elementwise kernel
#
# Write the kernel of `out = a·x + y` ("saxpy"): compute `i` from the block and thread
# numbers, and, **only if `i < out.size`**, store `a * x[i] + y[i]` in `out[i]`.
# The check launches it on sizes that fill the blocks exactly and on sizes that do not.

# %% tags=["exercise"] exercise="elementwise_body"
@cuda.jit
def saxpy_kernel(a, x, y, out):
    # Your turn: this thread's global index i (from its block and thread numbers), then,
    # only for an i inside the array, the store of a * x[i] + y[i] into out[i].
    raise NotImplementedError


# %%
with exercise("elementwise_body") as ex:
    def run_saxpy(a, x, y, threads=4):
        """Launch saxpy_kernel; the output sits in a larger buffer whose last 3 cells are a
        guard zone that no thread should touch."""
        n = x.size
        buffer = cuda.to_device(np.full(n + 3, -777.0, dtype=np.float32))
        saxpy_kernel[math.ceil(n / threads), threads](a, x, y, buffer[:n])
        full = buffer.copy_to_host()
        return full[:n], full[n:]

    x8, y8 = rng.normal(size=(2, 8)).astype(np.float32)
    got, guard = ex.call(run_saxpy, np.float32(2.0), x8, y8)        # 2 full blocks
    ex.expect_close(got, 2 * x8 + y8, what="out (8 elements, 2 full blocks of 4)", rtol=1e-6,
                    hint="out[i] should be a * x[i] + y[i], with i this thread's global index "
                         "blockIdx.x * blockDim.x + threadIdx.x.")
    for n in (10, 1):                                                # the last block half empty
        xn, yn = rng.normal(size=(2, n)).astype(np.float32)
        past_the_end = (f"with {n} element(s) and blocks of 4 threads, some threads have no "
                        "element, but they wrote out[i] anyway (the simulator stopped the "
                        "index past the end; a GPU would silently write into other memory): "
                        "do the work only `if i < out.size:`.")
        try:
            got, guard = run_saxpy(np.float32(-0.5), xn, yn)
        except IndexError:
            ex.fail(past_the_end)
        ex.expect(np.all(guard == -777.0), past_the_end)
        ex.expect_close(got, -0.5 * xn + yn, what=f"out ({n} elements)", rtol=1e-6)

# %% [markdown]
# ## 3. A reduction: threads that work together
#
# A sum needs every element, so threads must combine their results. Inside a block they can,
# through **shared memory** (`cuda.shared.array`, one small array per block, fast, seen by
# all its threads) and a **barrier**, `cuda.syncthreads()`: no thread of the block passes it
# until all have reached it.
#
# The tree: each thread loads one element into `buf`; then, with `step` = 4, 2, 1, thread
# `t < step` adds `buf[t + step]` into `buf[t]`. After $\log_2(\text{threads})$ rounds,
# `buf[0]` holds the block's sum:
#
# ```
# buf:  x0 x1 x2 x3 x4 x5 x6 x7
# step 4: buf[t] += buf[t+4]  for t < 4
# step 2: buf[t] += buf[t+2]  for t < 2
# step 1: buf[0] += buf[1]          -> the sum
# ```
#
# **Why the barrier.** In round `step`, thread 0 reads `buf[4]`, which thread 4 wrote in the
# round before. Without a barrier nothing says thread 4 has written it yet. On a GPU, threads
# run in groups of 32 (warps) in an order you do not choose. We can show it in Python: write
# the thread as a generator that stops (`yield`) where the barrier is. The launcher "with
# barriers" runs every thread up to its next `yield`, then all go on; "without barriers" runs
# thread 0 to the end, then thread 1, ... (one order a GPU is free to pick).

# %%
def block_sum_thread(t, buf, x):
    """One thread of the tree sum; `yield` marks cuda.syncthreads()."""
    buf[t] = x[t] if t < x.size else 0.0
    yield
    step = buf.size // 2
    while step > 0:
        if t < step:
            buf[t] += buf[t + step]
        yield
        step //= 2


def run_block(thread_fn, threads, *args, barriers=True):
    buf = np.zeros(threads)
    running = [thread_fn(t, buf, *args) for t in range(threads)]
    if barriers:                   # everyone up to the barrier, then everyone on
        while running:
            running = [g for g in running if next(g, "done") != "done"]
    else:                          # each thread to its end, one after the other
        for g in running:
            for _ in g:
                pass
    return buf[0]


x = np.arange(1.0, 9.0)           # 1 + 2 + ... + 8 = 36
with_barriers = run_block(block_sum_thread, 8, x)
without = run_block(block_sum_thread, 8, x, barriers=False)
print(f"with barriers: {with_barriers}, without: {without}, the sum: {x.sum()}")
assert with_barriers == x.sum() and without != x.sum()

# %% [markdown]
# Without barriers, thread 0 added `buf[4]`, `buf[2]` and `buf[1]` before the other threads
# had written them: it summed zeros.
#
# ### Your turn: the reduction's loop
#
# Write the tree loop of the CUDA kernel below: `step` starts at `THREADS // 2`; while
# `step > 0`, thread `t < step` adds `buf[t + step]` into `buf[t]`; then **every** thread
# waits at `cuda.syncthreads()` (outside the `if`: a barrier that only some threads reach
# is an error on a GPU) and `step` halves. Thread 0 then writes the block's sum. Blocks
# cannot wait for each other, so the launcher `block_sum` launches again on the blocks'
# partial sums until one number is left.

# %%
THREADS = 8   # threads per block: a power of two


def block_sum(x):
    """The sum of x: one launch of block_sum_kernel per level of blocks."""
    x = np.asarray(x, dtype=np.float64)
    while x.size > 1:
        partial = np.zeros(math.ceil(x.size / THREADS))
        block_sum_kernel[partial.size, THREADS](x, partial)
        x = partial
    return x[0]


# %% tags=["exercise"] exercise="reduction_loop"
@cuda.jit
def block_sum_kernel(x, partial):
    buf = cuda.shared.array(THREADS, numba.float64)   # one per block, shared by its threads
    t = cuda.threadIdx.x
    i = cuda.blockIdx.x * THREADS + t
    buf[t] = x[i] if i < x.size else 0.0              # threads past the end add zeros
    cuda.syncthreads()
    # Your turn: the tree loop. step goes THREADS // 2, then halves, down to 1; in each
    # round the threads t < step add buf[t + step] into buf[t], then every thread (outside
    # the if) waits at cuda.syncthreads().
    raise NotImplementedError
    if t == 0:
        partial[cuda.blockIdx.x] = buf[0]


# %%
with exercise("reduction_loop") as ex:
    for n in (5, 8, 1, 21):        # less than a block, one full block, one element, 3 blocks
        x = rng.normal(size=n)
        got = ex.call(block_sum, x)
        ex.expect_close(got, x.sum(), what=f"the sum of {n} element(s)", rtol=1e-12,
                        hint="each round, threads t < step add buf[t + step] into buf[t], "
                             "with step = THREADS // 2, then halved: 4, 2, 1 (all threads "
                             "call cuda.syncthreads() after each round).")

# %% [markdown]
# ## 4. A tiled matrix product
#
# $C = AB$ with one thread per element of $C$: thread (row, col) computes
# $C_{rc} = \sum_k A_{rk} B_{kc}$. Read naively, each thread reads a whole row of $A$ and a
# whole column of $B$ from the slow global memory; neighbouring threads read the same numbers
# again and again. A **tile** fixes that: a block of TILE × TILE threads loads one TILE ×
# TILE piece of $A$ and one of $B$ into shared memory (each thread loads one number of
# each), waits at the barrier, and every thread then reads TILE numbers of each from the fast
# shared copy. Then the next pair of tiles, until $k$ has run over all of $A$'s columns.
#
# The grid is 2-D now: `blockIdx.x`, `threadIdx.x` go along the columns of $C$, `.y` along
# the rows. A tile that hangs over the edge of $A$ or $B$ is filled with zeros, so shapes
# need not be multiples of TILE.
#
# ### Your turn: the tiled matmul's inner loop
#
# Inside the loop over tiles, once both tiles are loaded, add to `acc` the products of
# this thread's row of the `A` tile, `sA[ty, k]`, with its column of the `B` tile,
# `sB[k, tx]`, for `k` in `range(TILE)`.

# %%
TILE = 4


def matmul(A, B):
    """C = A @ B with matmul_kernel: one thread per element of C, in TILE x TILE blocks."""
    C = np.full((A.shape[0], B.shape[1]), np.nan)
    grid = (math.ceil(B.shape[1] / TILE), math.ceil(A.shape[0] / TILE))   # (x: columns, y: rows)
    matmul_kernel[grid, (TILE, TILE)](A, B, C)
    return C


# %% tags=["exercise"] exercise="tiled_matmul_inner"
@cuda.jit
def matmul_kernel(A, B, C):
    sA = cuda.shared.array((TILE, TILE), numba.float64)
    sB = cuda.shared.array((TILE, TILE), numba.float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    acc = 0.0
    for start in range(0, A.shape[1], TILE):                   # one pair of tiles at a time
        inside_a = row < A.shape[0] and start + tx < A.shape[1]
        inside_b = start + ty < B.shape[0] and col < B.shape[1]
        sA[ty, tx] = A[row, start + tx] if inside_a else 0.0  # each thread loads one number
        sB[ty, tx] = B[start + ty, col] if inside_b else 0.0  # of each tile
        cuda.syncthreads()                                     # both tiles are complete
        # Your turn: add to acc the products of row ty of sA with column tx of sB,
        # for k = 0 .. TILE - 1.
        raise NotImplementedError
        cuda.syncthreads()                                     # done with them: reload
    if row < C.shape[0] and col < C.shape[1]:
        C[row, col] = acc


# %%
with exercise("tiled_matmul_inner") as ex:
    for m, k, n in [(5, 7, 6), (1, 3, 1), (9, 5, 2)]:      # none of them multiples of TILE
        A, B = rng.normal(size=(m, k)), rng.normal(size=(k, n))
        got = ex.call(matmul, A, B)
        ex.expect_close(got, A @ B, what=f"C = A @ B for A {A.shape} and B {B.shape}",
                        rtol=1e-10, atol=1e-12,
                        hint="acc adds sA[ty, k] * sB[k, tx] over k in range(TILE): the row "
                             "ty of A's tile times the column tx of B's tile (+=, not =).")

# %% [markdown]
# ## 5. A picture: who computed what
#
# A little kernel with the launch shape of each of our kernels writes, into every element it
# owns, the number of its block and of its thread. Top: the elementwise launch of section 2
# (10 elements, 3 blocks of 4; two threads idle). Bottom: the matmul launch for $C$ of shape
# 5 × 6 with TILE = 4: 2 × 2 blocks of 4 × 4 threads; the hatched threads fall outside $C$ and
# only help load tiles.

# %%
@cuda.jit
def whoami_2d(block_y, block_x, thread_y, thread_x):
    col, row = cuda.grid(2)                       # cuda.grid(2) gives (x, y)
    if row < block_y.shape[0] and col < block_y.shape[1]:
        block_y[row, col] = cuda.blockIdx.y
        block_x[row, col] = cuda.blockIdx.x
        thread_y[row, col] = cuda.threadIdx.y
        thread_x[row, col] = cuda.threadIdx.x


M, N = 5, 6
maps = [np.full((M, N), -1, dtype=np.int32) for _ in range(4)]
whoami_2d[(math.ceil(N / TILE), math.ceil(M / TILE)), (TILE, TILE)](*maps)
block_y, block_x, thread_y, thread_x = maps
assert np.array_equal(block_y, np.arange(M)[:, None] // TILE + 0 * np.arange(N))
assert np.array_equal(thread_x, np.arange(N)[None, :] % TILE + 0 * np.arange(M)[:, None])

# %%
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

colours = ["#8dd3c7", "#fdb462", "#bebada", "#fb8072"]
fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 8.8), gridspec_kw={"height_ratios": [1, 3]})

for slot in range(blocks * threads):               # section 2's launch
    b, t = divmod(slot, threads)
    idle = slot >= N_ELEMENTS
    top.add_patch(Rectangle((slot, 0), 0.95, 0.95, facecolor="white" if idle else colours[b],
                            hatch="//" if idle else None, edgecolor="0.3"))
    top.text(slot + 0.47, 0.62, f"b{b} t{t}", ha="center", fontsize=8)
    top.text(slot + 0.47, 0.22, "idle" if idle else f"out[{slot}]", ha="center", fontsize=8)
top.set_xlim(-0.1, 12.1)
top.set_ylim(-0.1, 1.05)
top.set_title("1-D launch: 10 elements, 3 blocks × 4 threads (i = block · 4 + thread)")
top.axis("off")

for row in range(2 * TILE):                       # the matmul's launch over C (5 x 6)
    for col in range(2 * TILE):
        by, bx, ty, tx = row // TILE, col // TILE, row % TILE, col % TILE
        inside = row < M and col < N
        if inside:
            assert (block_y[row, col], block_x[row, col]) == (by, bx)
            assert (thread_y[row, col], thread_x[row, col]) == (ty, tx)
        bottom.add_patch(Rectangle((col, -row), 0.95, 0.95, edgecolor="0.3",
                                   facecolor=colours[2 * by + bx] if inside else "white",
                                   hatch=None if inside else "//"))
        label = f"C[{row},{col}]\nt({ty},{tx})" if inside else f"t({ty},{tx})"
        bottom.text(col + 0.47, -row + 0.45, label, ha="center", va="center", fontsize=7)
for k in range(3):                                # tile borders
    bottom.plot([0, 2 * TILE], [1 - k * TILE, 1 - k * TILE], color="k", lw=2)
    bottom.plot([k * TILE, k * TILE], [1, 1 - 2 * TILE], color="k", lw=2)
bottom.legend(handles=[Rectangle((0, 0), 1, 1, facecolor=colours[2 * by + bx], edgecolor="0.3",
                                 label=f"block (y={by}, x={bx})")
                       for by in range(2) for bx in range(2)]
              + [Rectangle((0, 0), 1, 1, facecolor="white", hatch="//", edgecolor="0.3",
                           label="outside C: loads tiles only")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False, fontsize=8)
bottom.set_xlim(-0.2, 2 * TILE + 0.2)
bottom.set_ylim(-2 * TILE + 0.8, 1.2)
bottom.set_title("2-D launch of the tiled matmul for C (5 × 6): 2 × 2 blocks (colours) of "
                 "4 × 4 threads t(y, x)")
bottom.axis("off")
fig.tight_layout()
fig.savefig(os.path.join(workdir, "grid.png"), dpi=100)
show(fig)

# %% [markdown]
# ## 6. What the simulator hides
#
# The simulator runs your kernel as Python: that is why a wrong index gives a readable
# `IndexError` with the thread's number (`tid=[...] ctaid=[...]`: thread and block), and why
# you can put `breakpoint()` inside a kernel. It is not a GPU, though:
#
# | on a GPU | in the simulator |
# |---|---|
# | an index past the end silently corrupts memory | `IndexError`, naming the thread |
# | two threads doing `out[0] += 1` at once lose updates (use `cuda.atomic.add`) | threads take turns: the race usually does not show |
# | a barrier that only some threads reach hangs or is undefined | it completes |
# | at most 1024 threads per block, 48 KiB of static shared memory | not checked |
# | the kernel is compiled: a Python list or a wrong type inside is an error | runs any Python |
# | `math.exp` of a float32 is a float32 | often a float64 (NumPy scalars) |
# | billions of operations a second | one Python thread per CUDA thread: a tiny matmul takes a visible fraction of a second (timed below) |
#
# (The library's test suite compiles its kernels with the real compiler, without a GPU, to
# catch the "compiled" row: `tests/cudasim/test_ptx.py`.) Two of these rows, shown:

# %%
@cuda.jit
def count_racy(counter):
    counter[0] += 1                   # read, add, write: another thread may write in between


@cuda.jit
def count_atomic(counter):
    cuda.atomic.add(counter, 0, 1)    # one indivisible read-add-write


racy, atomic = np.zeros(1, np.int64), np.zeros(1, np.int64)
count_racy[2, 64](racy)
count_atomic[2, 64](atomic)
print(f"128 threads counted: {racy[0]} without atomics, {atomic[0]} with cuda.atomic.add")
assert atomic[0] == 128


@cuda.jit
def no_bounds_check(x, out):
    i = cuda.grid(1)
    out[i] = x[i]                     # 8 threads, 6 elements


if SIMULATED:
    try:
        no_bounds_check[2, 4](np.ones(6), np.zeros(6))
        raise AssertionError("the simulator should have stopped the index past the end")
    except IndexError as e:
        print("the simulator says:", e)

start = time.perf_counter()
matmul(rng.normal(size=(8, 8)), rng.normal(size=(8, 8)))
print(f"one 8 x 8 tiled matmul (64 threads): {1e3 * (time.perf_counter() - start):.1f} ms "
      f"{'in the simulator' if SIMULATED else 'on the GPU, with the copies'}")

# %% [markdown]
# ## 7. minikeras's own GPU kernels
#
# minikeras's `cuda` backend (`minikeras/backend/cuda_backend.py`) uses CuPy arrays on a GPU
# and, in the simulator, NumPy arrays. Its kernel table (`minikeras/kernels/cuda/__init__.py`)
# lists, family by family, the kernels written in this folder: activations, softmax, the
# reductions, the fused cross-entropy, im2col and col2im, pooling, normalization, dropout,
# embedding, the LSTM and GRU gate steps and the optimizer updates. The matrix products run
# cuBLAS through CuPy, unless `keras.config.set_matmul("ours")` picks the tiled kernel of
# `kernels/cuda/matmul.py`, the same idea as section 4. Each kernel sits beside a small
# **launcher** that allocates the output and picks the grid. ReLU first: note the
# **grid-stride loop**. A launch is capped at 1024 blocks (`launch.py`), so each thread
# handles elements `i, i + gridsize, i + 2·gridsize, ...` and any size is covered. Every
# launch goes through `launch.launch`, which refuses a block or shared memory a real GPU
# would refuse (the simulator would run it).

# %%
import importlib

from minikeras.kernels.cuda import activations as cuda_activations
from minikeras.kernels.cuda import launch, updates

cuda_softmax = importlib.import_module("minikeras.kernels.cuda.softmax")
cuda_matmul = importlib.import_module("minikeras.kernels.cuda.matmul")

print(inspect.getsource(cuda_activations._relu_kernel.py_func))
print(inspect.getsource(cuda_activations.relu))
print(inspect.getsource(launch.grid_1d))

# %% [markdown]
# Softmax: one block per row. The block's threads find the row's maximum and then the sum of
# the exponentials with the tree reduction of section 3 (a device function shared with the
# reductions, in `kernels/cuda/reduction.py`), then each thread writes its elements. Adam's
# update: one thread per weight, the whole update in one launch. And the library's tiled
# matmul, section 4's kernel with its edges padded.

# %%
print(inspect.getsource(cuda_softmax._softmax_rows_kernel.py_func))
print(inspect.getsource(updates._adam_kernel.py_func))
print(inspect.getsource(cuda_matmul._matmul_tiled_kernel.py_func))

# %% [markdown]
# The launchers take arrays of the device (NumPy arrays in the simulator) and give the same
# numbers as the CPU's kernels:

# %%
from minikeras.kernels.cpu import activations as cpu_activations

rows = rng.normal(size=(3, 5)).astype(np.float32)
assert np.array_equal(cuda_activations.relu(rows), np.maximum(rows, 0))
assert np.allclose(cuda_softmax.softmax(rows), cpu_activations.softmax(rows), rtol=1e-6)
print(cuda_softmax.softmax(rows).sum(axis=1))
a, b = rng.normal(size=(5, 7)).astype(np.float32), rng.normal(size=(7, 3)).astype(np.float32)
assert np.allclose(cuda_matmul.tiled_matmul(a, b), a @ b, rtol=1e-5, atol=1e-6)

# %% [markdown]
# The backend is chosen once, when minikeras is imported: the first cell set
# `MINIKERAS_BACKEND=cuda` (and, without a GPU, `NUMBA_ENABLE_CUDASIM=1`). So here, in this
# process, `import minikeras` gives the `cuda` backend, and `debug.trace` shows each op going
# down to its kernel launch, with the grid and the block the launcher picked. One training step
# of a small model, then the trace's table: the kernels are there by name.

# %%
import minikeras as keras
from minikeras import debug, layers, ops

print("backend:", keras.config.backend(), "| mode:", keras.backend.mode)
if keras.config.backend() == "cuda":
    with debug.trace() as t:
        y = ops.relu(ops.convert_to_tensor(np.linspace(-1, 1, 10, dtype=np.float32)))
    print(t)
    assert "_relu_kernel[grid (1,), block (128,)]" in str(t)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    xb = rng.normal(size=(4, 6)).astype(np.float32)
    yb = np.array([0, 1, 2, 0])
    model.train_on_batch(xb, yb)                   # the first step builds the optimizer
    with debug.trace() as t:
        model.train_on_batch(xb, yb)
    table = t.table()
    print(table[table.index("kernel or array function"):])
    for name in ("_relu_kernel", "_relu_grad_kernel", "_softmax_rows_kernel", "_adam_kernel"):
        assert name in table
else:
    print("minikeras's cuda backend needs CuPy on a GPU (pip install 'minikeras[gpu]'); the "
          "kernels above can still be read.")

# %% [markdown]
# ## Summary
#
# - A kernel is the code of **one thread**; a launch `kernel[blocks, threads](...)` runs it
#   in a grid of blocks. Thread `i = blockIdx · blockDim + threadIdx` does element `i`, and
#   checks `i < n` first.
# - Threads of a **block** share fast memory (`cuda.shared.array`) and wait for each other
#   at `cuda.syncthreads()`. A reduction and a tiled matmul both need the barrier: without
#   it, a thread reads what another has not written yet.
# - Blocks cannot wait for each other: a sum over blocks takes a second launch (or atomics).
# - The **simulator** runs the same code on any laptop, one Python thread per GPU thread,
#   with readable errors; it hides races, missing barriers, hardware limits and speed.
# - minikeras's GPU kernels are the same kind of code: a grid-stride loop beside a launcher,
#   in `minikeras/kernels/cuda/`.
#
# **Where to go next:** lesson 10 writes the training loop by hand with `GradientTape`. To go
# further with GPUs: write a kernel for the ReLU's gradient with a grid-stride loop and
# compare it with `_relu_grad_kernel`; make `block_sum` use `cuda.atomic.add` for the
# second level; on a GPU, time the tiled matmul against `cupy.matmul`.
