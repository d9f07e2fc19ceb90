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

# %% tags=["exercise"] exercise="attention"
def attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])     # (..., T, S)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)                 # a hidden key: weight ~0
    weights = softmax(scores, axis=-1)
    return weights @ V, weights


# %% tags=["exercise"] exercise="layer_norm"
def layer_norm(x, gamma, beta, epsilon=1e-3):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta
