"""The differentiable operations, under the names of ``keras.ops``.

One op is one :class:`~minikeras.autograd.Function` subclass (forward and backward side by
side, the derivative in its docstring) plus a lowercase function that calls it::

    ops.add(x, y)  ->  Add()(x, y)  ->  Add.forward(x.data, y.data)  ->  x.data + y.data

The files, by family (no file is named like a function it exports, so ``ops.conv`` is the
function and ``ops.convolution`` its module): ``core`` (conversion, cast, reshape,
broadcast_to and sum), ``math`` (elementwise arithmetic), ``compare`` (comparisons),
``reduction`` (mean, max, ...), ``shapes`` (transpose, concatenate, ...), ``indexing``
(getitem, take, where), ``linalg`` (matmul, dot, einsum), ``nn`` (activations, softmax),
``creation`` (zeros, arange, ...), ``convolution`` (conv, conv_transpose, depthwise and
separable), ``pooling`` (max and average pooling), ``normalization`` (moments, batch
normalization), ``recurrent`` (fused LSTM and GRU sequences).
"""
from . import (compare, convolution, core, creation, indexing, linalg, math, nn, normalization,
               pooling, recurrent, reduction, shapes)
from .compare import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .operators import bind_tensor_operators
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shapes import *  # noqa: F401,F403

__all__ = sorted(set().union(*(m.__all__ for m in (compare, convolution, core, creation, indexing,
                                                   linalg, math, nn, normalization, pooling,
                                                   recurrent, reduction, shapes))))

# Tensor's operators (+, *, @, [...], .T, astype) become the ops above: see operators.py.
bind_tensor_operators()
