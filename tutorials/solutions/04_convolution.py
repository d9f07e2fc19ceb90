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

# %% tags=["exercise"] exercise="im2col"
def im2col(x, kh, kw, stride=1):
    n, h, w, c = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    cols = np.zeros((n * oh * ow, kh * kw * c), dtype=x.dtype)
    for s in range(n):
        for i in range(oh):
            for j in range(ow):
                window = x[s, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
                cols[(s * oh + i) * ow + j] = window.ravel()
    return cols


# %% tags=["exercise"] exercise="conv_kernel_grad"
def conv_kernel_grad(x, g, kh, kw):
    c, o = x.shape[3], g.shape[3]
    cols = im2col(x, kh, kw)                       # (N*OH*OW, kh*kw*c)
    return (cols.T @ g.reshape(-1, o)).reshape(kh, kw, c, o)


# %% tags=["exercise"] exercise="max_pool_backward"
def max_pool_backward(x, g):
    dx = np.zeros_like(x)
    n, h, w, c = x.shape
    for s in range(n):
        for i in range(h // 2):
            for j in range(w // 2):
                for k in range(c):
                    block = x[s, 2 * i:2 * i + 2, 2 * j:2 * j + 2, k]
                    a, b = np.unravel_index(np.argmax(block), (2, 2))
                    dx[s, 2 * i + a, 2 * j + b, k] = g[s, i, j, k]
    return dx
