"""The Keras datasets (mnist, fashion_mnist, cifar10, cifar100, imdb, reuters, boston_housing)
read from a Keras cache. Each test writes tiny files in Keras's formats into a temporary
KERAS_HOME; the download function is replaced so that no test touches the network."""
import gzip
import hashlib
import io
import json
import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minikeras import config
from minikeras.datasets import (boston_housing, cache, cifar10, cifar100, fashion_mnist, imdb,
                                mnist, reuters)

GCS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def _offline(url, dest, timeout):
    raise OSError("network is unreachable (test)")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty Keras cache in tmp_path/keras, no network, and Keras's /tmp fallback moved
    into tmp_path too."""
    root = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(root))
    monkeypatch.setattr(cache, "_download", _offline)
    monkeypatch.setattr(cache, "_fallback_dir",
                        lambda sub="datasets": str(tmp_path / "fallback" / sub))
    (root / "datasets").mkdir(parents=True)
    return root / "datasets"


def _parts(folder):
    return [p for p in os.listdir(folder) if p.endswith(".part")]


# ----------------------------------------------------------------------------- mnist

def _write_mnist(path, n_train=6, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    arrays = dict(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                  y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
                  x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                  y_test=rng.integers(0, 10, n_test, dtype=np.uint8))
    np.savez_compressed(path, **arrays)
    return arrays


def test_mnist_reads_the_keras_cache(home):
    ref = _write_mnist(home / "mnist.npz")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
    assert y_train.shape == (6,) and y_test.shape == (4,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, ref["x_train"])
    np.testing.assert_array_equal(y_test, ref["y_test"])


def test_mnist_path_is_a_file_name_in_the_cache(home):
    ref = _write_mnist(home / "other.npz", n_train=3)
    (x_train, _), _ = mnist.load_data(path="other.npz")
    np.testing.assert_array_equal(x_train, ref["x_train"])
    with pytest.raises(ValueError, match="not a path"):
        mnist.load_data(path=str(home / "other.npz"))


def test_home_defaults_to_dot_keras(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(cache, "_download", _offline)
    monkeypatch.setattr(cache, "_fallback_dir", lambda sub="datasets": str(tmp_path / "fb" / sub))
    (tmp_path / ".keras" / "datasets").mkdir(parents=True)
    _write_mnist(tmp_path / ".keras" / "datasets" / "mnist.npz", n_train=2)
    assert cache.cache_dir() == str(tmp_path / ".keras" / "datasets")
    (x_train, _), _ = mnist.load_data()
    assert len(x_train) == 2


def test_offline_error_names_the_file_the_folder_and_the_url(home):
    with pytest.raises(cache.DatasetUnavailableError) as e:
        mnist.load_data()
    msg = str(e.value)
    assert msg.startswith("mnist: no network and no cached copy. Download "
                          f"{GCS}mnist.npz and save it as {home / 'mnist.npz'}")
    assert "network is unreachable" in msg
    assert isinstance(e.value, OSError)
    assert os.listdir(home) == []  # no temporary file left behind


def test_offline_errors_of_every_loader(home):
    expected = [
        (fashion_mnist.load_data, GCS + "train-labels-idx1-ubyte.gz",
         home / "fashion-mnist" / "train-labels-idx1-ubyte.gz"),
        (cifar10.load_data, "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
         home / "cifar-10-batches-py-target_archive"),
        (cifar100.load_data, "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
         home / "cifar-100-python-target_archive"),
        (imdb.load_data, GCS + "imdb.npz", home / "imdb.npz"),
        (imdb.get_word_index, GCS + "imdb_word_index.json", home / "imdb_word_index.json"),
        (reuters.load_data, GCS + "reuters.npz", home / "reuters.npz"),
        (reuters.get_word_index, GCS + "reuters_word_index.json",
         home / "reuters_word_index.json"),
        (boston_housing.load_data, GCS + "boston_housing.npz", home / "boston_housing.npz"),
    ]
    for fn, url, target in expected:
        with pytest.raises(cache.DatasetUnavailableError,
                           match="no network and no cached copy") as e:
            fn()
        assert f"Download {url} and save it as {target}" in str(e.value), str(e.value)
    assert "cifar-10-batches-py-target/cifar-10-batches-py" in str(
        pytest.raises(OSError, cifar10.load_data).value)


def test_download_is_verified_and_atomic(home, monkeypatch):
    calls = []

    def fake(url, dest, timeout):
        calls.append((url, dest, timeout))
        assert os.path.dirname(dest) == str(home) and dest != str(home / "mnist.npz")
        with open(dest, "wb") as f:
            f.write(b"not the real mnist.npz")

    monkeypatch.setattr(cache, "_download", fake)
    with pytest.raises(cache.CorruptDatasetError, match="sha256") as e:
        mnist.load_data()
    assert mnist.FILE_HASH in str(e.value)
    assert calls[0][0] == GCS + "mnist.npz" and calls[0][2] == cache.DOWNLOAD_TIMEOUT
    assert os.listdir(home) == []  # the bad download was not kept

    # A download whose hash matches is moved into place and used from then on.
    data = b"hello dataset"
    for algo in ("sha256", "md5"):
        digest = hashlib.new(algo, data).hexdigest()

        def good(url, dest, timeout):
            calls.append(url)
            with open(dest, "wb") as f:
                f.write(data)

        monkeypatch.setattr(cache, "_download", good)
        n = len(calls)
        path = cache.get_file("demo", f"demo_{algo}.bin", "https://example.invalid/demo",
                              digest)
        assert path == str(home / f"demo_{algo}.bin") and Path(path).read_bytes() == data
        assert cache.get_file("demo", f"demo_{algo}.bin", "https://example.invalid/x",
                              digest) == path
        assert len(calls) == n + 1  # the second call found the cached copy
    assert _parts(home) == []


def test_corrupted_cached_files_give_a_clear_error(home):
    (home / "mnist.npz").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(cache.CorruptDatasetError) as e:
        mnist.load_data()
    msg = str(e.value)
    assert str(home / "mnist.npz") in msg and "damaged" in msg and "Delete it" in msg
    np.savez(home / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(cache.CorruptDatasetError, match="no array 'y_train'"):
        mnist.load_data()
    (home / "imdb_word_index.json").write_text("{not json")
    with pytest.raises(cache.CorruptDatasetError, match="not valid JSON"):
        imdb.get_word_index()


# ----------------------------------------------------------------------------- fashion-mnist

def _idx(arr):
    head = bytes((0, 0, 8, arr.ndim)) + np.asarray(arr.shape, ">u4").tobytes()
    return gzip.compress(head + arr.astype(np.uint8).tobytes())


def _write_fashion(folder, n_train=5, n_test=3):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    ref = dict(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
               y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
               x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
               y_test=rng.integers(0, 10, n_test, dtype=np.uint8))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(_idx(ref["y_train"]))
    (folder / "train-images-idx3-ubyte.gz").write_bytes(_idx(ref["x_train"]))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx(ref["y_test"]))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(_idx(ref["x_test"]))
    return ref


def test_fashion_mnist_reads_gzipped_idx_files(home):
    ref = _write_fashion(home / "fashion-mnist")
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28) and y_train.shape == (5,)
    assert x_test.shape == (3, 28, 28) and y_test.shape == (3,)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")):
        np.testing.assert_array_equal(got, ref[key])


def test_fashion_mnist_damaged_files(home):
    folder = home / "fashion-mnist"
    _write_fashion(folder)
    good = gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(good[:-10]))
    with pytest.raises(cache.CorruptDatasetError, match="its header says"):
        fashion_mnist.load_data()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(good)  # not gzip-compressed
    with pytest.raises(cache.CorruptDatasetError, match="not a gzip file"):
        fashion_mnist.load_data()


# ----------------------------------------------------------------------------- cifar

def _cifar_batch(n, labels_key, seed, **extra_labels):
    rng = np.random.default_rng(seed)
    d = {b"batch_label": b"a test batch",
         b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
         labels_key: [int(v) for v in rng.integers(0, 10, n)],
         b"filenames": [b"img%d.png" % i for i in range(n)]}
    d.update(extra_labels)
    return d


def _write_cifar10(folder, sizes=(2, 3, 1, 2, 2), n_test=3):
    folder.mkdir(parents=True, exist_ok=True)
    batches = []
    for i, n in enumerate(sizes, 1):
        batches.append(_cifar_batch(n, b"labels", i))
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batches[-1], protocol=2))
    test = _cifar_batch(n_test, b"labels", 99)
    (folder / "test_batch").write_bytes(pickle.dumps(test, protocol=2))
    return batches, test


def _expected_images(data):
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_cifar10_reads_the_keras3_layout(home):
    batches, test = _write_cifar10(home / "cifar-10-batches-py-target" / "cifar-10-batches-py")
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (10, 1) and y_test.shape == (3, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    data = np.concatenate([b[b"data"] for b in batches])
    np.testing.assert_array_equal(x_train, _expected_images(data))
    np.testing.assert_array_equal(y_train[:, 0], [v for b in batches for v in b[b"labels"]])
    np.testing.assert_array_equal(x_test, _expected_images(test[b"data"]))
    np.testing.assert_array_equal(y_test[:, 0], test[b"labels"])
    # the red channel of pixel (0, 1) of the first image is byte 1 of its row
    assert x_train[0, 0, 1, 0] == batches[0][b"data"][0, 1]
    assert x_train[0, 0, 0, 1] == batches[0][b"data"][0, 1024]


def test_cifar10_channels_first_and_the_older_layout(home):
    batches, _ = _write_cifar10(home / "cifar-10-batches-py")  # Keras < 3.6 layout
    old = config.image_data_format()
    config.set_image_data_format("channels_first")
    try:
        (x_train, _), (x_test, _) = cifar10.load_data()
    finally:
        config.set_image_data_format(old)
    assert x_train.shape == (10, 3, 32, 32) and x_test.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(x_train[:2], batches[0][b"data"].reshape(2, 3, 32, 32))


def _tar(path, folder, extra=()):
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname=os.path.basename(folder))
        for name, data in extra:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_cifar10_extracts_a_cached_archive_safely(home, tmp_path):
    src = tmp_path / "src" / "cifar-10-batches-py"
    _write_cifar10(src)
    _tar(home / "cifar-10-batches-py-target_archive", str(src),
         extra=[("../escaped.txt", b"x"), ("/abs.txt", b"y")])
    (x_train, _), _ = cifar10.load_data()
    assert len(x_train) == 10
    inner = home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    assert (inner / "data_batch_5").is_file()
    assert not (home / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
    assert sorted(os.listdir(home)) == ["cifar-10-batches-py-target",
                                        "cifar-10-batches-py-target_archive"]


def test_cifar10_damaged_archive(home):
    (home / "cifar-10-batches-py-target_archive").write_bytes(b"not a tarball")
    with pytest.raises(cache.CorruptDatasetError, match="cannot extract it"):
        cifar10.load_data()


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


def test_cifar_pickles_that_hold_code_are_refused(home, tmp_path):
    folder = home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    _write_cifar10(folder)
    marker = tmp_path / "pwned"
    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": _Evil(str(marker))}))
    with pytest.raises(cache.CorruptDatasetError, match="refusing to unpickle the global"):
        cifar10.load_data()
    assert not marker.exists()


def test_load_pickle_only_reads_expected_cache_files(home, tmp_path):
    outside = tmp_path / "data_batch_1"
    outside.write_bytes(pickle.dumps({b"data": 1}))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        cache.load_pickle("cifar10", str(outside), str(tmp_path), {"data_batch_1"})
    inside = home / "notes"
    inside.write_bytes(pickle.dumps({b"data": 1}))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        cache.load_pickle("cifar10", str(inside), str(home), {"data_batch_1"})
    link_dir = home / "cifar-10-batches-py"
    link_dir.mkdir()
    os.symlink(outside, link_dir / "data_batch_1")
    with pytest.raises(ValueError, match="refusing to unpickle"):
        cache.load_pickle("cifar10", str(link_dir / "data_batch_1"), str(link_dir),
                          {"data_batch_1"})


def test_cifar100_fine_and_coarse_labels(home):
    folder = home / "cifar-100-python-target" / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(5)
    files = {}
    for name, n in (("train", 4), ("test", 2)):
        files[name] = {b"filenames": [b"f"] * n, b"batch_label": b"x",
                       b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
                       b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
                       b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(files[name], protocol=2))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data()
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert x_train.dtype == np.uint8
    assert y_train.shape == (4, 1) and y_test.shape == (2, 1)
    assert y_train.dtype == np.asarray([1]).dtype  # Keras's labels come from Python lists
    np.testing.assert_array_equal(y_train[:, 0], files["train"][b"fine_labels"])
    np.testing.assert_array_equal(x_test, _expected_images(files["test"][b"data"]))
    (_, y_train), (_, y_test) = cifar100.load_data(label_mode="coarse")
    np.testing.assert_array_equal(y_test[:, 0], files["test"][b"coarse_labels"])
    with pytest.raises(ValueError, match='`label_mode` must be one of `"fine"`, `"coarse"`'):
        cifar100.load_data(label_mode="medium")


# ----------------------------------------------------------------------------- imdb, reuters

def _objects(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


IMDB_TRAIN = [[1, 5, 2], [3, 3, 3, 9, 4], [7], [2, 8, 6, 1], [4, 4], [10, 1, 2, 3, 4, 5]]
IMDB_TEST = [[5, 6], [1, 2, 3], [9, 9, 9, 9], [11]]


def _write_imdb(home):
    np.savez(home / "imdb.npz", x_train=_objects(IMDB_TRAIN),
             y_train=np.array([0, 1, 0, 1, 1, 0]), x_test=_objects(IMDB_TEST),
             y_test=np.array([1, 0, 0, 1]))
    (home / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2, "film": 3}))


def _keras_order(n_train, n_test, seed):
    rng = np.random.RandomState(seed)
    a = np.arange(n_train)
    rng.shuffle(a)
    b = np.arange(n_test)
    rng.shuffle(b)
    return a, b


def test_imdb_default_load(home):
    _write_imdb(home)
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    assert x_train.dtype == object and x_train.shape == (6,) and x_test.shape == (4,)
    assert y_train.shape == (6,) and y_test.shape == (4,)
    order_train, order_test = _keras_order(6, 4, 113)
    np.testing.assert_array_equal(y_train, np.array([0, 1, 0, 1, 1, 0])[order_train])
    np.testing.assert_array_equal(y_test, np.array([1, 0, 0, 1])[order_test])
    top = max(max(s) for s in IMDB_TRAIN + IMDB_TEST) + 3  # 14
    for got, i in zip(x_train, order_train):
        # start_char 1, words shifted by index_from 3; as in Keras, the single largest index
        # becomes oov_char when num_words is None
        assert got == [1] + [w + 3 if w + 3 < top else 2 for w in IMDB_TRAIN[i]]
    for got, i in zip(x_test, order_test):
        assert got == [1] + [w + 3 if w + 3 < top else 2 for w in IMDB_TEST[i]]
    assert imdb.get_word_index() == {"the": 1, "and": 2, "film": 3}


def test_imdb_options(home):
    _write_imdb(home)
    (x_train, _), (x_test, _) = imdb.load_data(num_words=8)
    flat = [w for s in list(x_train) + list(x_test) for w in s]
    assert max(flat) == 7 and 2 in flat
    (a, _), _ = imdb.load_data(num_words=8, seed=0)
    (b, _), _ = imdb.load_data(num_words=8, seed=0)
    assert list(a) == list(b)
    (c, _), _ = imdb.load_data(num_words=8, seed=1)
    assert sorted(map(tuple, a)) == sorted(map(tuple, c)) and list(a) != list(c)

    # skip_top: indices below it become oov_char (including start_char 1 when skip_top > 1)
    (x_train, _), _ = imdb.load_data(skip_top=6, num_words=100)
    assert all(w == 2 or w >= 6 for s in x_train for w in s)
    # oov_char=None drops the words instead
    (x_train, _), _ = imdb.load_data(skip_top=6, num_words=100, oov_char=None)
    assert all(w >= 6 for s in x_train for w in s)
    # no start mark, no shift
    order_train, _ = _keras_order(6, 4, 113)
    (x_train, _), _ = imdb.load_data(start_char=None, index_from=0, num_words=1000)
    assert list(x_train) == [IMDB_TRAIN[i] for i in order_train]
    (x_train, _), _ = imdb.load_data(index_from=10, start_char=7, num_words=1000)
    assert list(x_train) == [[7] + [w + 10 for w in IMDB_TRAIN[i]] for i in order_train]

    # maxlen keeps sequences shorter than maxlen (the start mark counts)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(maxlen=4)
    assert all(len(s) < 4 for s in list(x_train) + list(x_test))
    assert len(x_train) == len(y_train) == 2 and len(x_test) == len(y_test) == 2
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(maxlen=1)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        imdb.load_data(nonsense=1)


def test_imdb_object_arrays_stay_one_dimensional(home):
    np.savez(home / "imdb.npz", x_train=_objects([[1, 2], [3, 4]]), y_train=np.array([0, 1]),
             x_test=_objects([[5, 6]]), y_test=np.array([1]))
    (x_train, _), (x_test, _) = imdb.load_data()
    assert x_train.shape == (2,) and x_test.shape == (1,) and isinstance(x_train[0], list)


def test_npz_object_arrays_that_hold_code_are_refused(home, tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False,
                                               "shape": (1,)})
    pickle.dump(_Evil(str(marker)), buf, protocol=3)
    with zipfile.ZipFile(home / "imdb.npz", "w") as zf:
        zf.writestr("x_train.npy", buf.getvalue())
        for k in ("y_train", "x_test", "y_test"):
            b = io.BytesIO()
            np.save(b, np.zeros(1, np.int64))
            zf.writestr(k + ".npy", b.getvalue())
    with pytest.raises(cache.CorruptDatasetError, match="refusing to unpickle the global"):
        imdb.load_data()
    assert not marker.exists()


REUTERS = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [2, 2], [3], [10, 11, 12, 1, 1], [5, 6, 7],
           [8], [9, 9, 9], [4, 1]]


def test_reuters(home):
    labels = np.arange(10) % 4
    np.savez(home / "reuters.npz", x=_objects(REUTERS), y=labels)
    (home / "reuters_word_index.json").write_text(json.dumps({"said": 1, "the": 2}))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=1000)
    assert x_train.dtype == object and x_train.shape == (8,) and x_test.shape == (2,)
    assert y_train.shape == (8,) and y_test.shape == (2,)
    rng = np.random.RandomState(113)
    order = np.arange(10)
    rng.shuffle(order)
    assert list(x_train) + list(x_test) == [[1] + [w + 3 for w in REUTERS[i]] for i in order]
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), labels[order])

    (x_train, _), (x_test, _) = reuters.load_data(test_split=0.5, num_words=7, seed=3)
    assert len(x_train) == len(x_test) == 5
    assert max(w for s in list(x_train) + list(x_test) for w in s) == 6
    (a, _), _ = reuters.load_data(seed=3)
    (b, _), _ = reuters.load_data(seed=3)
    assert list(a) == list(b)
    (x_train, _), (x_test, _) = reuters.load_data(maxlen=3, test_split=0.25)
    assert all(len(s) < 3 for s in list(x_train) + list(x_test))
    # the two one-word newswires, [3] and [8]; 8 + 3 is then the largest index, so oov
    assert sorted(list(x_train) + list(x_test)) == [[1, 2], [1, 6]]
    assert reuters.get_word_index() == {"said": 1, "the": 2}
    names = reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn" and names[-1] == "lead"


# ----------------------------------------------------------------------------- boston_housing

def test_boston_housing(home):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 13))
    y = rng.uniform(10, 50, 20)
    np.savez(home / "boston_housing.npz", x=x, y=y)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    assert x_train.shape == (16, 13) and x_test.shape == (4, 13)
    assert y_train.shape == (16,) and y_test.shape == (4,)
    assert x_train.dtype == np.float64 and y_train.dtype == np.float64
    order = np.arange(20)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]), x[order])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), y[order])
    (x_train, _), (x_test, _) = boston_housing.load_data(test_split=0.5, seed=7)
    assert len(x_train) == len(x_test) == 10
    (x_again, _), _ = boston_housing.load_data(test_split=0.5, seed=7)
    np.testing.assert_array_equal(x_train, x_again)
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)
