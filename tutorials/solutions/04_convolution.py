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
