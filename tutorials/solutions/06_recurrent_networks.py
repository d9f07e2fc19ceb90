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

# %% tags=["exercise"] exercise="lstm_step"
def lstm_step(x_t, h, c, W, U, b):
    n = h.shape[1]
    z = x_t @ W + h @ U + b
    i = sigmoid(z[:, :n])
    f = sigmoid(z[:, n:2 * n])
    candidate = np.tanh(z[:, 2 * n:3 * n])
    o = sigmoid(z[:, 3 * n:])
    c_new = f * c + i * candidate
    h_new = o * np.tanh(c_new)
    return h_new, c_new


# %% tags=["exercise"] exercise="rnn_backward"
def rnn_backward(x, W_x, W_h, hs, g):
    dW_x, dW_h = np.zeros_like(W_x), np.zeros_like(W_h)
    delta = g                                   # dL/dh_T
    for t in range(x.shape[1], 0, -1):
        a = delta * (1 - hs[t] ** 2)            # back through the tanh of step t
        dW_x += x[:, t - 1].T @ a
        dW_h += hs[t - 1].T @ a
        delta = a @ W_h.T                       # on to h_{t-1}
    return dW_x, dW_h
