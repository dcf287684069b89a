"""Batch normalisation over (N, C), (N, C, L) or (N, C, H, W) input, per channel C, as PyTorch.

One Function holds the forward and the closed-form backward; the running statistics are passed in
as plain arrays (constants of the graph) and updated in place during a training forward. A faster variant
(`tinygrad_cnn.kernels.batch_norm`) runs instead where it applies.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, random_array
from .registry import Sample, register


def update_running_stats(running_mean: np.ndarray | None, running_var: np.ndarray | None, mean: np.ndarray,
                         var: np.ndarray, momentum: float, count: int) -> None:
    """running = (1 - momentum) * running + momentum * batch, in place; the variance unbiased, as PyTorch keeps it."""
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += (momentum * count / (count - 1)) * var.astype(running_var.dtype, copy=False)


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


@register("batch_norm", samples=_batch_norm_samples, variants=kernels.names("batch_norm"))
class BatchNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias per channel, with batch statistics in training
    (biased variance) and the running ones in evaluation."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training=False, momentum=0.1, eps=1e-5):
        _check(x, running_mean, running_var, weight, bias, training)
        ctx.kernel, ctx.training = kernels.choose("batch_norm", x, training), training
        if ctx.kernel is not None:
            return ctx.kernel.forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps)
        axes, per_channel = (0, *range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
        if training:
            mean = x.mean(axis=axes)
            var = np.square(x - mean.reshape(per_channel)).mean(axis=axes)  # two passes: exact when |mean| >> std
            update_running_stats(running_mean, running_var, mean, var, momentum, x.size // x.shape[1])
        else:
            mean, var = running_mean.astype(x.dtype, copy=False), running_var.astype(x.dtype, copy=False)
        inv_std = 1 / np.sqrt(var + eps)
        x_hat = (x - mean.reshape(per_channel)) * inv_std.reshape(per_channel)
        ctx.save_for_backward(x_hat, inv_std, weight)
        out = x_hat if weight is None else x_hat * weight.reshape(per_channel)
        return out if bias is None else out + bias.reshape(per_channel)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.kernel is not None:
            return ctx.kernel.backward(ctx, grad_output)
        x_hat, inv_std, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        axes, per_channel = (0, *range(2, x_hat.ndim)), (1, -1) + (1,) * (x_hat.ndim - 2)
        grad_bias = grad_output.sum(axis=axes)
        grad_weight = (grad_output * x_hat).sum(axis=axes)
        scale = (inv_std if weight is None else inv_std * weight).reshape(per_channel)
        grad_x = None
        if need_x and ctx.training:  # the batch statistics depend on x too
            count = x_hat.size // x_hat.shape[1]
            grad_x = scale * (grad_output - (grad_bias / count).reshape(per_channel)
                              - x_hat * (grad_weight / count).reshape(per_channel))
        elif need_x:
            grad_x = grad_output * scale
        return grad_x, grad_weight if need_weight else None, grad_bias if need_bias else None, None, None


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation per channel, as torch.nn.functional.batch_norm.

    x: (N, C), (N, C, L) or (N, C, H, W) -> the same shape; running_mean, running_var, weight, bias: (C,).
    Training normalises with the batch mean and biased variance and, when given, updates the running
    statistics in place: running = (1 - momentum) * running + momentum * batch (variance unbiased).
    """
    expect_tensor("batch_norm", "input", x)
    # The running statistics go in as the Tensors themselves (forward gets their arrays and updates them
    # in place) so that the graph knows them as the module's buffers, not as anonymous arrays.
    return BatchNorm.apply(x, weight, bias, running_mean, running_var, training=bool(training),
                           momentum=momentum, eps=eps)
