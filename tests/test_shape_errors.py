"""The reduction, shape and indexing ops: their error messages (the op, what was expected,
what came), and the gradient conventions that finite differences cannot check (ties,
repeated indices, unused pieces, zeros) or that only hold in float32."""
import numpy as np
import pytest

from minikeras import GradientTape, ops
from minikeras.autograd import OpError
from minikeras.tensor import Tensor


def _x(*shape, dtype="float32"):
    return Tensor(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape))


def _grad(fn, x):
    """d sum(fn(x)) / dx as a NumPy array."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype="float64"))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(fn(x))
    return tape.gradient(y, x).numpy()


# ----------------------------------------------------------------------------- error messages
ERRORS = [
    # reductions
    (lambda: ops.sum(_x(2, 3), axis=2),
     r"ops\.sum: axis 2 is out of bounds for a tensor of rank 2"),
    (lambda: ops.mean(_x(2, 3), axis=(0, -2)), r"ops\.mean: repeated axis"),
    (lambda: ops.max(_x(2, 3), axis=-3), r"ops\.max: axis -3 is out of bounds"),
    (lambda: ops.argmax(_x(2, 3), axis=(0, 1)), r"ops\.argmax: axis must be a single int or None"),
    (lambda: ops.argmin(_x(0, 3)), r"ops\.argmin: cannot take the argmin of an empty tensor"),
    (lambda: ops.logsumexp(_x(2), axis=1), r"ops\.logsumexp: axis 1 is out of bounds"),
    # reshaping
    (lambda: ops.reshape(_x(2, 3), (4,)),
     r"ops\.reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into shape \(4,\)"),
    (lambda: ops.reshape(_x(2, 3), "ab"), r"ops\.reshape: newshape must be an int or a sequence"),
    (lambda: ops.broadcast_to(_x(2, 3), (4,)),
     r"ops\.broadcast_to: cannot broadcast a tensor of shape \(2, 3\) to shape \(4,\)"),
    (lambda: ops.transpose(_x(2, 3), (0,)),
     r"ops\.transpose: axes must be a permutation of the 2 axes .* got \(0,\)"),
    (lambda: ops.transpose(_x(2, 3), (1, 1)), r"ops\.transpose: repeated axis"),
    (lambda: ops.moveaxis(_x(2, 3, 4), (0, 1), 2),
     r"ops\.moveaxis: source and destination must name as many axes"),
    (lambda: ops.swapaxes(_x(2, 3), 0, 2), r"ops\.swapaxes: axis 2 is out of bounds"),
    (lambda: ops.expand_dims(_x(2, 3), 3), r"ops\.expand_dims: axis 3 is out of bounds .* rank 3"),
    (lambda: ops.squeeze(_x(2, 1, 3), axis=0),
     r"ops\.squeeze: cannot squeeze axis 0 of a tensor of shape \(2, 1, 3\): its size is 2, not 1"),
    (lambda: ops.flip(_x(2, 3), axis=2), r"ops\.flip: axis 2 is out of bounds"),
    # joining and splitting
    (lambda: ops.concatenate([_x(2, 3), _x(4, 5)], axis=1),
     r"ops\.concatenate: all inputs must have the same shape except on axis 1; "
     r"got \(2, 3\) and \(4, 5\)"),
    (lambda: ops.concatenate([_x(2, 3), _x(2, 3, 1)]),
     r"ops\.concatenate: all inputs must have the same shape except on axis 0"),
    (lambda: ops.concatenate([]), r"ops\.concatenate: needs at least one tensor"),
    (lambda: ops.concatenate([_x(), _x()]), r"ops\.concatenate: cannot concatenate 0-d tensors"),
    (lambda: ops.stack([_x(2, 3), _x(2, 4)]),
     r"ops\.stack: all inputs must have the same shape; got \(2, 3\) and \(2, 4\)"),
    (lambda: ops.stack([]), r"ops\.stack: needs at least one tensor"),
    (lambda: ops.stack([_x(2)], axis=2), r"ops\.stack: axis 2 is out of bounds"),
    (lambda: ops.split(_x(5, 2), 2),
     r"ops\.split: cannot split axis 0 of size 5 \(shape \(5, 2\)\) into 2 equal sections"),
    (lambda: ops.split(_x(4), 0), r"ops\.split: cannot split axis 0 of size 4 .* into 0"),
    (lambda: ops.split(_x(4), [1.5, "a"]), r"ops\.split: indices_or_sections must be"),
    (lambda: ops.split(_x(6), [4, 2]),
     r"ops\.split: the split indices must be in increasing order, got \[4, 2\] for axis 0"),
    # copying and padding
    (lambda: ops.tile(_x(2), (2, -1)), r"ops\.tile: repeats must not be negative, got \(2, -1\)"),
    (lambda: ops.repeat(_x(3), [1, 2], axis=0),
     r"ops\.repeat: repeats must be one int or one count per element along axis 0 \(3\), got 2"),
    (lambda: ops.repeat(_x(3), -1), r"ops\.repeat: repeats must not be negative"),
    (lambda: ops.pad(_x(2, 3), 1, mode="mean"),
     r"ops\.pad: mode must be one of 'constant', 'edge', .*; got 'mean'"),
    (lambda: ops.pad(_x(2, 3), ((1, 2), (3, 4), (5, 6))),
     r"ops\.pad: pad_width must be an int, a \(before, after\) pair or one pair per axis for a "
     r"tensor of rank 2"),
    (lambda: ops.pad(_x(2, 3), -1), r"ops\.pad: pad_width must not be negative"),
    (lambda: ops.pad(_x(2, 3), 1.5), r"ops\.pad: pad_width must be an int"),
    (lambda: ops.pad(_x(2, 3), 1, mode="reflect", constant_values=2),
     r"ops\.pad: constant_values is only used with mode='constant', got mode='reflect'"),
    (lambda: ops.pad(_x(0, 3), 1, mode="edge"), r"ops\.pad: cannot pad the empty axis 0"),
    # indexing
    (lambda: ops.take(_x(2, 3), [0, 1.5]), r"ops\.take: indices must be integers \(or booleans\), "
                                            r"got dtype float64"),
    (lambda: ops.take(_x(2, 3), [True, False]),
     r"ops\.take: indices must be integers, got dtype bool"),
    (lambda: ops.take(_x(2, 3), [0], axis=2), r"ops\.take: axis 2 is out of bounds"),
    (lambda: ops.take_along_axis(_x(2, 3), np.zeros((2,), int), axis=1),
     r"ops\.take_along_axis: indices must have the rank of x \(2\); got indices of shape \(2,\)"),
    (lambda: ops.take_along_axis(_x(2, 3), np.zeros((3, 1), int), axis=1),
     r"ops\.take_along_axis: indices of shape \(3, 1\) do not broadcast against x of shape "
     r"\(2, 3\) on axis 0"),
    (lambda: ops.take_along_axis(_x(2, 3), np.zeros((2, 1), int)),
     r"ops\.take_along_axis: with axis=None the indices .* must be 1-D"),
    (lambda: ops.where(_x(2) > 0, _x(2)), r"ops\.where: give both x1 and x2 .* got only one"),
    (lambda: ops.nonzero(_x()), r"ops\.nonzero: needs a tensor of rank 1 or more"),
]


@pytest.mark.parametrize("call, message", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_error_message(call, message):
    with pytest.raises(OpError, match=message):
        call()


INDEX_ERRORS = [
    (lambda: _x(2, 3)[2], r"ops\.getitem: index 2 is out of bounds for axis 0 with size 2 "
                          r"\(indexing a tensor of shape \(2, 3\)\)"),
    (lambda: _x(2, 3)[0, 0, 0], r"ops\.getitem: too many indices"),
    (lambda: _x(2, 3)[1.0], r"ops\.getitem: only integers, slices .* got float 1\.0"),
    (lambda: _x(2, 3)[Tensor([0.5])], r"ops\.getitem: an index array must be integers .* float32"),
    (lambda: _x(2, 3)[[0, 5]], r"ops\.getitem: index 5 is out of bounds"),
    (lambda: _x(2, 3)[np.ones(3, bool)], r"ops\.getitem: boolean index did not match"),
    (lambda: ops.take(_x(2, 3), [6]),
     r"ops\.take: index 6 is out of bounds for the flattened tensor of size 6 "
     r"\(valid indices: -6 to 5\)"),
    (lambda: ops.take(_x(2, 3), [-4], axis=1),
     r"ops\.take: index -4 is out of bounds for axis 1 of size 3"),
    (lambda: ops.take_along_axis(_x(2, 3), np.array([[0, 3]]), axis=1),
     r"ops\.take_along_axis: index 3 is out of bounds for axis 1 of size 3"),
]


@pytest.mark.parametrize("call, message", INDEX_ERRORS, ids=[m[:40] for _, m in INDEX_ERRORS])
def test_index_errors_are_index_errors(call, message):
    """Out-of-range indices raise an error that is both an OpError and an IndexError."""
    with pytest.raises(IndexError, match=message) as info:
        call()
    assert isinstance(info.value, OpError)


def test_iterating_a_tensor_stops():
    assert [t.item() for t in _x(3)] == [0.0, 1.0, 2.0]


# ----------------------------------------------------------------------------- gradient rules
def test_max_splits_the_gradient_between_ties():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]])
    np.testing.assert_allclose(_grad(lambda t: ops.max(t, axis=1), x),
                               [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    np.testing.assert_allclose(_grad(lambda t: ops.min(t), np.array([2.0, 1.0, 1.0])),
                               [0, 0.5, 0.5])
    # initial wins: no element receives anything
    np.testing.assert_allclose(_grad(lambda t: ops.max(t, initial=10.0), x), np.zeros((2, 4)))


def test_repeated_indices_add_up():
    x = np.arange(5.0)
    np.testing.assert_allclose(_grad(lambda t: t[[0, 0, 3, 0]], x), [3, 0, 0, 1, 0])
    np.testing.assert_allclose(_grad(lambda t: ops.take(t, np.array([[4, 4], [-1, 1]])), x),
                               [0, 1, 0, 0, 3])
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(
        _grad(lambda t: ops.take_along_axis(t, np.array([[2, 2, 2], [0, 1, 0]]), axis=1), m),
        [[0, 0, 3], [2, 1, 0]])
    np.testing.assert_allclose(_grad(lambda t: ops.repeat(t, [2, 0, 1], axis=1), m),
                               [[2, 0, 1], [2, 0, 1]])


def test_basic_slices_scatter_without_accumulating():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(_grad(lambda t: t[1:, ::2] * 2.0, x),
                               [[0, 0, 0, 0], [2, 0, 2, 0], [2, 0, 2, 0]])
    np.testing.assert_allclose(_grad(lambda t: t[t.numpy() > 6], x), x > 6)


def test_split_gives_zeros_to_unused_pieces():
    x = np.arange(6.0)
    a, b, c = ops.split(Tensor(x), [1, 4])
    assert (a.shape, b.shape, c.shape) == ((1,), (3,), (2,))
    np.testing.assert_allclose(_grad(lambda t: ops.split(t, [1, 4])[1], x), [0, 1, 1, 1, 0, 0])
    only = ops.split(Tensor(x), 1)
    assert isinstance(only, list) and len(only) == 1


def test_prod_gradient_with_zeros():
    np.testing.assert_allclose(_grad(ops.prod, np.array([2.0, 0.0, 3.0])), [0, 6, 0])
    np.testing.assert_allclose(_grad(ops.prod, np.array([0.0, 0.0, 3.0])), [0, 0, 0])
    np.testing.assert_allclose(_grad(lambda t: ops.prod(t, axis=0),
                                     np.array([[2.0, 0.0], [5.0, 4.0]])), [[5, 4], [2, 0]])


def test_std_of_a_constant_has_zero_gradient():
    g = _grad(lambda t: ops.std(t, axis=1), np.ones((2, 3)))
    np.testing.assert_array_equal(g, np.zeros((2, 3)))


def test_logsumexp_is_stable():
    x = Tensor(np.array([1000.0, 1000.0, -np.inf], dtype="float32"))
    out = ops.logsumexp(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), 1000 + np.log(2), rtol=1e-6)
    np.testing.assert_allclose(_grad(ops.logsumexp, x), [0.5, 0.5, 0])
    assert ops.logsumexp(Tensor(np.full(2, -np.inf))).item() == -np.inf


def test_where_sends_the_gradient_to_the_chosen_side():
    c = np.array([True, False, True])
    x1, x2 = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    ops.sum(ops.where(c, x1 * 2.0, x2 * 3.0)).backward()
    np.testing.assert_array_equal(x1.grad.numpy(), [2, 0, 2])
    np.testing.assert_array_equal(x2.grad.numpy(), [0, 3, 0])
    rows, cols = ops.where(np.array([[0, 1], [1, 1]]))
    assert rows.tolist() == [0, 1, 1] and cols.tolist() == [1, 0, 1] and rows.dtype == np.int32


# ----------------------------------------------------------------------------- dtypes
FLOAT32_OPS = [
    lambda t: ops.sum(t, axis=0), lambda t: ops.mean(t), lambda t: ops.max(t, axis=1),
    lambda t: ops.prod(t), lambda t: ops.var(t, axis=-1), lambda t: ops.std(t),
    lambda t: ops.logsumexp(t, axis=(0, 1)), lambda t: ops.transpose(t),
    lambda t: ops.concatenate([t, t], axis=1), lambda t: ops.stack([t, t]),
    lambda t: ops.split(t, 2, axis=1)[1], lambda t: ops.tile(t, (2, 1)),
    lambda t: ops.repeat(t, [1, 2], axis=0), lambda t: ops.pad(t, 1),
    lambda t: ops.pad(t, 1, mode="reflect"), lambda t: ops.flip(t), lambda t: t[[0, 0], 1:],
    lambda t: ops.take(t, [1, 1], axis=1), lambda t: ops.where(t > 1, t, 0),
    lambda t: ops.take_along_axis(t, np.array([[1], [0]]), axis=1),
]


@pytest.mark.parametrize("fn", FLOAT32_OPS)
def test_float32_values_and_gradients_stay_float32(fn):
    x = Tensor(np.arange(1.0, 5.0, dtype="float32").reshape(2, 2), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    ops.sum(y).backward()
    assert x.grad.dtype == np.float32


def test_gradients_of_joined_inputs_keep_each_inputs_dtype():
    a = Tensor(np.ones(2, dtype="float32"), requires_grad=True)
    b = Tensor(np.ones(3, dtype="float64"), requires_grad=True)
    ops.sum(ops.concatenate([a, b])).backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    c = Tensor(np.ones(3, dtype="float32"), requires_grad=True)
    ops.sum(ops.stack([c, b])).backward()
    assert c.grad.dtype == np.float32


def test_integer_reductions_follow_keras_dtypes():
    i = Tensor(np.arange(6, dtype="int32").reshape(2, 3))
    assert ops.sum(i).dtype == np.int32 and ops.prod(i, axis=0).dtype == np.int32
    assert ops.sum(Tensor([True, False, True])).dtype == np.int32
    assert ops.mean(i).dtype == np.float32 and ops.var(i).dtype == np.float32
    assert ops.argmax(i).dtype == np.int32 and ops.argmin(i, axis=1, keepdims=True).shape == (2, 1)
    assert ops.any(i, axis=1).dtype == np.bool_ and ops.all(i).item() is False
