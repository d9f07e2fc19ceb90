"""Damaged and hostile files: every outcome is a clean error (a ValueError, or an OSError
for a file that cannot be opened) with a message, never a crash, and a model that a
failed load touched is exactly as it was. Also: members that would unpack past the size
limits, JSON that is not a model, and files that are not archives at all."""
import json
import warnings
import zipfile

import numpy as np
import pytest

import minikeras as keras
from minikeras import layers
from minikeras.saving import archive

RNG = np.random.default_rng(3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small trained model and its two files (the .keras archive and the weights)."""
    folder = tmp_path_factory.mktemp("files")
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.BatchNormalization(),
                              layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    model.save(folder / "m.keras")
    model.save_weights(folder / "m.weights.h5")
    return model, folder


def damaged_copies(raw, n_truncations=40, n_flips=120, seed=0):
    """Truncations at random lengths, then single flipped bits at random positions."""
    rng = np.random.default_rng(seed)
    for n in rng.integers(0, len(raw), n_truncations):
        yield f"truncated to {n} bytes", raw[:int(n)]
    for n, bit in zip(rng.integers(0, len(raw), n_flips), rng.integers(0, 8, n_flips)):
        n = int(n)
        flipped = bytes([raw[n] ^ (1 << int(bit))])
        yield f"bit {bit} of byte {n} flipped", raw[:n] + flipped + raw[n + 1:]


def test_fuzz_damaged_keras_archives_fail_cleanly(trained, tmp_path):
    _, folder = trained
    raw = (folder / "m.keras").read_bytes()
    target = tmp_path / "d.keras"
    failures = 0
    for what, data in damaged_copies(raw):
        target.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                keras.saving.load_model(target)
        except (ValueError, OSError) as e:
            failures += 1
            assert str(e), what  # a message, not a bare exception
        except Exception as e:  # anything else is a crash of the reader
            pytest.fail(f"{what}: {type(e).__name__}: {e}")
    # the ZIP's CRC checks catch a flipped bit in any member, so almost every copy fails
    assert failures >= 150


def test_fuzz_damaged_weights_leave_the_model_unchanged(trained, tmp_path):
    model, folder = trained
    raw = (folder / "m.weights.h5").read_bytes()
    target = tmp_path / "d.weights.h5"
    before = [w.copy() for w in model.get_weights()]
    failures = 0
    for what, data in damaged_copies(raw, seed=1):
        target.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.load_weights(target)
        except (ValueError, OSError) as e:
            failures += 1
            assert str(e), what
            for a, b in zip(model.get_weights(), before):  # all or nothing
                np.testing.assert_array_equal(a, b, err_msg=what)
        except Exception as e:
            pytest.fail(f"{what}: {type(e).__name__}: {e}")
        else:  # HDF5 has no checksums: a flipped bit inside a weight loads as a new value
            model.set_weights(before)
    assert failures > 0


def test_member_larger_than_the_limit_is_refused(trained, tmp_path, monkeypatch):
    _, folder = trained
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(ValueError, match=r"the member 'model\.weights\.h5' would unpack to "
                       r"\d+ bytes, more than the 1000 allowed"):
        keras.saving.load_model(folder / "m.keras")


def test_compressed_bomb_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_CONFIG_BYTES", 2**20)
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", b" " * (8 * 2**20))  # 8 MiB of spaces, a few kB packed
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match="'config.json' would unpack to 8388608 bytes"):
        keras.saving.load_model(path)


def test_header_that_lies_about_the_size_is_caught(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_CONFIG_BYTES", 100)
    path = tmp_path / "lie.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", b"{" + b" " * 300 + b"}")
    raw = bytearray(path.read_bytes())
    # the central directory's uncompressed size (offset 24 of its entry) claims 50 bytes
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24:central + 28] = (50).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError) as error:
        keras.saving.load_model(path)
    assert "config.json" in str(error.value) or "not a valid" in str(error.value)


@pytest.mark.parametrize("members, message", [
    ({"metadata.json": "{}"}, "it has no config.json"),
    ({"config.json": "{not json"}, "config.json or metadata.json is not valid JSON"),
    ({"config.json": b"\xff\xfe"}, "is not valid JSON"),
    ({"config.json": "[1, 2, 3]"}, "does not describe a Keras object"),
    ({"config.json": "[" * 100_000 + "]" * 100_000}, "is not valid JSON: RecursionError"),
    ({"config.json": json.dumps({"class_name": "Sequential", "module": None, "config": {
        "layers": [{"class_name": "Dense", "module": 3, "config": []}]}})},
     "not a model config that minikeras can rebuild"),
    ({"config.json": json.dumps({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense"}]}})}, "config.json is not a model config that minikeras can "
                                      "rebuild"),
    ({"config.json": json.dumps({"class_name": "Sequential", "config": {}}),
      "model.weights.npz": b""}, "model.weights.npz"),
])
def test_archives_with_wrong_members(tmp_path, members, message):
    path = tmp_path / "w.keras"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    with pytest.raises(ValueError, match=message):
        keras.saving.load_model(path)


def test_not_an_archive_and_missing_file(tmp_path):
    path = tmp_path / "text.keras"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"text\.keras is not a valid `\.keras` archive"):
        keras.saving.load_model(path)
    with pytest.raises(FileNotFoundError):
        keras.saving.load_model(tmp_path / "absent.keras")


def test_weights_in_an_archive_that_do_not_fit_change_nothing(trained, tmp_path):
    _, folder = trained
    other = keras.Sequential([keras.Input((3,)), layers.Dense(5), layers.BatchNormalization(),
                              layers.Dense(2)])
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(ValueError, match=r"has shape \(3, 5\), but the file has shape \(3, 4\)"):
        other.load_weights(folder / "m.keras")
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_fuzz_config_values_fail_cleanly(tmp_path):
    """Valid JSON, wrong content: one value of a functional model's config replaced by a
    value of another type (or its key removed), 200 times. Every load either works or
    raises a ValueError; nothing else escapes."""
    import random
    a, b = keras.Input((4,)), keras.Input((3,))
    h = layers.Concatenate()([layers.Dense(3, activation="relu")(a), b])
    model = keras.Model([a, b], layers.Dense(2)(layers.BatchNormalization()(h)))
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config, weights = json.loads(zf.read("config.json")), zf.read("model.weights.h5")

    def paths(obj, prefix=()):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(
            obj, list) else []
        for key, value in items:
            yield prefix + (key,)
            yield from paths(value, prefix + (key,))

    every_path = list(paths(config))
    rng = random.Random(0)
    replacements = [None, -1, 0, "x", [], {}, 2.5, True, [None], {"class_name": "x"}]
    for _ in range(200):
        mutated = json.loads(json.dumps(config))
        path = rng.choice(every_path)
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(replacements)
        with zipfile.ZipFile(tmp_path / "f.keras", "w") as zf:
            zf.writestr("metadata.json", "{}")
            zf.writestr("config.json", json.dumps(mutated))
            zf.writestr("model.weights.h5", weights)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                keras.saving.load_model(tmp_path / "f.keras")
        except ValueError as e:
            assert str(e)
        except Exception as e:
            pytest.fail(f"{path}: {type(e).__name__}: {e}")


@pytest.mark.parametrize("kind", ["external", "soft_link", "external_link", "virtual"])
def test_weights_that_point_outside_the_file_are_refused(tmp_path, kind):
    """A dataset whose bytes live in another file (or a link to one) would let a weights
    file read any file into the model: refused, and the model is left as it was."""
    import h5py
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"TOPSECRET!!!PASSWORD")
    model = keras.Sequential([keras.Input((5,)), layers.Dense(1, use_bias=False)])
    before = model.get_weights()
    path = tmp_path / "evil.weights.h5"
    with h5py.File(path, "w") as f:
        group = f.create_group("layers/dense/vars")
        group.attrs["name"] = "dense"
        if kind == "external":
            group.create_dataset("0", shape=(5, 1), dtype="<f4",
                                 external=[(str(secret), 0, 20)])
        elif kind == "soft_link":
            f.create_dataset("elsewhere", data=np.ones((5, 1), "float32"))
            group["0"] = h5py.SoftLink("/elsewhere")
        elif kind == "external_link":
            with h5py.File(tmp_path / "other.h5", "w") as other:
                other.create_dataset("x", data=np.ones((5, 1), "float32"))
            group["0"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/x")
        else:
            layout = h5py.VirtualLayout(shape=(5, 1), dtype="<f4")
            with h5py.File(tmp_path / "source.h5", "w") as other:
                other.create_dataset("x", data=np.ones((5, 1), "float32"))
            layout[:] = h5py.VirtualSource(str(tmp_path / "source.h5"), "x", shape=(5, 1))
            group.create_virtual_dataset("0", layout)
        f.create_group("vars")
    with pytest.raises(ValueError, match="Not allowed: H5 file with"):
        model.load_weights(str(path))
    np.testing.assert_array_equal(model.get_weights()[0], before[0])
