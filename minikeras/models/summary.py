"""``model.summary()``: the table of layers, drawn with the box characters Keras 3 uses."""
import numpy as np

from ..layers.input_layer import InputLayer


def readable_memory_size(n_bytes):
    """``212.54 KB``: 1024-based units, two decimals."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _widths(total, fractions):
    """Split the inner width among the columns by ``fractions`` (largest remainder first)."""
    inner = total - len(fractions) - 1
    exact = [f * inner for f in fractions]
    widths = [int(e) for e in exact]
    for i in sorted(range(len(exact)), key=lambda i: exact[i] - widths[i], reverse=True)[
            :inner - sum(widths)]:
        widths[i] += 1
    return widths


def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    inner = ", ".join("None" if s is None else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _output_shape(layer):
    if isinstance(layer, InputLayer):
        return layer.batch_shape
    if not layer._inbound:
        return None
    out = layer._inbound[-1].outputs
    return [t.shape for t in out] if isinstance(out, (list, tuple)) else out.shape


def _params(layer):
    if not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _connected_to(layer):
    if isinstance(layer, InputLayer) or not layer._inbound:
        return "-"
    node = layer._inbound[-1]
    parts = []
    for t in _flat(node.inputs):
        if getattr(t, "node", None) is not None:
            parent = t.node.layer
            parts.append(f"{parent.name}[{parent._inbound.index(t.node) if t.node in parent._inbound else 0}][{t.index}]")
    return ", ".join(parts) or "-"


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for s in x for y in _flat(s)]
    if isinstance(x, dict):
        return [y for s in x.values() for y in _flat(s)]
    return [x]


def _dtype_size(weights):
    return sum(w.size * np.dtype(w.dtype).itemsize for w in weights)


def print_summary(model, line_length=None, print_fn=None):
    from .sequential import Sequential
    sequential = isinstance(model, Sequential) or not hasattr(model, "_nodes")
    if sequential:
        headers, fractions, width = ["Layer (type)", "Output Shape", "Param #"], [.45, .35, .20], 88
    else:
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        fractions, width = [.30, .26, .18, .26], 108
    width = line_length or width
    widths = _widths(width, fractions)
    right = {2}

    def row(cells, left, mid, end):
        out = left
        for i, (cell, w) in enumerate(zip(cells, widths)):
            text = cell[:w - 2]
            text = text.rjust(w - 2) if i in right else text.ljust(w - 2)
            out += " " + text + " " + (mid if i < len(widths) - 1 else end)
        return out

    def rule(left, fill, mid, end):
        return left + mid.join(fill * w for w in widths) + end

    lines = [f'Model: "{model.name}"',
             rule("┏", "━", "┳", "┓"), row(headers, "┃", "┃", "┃"), rule("┡", "━", "╇", "┩")]
    layers = model.layers
    for i, layer in enumerate(layers):
        cells = [f"{layer.name} ({type(layer).__name__})", _shape_text(_output_shape(layer)),
                 _params(layer)]
        if not sequential:
            cells.append(_connected_to(layer))
        lines.append(row(cells, "│", "│", "│"))
        lines.append(rule("├", "─", "┼", "┤") if i < len(layers) - 1 else rule("└", "─", "┴", "┘"))
    if not layers:
        lines.append(rule("└", "─", "┴", "┘"))
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    n_train = sum(w.size for w in trainable)
    n_non = sum(w.size for w in non_trainable)
    optimizer_vars = []
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        optimizer_vars = list(optimizer.variables)
    n_opt = sum(v.size for v in optimizer_vars)
    size_train, size_non = _dtype_size(trainable), _dtype_size(non_trainable)
    size_opt = _dtype_size(optimizer_vars)
    total = n_train + n_non + n_opt
    lines.append(f" Total params: {total:,} ({readable_memory_size(size_train + size_non + size_opt)})")
    lines.append(f" Trainable params: {n_train:,} ({readable_memory_size(size_train)})")
    lines.append(f" Non-trainable params: {n_non:,} ({readable_memory_size(size_non)})")
    if optimizer_vars:
        lines.append(f" Optimizer params: {n_opt:,} ({readable_memory_size(size_opt)})")
    (print_fn or print)("\n".join(lines))
