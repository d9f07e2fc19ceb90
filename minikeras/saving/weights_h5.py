"""Keras 3's HDF5 weights layout: ``x.weights.h5``, and ``model.weights.h5`` inside a
``.keras`` archive (the same layout).

Where each weight goes is decided by walking the model as Keras walks it, not by layer
names (automatic names change between runs, the structure does not):

* each layer (and the optimizer) is a group ``<path>/vars`` with the attribute
  ``name``; its own weights, trainable then non-trainable, in creation order, are the
  datasets ``"0"``, ``"1"``, ... (the root model is just ``vars``);
* the children of a Sequential or functional model are first its ``layers`` (for a
  functional model in Keras's order, see ``layers/graph_order.py``), a list:
  a list's items are named after their class in snake case (``dense``, ``dense_1``...;
  ``input_layer`` for an InputLayer, whatever its name), a nested list ``container``;
* then every other attribute that holds a layer, an optimizer or a list of them, in
  sorted order (names starting with ``_`` last), skipping what a bare ``Layer`` has: a
  LSTM's cell is ``layers/lstm/cell``, a model's optimizer ``optimizer``;
* an object reached a second time (a shared layer) is written only the first time.

Loading reads every group and checks every count and shape before it assigns a single
value, so a file that does not fit leaves the model exactly as it was.
"""
import io
import warnings

import numpy as np

from .. import backend
from ..layers.layer import Layer
from ..layers.names import snake_case
from ..optim.base import Optimizer
from ..layers.graph_order import keras_layer_order
from .keras_ops import KerasOp
from .serialization import model_class, overrides

_skipsets = {}


class LayoutError(ValueError):
    """A weights file whose groups are not in Keras's layout."""


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a test dependency
        raise ImportError("Saving and loading `.weights.h5` and `.keras` files needs the "
                          "h5py package: pip install h5py") from None
    return h5py


def _is_saveable(obj):
    return isinstance(obj, (Layer, Optimizer)) and not isinstance(obj, KerasOp)


def _skipset(obj):
    """The attributes that a bare Layer (or Optimizer) has: not children to walk."""
    kind = "optimizer" if isinstance(obj, Optimizer) else "layer"
    if kind not in _skipsets:
        bare = Optimizer(1.0, name="bare") if kind == "optimizer" else Layer(name="bare")
        _skipsets[kind] = set(dir(bare)) | {"operations", "_operations", "_functional"}
    return _skipsets[kind]


def _children(obj):
    """(attribute name, value) pairs in Keras's walking order."""
    skip = _skipset(obj)
    if isinstance(obj, model_class("Sequential")):
        yield "layers", obj.layers
        skip = skip | {"layers"}
    elif isinstance(obj, model_class("Functional")):  # Keras's operations are not layers: not saved
        yield "layers", [layer for layer in keras_layer_order(obj)
                         if not isinstance(layer, KerasOp)]
        skip = skip | {"layers"}
    for attr in sorted(dir(obj), key=lambda a: "~" + a if a.startswith("_") else a):
        if attr.startswith("__") or attr in skip:
            continue
        try:
            yield attr, getattr(obj, attr)
        except Exception:  # a property that cannot be computed now holds no child
            continue


def own_variables(obj):
    """The variables an object writes into its own ``vars`` group, in file order."""
    if isinstance(obj, Optimizer):
        return list(obj.variables)
    return list(obj._trainable_weights) + list(obj._non_trainable_weights)


def walk(root):
    """Every saveable object under ``root`` with its group path, in Keras's order."""
    entries, visited = [], set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        entries.append((path, obj))
        if isinstance(obj, Optimizer):
            return
        for attr, child in _children(obj):
            child_path = f"{path}/{attr}" if path else attr
            if _is_saveable(child):
                visit(child, child_path)
            elif isinstance(child, (list, tuple, dict)):
                visit_container(child, child_path, set())

    def visit_container(container, path, seen):
        if id(container) in seen:
            return
        seen.add(id(container))
        used = {}
        for item in (container.values() if isinstance(container, dict) else container):
            if _is_saveable(item):
                visit(item, f"{path}/{_unique(snake_case(type(item).__name__), used)}")
            elif isinstance(item, (list, tuple, dict)):
                visit_container(item, f"{path}/{_unique('container', used)}", seen)

    visit(root, "")
    return entries


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _group_name(path):
    return f"{path}/vars" if path else "vars"


# ---------------------------------------------------------------------- writing
class _GroupWriter:
    """The ``store`` a ``save_own_variables(store)`` writes into: ``store["0"] = array``
    makes a dataset of the object's group."""

    def __init__(self, group):
        self.group = group

    def __setitem__(self, key, value):
        data = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        self.group.create_dataset(str(key), data=data)


def write_weights(model, target):
    """Write the weights of ``model`` (and of its optimizer) to ``target``: a path or a
    binary file object. Each object writes its own group (``save_own_variables``)."""
    h5py = _h5py()
    with h5py.File(target, "w") as f:
        for path, obj in walk(model):
            group = f.create_group(_group_name(path))
            group.attrs["name"] = obj.name
            obj.save_own_variables(_GroupWriter(group))


def weights_bytes(model):
    """The ``.weights.h5`` file of ``model`` as bytes (what goes into a ``.keras``)."""
    buffer = io.BytesIO()
    write_weights(model, buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------- reading
def _refuse_links_and_external_data(h5py, group, where=""):
    """A weights file holds its arrays itself. Links (soft or to other files), external
    datasets (raw data in another file) and virtual datasets could make loading read any
    file of the machine into the weights, so they are refused, as Keras refuses them."""
    for key in group.keys():
        name = f"{where}/{key}"
        link = group.get(key, getlink=True)
        if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
            raise LayoutError(f"Not allowed: H5 file with a link ({name}); a weights file "
                              "must hold its arrays itself.")
        item = group.get(key)
        if isinstance(item, h5py.Dataset):
            if item.external or item.is_virtual:
                raise LayoutError(f"Not allowed: H5 file with an external or virtual dataset "
                                  f"({name}); a weights file must hold its arrays itself.")
        elif isinstance(item, h5py.Group):
            _refuse_links_and_external_data(h5py, item, name)


def _read_group(f, path):
    """The arrays of group ``<path>/vars`` in order, or None when the file has no such
    group (Keras 2.13 files spell ``layers`` ``_layer_checkpoint_dependencies``)."""
    for name in (_group_name(path), _group_name(path.replace(
            "layers", "_layer_checkpoint_dependencies", 1))):
        group = f.get(name)
        if group is not None:
            break
    else:
        return None
    keys = list(group.keys())
    if sorted(keys, key=lambda k: (len(k), k)) != [str(i) for i in range(len(keys))]:
        raise LayoutError(f"The weights file's group '{name}' should hold datasets named "
                         f"'0', '1', ...; it holds {sorted(keys)}.")
    return [np.asarray(group[str(i)][()]) for i in range(len(keys))]


def _read_store(f, path):
    """Every dataset of group ``<path>/vars`` by name: the ``store`` a layer's own
    ``load_own_variables`` reads (empty when the file has no such group)."""
    group = f.get(_group_name(path))
    if group is None:
        return {}
    return {key: np.asarray(group[key][()]) for key in group.keys()}


def _mismatch(obj, path, variables, arrays):
    """What is wrong with loading ``arrays`` into ``variables``, or None."""
    kind = "Optimizer" if isinstance(obj, Optimizer) else "Layer"
    arrays = arrays or []
    got = len(arrays)
    if got != len(variables):
        if not variables and isinstance(obj, Layer) and not obj.built:
            return (f"Layer '{obj.name}' was never built and thus it doesn't have any "
                    f"variables. However the weights file lists {got} variables for this "
                    "layer. Build the model (call it on data or on keras.Input, or call "
                    "build(input_shape)) before loading its weights.")
        return (f"{kind} '{obj.name}' expected {len(variables)} variables, but received "
                f"{got} variables during loading. Expected: "
                f"{[v.name for v in variables]} (group '{_group_name(path)}')")
    for i, (v, a) in enumerate(zip(variables, arrays)):
        if tuple(a.shape) != tuple(v.shape):
            return (f"{kind} '{obj.name}': weight '{v.path}' has shape {tuple(v.shape)}, but "
                    f"the file has shape {tuple(a.shape)} for it "
                    f"('{_group_name(path)}/{i}').")
        if a.dtype.kind not in "biuf" or (np.dtype(v.dtype).kind == "f") != (a.dtype.kind == "f"):
            return (f"{kind} '{obj.name}': weight '{v.path}' is {np.dtype(v.dtype)}, but the "
                    f"file holds {a.dtype} for it ('{_group_name(path)}/{i}').")
    return None


def read_weights(model, source, skip_mismatch=False, skip_optimizer=False):
    """Load ``source`` (a path or a binary file object in the layout above) into
    ``model``: everything is read and checked first, then assigned.

    A layer whose weights do not fit raises a ValueError naming the layer and both
    shapes (all the misfits at once); with ``skip_mismatch=True`` that layer keeps its
    weights, with a warning, and the others are loaded. A misfit of the optimizer only
    warns, as in Keras (an optimizer that has not run yet has no slots to fill).
    """
    h5py = _h5py()
    plan, custom, errors = [], [], []
    try:
        f = h5py.File(source, "r")
    except OSError as e:
        raise ValueError(f"Cannot read the weights: this is not a readable HDF5 file "
                         f"({e}).") from e
    with f:
        try:
            _refuse_links_and_external_data(h5py, f)
            for path, obj in walk(model):
                if isinstance(obj, Optimizer) and skip_optimizer:
                    continue
                if isinstance(obj, Layer) and overrides(obj, "load_own_variables", Layer):
                    custom.append((obj, _read_store(f, path)))  # the layer reads its group
                    continue
                variables = own_variables(obj)
                arrays = _read_group(f, path)
                problem = _mismatch(obj, path, variables, arrays)
                if problem is None:
                    plan.extend(zip(variables, arrays or []))
                elif isinstance(obj, Optimizer):
                    if arrays is not None:
                        warnings.warn(f"Skipping variable loading for optimizer '{obj.name}', "
                                      f"because it has {len(variables)} variables whereas the "
                                      f"saved optimizer has {len(arrays)} variables.",
                                      stacklevel=3)
                elif skip_mismatch:
                    warnings.warn(f"Skipping loading weights for layer '{obj.name}': "
                                  f"{problem}", stacklevel=3)
                else:
                    errors.append(problem)
        except LayoutError:
            raise
        except Exception as e:  # a damaged file: h5py raises OSError, KeyError, RuntimeError
            raise ValueError(f"Cannot read the weights file: it is damaged or not in Keras's "
                             f"layout ({type(e).__name__}: {e}).") from e
    if errors:
        raise ValueError("The weights do not fit the model; nothing was loaded.\n"
                         + "\n".join(errors))
    for variable, array in plan:
        variable.assign(backend.asarray(np.asarray(array, dtype=variable.dtype)))
    for obj, store in custom:
        obj.load_own_variables(store)


def optimizer_variable_count(source):
    """How many optimizer variables the weights file holds (0 without ``optimizer/vars``)."""
    h5py = _h5py()
    with h5py.File(source, "r") as f:
        _refuse_links_and_external_data(h5py, f)
        group = f.get("optimizer/vars")
        return 0 if group is None else len(group.keys())
