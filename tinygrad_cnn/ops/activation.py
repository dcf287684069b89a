"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax — each stable for any finite input."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import as_floating, away_from, normalize_dim
from .registry import Sample, register


def _samples(rng, kinks=(), scale=3.0):
    for shape in [(), (7,), (3, 4), (2, 3, 4, 5)]:
        yield Sample((away_from(rng, shape, kinks, 0.1, -scale, scale) if kinks else
                      rng.uniform(-scale, scale, size=shape),), note=str(shape))


def _kink_at_zero(sample):
    return [sample.args[0] == 0]


@register("relu", samples=lambda rng: _samples(rng, kinks=(0.0,)), kinks=_kink_at_zero)
class ReLU(Function):
    """max(x, 0); the gradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out > 0)


@register("leaky_relu", samples=lambda rng: _samples(rng, kinks=(0.0,)), kinks=_kink_at_zero)
class LeakyReLU(Function):
    """x where x > 0, else negative_slope * x."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        positive = x > 0
        ctx.positive, ctx.negative_slope = positive, negative_slope
        return np.where(positive, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad_output):
        return np.where(ctx.positive, grad_output, grad_output * grad_output.dtype.type(ctx.negative_slope))


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e**-x), exact in both tails: where e**-x overflows to inf the result is exactly 0, its limit (the
    true value lies below the smallest normal number), so the overflow is silenced rather than avoided (one exp and
    no branch, where the two-formula form takes several passes)."""
    out = np.negative(x, out=np.empty(x.shape, x.dtype))  # in place from here (an array also for 0-d x)
    np.exp(out, out=out)
    out += 1
    return np.divide(1, out, out=out)  # np.reciprocal rounds alike but is slower in some NumPy versions


@register("sigmoid", samples=_samples)
class Sigmoid(Function):
    """1 / (1 + e**-x), with no overflow warning or NaN at any input."""

    @staticmethod
    def forward(ctx, x):
        out = stable_sigmoid(as_floating("sigmoid", x))  # of an int tensor: float32, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        grad = np.subtract(1, out, dtype=np.result_type(out, grad_output))  # in place from here: no temporaries
        grad *= out
        grad *= grad_output
        return grad


@register("tanh", samples=_samples)
class Tanh(Function):
    """Hyperbolic tangent."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(as_floating("tanh", x))  # of an int tensor: float32, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        grad = 1 - np.square(out, dtype=np.result_type(out, grad_output))
        grad *= grad_output
        return grad


def _softmax_samples(rng):
    for shape, dim in [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 2, 2), 1)]:
        yield Sample((rng.uniform(-3, 3, size=shape),), {"dim": dim}, note=f"{shape} dim={dim}")


@register("softmax", samples=_softmax_samples)
class Softmax(Function):
    """e**x / sum(e**x) along dim, computed from x - max(x) so that no exponential overflows (a row of -inf,
    or one holding inf, gives NaN, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, dim=-1):
        _expect_float("softmax", x)
        axis = normalize_dim(dim, x.ndim, "softmax")
        e = np.exp(x - _row_max(x, axis))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return out * (grad_output - (grad_output * out).sum(axis=ctx.axis, keepdims=True))


def _expect_float(op: str, x: np.ndarray) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {x.dtype} (PyTorch has no {op} for it either); "
                        "convert it with .float()")


def _row_max(x: np.ndarray, axis: int) -> np.ndarray:
    """The maximum along axis (kept), -inf for an empty row: a softmax over no elements is empty, not an error."""
    return x.max(axis=axis, keepdims=True, initial=-np.inf)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x - logsumexp(x) along axis, from x - max(x) so that no exponential overflows (also used by losses);
    the caller silences NumPy's warnings where a row holds inf or -inf only (NaN there, as PyTorch)."""
    shifted = x - _row_max(x, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@register("log_softmax", samples=_softmax_samples)
class LogSoftmax(Function):
    """x - logsumexp(x) along dim; finite for any finite input."""

    @staticmethod
    def forward(ctx, x, dim=-1):
        _expect_float("log_softmax", x)
        axis = normalize_dim(dim, x.ndim, "log_softmax")
        out = log_softmax(x, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output - np.exp(out) * grad_output.sum(axis=ctx.axis, keepdims=True)
