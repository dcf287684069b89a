"""The functional interface (`import tinygrad_cnn.nn.functional as F`): the ops as plain functions.

Everything here forwards to a registered op in `tinygrad_cnn.ops`; this file only handles arguments.
"""

from __future__ import annotations

from typing import Any

from ..ops import activation as _activation
from ..ops import conv as _conv
from ..ops.conv import conv1d, conv2d
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..ops.dropout import dropout
from ..ops.loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss
from ..ops.matmul import linear
from ..ops.norm import batch_norm
from ..ops.padding import pad
from ..ops.pool import avg_pool2d, max_pool2d
from ..ops.upsample import interpolate
from ..tensor import Tensor


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D convolution: input (N, C, D, H, W), weight (O, C/groups, kd, kh, kw), bias (O,) -> (N, O, Do, Ho, Wo);
    options as conv2d, in triples."""
    # The N-d conv op with conv1d/conv2d's checks; to move beside them in ops/conv.py (being refactored meanwhile).
    return _conv._convolve(input, weight, bias, stride, padding, dilation, groups, 3)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), any shape. `inplace` is accepted for PyTorch compatibility; the result is a new tensor."""
    return _activation.ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x; any shape."""
    return _activation.LeakyReLU.apply(input, negative_slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e**-x), any shape."""
    return _activation.Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, any shape."""
    return _activation.Tanh.apply(input)


def _softmax_dim(ndim: int) -> int:
    # PyTorch's implicit choice when dim is None (deprecated there, kept for compatibility).
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """e**x / sum(e**x) along `dim`; same shape as the input."""
    return _activation.Softmax.apply(input, dim=_softmax_dim(input.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along `dim`; same shape as the input."""
    return _activation.LogSoftmax.apply(input, dim=_softmax_dim(input.ndim) if dim is None else dim)


__all__ = [
    "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d",
    "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cross_entropy", "dropout", "interpolate",
    "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss", "pad", "relu", "sigmoid", "softmax",
    "tanh",
]
