"""Dropout: the random mask is drawn outside the op and passed in as a constant input, so the
registered Function is deterministic given its mask (and its samples gradcheck)."""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd import Function
from ..random import generator
from ..tensor import Tensor
from ._util import expect_tensor, random_array
from .registry import Sample, register


def _dropout_samples(rng: np.random.Generator):
    for shape, p in [((4, 5), 0.5), ((2, 3, 4, 4), 0.25), ((6,), 0.9)]:
        mask = (rng.random(shape) >= p) / (1 - p)
        yield Sample((random_array(rng, *shape), mask), requires_grad=(True, False), note=f"{shape} p={p}")


@register("dropout", samples=_dropout_samples)
class Dropout(Function):
    """x * mask, where mask holds 0 for dropped elements and 1 / (1 - p) for kept ones."""

    @staticmethod
    def forward(ctx, x, mask):
        if np.shape(mask) != x.shape:
            raise ValueError(f"dropout: mask shape {np.shape(mask)} does not match input shape {x.shape}")
        mask = np.asarray(mask).astype(x.dtype, copy=False)
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.mask, None


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the others by 1 / (1 - p); identity when not training.

    x: any shape -> the same shape. The mask comes from `tinygrad_cnn.random.generator()` (see `manual_seed`).
    With `inplace`, the result is written into `x` (recorded in the graph, as PyTorch).
    """
    expect_tensor("dropout", "input", x)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p!r}")
    if not training or p == 0:
        return x
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1:
        mask = np.zeros(x.shape, dtype)
    else:
        mask = (generator().random(x.shape, dtype=dtype) >= p) * dtype.type(1 / (1 - p))
    return x._inplace(Dropout, mask) if inplace else Dropout.apply(x, mask)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels, each with probability p, and scale the others by 1 / (1 - p); identity when not
    training. (N, C, H, W) or any (N, C, *) -> the same shape: input[n, c] is kept or dropped as one.

    As PyTorch 2.x: a 3-d input is read as (N, C, L) (1-d channel dropout, with a warning that this will change),
    other than 3-d or 4-d is accepted with a deprecation warning, fewer than 2 dims is an error. `inplace=True`
    writes the result into `input`.
    """
    expect_tensor("dropout2d", "input", input)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout2d: dropout probability has to be between 0 and 1, but got {p!r}")
    if input.ndim < 2:
        raise RuntimeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the input, got shape "
                           f"{input.shape}")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This "
                      "behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"dropout2d: expected a floating point input in training, got {input.dtype}")
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)  # one draw per (sample, channel)
    if p == 1:
        mask = np.zeros(mask_shape, input.dtype)
    else:
        mask = (generator().random(mask_shape, dtype=input.dtype) >= p) * input.dtype.type(1 / (1 - p))
    mask = np.broadcast_to(mask, input.shape)  # a view: the op multiplies by it without a full-size copy
    return input._inplace(Dropout, mask) if inplace else Dropout.apply(input, mask)
