"""Dropout: the random mask is drawn outside the op and passed in as a constant input, so the
registered Function is deterministic given its mask (and its samples gradcheck)."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..random import generator
from ..tensor import Tensor
from ._util import random_array
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
    `inplace` is accepted for PyTorch compatibility; the result is a new tensor.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p!r}")
    if not training or p == 0:
        return x
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1:
        mask = np.zeros(x.shape, dtype)
    else:
        mask = (generator().random(x.shape, dtype=dtype) >= p) * dtype.type(1 / (1 - p))
    return Dropout.apply(x, mask)
