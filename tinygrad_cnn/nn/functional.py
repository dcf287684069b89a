"""The functional interface (`import tinygrad_cnn.nn.functional as F`): the ops as plain functions.

Everything here forwards to a registered op in `tinygrad_cnn.ops`; this file only handles arguments.
"""

from __future__ import annotations

from ..ops import activation as _activation
from ..ops._util import expect_tensor
from ..ops.conv import conv1d, conv2d, conv3d
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..ops.dropout import dropout, dropout2d
from ..ops.embedding import embedding
from ..ops.layer_norm import group_norm, layer_norm
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.matmul import linear
from ..ops.nonlinear import (
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
)
from ..ops.norm import batch_norm
from ..ops.padding import pad
from ..ops.pointwise import one_hot
from ..ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from ..ops.upsample import interpolate
from ..tensor import Tensor


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), any shape; with `inplace`, written into `input` (recorded in the graph, as PyTorch)."""
    expect_tensor("relu", "input", input)
    return input.relu_() if inplace else _activation.ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x; any shape; with `inplace`, written into `input`."""
    expect_tensor("leaky_relu", "input", input)
    if inplace:
        return input.leaky_relu_(negative_slope)
    return _activation.LeakyReLU.apply(input, negative_slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e**-x), any shape."""
    expect_tensor("sigmoid", "input", input)
    return _activation.Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, any shape."""
    expect_tensor("tanh", "input", input)
    return _activation.Tanh.apply(input)


def _softmax_dim(ndim: int) -> int:
    # PyTorch's implicit choice when dim is None (deprecated there, kept for compatibility).
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """e**x / sum(e**x) along `dim`; same shape as the input."""
    expect_tensor("softmax", "input", input)
    return _activation.Softmax.apply(input, dim=_softmax_dim(input.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along `dim`; same shape as the input."""
    expect_tensor("log_softmax", "input", input)
    return _activation.LogSoftmax.apply(input, dim=_softmax_dim(input.ndim) if dim is None else dim)


def softmin(input: Tensor, dim: int | None = None) -> Tensor:
    """softmax(-x) along `dim`: e**-x / sum(e**-x); same shape as the input."""
    expect_tensor("softmin", "input", input)
    return _activation.Softmax.apply(-input, dim=_softmax_dim(input.ndim) if dim is None else dim)


__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "batch_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "cross_entropy", "dropout", "dropout2d", "elu", "embedding", "gelu",
    "group_norm", "hardsigmoid", "hardswish", "hardtanh", "huber_loss", "interpolate", "kl_div", "l1_loss",
    "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool1d", "max_pool2d", "max_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "mish", "mse_loss", "nll_loss", "one_hot", "pad", "prelu",
    "relu", "relu6", "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin", "softplus", "softsign",
    "tanh",
]
