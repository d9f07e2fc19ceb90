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

# %% tags=["exercise"] exercise="mish_backward"
class Mish(keras.Function):
    """y = x · tanh(softplus(x)).   dy/dx = t + x · σ(x) · (1 - t²), t = tanh(softplus(x)).

    Rule: dL/dx = g · (t + x · sigmoid(x) · (1 - t²)), t = tanh(softplus(x))
    """

    def forward(self, x):
        softplus = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        return x * xp.tanh(softplus)

    def backward(self, g):
        x = self.inputs[0]
        t = ops.tanh(ops.softplus(x))
        return g * (t + x * ops.sigmoid(x) * (1 - t * t))


def mish(x):
    """Mish of a Tensor (or array), as one node on the tape."""
    return Mish()(x)


# %% tags=["exercise"] exercise="mish_dense_call"
@keras.saving.register_keras_serializable(package="course")
class MishDense(layers.Layer):
    """A fully connected layer followed by Mish: mish(x @ kernel + bias)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x):
        return mish(ops.matmul(x, self.kernel) + self.bias)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


# %% tags=["exercise"] exercise="mish_loop_body"
import math


def mish_loop(x, out):
    """out[i] = mish(x[i]) for every i; x and out are flat arrays of the same size."""
    for i in range(x.size):
        v = x[i]
        softplus = max(v, 0.0) + math.log1p(math.exp(-abs(v)))
        out[i] = v * math.tanh(softplus)
