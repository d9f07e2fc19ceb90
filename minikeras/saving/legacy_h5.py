"""Weights in the HDF5 layout of Keras 2 (``model.save_weights("w.h5")``, ``model.save("m.h5")``
and the pretrained files of ``keras.applications``), read by ``model.load_weights("….h5")``.

The layout: the root group (or its ``model_weights`` group, in a whole-model file) has an
attribute ``layer_names``; each layer's group has an attribute ``weight_names`` naming its
datasets in the layer's order (trainable weights, then the others). Long lists are split
over attributes ``layer_names0``, ``layer_names1``… . Layers are matched as Keras matches
them, by order: the n-th layer of the file that has weights goes to the n-th layer of the
model that has weights; the names are not compared. Every shape is checked before the first
weight is set, so a misfit loads nothing.
"""
import numpy as np


def _strings(group, attr):
    if attr in group.attrs:
        values = list(group.attrs[attr])
    else:
        values, i = [], 0
        while f"{attr}{i}" in group.attrs:
            values += list(group.attrs[f"{attr}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def is_legacy_file(f):
    group = f["model_weights"] if "model_weights" in f else f
    return bool(_strings(group, "layer_names"))


def read_legacy_weights(model, f, path, skip_mismatch=False):
    """Set ``model``'s weights from the open h5py File ``f`` in Keras 2's layout."""
    group = f["model_weights"] if "model_weights" in f else f
    saved = []
    for name in _strings(group, "layer_names"):
        names = _strings(group[name], "weight_names")
        if names:
            saved.append((name, [np.asarray(group[name][w]) for w in names]))
    layers = [layer for layer in model.layers if layer.weights]
    if len(saved) != len(layers):
        raise ValueError(f"{path}: the file holds weights for {len(saved)} layers, the model "
                         f"{model.name!r} has {len(layers)} layers with weights. (Keras 2 .h5 "
                         "weights are matched by order: the models must have the same layers.)")
    plan = []
    for layer, (name, arrays) in zip(layers, saved):
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        shapes = [tuple(v.shape) for v in variables]
        if [a.shape for a in arrays] != shapes:
            if skip_mismatch:
                continue
            raise ValueError(f"{path}: layer {layer.name!r} of the model has weights of shapes "
                             f"{shapes}, but the file's layer {name!r} has "
                             f"{[a.shape for a in arrays]}; nothing was loaded.")
        plan.append((variables, arrays))
    for variables, arrays in plan:
        for variable, array in zip(variables, arrays):
            variable.assign(array.astype(variable.dtype))
