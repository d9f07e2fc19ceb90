"""``model.summary()``: the table of layers, drawn with the box characters Keras 3 uses, laid
out as Keras's rich table is (column widths, word wrap), so the text is Keras's."""
import shutil

import numpy as np

from ..layers.input_layer import InputLayer


def readable_memory_size(n_bytes):
    """``212.54 KB``: 1024-based units, two decimals."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _column_widths(line_length, positions):
    """The widths between the borders, as Keras's summary gets them from rich.

    Keras gives column i the width ``int(positions[i]·L) - int(positions[i-1]·L)`` of the
    line length L; rich adds one space of padding on each side and, since the table must
    fit L with its n + 1 borders, takes the excess back evenly, column by column, rounding
    half to even (rich's ``ratio_reduce``)."""
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    cells = [w + 2 for w in widths]
    excess = sum(cells) - (line_length - len(cells) - 1)
    left = len(cells)
    for i in range(len(cells)):
        if excess <= 0:
            break
        cut = min(cells[i], round(excess / left))
        cells[i] -= cut
        excess -= cut
        left -= 1
    return cells


def _wrap(text, width):
    """``text`` in lines of at most ``width``: broken at spaces, and a word too long for a
    line cut with "…" (rich's word wrap with ellipsis overflow, as in Keras's table)."""
    lines, current = [], ""
    for word in text.split(" "):
        candidate = word if not current else f"{current} {word}"
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return [line if len(line) <= width else line[:width - 1] + "…" for line in lines]


def _shape_text(shape):
    """Keras's text of an output shape: ``(None, 10)``, ``(None)`` for rank 1, and
    ``[(None, 10, 5), (None, 5)]`` for a layer with several outputs."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


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


def _connected_to(layer, model_nodes):
    """``parent[node][tensor]`` for every symbolic input of every call of ``layer`` inside
    the model (a shared layer lists each of its calls), as Keras's "Connected to"."""
    if isinstance(layer, InputLayer):
        return "-"
    parts = []
    for node in layer._inbound:
        if id(node) not in model_nodes:
            continue  # a call outside this model
        for t in _flat(node.inputs):
            if getattr(t, "node", None) is not None:
                parent = t.node.layer
                index = parent._inbound.index(t.node) if t.node in parent._inbound else 0
                parts.append(f"{parent.name}[{index}][{t.index}]")
    return ", ".join(parts) or "-"


def _center(text, width):
    """``text`` centred in ``width``, the odd space on the right (as rich centres)."""
    left = (width - len(text)) // 2
    return " " * left + text + " " * (width - len(text) - left)


def _is_chain(model):
    """True for a functional model that is a plain chain (one input, one output, each call
    on one tensor, no layer called twice): Keras draws it as a Sequential, without the
    "Connected to" column."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    seen = set()
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        symbolic = [t for t in _flat([node.inputs, list(node.args), node.kwargs])
                    if getattr(t, "node", None) is not None]
        if len(symbolic) > 1 or id(node.layer) in seen:
            return False
        seen.add(id(node.layer))
    return True


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for s in x for y in _flat(s)]
    if isinstance(x, dict):
        return [y for s in x.values() for y in _flat(s)]
    return [x]


def _dtype_size(weights):
    return sum(w.size * np.dtype(w.dtype).itemsize for w in weights)


def print_summary(model, line_length=None, print_fn=None, show_trainable=False, positions=None):
    # Keras's short table for Sequential and subclassed models (they have no recorded
    # nodes) and for a functional model that is one chain of layers
    sequential = not hasattr(model, "_nodes") or _is_chain(model)
    model_nodes = {id(n) for n in getattr(model, "_nodes", [])}
    if sequential:
        headers, default_positions, default = ["Layer (type)", "Output Shape", "Param #"], [.45, .80, 1.0], 88
    else:
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        default_positions, default = [.30, .56, .74, 1.0], 108
    positions = list(positions or default_positions)
    if show_trainable:  # one more column, "Trainable": Y, N, or - for a layer without weights
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        headers = headers + ["Trainable"]
    # as Keras: never wider than the terminal (COLUMNS, else 80 when not a terminal) less 4
    width = line_length or min(default, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(width, positions)
    right, center = {2}, ({len(headers) - 1} if show_trainable else set())

    def row(cells, left, mid, end, bottom=False):
        wrapped = [_wrap(cell, w - 2) for cell, w in zip(cells, widths)]
        height = max(len(c) for c in wrapped)
        if bottom:  # header cells sit on the last line, as rich aligns them
            wrapped = [[""] * (height - len(c)) + c for c in wrapped]
        out = []
        for k in range(height):
            line = left
            for i, (cell, w) in enumerate(zip(wrapped, widths)):
                text = cell[k] if k < len(cell) else ""
                text = (text.rjust(w - 2) if i in right else
                        _center(text, w - 2) if i in center else text.ljust(w - 2))
                line += " " + text + " " + (mid if i < len(widths) - 1 else end)
            out.append(line)
        return "\n".join(out)

    def rule(left, fill, mid, end):
        return left + mid.join(fill * w for w in widths) + end

    lines = [f'Model: "{model.name}"',
             rule("┏", "━", "┳", "┓"), row(headers, "┃", "┃", "┃", bottom=True), rule("┡", "━", "╇", "┩")]
    layers = model.layers
    for i, layer in enumerate(layers):
        cells = [f"{layer.name} ({type(layer).__name__})", _shape_text(_output_shape(layer)),
                 _params(layer)]
        if not sequential:
            cells.append(_connected_to(layer, model_nodes))
        if show_trainable:
            cells.append(("Y" if layer.trainable else "N") if layer.weights else "-")
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
