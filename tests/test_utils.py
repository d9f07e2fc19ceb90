"""keras.utils data helpers: to_categorical, normalize, pad_sequences, PyDataset."""
import math

import numpy as np
import pytest

import minikeras as keras
from minikeras import layers, utils


# ------------------------------------------------------------------ to_categorical
def test_to_categorical_basic_and_inferred_classes():
    out = utils.to_categorical([0, 2, 1])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(3, dtype="float32")[[0, 2, 1]])
    out = utils.to_categorical(np.array([1, 0]), num_classes=4)
    np.testing.assert_array_equal(out, [[0, 1, 0, 0], [1, 0, 0, 0]])


def test_to_categorical_shapes():
    assert utils.to_categorical(np.zeros((5, 1), "int32"), 3).shape == (5, 3)  # (n, 1) squeezed
    assert utils.to_categorical(np.zeros((2, 4), "int32"), 3).shape == (2, 4, 3)
    np.testing.assert_array_equal(utils.to_categorical(2, 4), [0, 0, 1, 0])  # a scalar label
    assert utils.to_categorical(np.zeros((1,), "int32"), 2).shape == (1, 2)  # (1,) kept
    assert utils.to_categorical([], num_classes=3).shape == (0, 3)


def test_to_categorical_float_labels_and_tensor_input():
    np.testing.assert_array_equal(utils.to_categorical([1.0, 0.0]), [[0, 1], [1, 0]])
    out = utils.to_categorical(keras.Tensor(np.array([2, 0], "int32")), 3)
    assert isinstance(out, keras.Tensor) and out.dtype == "float32"
    np.testing.assert_array_equal(out.numpy(), [[0, 0, 1], [1, 0, 0]])


def test_to_categorical_errors():
    with pytest.raises(ValueError, match=r"label 3, outside \[0, 2\] for num_classes=3"):
        utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="label -1, outside"):
        utils.to_categorical([0, -1])
    with pytest.raises(ValueError, match="integer class labels, got 1.5"):
        utils.to_categorical([0.0, 1.5])
    with pytest.raises(ValueError, match="integer class labels, got an array of dtype <U1"):
        utils.to_categorical(["a", "b"])
    with pytest.raises(ValueError, match="no labels and no `num_classes`"):
        utils.to_categorical([])


# ------------------------------------------------------------------ normalize
def test_normalize_rows_to_unit_l2_norm_and_leaves_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]], "float32")
    out = utils.normalize(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0], [2 ** -0.5, 2 ** -0.5]], rtol=1e-6)
    np.testing.assert_array_equal(x[0], [3.0, 4.0])  # a copy, the input is untouched


def test_normalize_axis_order_and_dtypes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 5))
    out = utils.normalize(x, axis=1, order=1)
    assert out.dtype == np.float64
    np.testing.assert_allclose(np.abs(out).sum(axis=1), np.ones((3, 5)))
    out = utils.normalize(x, axis=0)
    np.testing.assert_allclose(np.sqrt((out ** 2).sum(axis=0)), np.ones((4, 5)))
    out = utils.normalize(x, order=np.inf)
    np.testing.assert_allclose(np.abs(out).max(axis=-1), np.ones((3, 4)))
    out = utils.normalize([[1, 2], [2, 0]])  # integers: float32
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[1], [1, 0])
    out = utils.normalize(np.array([[3.0, 0.0], [0.0, 4.0]]), axis=None)
    np.testing.assert_allclose(out, [[0.6, 0], [0, 0.8]])


def test_normalize_tensor_in_tensor_out_and_errors():
    out = utils.normalize(keras.Tensor(np.array([[0.0, 2.0]], "float32")))
    assert isinstance(out, keras.Tensor)
    np.testing.assert_array_equal(out.numpy(), [[0, 1]])
    with pytest.raises(ValueError, match="`order` must be an int >= 1. Received: order=0"):
        utils.normalize(np.ones((2, 2)), order=0)
    with pytest.raises(ValueError, match="at least one axis"):
        utils.normalize(np.float32(3.0))


# ------------------------------------------------------------------ pad_sequences
SEQS = [[1, 2, 3], [4], [5, 6, 7, 8, 9], []]


def test_pad_sequences_defaults_pad_and_truncate_at_the_start():
    out = utils.pad_sequences(SEQS)
    assert out.dtype == np.int32 and out.shape == (4, 5)
    np.testing.assert_array_equal(out, [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [5, 6, 7, 8, 9],
                                        [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(utils.pad_sequences(SEQS, maxlen=2),
                                  [[2, 3], [0, 4], [8, 9], [0, 0]])


def test_pad_sequences_post_value_and_dtype():
    out = utils.pad_sequences(SEQS, maxlen=3, padding="post", truncating="post", value=-1)
    np.testing.assert_array_equal(out, [[1, 2, 3], [4, -1, -1], [5, 6, 7], [-1, -1, -1]])
    out = utils.pad_sequences([[0.5], [1.5, 2.5]], dtype="float32", value=0.25)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.25, 0.5], [1.5, 2.5]])
    out = utils.pad_sequences([[1.7, 2.2]])  # int32 by default: like Keras, values truncated
    np.testing.assert_array_equal(out, [[1, 2]])
    out = utils.pad_sequences([np.array([1, 2]), (3,)], padding="pre", truncating="post")
    np.testing.assert_array_equal(out, [[1, 2], [0, 3]])


def test_pad_sequences_items_with_a_shape():
    seqs = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    out = utils.pad_sequences(seqs, dtype="float32")
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[1], [[0, 0, 0], [2, 2, 2]])
    with pytest.raises(ValueError, match=r"Shape of sample \(4,\) of sequence at position 1 is "
                                         r"different from expected shape \(3,\)"):
        utils.pad_sequences([np.ones((2, 3)), np.ones((1, 4))])


def test_pad_sequences_strings_need_an_object_or_string_dtype():
    out = utils.pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "b"], ["<pad>", "c"]]
    out = utils.pad_sequences([["ab"], []], dtype="<U5", value="-")
    assert out.tolist() == [["ab"], ["-"]]
    with pytest.raises(ValueError, match="`dtype` int32 is not compatible with `value`'s type: "
                                         "<class 'str'>\nYou should set `dtype=object`"):
        utils.pad_sequences([["a"]], value="x")


def test_pad_sequences_edge_cases_and_errors():
    assert utils.pad_sequences([]).shape == (0, 0)
    assert utils.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    np.testing.assert_array_equal(utils.pad_sequences(np.array([[1, 2], [3, 4]]), maxlen=3),
                                  [[0, 1, 2], [0, 3, 4]])
    with pytest.raises(ValueError, match="`sequences` must be iterable."):
        utils.pad_sequences(5)
    with pytest.raises(ValueError, match="must be a list of iterables. Found non-iterable: 3"):
        utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="found the string 'abc'"):
        utils.pad_sequences(["abc"])
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        utils.pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match='Truncating type "both" not understood'):
        utils.pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match="`maxlen` must be >= 0"):
        utils.pad_sequences(SEQS, maxlen=-1)


# ------------------------------------------------------------------ PyDataset
class Batches(utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")
    return x, y


def test_fit_trains_on_a_py_dataset():
    x, y = regression_data()
    data = Batches(x, y, batch_size=16, workers=4, use_multiprocessing=True, max_queue_size=2)
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (4, True, 2)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert history.history["loss"][1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0) < before
    assert data.epochs_ended == 2
    val = Batches(x[:32], y[:32], batch_size=8)
    history = model.fit(data, epochs=1, verbose=0, validation_data=val)
    assert "val_loss" in history.history


def test_py_dataset_defaults_num_batches_and_missing_methods():
    class NoSuper(utils.PyDataset):  # forgot super().__init__(): still usable
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.zeros((2, 1)), np.zeros((2, 1))

    data = NoSuper()
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (1, False, 10)
    assert data.num_batches == 3 and len(data) == 3
    data.on_epoch_begin()
    data.on_epoch_end()

    class ByCount(utils.PyDataset):
        @property
        def num_batches(self):
            return 4

    assert len(ByCount()) == 4
    with pytest.raises(NotImplementedError, match=r"ByCount must implement `__getitem__\(index\)`"):
        ByCount()[0]

    class Nothing(utils.PyDataset):
        pass

    with pytest.raises(NotImplementedError, match="Nothing must implement `__len__`"):
        len(Nothing())

    class Endless(utils.PyDataset):
        num_batches = property(lambda self: None)

    with pytest.raises(TypeError, match="pass `steps_per_epoch`"):
        len(Endless())
    assert utils.Sequence is utils.PyDataset


def test_fit_on_an_endless_py_dataset_with_steps_per_epoch():
    x, y = regression_data(n=16)

    class Endless(utils.PyDataset):
        num_batches = property(lambda self: None)

        def __getitem__(self, index):
            return x, y

    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    history = model.fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
