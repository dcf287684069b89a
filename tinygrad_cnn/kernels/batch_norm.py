"""Batch norm over (N, C, *spatial) input as row operations: the same math as `ops.norm.BatchNorm`, fewer passes.

The reference broadcasts (C,) vectors as (1, C, 1, 1) blocks and makes a fresh temporary per step. Here

- the per-channel sums are einsum over an (N, C, L) view (one pass, no temporary of x * y);
- a (C,) vector is repeated into a (1, C * L) row and broadcast against the (N, C * L) view: NumPy's inner loops
  then run over whole contiguous rows, where a (1, C, 1, 1) block gives one short loop of L per (n, c) with a
  stride-0 operand, which misses the SIMD paths;
- the output and the input gradient are built in place in one full-size temporary each (a fresh large array costs
  page faults), and x, not x_hat, is saved: x_hat is recomputed in backward into the temporary it needs anyway.
"""

from __future__ import annotations

import numpy as np

NAME, OP = "batch_norm_rows", "batch_norm"


def applies(x: np.ndarray, training: bool) -> bool:
    """Input with spatial dims: (N, C) has no rows of its own to gain from."""
    return x.ndim > 2


def _channel_sum(x: np.ndarray, channels: int, y: np.ndarray | None = None) -> np.ndarray:
    """Per channel, the sum of x (or of x * y, without a temporary): (N, C, ...) or (N, C * L) -> (C,)."""
    x3 = x.reshape(x.shape[0], channels, -1)
    if y is None:
        return np.einsum("ncl->c", x3)
    return np.einsum("ncl,ncl->c", x3, y.reshape(x3.shape))


def _per_channel(values: np.ndarray, spatial: int) -> np.ndarray:
    """A (C,) vector as a (1, C * L) row, to broadcast against the (N, C * L) view of (N, C, L...)."""
    return np.repeat(values, spatial)[None, :]


def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
    from ..ops.norm import update_running_stats  # the op's module imports this layer

    channels, spatial = x.shape[1], int(np.prod(x.shape[2:]))
    count = x.shape[0] * spatial
    rows = x.reshape(x.shape[0], -1)
    if training:
        mean = _channel_sum(x, channels) / count
        out = rows - _per_channel(mean, spatial)
        var = _channel_sum(out, channels, out) / count  # two passes: no cancellation when |mean| >> std
        update_running_stats(running_mean, running_var, mean, var, momentum, count)
    else:
        mean, var = running_mean.astype(x.dtype, copy=False), running_var.astype(x.dtype, copy=False)
        out = rows - _per_channel(mean, spatial)
    inv_std = 1 / np.sqrt(var + eps)
    out *= _per_channel(inv_std if weight is None else inv_std * weight, spatial)
    if bias is not None:
        out += _per_channel(bias, spatial)
    ctx.save_for_backward(x, mean, inv_std, weight)
    return out.reshape(x.shape)


def backward(ctx, grad_output):
    x, mean, inv_std, weight = ctx.saved_tensors
    need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
    channels, spatial = x.shape[1], int(np.prod(x.shape[2:]))
    count = x.shape[0] * spatial
    grad_rows = grad_output.reshape(x.shape[0], -1)
    scale = _per_channel(inv_std if weight is None else inv_std * weight, spatial)
    grad_bias = _channel_sum(grad_output, channels)
    if not (need_weight or ctx.training):
        return (grad_rows * scale).reshape(x.shape) if need_x else None, None, grad_bias if need_bias else None, \
            None, None
    centered = x.reshape(grad_rows.shape) - _per_channel(mean, spatial)
    grad_weight = _channel_sum(grad_rows, channels, centered) * inv_std  # sum(g * x_hat)
    grad_x = None
    if need_x and ctx.training:  # scale * (g - mean(g) - x_hat * mean(g * x_hat)), in place in `centered`
        centered *= _per_channel(inv_std * grad_weight / count, spatial)
        centered += _per_channel(grad_bias / count, spatial)
        grad_x = np.subtract(grad_rows, centered, out=centered)
        grad_x *= scale
    elif need_x:
        grad_x = grad_rows * scale
    if grad_x is not None:
        grad_x = grad_x.reshape(x.shape)
    return grad_x, grad_weight if need_weight else None, grad_bias if need_bias else None, None, None
