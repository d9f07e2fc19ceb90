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

# %% [markdown]
# # Lesson 11: Saving, and moving a model to Keras 3 and back
#
# A trained model lives in memory: when Python stops, it is gone. In this lesson you save it
# to a file, look inside that file byte by byte, and load it again, here and in real Keras 3.
#
# **What you will learn**
#
# - `model.save("m.keras")` and `keras.models.load_model`: the whole model, training state
#   included;
# - what a `.keras` file is: a ZIP with `config.json` (the architecture) and
#   `model.weights.h5` (the numbers, in HDF5), which you open with `zipfile` and `h5py`;
# - `save_weights` / `load_weights` and the `.weights.h5` layout;
# - how your own layer survives a save (`get_config`, `register_keras_serializable`);
# - why a failed save does not destroy the previous file, and how a damaged file fails;
# - how the same file opens in real Keras 3, and how a Keras 3 file opens here;
# - checkpoints during training: keep the best epoch, resume after a crash.
#
# **Prerequisites:** lesson 02 (your first Keras model, `fit`) and lesson 10 (a callback and
# its hooks); lesson 08 (your own layer) helps for the custom layer section.
#
# **Time:** about 45 minutes.

# %%
import contextlib
import io
import json
import os
import tempfile
import warnings
import zipfile
from unittest import mock

import h5py
import matplotlib.pyplot as plt
import numpy as np

import minikeras as keras
from exercises import exercise, optional, show

keras.utils.set_random_seed(0)
folder = tempfile.mkdtemp()  # every file of this lesson goes here

(x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
x_train = (x_train.reshape(-1, 64) / 16).astype("float32")  # 8x8 images, values 0..16
x_test = (x_test.reshape(-1, 64) / 16).astype("float32")


def digits_net(learning_rate=0.01, compiled=True):
    """A small classifier for the 8x8 digits (compiled, unless compiled=False)."""
    net = keras.Sequential([keras.Input((64,)),
                            keras.layers.Dense(32, activation="relu"),
                            keras.layers.Dense(10, activation="softmax")])
    if compiled:
        net.compile(optimizer=keras.optimizers.Adam(learning_rate),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


model = digits_net()
model.fit(x_train, y_train, epochs=5, batch_size=64, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.3f}")
assert accuracy > 0.9

# %% [markdown]
# ## 1. Save, load, compare
#
# One line saves the model, one line loads it. The loaded model is a new object, built from
# the file alone. Its predictions should be *exactly* the same numbers, not just close:
# the file holds the weights as float32, with no rounding.

# %%
path = os.path.join(folder, "digits.keras")
model.save(path)
loaded = keras.models.load_model(path)

assert loaded is not model
assert np.array_equal(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
print(f"{os.path.getsize(path):,} bytes; the predictions agree bit for bit")

# %% [markdown]
# The file holds more than the weights. It also holds how the model was compiled (the
# optimizer, the loss, the metrics) and the optimizer's state: Adam's step counter and its
# two moving averages per weight. So training can go on where it stopped. One more step on
# the same batch gives the same loss, and the same weights, in both copies:

# %%
print("optimizer:", loaded.optimizer, "| loss:", loaded.loss)
steps_per_epoch = -(-len(x_train) // 64)  # 1,437 images in batches of 64: 23 steps
assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 5 * steps_per_epoch

batch_x, batch_y = x_train[:64], y_train[:64]
original_step = model.train_on_batch(batch_x, batch_y)
loaded_step = loaded.train_on_batch(batch_x, batch_y)
print("one more step:", original_step, loaded_step)
assert original_step == loaded_step
assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))
model.save(path)  # the file follows the model again

# %% [markdown]
# ## 2. Inside a `.keras` file
#
# A `.keras` file is an ordinary ZIP archive. Python's `zipfile` opens it. There are three
# members, stored without compression (`compress_type` 0):

# %%
with zipfile.ZipFile(path) as archive:
    for info in archive.infolist():
        print(f"{info.filename:18} {info.file_size:7,} bytes  compress_type={info.compress_type}")
    members = {info.filename: archive.read(info.filename) for info in archive.infolist()}

assert sorted(members) == ["config.json", "metadata.json", "model.weights.h5"]
assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
print(json.loads(members["metadata.json"]))

# %% [markdown]
# `config.json` is the architecture: for each layer its `class_name` and the arguments that
# rebuild it (its `config`). There are no numbers from training in it, only the recipe.
# `compile_config` holds the arguments of `model.compile`.

# %%
config = json.loads(members["config.json"])
print(config["class_name"], "with", len(config["config"]["layers"]), "layers:")
for layer in config["config"]["layers"]:
    c = layer["config"]
    details = {k: c[k] for k in ("batch_shape", "units", "activation") if k in c}
    print(f"  {layer['class_name']:10} {c['name']:12} {details}")
print("compile:", {k: v if not isinstance(v, dict) else v["class_name"]
                   for k, v in config["compile_config"].items() if v is not None})

assert [layer["class_name"] for layer in config["config"]["layers"]] == [
    "InputLayer", "Dense", "Dense"]
assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
assert len(members["config.json"]) < len(members["model.weights.h5"]) / 10  # no arrays in it

# %% [markdown]
# `model.weights.h5` is an HDF5 file: a small file system inside a file. It has **groups**
# (folders) and **datasets** (arrays). `h5py` opens it, here straight from the bytes we read
# out of the ZIP. The top level has a folder per part of the model:

# %%
with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as f:
    print("top level:", list(f.keys()))
    print("inside layers/:", list(f["layers"].keys()))
    first_kernel = f["layers/dense/vars/0"][...]  # [...] reads the whole array

print("layers/dense/vars/0:", first_kernel.shape, first_kernel.dtype)
assert np.array_equal(first_kernel, model.layers[0].kernel.numpy())

# %% [markdown]
# A weight has no name in the file, only a place: `layers/dense/vars/0` is the first weight
# (the kernel) of the first `Dense` in the layer list; `vars/1` is its bias, and the second
# `Dense` is `layers/dense_1`. These names come from the class and the position, not from
# the layer's own name (which would be `dense_7` if you had built a few models before), so
# the same architecture always gives the same paths. The optimizer has its own folder. This
# layout is Keras 3's own, which is why real Keras can read the file.
#
# ## 3. Your turn: list every weight in a `.weights.h5` file
#
# `model.save_weights("w.weights.h5")` writes just that HDF5 file, without the ZIP and
# without `config.json`. Write `list_weights(path)`: it opens the file with `h5py` and
# returns a dict `{path inside the file: shape}` with one entry per **dataset**, for example
# `{"layers/dense/vars/0": (64, 32), ...}`.
#
# Tools: `h5py.File(path, "r")`; `f.visititems(fn)` calls `fn(name, obj)` for every group and
# dataset below the root, at every depth (`name` is the path without a leading `/`);
# `isinstance(obj, h5py.Dataset)` tells arrays from folders; `obj.shape` is a tuple.

# %%
weights_path = os.path.join(folder, "digits.weights.h5")
model.save_weights(weights_path)

# %% tags=["exercise"] exercise="list_weights"
def list_weights(path):
    """{path inside the file: shape} for every array (h5py.Dataset) in the HDF5 file."""
    # your code: open the file, walk it with visititems, keep only the datasets
    raise NotImplementedError


# %%
with exercise("list_weights") as ex:
    got = ex.call(list_weights, weights_path)
    ex.expect(got is not None, "list_weights returned None: did it forget to `return` the "
              "dict?")
    ex.expect(isinstance(got, dict), "list_weights should return a dict {path: shape}, but "
              f"it returned a {type(got).__name__}.")
    expected, seen = {}, {}  # Keras's layout, from the model itself
    for layer in model.layers:  # list items are named after their class, by position
        base = "".join("_" + c.lower() if c.isupper() else c for c in
                       type(layer).__name__).lstrip("_")
        item = base if base not in seen else f"{base}_{seen[base]}"
        seen[base] = seen.get(base, 0) + 1
        for i, w in enumerate(layer.weights):
            expected[f"layers/{item}/vars/{i}"] = tuple(w.shape)
    for i, v in enumerate(model.optimizer.variables):
        expected[f"optimizer/vars/{i}"] = tuple(v.shape)
    slashed = [k for k in got if str(k).startswith("/")]
    ex.expect(not slashed, f"the key {slashed[0]!r} starts with '/': use the `name` that "
              "visititems passes (like 'layers/dense/vars/0'), not obj.name." if slashed else "")
    with h5py.File(weights_path, "r") as f:
        groups = [k for k in got if isinstance(f.get(str(k)), h5py.Group)]
    ex.expect(not groups, f"{groups[0]!r} is a group (a folder of the file), not an array: "
              "keep only the objects that are h5py.Dataset." if groups else "")
    missing = [k for k in expected if k not in got]
    ex.expect(not missing, f"the array {missing[0]!r} is missing ({len(missing)} of "
              f"{len(expected)} are): walk the whole file at every depth with f.visititems, "
              "not only its top level." if missing else "")
    extra = [k for k in got if k not in expected]
    ex.expect(not extra, f"{extra[0]!r} is not an array of this file." if extra else "")
    for key, shape in expected.items():
        value = got[key]
        ex.expect(not hasattr(value, "dtype"), f"for {key!r} your dict holds an array, not its "
                  "shape: store obj.shape.")
        ex.expect(isinstance(value, tuple), f"for {key!r} your dict holds a "
                  f"{type(value).__name__} ({value!r}); store obj.shape, which is a tuple.")
        ex.expect(value == shape, f"{key!r} has shape {shape} in the file, but your dict says "
                  f"{value!r}.")

# %% [markdown]
# Every weight of the model is in the file, and so is every variable of the optimizer
# (the step counter, the learning rate, then Adam's two slots per weight). Side by side:

# %%
listing = list_weights(weights_path)
in_memory = [(w.path, tuple(w.shape)) for w in model.weights]
in_file = [(k, s) for k, s in listing.items() if k.startswith("layers/")]
for (file_key, file_shape), (weight_path, shape) in zip(in_file, in_memory):
    print(f"{file_key:22} {str(file_shape):9} <- {weight_path}")
print(f"+ {len(listing) - len(in_file)} optimizer arrays")
assert [s for _, s in in_file] == [s for _, s in in_memory]

# %% [markdown]
# `load_weights` puts the numbers into a model with the same architecture. It checks every
# shape first, so weights that do not fit are refused and the model is left as it was. In
# the message, see the two names of one weight: in memory the layer is called `dense_`
# and some number (it is not the first `Dense` of this session), while its place in the
# file is still `layers/dense`:

# %%
fresh = digits_net(compiled=False)  # no optimizer: the optimizer's arrays are not needed
fresh.load_weights(weights_path)
assert np.array_equal(fresh.predict(x_test, verbose=0), model.predict(x_test, verbose=0))

wider = keras.Sequential([keras.Input((64,)), keras.layers.Dense(48), keras.layers.Dense(10)])
before = [w.copy() for w in wider.get_weights()]
try:
    wider.load_weights(weights_path)
except ValueError as error:
    misfit = str(error)
print("ValueError:", misfit)
assert wider.layers[0].name != "dense" and "'layers/dense/vars/0'" in misfit
assert all(np.array_equal(a, b) for a, b in zip(before, wider.get_weights()))

# %% [markdown]
# ## 4. A picture of the file
#
# Here is the whole `digits.keras` drawn from its own bytes: the three members of the ZIP,
# the layers of `config.json`, and the tree of `model.weights.h5` with the shape of each
# array. The arrows go from a layer in the recipe to its numbers.

# %%
def draw_keras_file(path):
    """A matplotlib figure of a .keras file: its members, its layers, its arrays."""
    with zipfile.ZipFile(path) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        cfg = json.loads(archive.read("config.json"))
        meta = json.loads(archive.read("metadata.json"))
        h5_bytes = archive.read("model.weights.h5")
    arrays = []
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        f.visititems(lambda n, o: arrays.append((n, o.shape))
                     if isinstance(o, h5py.Dataset) else None)
    fig, ax = plt.subplots(figsize=(11, 6.2))
    ax.set_xlim(0, 11), ax.set_ylim(0, 6.2), ax.axis("off")
    box = dict(boxstyle="round,pad=0.02,rounding_size=0.12", linewidth=1.5)
    ax.add_patch(plt.matplotlib.patches.FancyBboxPatch((0.1, 0.1), 10.8, 5.9, fc="#f4f4f4",
                                                       ec="#555", **box))
    ax.text(0.3, 5.75, f"{os.path.basename(path)}  (a ZIP archive, stored)", fontsize=13,
            weight="bold")

    def member(x, y, w, h, name, color):
        ax.add_patch(plt.matplotlib.patches.FancyBboxPatch((x, y), w, h, fc=color, ec="#333",
                                                           **box))
        ax.text(x + 0.12, y + h - 0.3, f"{name}   {infos[name].file_size:,} B", fontsize=11,
                weight="bold", family="monospace")

    member(0.3, 4.45, 4.4, 1.05, "metadata.json", "#fff7d6")
    ax.text(0.45, 4.6, f"keras_version {meta['keras_version']}\n{meta['date_saved']}",
            fontsize=9, family="monospace")
    member(0.3, 0.3, 4.4, 3.95, "config.json", "#dcebff")
    ax.text(0.45, 3.55, f"{cfg['class_name']}", fontsize=10, family="monospace")
    ax.text(0.45, 1.15, "the recipe: each layer's class\nand its get_config()", fontsize=9,
            color="#1565c0", style="italic")
    ax.text(8.75, 3.3, "groups are folders,\ndatasets are arrays", fontsize=9,
            color="#2e7d32", style="italic", va="top")
    layer_y = []  # the height of each layer that has weights, in order
    for k, layer in enumerate(cfg["config"]["layers"]):
        c, y = layer["config"], 3.1 - 0.55 * k
        extra = f"({c['units']}, {c['activation']})" if "units" in c else str(c["batch_shape"])
        ax.text(0.65, y, f"{layer['class_name']} {c['name']} {extra}", fontsize=9.5,
                family="monospace")
        if "units" in c:
            layer_y.append(y)
    opt = cfg["compile_config"]["optimizer"]
    ax.text(0.45, 0.5, f"compile_config: {opt['class_name']}(lr={opt['config']['learning_rate']:.3g}),"
            f"\n  loss={cfg['compile_config']['loss']}", fontsize=8.5, family="monospace")
    member(5.3, 0.3, 5.4, 5.2, "model.weights.h5", "#e3f5e1")
    y, groups = 4.8, 0
    for name, shape in arrays:
        color = "#1b5e20" if name.startswith("layers/") else "#8d6e63"
        ax.text(5.5, y, f"{name:22} {str(shape)}", fontsize=8.5, family="monospace",
                color=color)
        if name.startswith("layers/") and name.endswith("vars/0") and groups < len(layer_y):
            ax.annotate("", xy=(5.45, y + 0.07), xytext=(4.55, layer_y[groups] + 0.07),
                        arrowprops=dict(arrowstyle="->", color="#1565c0", lw=1.3))
            groups += 1
        y -= 0.27
    ax.text(5.5, 0.45, "green: the layers' weights   brown: the optimizer's state",
            fontsize=8.5, color="#444")
    return fig, arrays


fig, drawn_arrays = draw_keras_file(path)
fig.savefig(os.path.join(folder, "keras_file.png"), dpi=100, bbox_inches="tight")
show(fig)
assert len(drawn_arrays) == len(model.weights) + len(model.optimizer.variables)

# %% [markdown]
# The library can draw the rebuilt model too (this needs Graphviz's `dot` program; without
# it, the cell says what it skipped):

# %%
optional("Graphviz's dot", keras.utils.plot_model, keras.models.load_model(path),
         to_file=os.path.join(folder, "reloaded.png"), show_shapes=True,
         show_layer_activations=True)

# %% [markdown]
# ## 5. Your own layer in a file
#
# `config.json` stores a layer as its class name plus `layer.get_config()`, a dict of the
# arguments of its `__init__`. Loading does the reverse: it finds the class by name and calls
# `cls(**config)` (that is `cls.from_config(config)`), then fills in the weights. For a layer
# you wrote, two things are needed:
#
# 1. `@keras.saving.register_keras_serializable(package="lesson11")` so that the name
#    `"lesson11>SoftClip"` in the file leads back to your class;
# 2. a `get_config` that returns **every** argument of `__init__`. The weights come back from
#    `model.weights.h5`, but a plain number like `limit` lives only in the config.
#
# `SoftClip` squashes its input smoothly into $(-\text{limit}, \text{limit})$, with a learned
# gain $g$ per feature: $y = \text{limit} \cdot \tanh(g \, x / \text{limit})$.
#
# **Your turn:** write `get_config`. Start from `super().get_config()` (it holds `name`,
# `trainable` and `dtype`) and add `limit`.

# %% tags=["exercise"] exercise="soft_clip_config"
@keras.saving.register_keras_serializable(package="lesson11")
class SoftClip(keras.layers.Layer):
    def __init__(self, limit=1.0, **kwargs):
        super().__init__(**kwargs)
        self.limit = limit

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gain")

    def call(self, x):
        return self.limit * keras.ops.tanh(x * self.gain / self.limit)

    def get_config(self):
        # your code: the base layer's config, plus this layer's own argument `limit`
        raise NotImplementedError


# %%
with exercise("soft_clip_config") as ex:
    keras.utils.set_random_seed(3)
    clipped = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16),
                                SoftClip(limit=0.5, name="clip"), keras.layers.Dense(10)])
    clipped.get_layer("clip").gain.assign(np.linspace(0.5, 2.0, 16).astype("float32"))
    layer_config = ex.call(clipped.get_layer("clip").get_config)
    ex.expect(isinstance(layer_config, dict), "get_config should return a dict, but it "
              f"returned {type(layer_config).__name__}"
              + (": did it forget to `return config`?" if layer_config is None else "."))
    ex.expect("name" in layer_config, "the config has no 'name' (nor 'trainable', 'dtype'): "
              "start from `config = super().get_config()` and add 'limit' to it.")
    ex.expect("limit" in layer_config, "the config has no 'limit': the file would not "
              "remember it, and load_model would build SoftClip() with the default "
              "limit=1.0. Put 'limit': self.limit in the dict.")
    ex.expect(isinstance(layer_config["limit"], (int, float)), "config['limit'] is a "
              f"{type(layer_config['limit']).__name__}, not a number: put self.limit there "
              "(the weight self.gain travels in model.weights.h5, not in the config).")
    clip_path = os.path.join(folder, "clipped.keras")
    ex.call(clipped.save, clip_path)
    reloaded = ex.call(keras.models.load_model, clip_path)
    again = reloaded.get_layer("clip")
    ex.expect(type(again) is SoftClip, f"the reloaded layer is a {type(again).__name__}, "
              "not a SoftClip.")
    ex.expect(again.limit == 0.5, f"the reloaded layer has limit={again.limit!r}, but the "
              "saved one had limit=0.5: get_config must return self.limit under the key "
              "'limit', the name of the __init__ argument.")
    ex.expect_close(reloaded.predict(x_test[:50], verbose=0),
                    clipped.predict(x_test[:50], verbose=0),
                    what="the reloaded model's predictions",
                    hint="the reloaded SoftClip computes something else than the saved one.")

# %% [markdown]
# Here is what the file now says about the layer. `registered_name` is the key to the class;
# the loader looks it up among the registered objects and never imports or runs code named
# by a file:

# %%
with zipfile.ZipFile(clip_path) as archive:
    clip_entry = json.loads(archive.read("config.json"))["config"]["layers"][2]
print(json.dumps({k: clip_entry[k] for k in ("class_name", "registered_name")}),
      {k: clip_entry["config"][k] for k in ("name", "limit")})
assert clip_entry["registered_name"] == "lesson11>SoftClip"
assert clip_entry["config"]["limit"] == 0.5

# %% [markdown]
# That rule has a consequence for `Lambda` layers: a Python `lambda` cannot be stored as
# data, only as code, so saving one warns and loading it is refused unless you pass
# `safe_mode=False` (do that only for a file you wrote yourself).

# %%
doubler = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: 2 * t)])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    doubler.save(os.path.join(folder, "lambda.keras"))
assert any("lambda" in str(w.message) for w in caught)
try:
    keras.models.load_model(os.path.join(folder, "lambda.keras"))
except ValueError as error:
    refusal = str(error)
print(refusal[:150], "...")
assert "safe_mode=False" in refusal

# %% [markdown]
# ## 6. Files that go wrong
#
# **A save that fails halfway.** The disk fills up, the power goes, the process is killed.
# If `save` wrote straight into `digits.keras`, the old model would be half overwritten and
# lost. So `save` writes a temporary file beside it and, only once that file is complete,
# renames it over the old one (`os.replace`, which is atomic: anyone who opens the path sees
# the old file whole or the new file whole). Let us pretend the disk is full exactly when the
# weights are written:

# %%
real_writestr = zipfile.ZipFile.writestr


def disk_full_at_the_weights(self, name, data, *args, **kwargs):
    if name == "model.weights.h5":
        raise OSError(28, "No space left on device")
    return real_writestr(self, name, data, *args, **kwargs)


old_bytes = open(path, "rb").read()
untrained = digits_net()
with mock.patch.object(zipfile.ZipFile, "writestr", disk_full_at_the_weights):
    try:
        untrained.save(path)
    except OSError as error:
        print("the save failed:", error)

assert open(path, "rb").read() == old_bytes          # the previous file, whole
assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]  # no debris left
survivor = keras.models.load_model(path)
assert np.array_equal(survivor.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
print("digits.keras still holds the trained model")

# %% [markdown]
# **A damaged file.** A file cut short (a download that stopped) or a file that is not a
# model at all must fail with one plain message that says what is wrong, not with an error
# from deep inside `zipfile` or `h5py`, and never with a half-built model. Both are a
# `ValueError` that names the file:

# %%
cut = os.path.join(folder, "cut.keras")
with open(cut, "wb") as f:
    f.write(old_bytes[: len(old_bytes) // 2])
notes = os.path.join(folder, "notes.keras")
with open(notes, "w") as f:
    f.write("this is not a model")

for broken in (cut, notes):
    try:
        keras.models.load_model(broken)
    except ValueError as error:
        message = str(error)
    print("ValueError:", message.replace(folder, "<folder>"))
    assert "not a valid `.keras` archive" in message

# %% [markdown]
# ## 7. To real Keras 3, and back
#
# The file format is Keras 3's own, so the same file opens in the real library. Keras needs
# a backend (JAX, TensorFlow or PyTorch for training); its `numpy` backend is enough to load
# and predict, and it needs nothing else installed. The backend is chosen by the environment
# variable `KERAS_BACKEND`, read once, when `keras` is first imported.
#
# (In this lesson `keras` is minikeras; the real library goes under the name `keras3`.)

# %%
def import_real_keras():
    """Real Keras 3 (NumPy backend unless KERAS_BACKEND names another), or None and a
    "skipped" line when it is not installed."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")  # before the first `import keras`
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import keras as real
    except ImportError as e:
        print(f"skipped: the Keras 3 part of this lesson (real Keras is not installed: {e})")
        return None
    if real is keras or not real.__version__.startswith("3."):
        print("skipped: the Keras 3 part of this lesson (Keras 3 is not installed)")
        return None
    return real


keras3 = import_real_keras()
if keras3 is not None:
    print("Keras", keras3.__version__, "with the", keras3.backend.backend(), "backend")

# %% [markdown]
# Our file, loaded by Keras 3. Keras rebuilds the model from `config.json` with its own
# classes and reads the same HDF5 arrays, so it predicts the same digits. The printed gap
# is the measure of agreement: with Keras's NumPy backend it is usually 0, because both
# libraries end in the same NumPy calls; a backend that computes in another order (JAX,
# TensorFlow, a GPU) agrees to float32 rounding, about $10^{-6}$. The check asks for $10^{-5}$:

# %%
if keras3 is not None:
    theirs = keras3.saving.load_model(path)
    print(type(theirs).__module__, type(theirs).__name__, "| optimizer step",
          int(theirs.optimizer.iterations.numpy()))
    p_ours = model.predict(x_test, verbose=0)
    p_theirs = np.asarray(theirs.predict(x_test, verbose=0))
    print("largest difference:", np.abs(p_ours - p_theirs).max())
    assert np.allclose(p_ours, p_theirs, atol=1e-5)
    assert (p_ours.argmax(1) == p_theirs.argmax(1)).all()
    assert int(theirs.optimizer.iterations.numpy()) == int(model.optimizer.iterations)

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.scatter(p_ours.ravel(), p_theirs.ravel(), s=6, alpha=0.4)
    ax.plot([0, 1], [0, 1], color="gray", lw=0.8)
    ax.set_xlabel("minikeras: predicted probability")
    ax.set_ylabel("Keras 3 (same file)")
    ax.set_title(f"{p_ours.size} probabilities, largest gap {np.abs(p_ours - p_theirs).max():.1e}",
                 fontsize=10)
    fig.savefig(os.path.join(folder, "keras3_agrees.png"), dpi=100, bbox_inches="tight")
    show(fig)

# %% [markdown]
# And back: Keras 3 saves with its own writer, minikeras loads what Keras wrote. We also build
# a model in Keras itself, a small convolutional network that minikeras never saw, with Keras's
# own random weights, and bring it here:

# %%
if keras3 is not None:
    from_keras = os.path.join(folder, "from_keras.keras")
    theirs.save(from_keras)
    back = keras.models.load_model(from_keras)
    assert np.array_equal(back.predict(x_test, verbose=0), model.predict(x_test, verbose=0))

    L = keras3.layers
    conv = keras3.Sequential([keras3.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"),
                              L.MaxPooling2D(), L.Flatten(), L.Dense(10, activation="softmax")])
    conv_path = os.path.join(folder, "keras_conv.keras")
    conv.save(conv_path)
    conv_here = keras.models.load_model(conv_path)
    images = x_test[:20].reshape(-1, 8, 8, 1)
    gap = np.abs(conv_here.predict(images, verbose=0) - np.asarray(conv.predict(images, verbose=0)))
    print([type(layer).__name__ for layer in conv_here.layers], "largest difference:", gap.max())
    assert type(conv_here.layers[0]) is keras.layers.Conv2D
    assert gap.max() < 1e-5

# %% [markdown]
# ## 8. Checkpoints during training
#
# Long training runs save as they go. `keras.callbacks.ModelCheckpoint(filepath,
# monitor="val_loss", save_best_only=True)` saves only when the monitored value improves.
# It is a short piece of code over the hooks you met in lesson 10; you will now write it.
#
# We train on 200 images only, with a learning rate far too large, so the validation loss
# goes down, then wanders up and down: the best epoch is not the last one.
#
# **Your turn:** in `on_epoch_end`, when `logs["val_loss"]` is lower than `self.best`,
# remember the value and the epoch (`epoch` counts from 0) and write the weights with
# `self.model.save_weights(self.filepath)`. On other epochs, do nothing.

# %% tags=["exercise"] exercise="save_best"
class SaveBest(keras.callbacks.Callback):
    """Keep, in `filepath`, the weights of the epoch with the lowest val_loss so far."""

    def __init__(self, filepath):
        super().__init__()
        self.filepath = filepath
        self.best = float("inf")
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        # your code: compare logs["val_loss"] with self.best; when lower, update self.best
        # and self.best_epoch, then save the weights to self.filepath
        raise NotImplementedError


# %%
def small_run(*callbacks):
    """12 epochs on 200 images, seeded: the same run every time."""
    keras.utils.set_random_seed(2)
    net = digits_net(learning_rate=0.1)
    history = net.fit(x_train[:200], y_train[:200], epochs=12, batch_size=32, verbose=0,
                      validation_data=(x_test[:300], y_test[:300]), callbacks=list(callbacks))
    return net, history


with exercise("save_best") as ex:
    mine = os.path.join(folder, "mine.weights.h5")
    reference = os.path.join(folder, "reference.weights.h5")
    snapshots = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append(record.model.get_weights()))
    saver = SaveBest(mine)
    net, history = ex.call(small_run, saver, record, keras.callbacks.ModelCheckpoint(
        reference, monitor="val_loss", save_best_only=True, save_weights_only=True))
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    ex.expect(os.path.exists(mine), "no file was written: call "
              "self.model.save_weights(self.filepath) when val_loss improves.")
    probe = digits_net(compiled=False)
    ex.call(probe.load_weights, mine)
    held = [k for k, ws in enumerate(snapshots)
            if all(np.array_equal(a, b) for a, b in zip(ws, probe.get_weights()))]
    last = len(val) - 1
    ex.expect(held != [last] or best == last, f"your file holds the weights of the last epoch "
              f"({last}), but the lowest val_loss was at epoch {best} ({val[best]:.4f}): save "
              "only when val_loss is lower than self.best, and set self.best to it then.")
    train_best = int(np.argmin(history.history["loss"]))
    ex.expect(held != [train_best] or train_best == best, f"your file holds epoch "
              f"{train_best}, the one with the lowest *training* loss: compare the "
              "validation loss, logs['val_loss'], which says how the model does on new data.")
    ex.expect(held == [best], f"your file holds the weights of epoch {held[0] if held else '?'}"
              f" (val_loss {val[held[0]]:.4f}), but the lowest val_loss was at epoch {best} "
              f"({val[best]:.4f}): lower is better, so the test is logs['val_loss'] < self.best."
              if held else "your file holds none of the epochs' weights.")
    ex.expect(saver.best_epoch == best, f"self.best_epoch is {saver.best_epoch!r}, but the "
              f"best epoch was {best}: set it to `epoch` as the hook receives it (it counts "
              "from 0) when you save.")
    ex.expect(saver.best == val[best], f"self.best is {saver.best!r}, but the lowest val_loss "
              f"was {val[best]!r}: set it to logs['val_loss'] when you save.")
    built_in = digits_net(compiled=False)
    built_in.load_weights(reference)
    ex.expect(all(np.array_equal(a, b) for a, b in zip(built_in.get_weights(),
                                                       probe.get_weights())),
              "your file differs from ModelCheckpoint(save_best_only=True)'s file.")

# %% [markdown]
# Your callback and `ModelCheckpoint` kept the same epoch. `keras.utils.plot_history` draws
# the run (it counts epochs from 1); the red line marks the epoch that the files hold:

# %%
print("val_loss:", np.round(val, 3))
print(f"best epoch {best} (from 0): {val[best]:.4f}; last epoch: {val[-1]:.4f}")
assert 0 < best < len(val) - 1 and val[-1] > val[best]
curve = keras.utils.plot_history(history, metrics="loss")
curve.axes[0].axvline(best + 1, color="red", lw=1, ls="--")
curve.axes[0].annotate("saved", (best + 1, val[best]), xytext=(8, 25),
                       textcoords="offset points", color="red")
curve.savefig(os.path.join(folder, "best_epoch.png"), dpi=100)
curve

# %% [markdown]
# **Resuming after a crash.** `keras.callbacks.BackupAndRestore(backup_dir)` saves the
# weights, the optimizer state and the epoch number at the end of every epoch. When `fit`
# starts again with the same folder, it loads them and goes on from the next epoch; when
# training ends normally, it deletes the folder. Here a callback plays the power cut after
# epoch 2. We turn shuffling off so that the two runs see the same batches in the same
# order; then the resumed run ends with exactly the weights of a run that never stopped.

# %%
class PowerCut(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("power cut after epoch 2")


backup_dir = os.path.join(folder, "backup")
run = dict(epochs=6, batch_size=64, verbose=0, shuffle=False)

keras.utils.set_random_seed(7)
crashed = digits_net()
try:
    crashed.fit(x_train, y_train, callbacks=[keras.callbacks.BackupAndRestore(backup_dir),
                                             PowerCut()], **run)
except RuntimeError as error:
    print(error, "| the backup folder holds", sorted(os.listdir(backup_dir)))

resumed = crashed.fit(x_train, y_train,
                      callbacks=[keras.callbacks.BackupAndRestore(backup_dir)], **run)
print("the second fit ran the epochs", resumed.epoch)
assert resumed.epoch == [3, 4, 5] and not os.path.exists(backup_dir)

keras.utils.set_random_seed(7)
steady = digits_net()
steady.fit(x_train, y_train, **run)
assert all(np.array_equal(a, b) for a, b in zip(crashed.get_weights(), steady.get_weights()))
print("crashed and resumed == never stopped, bit for bit")

# %% [markdown]
# ## Summary
#
# - `model.save("m.keras")` writes a ZIP of `metadata.json`, `config.json` (the recipe: each
#   layer's class and `get_config()`) and `model.weights.h5` (the arrays, in HDF5 groups such
#   as `layers/dense/vars/0`, plus the optimizer's state). `load_model` rebuilds the model
#   and its training state: the predictions agree bit for bit, and training goes on.
# - `save_weights` / `load_weights` move the arrays alone, into a model built the same way;
#   a misfit is refused before anything is changed.
# - Your own layer needs `register_keras_serializable` and a `get_config` that returns every
#   `__init__` argument. A file never runs code; a `lambda` needs `safe_mode=False`.
# - A save writes a temporary file and renames it, so a crash leaves the old file whole; a
#   damaged file is a `ValueError` that says so.
# - The format is Keras 3's: real Keras loads our files and predicts the same, and its files
#   load here.
# - `ModelCheckpoint(save_best_only=True)` keeps the best epoch; `BackupAndRestore` resumes an
#   interrupted `fit` where it stopped.
#
# ## Where to go next
#
# - Lesson 12 builds the optimizers from scratch: the Adam slots you saw in
#   `optimizer/vars/` are the moving averages you will write there.
# - The README's section "The way out: to Keras 3, and back" shows a model saved here
#   training on in Keras 3 with the JAX backend, on every local device.
# - Read `minikeras/saving/`: `archive.py` (the ZIP, read defensively), `files.py` (the atomic
#   write, 40 lines), `weights_h5.py` (where each array goes).
