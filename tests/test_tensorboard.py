"""keras.callbacks.TensorBoard writes TensorBoard's event files (through tensorboardX): checked
with a reader written here from the format's description (TFRecord framing with masked
CRC-32C, Event / Summary / Value protocol-buffer fields), against the history of fit."""
import glob
import os
import struct

import numpy as np
import pytest

import minikeras as keras

pytest.importorskip("tensorboardX", reason="the TensorBoard callback writes through tensorboardX "
                                           "(pip install tensorboardX)")


def _crc32c_bitwise(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def _masked(data):
    crc = _crc32c_bitwise(data)
    return ((crc >> 15 | crc << 17) + 0xA282EAD8) % 2**32


def _read_varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not b & 0x80:
            return value, i


def _fields(buf):
    """{field number: [values]} of one protobuf message (varint, fixed64, bytes, fixed32)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _read_varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise AssertionError(f"wire type {wire}")
        out.setdefault(field, []).append(value)
    return out


def read_events(path):
    """[(step, tag, value)] of the scalar events of one file; checks the framing."""
    data = open(path, "rb").read()
    events, i = [], 0
    while i < len(data):
        header = data[i:i + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[i + 8:i + 12])[0] == _masked(header)
        payload = data[i + 12:i + 12 + length]
        assert struct.unpack("<I", data[i + 12 + length:i + 16 + length])[0] == _masked(payload)
        i += 16 + length
        events.append(_fields(payload))
    assert events[0][3] == [b"brain.Event:2"]
    scalars = []
    for e in events[1:]:
        if 5 not in e:
            continue                        # an event without a summary
        value = _fields(_fields(e[5][0])[1][0])
        step = e.get(2, [0])[0]             # protobuf leaves out a field at its default, 0
        scalars.append((step, value[1][0].decode(), struct.unpack("<f", value[2][0])[0]))
    return scalars


def test_the_reader_s_crc32c_gives_the_standard_check_value():
    assert _crc32c_bitwise(b"123456789") == 0xE3069283


def test_fit_writes_the_epoch_and_batch_curves_of_its_history(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)).astype("float32"), rng.integers(0, 2, 40)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    callback = keras.callbacks.TensorBoard(log_dir=tmp_path / "logs", update_freq=2)
    history = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.25, verbose=0,
                        callbacks=[callback])
    train, = glob.glob(os.path.join(tmp_path, "logs", "train", "events.out.tfevents.*"))
    validation, = glob.glob(os.path.join(tmp_path, "logs", "validation", "events.out.tfevents.*"))
    train_events = read_events(train)
    epoch = {(step, tag): v for step, tag, v in train_events if tag.startswith("epoch_")}
    for e in range(3):
        assert epoch[(e, "epoch_loss")] == pytest.approx(history.history["loss"][e], rel=1e-6)
        assert epoch[(e, "epoch_accuracy")] == pytest.approx(history.history["accuracy"][e])
        assert epoch[(e, "epoch_learning_rate")] == pytest.approx(0.1)
    batches = [(step, tag) for step, tag, _ in train_events if tag == "batch_loss"]
    assert [step for step, _ in batches] == [2, 4, 6, 8]     # 3 batches an epoch, every 2nd
    val = {(step, tag): v for step, tag, v in read_events(validation)}
    for e in range(3):
        assert val[(e, "epoch_loss")] == pytest.approx(history.history["val_loss"][e], rel=1e-6)


def test_bad_update_freq_and_unwritten_options_say_so(tmp_path):
    with pytest.raises(ValueError, match=r"update_freq must be 'epoch', 'batch' or a positive "
                                         r"int \(write every N batches\); got 'sometimes'"):
        keras.callbacks.TensorBoard(tmp_path, update_freq="sometimes")
    with pytest.warns(UserWarning, match=r"writes the scalars only .*; histogram_freq write "
                                         r"nothing here"):
        keras.callbacks.TensorBoard(tmp_path, histogram_freq=1)


def test_without_tensorboardx_the_callback_says_what_to_install(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tensorboardx(name, *args, **kwargs):
        if name.startswith("tensorboardX"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_tensorboardx)
    with pytest.raises(ImportError, match=r"needs the tensorboardX package .* pip install "
                                          r"tensorboardX .*CSVLogger"):
        keras.callbacks.TensorBoard(tmp_path)     # before any training is lost
