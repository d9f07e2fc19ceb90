"""Elementwise arithmetic and math functions.

Each op is a Function with its forward (one array call) and its backward (a few ops) side by
side; the docstring gives the derivative. In the backward methods ``g`` is dL/dz, the
gradient of the loss with respect to this op's output ``z``; each method returns dL/d(input)
for every input. Binary ops broadcast like NumPy, so their gradients go through
``unbroadcast`` to get back to each input's shape.
"""
from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from .core import cast, constant, convert_to_tensor, unbroadcast

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "power", "negative", "abs",
           "absolute", "sign", "square", "sqrt", "exp", "log", "log1p", "expm1", "sin", "cos",
           "tanh", "maximum", "minimum", "clip", "reciprocal"]


def _mask(condition, like):
    """A boolean array as a 0/1 constant tensor of ``like``'s dtype."""
    return constant(condition.astype(like.dtype))


# --------------------------------------------------------------------------- binary
class Add(Function):
    """z = x + y.   dz/dx = 1, dz/dy = 1.

    Rule: dL/dx = unbroadcast(g, x); dL/dy = unbroadcast(g, y)
    """

    def forward(self, x, y):
        return x + y

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_grad
        return (unbroadcast(g, x) if nx else None), (unbroadcast(g, y) if ny else None)


class Subtract(Function):
    """z = x - y.   dz/dx = 1, dz/dy = -1.

    Rule: dL/dx = unbroadcast(g, x); dL/dy = unbroadcast(-g, y)
    """

    def forward(self, x, y):
        return x - y

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_grad
        return (unbroadcast(g, x) if nx else None), (unbroadcast(-g, y) if ny else None)


class Multiply(Function):
    """z = x * y.   dz/dx = y, dz/dy = x.

    Rule: dL/dx = unbroadcast(g · y, x); dL/dy = unbroadcast(g · x, y)
    """

    def forward(self, x, y):
        return x * y

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_grad
        return (unbroadcast(g * y, x) if nx else None), (unbroadcast(g * x, y) if ny else None)


class Divide(Function):
    """z = x / y.   dz/dx = 1/y, dz/dy = -x/y² = -z/y.

    Rule: dL/dx = unbroadcast(g / y, x); dL/dy = unbroadcast(-g · x / y², y)
    """

    def forward(self, x, y):
        if x.dtype.kind in "iub" and y.dtype.kind in "iub":
            return backend.xp.true_divide(x, y, dtype=backend.floatx())
        return x / y

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_grad
        gx = unbroadcast(g / y, x) if nx else None
        gy = unbroadcast(-g * x / (y * y), y) if ny else None
        return gx, gy


class Power(Function):
    """z = x ** y.   dz/dx = y·x^(y-1), dz/dy = z·log(x) (defined where x > 0; 0 elsewhere).

    Rule: dL/dx = unbroadcast(g · y · x^(y - 1), x); dL/dy = unbroadcast(g · z · log(x) · [x > 0], y)
    """

    def forward(self, x, y):
        return backend.xp.power(x, y)

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_grad
        gx = unbroadcast(g * y * power(x, y - 1), x) if nx else None
        gy = None
        if ny:
            positive = x.data > 0
            safe_x = where_mask(positive, x, 1.0)
            gy = unbroadcast(g * self.output() * log(safe_x) * _mask(positive, g), y)
        return gx, gy


def where_mask(condition, x, fill):
    """x where ``condition`` (a boolean array) holds, ``fill`` elsewhere; differentiable in x."""
    return x * _mask(condition, x) + _mask(~condition, x) * fill


class Maximum(Function):
    """z = max(x, y).   dz/dx = 1 where x >= y else 0; dz/dy = 1 where y > x else 0
    (ties send the gradient to x, as TensorFlow does).

    Rule: dL/dx = unbroadcast(g · [x >= y], x); dL/dy = unbroadcast(g · [x < y], y)
    """

    def forward(self, x, y):
        return backend.xp.maximum(x, y)

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_grad
        pick_x = x.data >= y.data
        gx = unbroadcast(g * _mask(pick_x, g), x) if nx else None
        gy = unbroadcast(g * _mask(~pick_x, g), y) if ny else None
        return gx, gy


class Minimum(Function):
    """z = min(x, y).   dz/dx = 1 where x <= y else 0; dz/dy = 1 where y < x else 0.

    Rule: dL/dx = unbroadcast(g · [x <= y], x); dL/dy = unbroadcast(g · [x > y], y)
    """

    def forward(self, x, y):
        return backend.xp.minimum(x, y)

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_grad
        pick_x = x.data <= y.data
        gx = unbroadcast(g * _mask(pick_x, g), x) if nx else None
        gy = unbroadcast(g * _mask(~pick_x, g), y) if ny else None
        return gx, gy


def add(x1, x2):
    """x1 + x2, elementwise with broadcasting."""
    return Add()(x1, x2)


def subtract(x1, x2):
    """x1 - x2, elementwise with broadcasting."""
    return Subtract()(x1, x2)


def multiply(x1, x2):
    """x1 * x2, elementwise with broadcasting."""
    return Multiply()(x1, x2)


def divide(x1, x2):
    """x1 / x2 (true division: integers give floatx)."""
    return Divide()(x1, x2)


true_divide = divide


def power(x1, x2):
    """x1 ** x2, elementwise."""
    return Power()(x1, x2)


def maximum(x1, x2):
    """The larger of x1 and x2, elementwise."""
    return Maximum()(x1, x2)


def minimum(x1, x2):
    """The smaller of x1 and x2, elementwise."""
    return Minimum()(x1, x2)


# --------------------------------------------------------------------------- unary
class Negative(Function):
    """z = -x.   dz/dx = -1.

    Rule: dL/dx = -g
    """

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class Abs(Function):
    """z = |x|.   dz/dx = sign(x) (0 at x = 0).

    Rule: dL/dx = g · sign(x)
    """

    def forward(self, x):
        return backend.xp.abs(x)

    def backward(self, g):
        return g * constant(backend.xp.sign(self.inputs[0].data))


class Sign(Function):
    """z = sign(x) ∈ {-1, 0, 1}.   dz/dx = 0 almost everywhere.

    Rule: dL/dx = g · 0
    """

    def forward(self, x):
        return backend.xp.sign(x)

    def backward(self, g):
        return g * 0


class Square(Function):
    """z = x².   dz/dx = 2x.

    Rule: dL/dx = g · 2 · x
    """

    def forward(self, x):
        return x * x

    def backward(self, g):
        return g * 2 * self.inputs[0]


class Sqrt(Function):
    """z = √x.   dz/dx = 1 / (2√x) = 1 / (2z).

    Rule: dL/dx = g / (2 · z)
    """

    def forward(self, x):
        return backend.xp.sqrt(x)

    def backward(self, g):
        return g / (2 * self.output())


class Reciprocal(Function):
    """z = 1/x.   dz/dx = -1/x² = -z².

    Rule: dL/dx = -g · z · z
    """

    def forward(self, x):
        return 1 / x

    def backward(self, g):
        z = self.output()
        return -g * z * z


class Exp(Function):
    """z = eˣ.   dz/dx = eˣ = z.

    Rule: dL/dx = g · z
    """

    def forward(self, x):
        return backend.xp.exp(x)

    def backward(self, g):
        return g * self.output()


class Log(Function):
    """z = ln x.   dz/dx = 1/x.

    Rule: dL/dx = g / x
    """

    def forward(self, x):
        return backend.xp.log(x)

    def backward(self, g):
        return g / self.inputs[0]


class Log1p(Function):
    """z = ln(1 + x), accurate for small x.   dz/dx = 1/(1 + x).

    Rule: dL/dx = g / (1 + x)
    """

    def forward(self, x):
        return backend.xp.log1p(x)

    def backward(self, g):
        return g / (1 + self.inputs[0])


class Expm1(Function):
    """z = eˣ - 1, accurate for small x.   dz/dx = eˣ = z + 1.

    Rule: dL/dx = g · (z + 1)
    """

    def forward(self, x):
        return backend.xp.expm1(x)

    def backward(self, g):
        return g * (self.output() + 1)


class Sin(Function):
    """z = sin x.   dz/dx = cos x.

    Rule: dL/dx = g · cos(x)
    """

    def forward(self, x):
        return backend.xp.sin(x)

    def backward(self, g):
        return g * cos(self.inputs[0])


class Cos(Function):
    """z = cos x.   dz/dx = -sin x.

    Rule: dL/dx = -g · sin(x)
    """

    def forward(self, x):
        return backend.xp.cos(x)

    def backward(self, g):
        return -g * sin(self.inputs[0])


class Tanh(Function):
    """z = tanh x.   dz/dx = 1 - tanh²x = 1 - z².

    Rule: dL/dx = g · (1 - z · z)
    """

    def forward(self, x):
        return backend.kernels.tanh(x)

    def backward(self, g):
        z = self.output()
        return g * (1 - z * z)

    def backward_arrays(self, g):
        return (backend.kernels.tanh_grad(g, self.output().data),)


class Clip(Function):
    """z = min(max(x, lo), hi).   dz/dx = 1 where lo <= x <= hi, else 0.

    Rule: dL/dx = g · [x_min <= x <= x_max]
    """

    def __init__(self, x_min, x_max):
        self.x_min, self.x_max = x_min, x_max

    def forward(self, x):
        return backend.xp.clip(x, self.x_min, self.x_max)

    def backward(self, g):
        x = self.inputs[0].data
        inside = (x >= self.x_min) & (x <= self.x_max)
        return g * _mask(inside, g)


def negative(x):
    """-x."""
    return Negative()(x)


def abs(x):
    """|x|, elementwise."""
    return Abs()(x)


absolute = abs


def sign(x):
    """-1, 0 or 1 by the sign of x."""
    return Sign()(x)


def square(x):
    """x², elementwise."""
    return Square()(x)


def sqrt(x):
    """√x, elementwise (integers give floatx)."""
    return Sqrt()(_float(x))


def reciprocal(x):
    """1/x, elementwise."""
    return Reciprocal()(_float(x))


def exp(x):
    """eˣ, elementwise."""
    return Exp()(_float(x))


def log(x):
    """Natural logarithm, elementwise."""
    return Log()(_float(x))


def log1p(x):
    """ln(1 + x), elementwise."""
    return Log1p()(_float(x))


def expm1(x):
    """eˣ - 1, elementwise."""
    return Expm1()(_float(x))


def sin(x):
    """Sine, elementwise."""
    return Sin()(_float(x))


def cos(x):
    """Cosine, elementwise."""
    return Cos()(_float(x))


def tanh(x):
    """Hyperbolic tangent, elementwise."""
    return Tanh()(_float(x))


def clip(x, x_min, x_max):
    """x limited to [x_min, x_max] (``keras.ops.clip``)."""
    return Clip(float(x_min) if isinstance(x_min, float) else x_min,
                float(x_max) if isinstance(x_max, float) else x_max)(x)


def _float(x):
    """Integer inputs of the transcendental functions become floatx, as in Keras."""
    t = x if isinstance(x, Tensor) else convert_to_tensor(x)
    return cast(t, backend.floatx()) if t.dtype.kind in "iub" else t
