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

# %% tags=["exercise"] exercise="he_init"
rng = np.random.default_rng(0)


def he_normal(shape, dtype=None):
    fan_in = shape[0]
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape).astype(dtype or "float32")


# %% tags=["exercise"] exercise="stable_log_softmax"
def stable_log_softmax(x):
    m = ops.max(x, axis=-1, keepdims=True)
    shifted = x - m
    return shifted - ops.log(ops.sum(ops.exp(shifted), axis=-1, keepdims=True))


# %% tags=["exercise"] exercise="silu_backward"
class FixedSilu(ops.nn.Silu):
    """y = x·σ(x).   dy/dx = σ(x)·(1 + x·(1 - σ(x)))."""

    def backward(self, g):
        x = self.inputs[0]
        s = ops.sigmoid(x)
        return g * s * (1 + x * (1 - s))
