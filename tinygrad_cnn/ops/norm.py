"""Batch normalisation over (N, C), (N, C, L) or (N, C, H, W) input, per channel C, as PyTorch.

One Function holds the forward and the closed-form backward; the running statistics are passed in
as plain arrays (constants of the graph) and updated in place during a training forward.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import blockwise, random_array
from .registry import Sample, register


def _channel_sum(x: np.ndarray, channels: int, y: np.ndarray | None = None) -> np.ndarray:
    """Per channel, the sum of x (or of x * y, without a temporary): (N, C, ...) or (N, C * L) -> (C,).

    einsum over a (N, C, L) view runs several times faster here than ndarray.sum over axes (0, 2, 3)."""
    x3 = x.reshape(x.shape[0], channels, -1)
    if y is None:
        return np.einsum("ncl->c", x3)
    return np.einsum("ncl,ncl->c", x3, y.reshape(x3.shape))


def _per_channel(values: np.ndarray, spatial: int) -> np.ndarray:
    """A (C,) vector as a (1, C * L) row, to broadcast against the (N, C * L) view of (N, C, L...).

    NumPy broadcasts a contiguous row 2-4x faster than a (1, C, 1, 1) block, whose inner loops
    (one per (n, c), of L elements, with a stride-0 operand) miss its SIMD paths."""
    return (values if spatial == 1 else np.repeat(values, spatial))[None, :]


def _scale(out: np.ndarray, x: np.ndarray, scale: np.ndarray) -> None:
    np.multiply(x, scale, out=out)


def _scale_and_shift(out: np.ndarray, x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> None:
    np.multiply(x, scale, out=out)
    out += shift


def _input_gradient(out: np.ndarray, centered: np.ndarray, grad: np.ndarray, centered_scale: np.ndarray,
                    grad_mean: np.ndarray, scale: np.ndarray) -> None:
    """out = scale * (grad - grad_mean - centered * centered_scale): the training input gradient."""
    np.multiply(centered, centered_scale, out=out)
    out += grad_mean
    np.subtract(grad, out, out=out)
    out *= scale


def _check(x: np.ndarray, running_mean, running_var, weight, bias, training: bool) -> None:
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                        ("bias", bias)):
        if value is not None and np.shape(value) != (channels,):
            raise ValueError(f"batch_norm: {name} should have shape ({channels},) for an input with {channels} "
                             f"channels, got shape {np.shape(value)}")
    if training and x.size // max(channels, 1) <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                         f"shape {x.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be given in evaluation mode "
                         "(training=False)")


def _batch_norm_samples(rng: np.random.Generator):
    for shape in [(5, 3), (4, 2, 3), (3, 2, 3, 2)]:
        channels = shape[1]
        x = random_array(rng, *shape)
        weight, bias = rng.uniform(0.5, 2.0, channels), random_array(rng, channels)
        mean, var = random_array(rng, channels), rng.uniform(0.5, 2.0, channels)
        yield Sample((x, weight, bias, mean.copy(), var.copy()), {"training": True},
                     requires_grad=(True, True, True, False, False), note=f"training {shape}")
        yield Sample((x, weight, bias, mean, var), {"training": False},
                     requires_grad=(True, True, True, False, False), note=f"eval {shape}")
    yield Sample((random_array(rng, 6, 2, 3), None, None, None, None), {"training": True},
                 note="training, no affine, no running stats")


@register("batch_norm", samples=_batch_norm_samples)
class BatchNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias per channel, with batch statistics in training
    (biased variance) and the running ones in evaluation."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training=False, momentum=0.1, eps=1e-5):
        _check(x, running_mean, running_var, weight, bias, training)
        channels, spatial = x.shape[1], int(np.prod(x.shape[2:]))
        count = x.shape[0] * spatial
        rows = x.reshape(x.shape[0], -1)
        if training:
            mean = _channel_sum(x, channels) / count
            out = rows - _per_channel(mean, spatial)
            var = _channel_sum(out, channels, out) / count  # two passes: no cancellation when |mean| >> std
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
            if running_var is not None:
                # The running variance is the unbiased one, as PyTorch keeps it.
                running_var *= 1 - momentum
                running_var += (momentum * count / (count - 1)) * var.astype(running_var.dtype, copy=False)
        else:
            mean, var = running_mean.astype(x.dtype, copy=False), running_var.astype(x.dtype, copy=False)
            out = rows - _per_channel(mean, spatial)
        inv_std = 1 / np.sqrt(var + eps)
        # In place on the one full-size temporary (fresh large arrays cost page faults), block by block.
        scale = _per_channel(inv_std if weight is None else inv_std * weight, spatial)
        if bias is None:
            blockwise(_scale, out, out, scale, chain=False)
        else:
            blockwise(_scale_and_shift, out, out, scale, _per_channel(bias, spatial))
        ctx.save_for_backward(x, mean, inv_std, weight)
        ctx.training = training
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_output):
        x, mean, inv_std, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        channels, spatial = x.shape[1], int(np.prod(x.shape[2:]))
        count = x.shape[0] * spatial
        grad_rows = grad_output.reshape(x.shape[0], -1)
        scale = _per_channel(inv_std if weight is None else inv_std * weight, spatial)
        grad_bias = _channel_sum(grad_output, channels) if need_bias or ctx.training else None
        if not (need_weight or ctx.training):
            return (grad_rows * scale).reshape(x.shape) if need_x else None, None, grad_bias, None, None
        # The centered input is recomputed, not saved: one temporary instead of one more saved array.
        centered = x.reshape(grad_rows.shape) - _per_channel(mean, spatial)
        grad_weight = _channel_sum(grad_rows, channels, centered) * inv_std  # sum(g * x_hat)
        grad_x = None
        if need_x and ctx.training:
            # scale * (g - mean(g) - x_hat * mean(g * x_hat)), built in place in the temporary.
            grad_x = blockwise(_input_gradient, centered, centered, grad_rows, _per_channel(
                inv_std * grad_weight / count, spatial), _per_channel(grad_bias / count, spatial), scale)
        elif need_x:
            grad_x = grad_rows * scale
        if grad_x is not None:
            grad_x = grad_x.reshape(x.shape)
        return grad_x, grad_weight if need_weight else None, grad_bias if need_bias else None, None, None


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation per channel, as torch.nn.functional.batch_norm.

    x: (N, C), (N, C, L) or (N, C, H, W) -> the same shape; running_mean, running_var, weight, bias: (C,).
    Training normalises with the batch mean and biased variance and, when given, updates the running
    statistics in place: running = (1 - momentum) * running + momentum * batch (variance unbiased).
    """
    # The running statistics go in as the Tensors themselves (forward gets their arrays and updates them
    # in place) so that the graph knows them as the module's buffers, not as anonymous arrays.
    return BatchNorm.apply(x, weight, bias, running_mean, running_var, training=bool(training),
                           momentum=momentum, eps=eps)
