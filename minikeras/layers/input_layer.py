"""``keras.Input``: the layer behind a functional model's input, and the KerasTensor it
stands for (see ``symbolic.py`` for what calling a layer on it does)."""
from .layer import Layer
from .symbolic import KerasTensor, Node, infer_output_shape, symbolic_call  # noqa: F401


class InputLayer(Layer):
    """The layer behind ``keras.Input``; it passes its input through."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        super().__init__(name=name or None, dtype=dtype)
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs `shape` (without the batch size) or "
                                 "`batch_shape`, e.g. keras.Input(shape=(28, 28, 1)).")
            if isinstance(shape, int):  # refused by Keras 3 too, so code moves there as it is
                raise ValueError(f"Cannot convert '{shape}' to a shape: Input(shape=...) takes "
                                 f"a tuple without the batch size, e.g. Input(shape=({shape},)).")
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(batch_shape)
        self.built = True
        self._output = KerasTensor(self.batch_shape, dtype=dtype, name=self.name)
        self._output.node = Node(self, [], (), {}, self._output)

    @property
    def output(self):
        """The KerasTensor this layer stands for (what ``keras.Input`` returns)."""
        return self._output

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": str(self.output.dtype),
                "sparse": False, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, **kwargs):
    """``keras.Input(shape, batch_size=None, dtype=None, batch_shape=None, name=None)``:
    the symbolic input of a functional model (``shape`` excludes the batch)."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name).output

