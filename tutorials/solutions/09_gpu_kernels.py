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

# %% tags=["exercise"] exercise="elementwise_body"
@cuda.jit
def saxpy_kernel(a, x, y, out):
    i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    if i < out.size:
        out[i] = a * x[i] + y[i]


# %% tags=["exercise"] exercise="reduction_loop"
@cuda.jit
def block_sum_kernel(x, partial):
    buf = cuda.shared.array(THREADS, numba.float64)   # one per block, shared by its threads
    t = cuda.threadIdx.x
    i = cuda.blockIdx.x * THREADS + t
    buf[t] = x[i] if i < x.size else 0.0              # threads past the end add zeros
    cuda.syncthreads()
    step = THREADS // 2
    while step > 0:
        if t < step:
            buf[t] += buf[t + step]
        cuda.syncthreads()                            # every thread, outside the if
        step //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = buf[0]


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
        for k in range(TILE):
            acc += sA[ty, k] * sB[k, tx]
        cuda.syncthreads()                                     # done with them: reload
    if row < C.shape[0] and col < C.shape[1]:
        C[row, col] = acc

