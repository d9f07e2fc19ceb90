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

# %% tags=["exercise"] exercise="list_weights"
def list_weights(path):
    """{path inside the file: shape} for every array (h5py.Dataset) in the HDF5 file."""
    found = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found[name] = obj.shape

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return found


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
        config = super().get_config()
        config["limit"] = self.limit
        return config


# %% tags=["exercise"] exercise="save_best"
class SaveBest(keras.callbacks.Callback):
    """Keep, in `filepath`, the weights of the epoch with the lowest val_loss so far."""

    def __init__(self, filepath):
        super().__init__()
        self.filepath = filepath
        self.best = float("inf")
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_loss"] < self.best:
            self.best = logs["val_loss"]
            self.best_epoch = epoch
            self.model.save_weights(self.filepath)
