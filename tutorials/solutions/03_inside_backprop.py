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
# # Solutions to lesson 03: inside backprop

# %% tags=["exercise"] exercise="softmax_xent_backward"
def softmax_xent_backward(logits, labels):
    """dL/dlogits for L = mean over rows of -log softmax(logits)[row, label]."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)

# %% tags=["exercise"] exercise="dense_backward"
def dense_backward(x, W, b, g):
    """Return (dL/dx, dL/dW, dL/db) for z = x @ W + b, given g = dL/dz."""
    return g @ W.T, x.T @ g, g.sum(axis=0)

# %% tags=["exercise"] exercise="relu_backward"
def relu_backward(z, g):
    """dL/dz for h = max(z, 0), given g = dL/dh."""
    return g * (z > 0)
