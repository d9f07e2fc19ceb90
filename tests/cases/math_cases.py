"""Cases for minikeras/ops/math.py (elementwise arithmetic) and ops/core.py."""
import numpy as np

from minikeras import ops

from . import Case, broadcastable, shapes, values


def _binary(low=-2.0, high=2.0, avoid=None, avoid_equal=False):
    def draw(d):
        sa, sb = broadcastable(d)
        a = values(d, sa, low, high, avoid)
        b = values(d, sb, low, high, avoid)
        if avoid_equal:  # keep |a - b| >= 0.1 so max/min have no ties
            close = np.abs(a - b) < 0.1
            a = np.where(close, a + 0.3, a)
        return [a, b]
    return draw


def _unary(low=-2.0, high=2.0, avoid=None):
    def draw(d):
        return [values(d, d(shapes()), low, high, avoid)]
    return draw


def _scalar_left(d):
    return [values(d, d(shapes()))]


CASES = [
    Case("add", lambda a, b: ops.add(a, b), np.add, _binary(), ("Add",), second=True),
    Case("subtract", lambda a, b: a - b, np.subtract, _binary(), ("Subtract",)),
    Case("multiply", lambda a, b: a * b, np.multiply, _binary(), ("Multiply",), second=True),
    Case("divide", lambda a, b: ops.divide(a, b), np.divide, _binary(0.5, 2.0), ("Divide",),
         ops=("divide", "true_divide"), second=True),
    Case("power", lambda a, b: ops.power(a, b), np.power, _binary(0.5, 2.0), ("Power",), second=True),
    Case("power_scalar", lambda a: a ** 3, lambda a: a ** 3, _unary(), ("Power",), ops=()),
    Case("rsub_scalar", lambda a: 2.0 - a / 4.0, lambda a: 2.0 - a / 4.0, _unary(),
         ("Subtract", "Divide"), ops=()),
    Case("maximum", lambda a, b: ops.maximum(a, b), np.maximum,
         _binary(avoid_equal=True), ("Maximum",)),
    Case("minimum", lambda a, b: ops.minimum(a, b), np.minimum,
         _binary(avoid_equal=True), ("Minimum",)),
    Case("negative", lambda a: -a, np.negative, _unary(), ("Negative",)),
    Case("abs", lambda a: ops.abs(a), np.abs, _unary(avoid=0.0), ("Abs",), ops=("abs", "absolute")),
    Case("sign", lambda a: ops.sign(a) * a, lambda a: np.sign(a) * a, _unary(avoid=0.0), ("Sign",)),
    Case("square", lambda a: ops.square(a), np.square, _unary(), ("Square",), second=True),
    Case("sqrt", lambda a: ops.sqrt(a), np.sqrt, _unary(0.2, 3.0), ("Sqrt",), second=True),
    Case("reciprocal", lambda a: ops.reciprocal(a), np.reciprocal, _unary(0.3, 3.0), ("Reciprocal",)),
    Case("exp", lambda a: ops.exp(a), np.exp, _unary(), ("Exp",), second=True),
    Case("log", lambda a: ops.log(a), np.log, _unary(0.2, 3.0), ("Log",), second=True),
    Case("log1p", lambda a: ops.log1p(a), np.log1p, _unary(-0.5, 3.0), ("Log1p",)),
    Case("expm1", lambda a: ops.expm1(a), np.expm1, _unary(), ("Expm1",)),
    Case("sin", lambda a: ops.sin(a), np.sin, _unary(), ("Sin",), second=True),
    Case("cos", lambda a: ops.cos(a), np.cos, _unary(), ("Cos",), second=True),
    Case("tanh", lambda a: ops.tanh(a), np.tanh, _unary(), ("Tanh",), second=True),
    Case("clip", lambda a: ops.clip(a, -0.5, 1.0), lambda a: np.clip(a, -0.5, 1.0),
         _unary(avoid=[-0.5, 1.0]), ("Clip",)),
    Case("cast", lambda a: ops.cast(ops.cast(a, "float32"), "float64"),
         lambda a: a.astype(np.float32).astype(np.float64), _unary(), ("Cast",),
         atol=1e-6, tolerance=1e-3, eps=1e-2, keeps_float32=False),
]

# Comparisons give booleans: no gradient, forward only.
def _coarse(d):
    """Values on a grid of 0.5 so that equal elements actually occur."""
    return [np.round(v * 2) / 2 for v in _binary()(d)]


for _name, _ref in [("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
                    ("less_equal", np.less_equal), ("greater", np.greater),
                    ("greater_equal", np.greater_equal)]:
    CASES.append(Case(_name, getattr(ops, _name), _ref, _coarse,
                      (_name.title().replace("_", ""),), grad=False))

def _booleans(count):
    def draw(d):
        return [v > 0 for v in _binary()(d)][:count]
    return draw


for _name, _ref, _n in [("logical_and", np.logical_and, 2), ("logical_or", np.logical_or, 2),
                        ("logical_xor", np.logical_xor, 2), ("logical_not", np.logical_not, 1)]:
    CASES.append(Case(_name, getattr(ops, _name), _ref, _booleans(_n),
                      ("Logical" + _name.split("_")[1].title(),), grad=False,
                      keeps_float32=False))

CASES.append(Case("stop_gradient", lambda a: ops.stop_gradient(a) * a, lambda a: a * a,
                  _unary(), ("StopGradient",),
                  notes="checked against d(a·const)/da = const, see test_stop_gradient",
                  grad=False))
