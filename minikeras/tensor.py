"""Tensor and Variable: an array plus the node of the tape that made it.

A :class:`Tensor` wraps one array of the backend (``backend.xp``). When it was computed by an
op while gradients were being recorded, ``t._node`` is that op's :class:`~minikeras.autograd.Function`
object, and ``t._node.inputs`` leads further back: following those links is the whole graph
that backpropagation walks.

A :class:`Variable` is a Tensor that a model trains: it has a name, a ``trainable`` flag and
can be changed in place with ``assign``, ``assign_add`` and ``assign_sub``.

The Python operators (``+``, ``*``, ``@``, ``[...]``, ``<`` ...) are the ops of
:mod:`minikeras.ops` themselves: minikeras/ops/operators.py binds them to this class in one
table (the ops are written on top of this file, so it cannot import them). ``backward()`` is
the walk of the tape, bound by minikeras/autograd/__init__.py the same way.
"""
import numpy as np

from . import backend


def _default_dtype(data):
    """The dtype Keras gives host data that has none of its own: floats become floatx,
    Python ints int32, bools bool; NumPy arrays and scalars keep theirs."""
    if isinstance(data, (np.ndarray, np.generic)):
        return None
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return backend.floatx()
    if arr.dtype.kind in "iu":
        return "int32"
    return None


# NumPy ufunc -> the Tensor's operator for it, and the one Python calls when the Tensor is
# on the right (``2 - t`` is ``t.__rsub__(2)``, ``2 > t`` is ``t.__lt__(2)``)
_OPERATORS = {"add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"),
              "multiply": ("__mul__", "__rmul__"), "divide": ("__truediv__", "__rtruediv__"),
              "true_divide": ("__truediv__", "__rtruediv__"),  # its name before NumPy 2
              "power": ("__pow__", "__rpow__"), "matmul": ("__matmul__", "__rmatmul__"),
              "greater": ("__gt__", "__lt__"), "greater_equal": ("__ge__", "__le__"),
              "less": ("__lt__", "__gt__"), "less_equal": ("__le__", "__ge__"),
              "equal": ("__eq__", "__eq__"), "not_equal": ("__ne__", "__ne__")}


class Tensor:
    """An n-dimensional array that remembers the op that made it.

    ``Tensor(data, dtype=None, requires_grad=False, name=None)``: ``data`` is a nested list,
    a scalar, a NumPy array or an array of the backend. Python floats become ``floatx()``
    (float32) and Python ints int32, as in ``keras.ops.convert_to_tensor``; arrays keep
    their dtype.

    ``requires_grad=True`` asks the tape to record every op applied to this tensor, so that
    ``loss.backward()`` fills ``t.grad`` (the PyTorch/micrograd way). Inside a
    :class:`~minikeras.GradientTape`, ``tape.watch(t)`` does the same for the tape's lifetime.
    """

    __slots__ = ("data", "requires_grad", "grad", "_node", "_hooks", "_watchers",
                 "name", "_keras_mask", "__weakref__")
    # NumPy defers to our reflected operators (np_array + tensor -> Tensor.__radd__).
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, requires_grad=False, name=None):
        if isinstance(data, Tensor):
            data = data.data
        if backend.is_device_array(data):
            if dtype is not None and data.dtype != dtype:
                data = data.astype(dtype)
        else:
            if backend.is_gpu_array(data):
                raise backend.device_mismatch(data, "Tensor()")
            data = backend.asarray(data, dtype=dtype or _default_dtype(data))
        self.data = data
        self.grad = None
        self._node = None
        self._hooks = None
        self._watchers = 0
        self.name = name
        self.requires_grad = False
        if requires_grad:
            _check_float(self, "requires_grad=True")
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data):
        """A Tensor around an array of the backend, without any conversion (used by ops)."""
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t._node = None
        t._hooks = None
        t._watchers = 0
        t.name = None
        t.requires_grad = False
        return t

    # ----------------------------------------------------------------- array facts
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return int(self.data.size)

    @property
    def node(self):
        """The Function that computed this tensor on the tape, or None for a leaf."""
        return self._node

    @property
    def is_leaf(self):
        """True if no recorded op made this tensor (inputs, weights, constants)."""
        return self._node is None

    def numpy(self):
        """The values as a NumPy array on the host (a copy from the GPU on the cuda backend)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with exactly one element, got shape {self.shape}.")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy's ufuncs given a Tensor. An operator with an array on the left
        (``array * t``) is the Tensor's own reflected operator. Any other ufunc returns a
        plain array, which the tape cannot follow: on a tensor the tape recorded, that would
        cut the gradient without a word, so it is refused, naming the op to use."""
        operator = _OPERATORS.get(ufunc.__name__)
        if method == "__call__" and operator and len(inputs) == 2 and not kwargs:
            a, b = inputs
            return getattr(a, operator[0])(b) if isinstance(a, Tensor) else \
                getattr(b, operator[1])(a)
        for t in inputs:
            if isinstance(t, Tensor) and t._node is not None:
                raise TypeError(
                    f"np.{ufunc.__name__} was given a Tensor the tape recorded (made by "
                    f"{t._node.name}): NumPy returns a plain array the tape cannot follow, so "
                    f"the gradient would stop here. Use keras.ops.{ufunc.__name__}(...) instead "
                    "(or .numpy() first, to leave the graph on purpose).")
        arrays = [t.numpy() if isinstance(t, Tensor) else t for t in inputs]
        return getattr(ufunc, method)(*arrays, **kwargs)

    # astype(dtype) and the property T (the transpose): bound by minikeras/ops/operators.py

    def detach(self):
        """The same values as a new leaf tensor that no gradient flows through."""
        return Tensor._wrap(self.data)

    # ----------------------------------------------------------------- gradients
    # t.backward(gradient=None, retain_graph=False, create_graph=False) is
    # autograd.walk.backward(t, ...), bound by minikeras/autograd/__init__.py.

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self.grad = None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when the gradient with respect to this tensor is computed.

        The hook may return a new gradient to use instead (e.g. to clip it) or None to keep
        it. Returns a handle whose ``remove()`` takes the hook away.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook() needs a tensor that requires gradients; create it "
                               "with requires_grad=True or watch it with a GradientTape first.")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self, hook)

    # ----------------------------------------------------------------- Python protocol
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor (a scalar) is undefined.")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor (a scalar) is undefined.")
        for i in range(self.data.shape[0]):
            yield self[i]

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.size} elements (shape "
                             f"{self.shape}) is ambiguous; use ops.any(...) or ops.all(...).")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}.")
        return int(self.item())

    __hash__ = object.__hash__  # identity, as for Keras variables; == is elementwise

    # + - * / ** @ (and their reflected forms), -t, abs(t), == != < <= > >=, t[key]:
    # each is the op of the same name, bound by minikeras/ops/operators.py.
    def __pos__(self):
        return self

    # ----------------------------------------------------------------- display
    def _made_by(self):
        node = self._node
        if node is None:
            return "leaf, requires_grad" if self.requires_grad else None
        return f"made by {node.describe()}"

    def __repr__(self):
        values = np.array2string(self.numpy(), separator=", ", threshold=60,
                                 prefix="Tensor(")
        extra = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.name:
            extra.insert(0, f"name={self.name!r}")
        made = self._made_by()
        if made:
            extra.append(made)
        return f"Tensor({values}, {', '.join(extra)})"

    def __str__(self):
        return str(self.numpy())

    def __format__(self, spec):
        if self.size == 1 and spec:
            return format(self.item(), spec)
        return format(str(self), spec)


class Variable(Tensor):
    """A Tensor a model owns and trains, like ``keras.Variable``.

    ``Variable(initializer, shape=None, dtype=None, trainable=True, name=None)``:
    ``initializer`` is a value (a number, a list, an array or a Tensor) or a callable
    ``initializer(shape, dtype)``, for which ``shape`` is required. A trainable variable is
    watched by every GradientTape automatically and takes part in ``backward()``.

    ``assign``/``assign_add``/``assign_sub`` change the values **in place** (the same array
    buffer), which is how optimizers update weights without allocating.
    """

    __slots__ = ("_trainable", "path", "constraint")
    _counter = 0

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, name=None):
        if callable(initializer) and not isinstance(initializer, Tensor):
            if shape is None:
                raise ValueError("Variable(initializer=<callable>) needs a shape, e.g. "
                                 "Variable(initializers.Zeros(), shape=(3, 4)).")
            value = initializer(tuple(shape), dtype or backend.floatx())
        else:
            value = initializer
        super().__init__(value, dtype=dtype)
        if shape is not None and tuple(shape) != self.shape:
            raise ValueError(f"Variable {name!r}: the initial value has shape {self.shape}, "
                             f"but shape={tuple(shape)} was given.")
        self.data = self.data.copy()  # a variable owns its buffer: assign() writes into it
        if name is None:
            name = "variable" if Variable._counter == 0 else f"variable_{Variable._counter}"
            Variable._counter += 1
        self.name = name
        self.path = name
        self.constraint = None  # a layer's weight constraint, applied after each update
        self._trainable = False
        self.trainable = trainable

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        if value:
            _check_float(self, "a trainable Variable")
        self._trainable = value
        self.requires_grad = value

    @property
    def value(self):
        """The current values as a plain Tensor (sharing the buffer), carrying the
        variable's ``grad`` (so ``v.value.grad`` reads as in Keras on torch)."""
        t = Tensor._wrap(self.data)
        t.grad = self.grad
        return t

    def _value_for_assign(self, value, what):
        data = value.data if isinstance(value, Tensor) else value
        if hasattr(data, "shape") and tuple(data.shape) != self.shape and self.size != 1:
            try:
                np.broadcast_shapes(tuple(data.shape), self.shape)
            except ValueError:
                raise ValueError(f"Variable {self.name!r}: {what} got a value of shape "
                                 f"{tuple(data.shape)}, expected {self.shape}.") from None
        if backend.is_foreign_array(data):
            raise backend.device_mismatch(data, f"Variable.{what}")
        return data

    def assign(self, value):
        """Overwrite the values in place with ``value`` (same shape)."""
        self.data[...] = self._value_for_assign(value, "assign()")
        return self

    def assign_add(self, value):
        """``self += value`` in place."""
        backend.xp.add(self.data, self._value_for_assign(value, "assign_add()"), out=self.data,
                       casting="unsafe")
        return self

    def assign_sub(self, value):
        """``self -= value`` in place."""
        backend.xp.subtract(self.data, self._value_for_assign(value, "assign_sub()"),
                            out=self.data, casting="unsafe")
        return self

    def __repr__(self):
        values = np.array2string(self.numpy(), separator=", ", threshold=60)
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"trainable={self.trainable}, value={values}>")


class _HookHandle:
    __slots__ = ("_tensor", "_hook")

    def __init__(self, tensor, hook):
        self._tensor = tensor
        self._hook = hook

    def remove(self):
        hooks = self._tensor._hooks
        if hooks and self._hook in hooks:
            hooks.remove(self._hook)


def _check_float(t, what):
    if t.dtype.kind not in "fc":
        raise TypeError(f"{what} needs a floating-point tensor, got dtype {t.dtype}: only "
                        "float tensors have gradients. Cast it first, e.g. "
                        "ops.cast(x, 'float32').")
