"""Convolution (cross-correlation, as PyTorch): conv1d and conv2d, both backed by one N-d Function.

Forward and backward are windowed matrix products. `unfold` (im2col, `_windows.py`) lays the input
out channel-major as cols (G, Cg*K, N*L): Cg = channels per group, K = kernel positions, L = output
positions. Then, per group,
    forward:        out[n]  = W @ cols[:, n]           per-sample GEMMs, written straight into NC*O order
    weight grad:    dW      = dY @ cols.T              one GEMM over all N*L positions, reusing cols
    input grad:     dcols[n] = W.T @ dY[n]             per-sample GEMMs (each result stays in cache),
                                                       then `fold` adds the K shifted slices
with dY the output gradient, transposed once to (G, Og, N*L) for the weight grad. When input rows are
short (< BATCH_LAST_BELOW) the columns are ordered (L, N) instead ("batch_last"): unfold and fold then
move runs of Wo*N values instead of Wo, for the price of transposing x, the output, dY and dx once each,
and the three products become one GEMM each.
Large buffers come from `scratch`, so a training loop does not page-fault a fresh im2col buffer each step.
A 3x3 stride-1 conv with enough channels and output (`winograd.applies`) takes the Winograd path instead:
the same linear map with 2.25x fewer multiplies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from . import _gemm, winograd
from ._util import random_array
from ._windows import Windows, batch_to_last, cols_shape, fold, make_windows, scratch, unfold
from .registry import Sample, register


def _check(x: np.ndarray, weight: np.ndarray, bias: Any, groups: Any, op: str) -> None:
    """ValueError/TypeError naming the values for inputs that do not make a convolution."""
    spatial = weight.ndim - 2
    if x.ndim != weight.ndim:
        raise ValueError(f"{op}: expected a {spatial + 2}-D input (N, C, {_dims_name(spatial)}) for a "
                         f"{weight.ndim}-D weight, got input of shape {x.shape}")
    if x.dtype.kind != "f" or x.dtype != weight.dtype or (bias is not None and np.asarray(bias).dtype != x.dtype):
        bias_dtype = "" if bias is None else f", bias {np.asarray(bias).dtype}"
        raise TypeError(f"{op}: input, weight and bias must share one float dtype, got input {x.dtype}, "
                        f"weight {weight.dtype}{bias_dtype}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    channels, out_channels = x.shape[1], weight.shape[0]
    if channels % groups or out_channels % groups:
        raise ValueError(f"{op}: input channels ({channels}) and output channels ({out_channels}) must both be "
                         f"divisible by groups ({groups})")
    if weight.shape[1] * groups != channels:
        raise ValueError(f"{op}: input has {channels} channels but weight expects {weight.shape[1] * groups} "
                         f"(weight shape {weight.shape}, groups={groups})")
    if bias is not None and np.shape(bias) != (out_channels,):
        raise ValueError(f"{op}: bias has shape {np.shape(bias)}, expected ({out_channels},) "
                         f"(weight shape {weight.shape})")


def _dims_name(spatial: int) -> str:
    return {1: "L", 2: "H, W"}.get(spatial, ", ".join(f"D{i}" for i in range(spatial)))


def _conv_samples(rng: np.random.Generator):
    def case(x_shape, w_shape, bias=True, note="", **attrs):
        bias_array = random_array(rng, w_shape[0]) if bias else None
        return Sample((random_array(rng, *x_shape), random_array(rng, *w_shape), bias_array), attrs, note=note)

    yield case((2, 3, 5, 5), (4, 3, 3, 3), note="2d, no padding")
    yield case((2, 2, 6, 5), (3, 2, 3, 2), bias=False, stride=2, padding=1, note="2d stride 2, padding 1, no bias")
    yield case((1, 2, 6, 7), (2, 2, 2, 3), stride=(2, 1), padding=(1, 2), note="2d pairs of stride and padding")
    yield case((1, 2, 7, 6), (2, 2, 3, 3), dilation=2, padding=2, note="2d dilation 2")
    yield case((2, 4, 5, 5), (6, 2, 3, 3), groups=2, padding=1, note="2d groups 2")
    yield case((1, 3, 5, 5), (3, 1, 3, 3), groups=3, bias=False, note="2d depthwise")
    yield case((1, 2, 6, 5), (3, 2, 2, 3), padding="same", note="2d 'same', even kernel (asymmetric padding)")
    yield case((1, 2, 7, 6), (2, 2, 3, 3), stride=2, dilation=(1, 2), padding="same", note="2d 'same', stride 2")
    yield case((1, 2, 4, 4), (2, 2, 3, 3), padding="valid", note="2d 'valid'")
    yield case((2, 3, 9), (4, 3, 3), note="1d")
    yield case((2, 4, 10), (2, 2, 4), stride=3, padding=2, dilation=2, groups=2, note="1d stride, dilation, groups")
    yield case((1, 2, 7), (3, 2, 4), bias=False, stride=2, padding="same", note="1d 'same', stride 2")


@register("conv", samples=_conv_samples)
class ConvNd(Function):
    """N-d convolution: x (N, C, *S), weight (O, C/groups, *K), bias (O,) or None -> (N, O, *S_out)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        op = f"conv{weight.ndim - 2}d"
        _check(x, weight, bias, groups, op)
        windows = make_windows(x.shape[2:], weight.shape[2:], stride, padding, dilation, op)
        need_x, need_w, need_b = ctx.needs_input_grad
        ctx.winograd = winograd.applies(x, weight, windows, groups)
        if ctx.winograd:  # 3x3 stride 1 with many channels: 2.25x fewer multiplies (see winograd.py)
            out, transformed = winograd.forward(x, weight, bias, windows, keep_input=need_w)
            ctx.windows = windows
            ctx.save_for_backward(transformed, weight if need_x else None)
            return out
        batch, out_channels = x.shape[0], weight.shape[0]
        positions = int(np.prod(windows.output_size))
        group_in, group_out = x.shape[1] // groups, out_channels // groups
        col_rows = group_in * int(np.prod(windows.kernel))  # explicit sizes: a batch of 0 is allowed
        batch_last = _batch_last(windows)
        cols = unfold(x, windows, layout="batch_last" if batch_last else "channel_major")
        cols = cols.reshape(groups, col_rows, batch * positions)  # (G, Cg*K, N*L)
        kernels = weight.reshape(groups, group_out, col_rows)  # (G, Og, Cg*K)
        out = scratch((batch, groups, group_out, positions), x.dtype)
        if batch_last:  # one GEMM per group, then the (L, N) columns transposed into NC*O order
            out_rows = _gemm.matmul(kernels, cols, scratch((groups, group_out, batch * positions), x.dtype))
            np.copyto(out, out_rows.reshape(groups, group_out, positions, batch).transpose(3, 0, 1, 2))
        elif groups > 1:
            # Per sample and group: (Og, Cg*K) @ (Cg*K, L); the strided per-sample views of cols are BLAS-ready.
            np.matmul(kernels, cols.reshape(groups, col_rows, batch, positions).transpose(2, 0, 1, 3), out=out)
        else:
            np.matmul(kernels[0], cols.reshape(col_rows, batch, positions).transpose(1, 0, 2), out=out[:, 0])
        out = out.reshape(batch, out_channels, *windows.output_size)
        if bias is not None:
            out += bias.reshape(-1, *(1,) * len(windows.output_size))
        if need_x or need_w or need_b:
            ctx.windows, ctx.groups, ctx.input_shape, ctx.batch_last = windows, groups, x.shape, batch_last
            # The weight itself (not a reshaped view): the engine's in-place check knows saved arrays by identity.
            ctx.save_for_backward(cols if need_w else None, weight if need_x else None)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        cols, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        if ctx.winograd:  # cols holds the transformed input
            return winograd.backward(grad_output, weight, cols, ctx.windows, need_x, need_w, need_b)
        windows: Windows = ctx.windows
        groups, channels, batch_last = ctx.groups, ctx.input_shape[1], ctx.batch_last
        batch, out_channels = grad_output.shape[:2]
        group_out, positions = out_channels // groups, int(np.prod(grad_output.shape[2:]))
        dtype = grad_output.dtype
        by_group = grad_output.reshape(batch, groups, group_out, positions)
        per_sample = need_x and groups == 1 and not batch_last  # input grad from dY as it is (see below)
        grad_x = grad_w = grad_b = grad_rows = None
        if need_w or (need_x and not per_sample):
            # (G, Og, N*L): the output gradient with the batch beside the positions, as cols has it.
            if batch_last:
                grad_rows = batch_to_last(by_group.reshape(batch, out_channels, positions),
                                          scratch((out_channels, positions, batch), dtype))
            else:
                grad_rows = scratch((groups, group_out, batch, positions), dtype)
                np.copyto(grad_rows, by_group.transpose(1, 2, 0, 3))
            grad_rows = grad_rows.reshape(groups, group_out, positions * batch)
        if need_b:
            # Along the contiguous axis where there is one: faster, and pairwise (more exact in float32).
            grad_b = grad_output.sum(axis=(0, *range(2, grad_output.ndim))) if grad_rows is None else \
                grad_rows.reshape(out_channels, positions * batch).sum(axis=1)
        if need_w:
            # The longer side of the small (Og, Cg*K) result as the GEMM's rows: OpenBLAS's AVX-512 sgemm runs
            # that orientation faster (up to 1.7x at 16 x 150, 1.15x at 64 x 288); the transpose costs nothing.
            if cols.shape[1] >= group_out:
                grad_w = _gemm.matmul(cols, grad_rows.transpose(0, 2, 1),
                                      np.empty((groups, cols.shape[1], group_out), dtype)).transpose(0, 2, 1)
            else:
                grad_w = _gemm.matmul(grad_rows, cols.transpose(0, 2, 1),
                                      np.empty((groups, group_out, cols.shape[1]), dtype))
            grad_w = grad_w.reshape(out_channels, -1, *windows.kernel)
        if need_x and per_sample:
            # One (K*C, O) @ (O, L) product per sample: each result stays in cache (faster than one long
            # GEMM), and rows ordered kernel offset first make each offset's block for fold one run per sample.
            kernels_t = np.moveaxis(weight.reshape(out_channels, channels, -1), 0, -1).swapaxes(0, 1)  # (K, C, O)
            grad_cols = scratch((batch, kernels_t.shape[0] * channels, positions), dtype)
            np.matmul(kernels_t.reshape(-1, out_channels), grad_output.reshape(batch, out_channels, positions),
                      out=grad_cols)
            grad_x = fold(grad_cols.reshape(cols_shape("batch_first", batch, channels, windows)), windows,
                          batch, channels, layout="batch_first")
        elif need_x:  # one GEMM per group
            kernels_t = weight.reshape(groups, group_out, -1).transpose(0, 2, 1)  # (G, Cg*K, Og)
            grad_cols = scratch((groups, kernels_t.shape[1], positions * batch), dtype)
            _gemm.matmul(kernels_t, grad_rows, grad_cols)
            layout = "batch_last" if batch_last else "channel_major"
            grad_x = fold(grad_cols.reshape(cols_shape(layout, batch, channels, windows)), windows, batch,
                          channels, layout=layout)
        return grad_x, grad_w, grad_b


# Inputs with rows shorter than this use the batch-last column layout (see `unfold`). Measured on the
# benchmark shapes: it wins at 14x14 inputs (k3 and k5), loses at 28x28 (also with stride 2, where the
# input-sized transposes it needs cost more than its faster unfold and fold save).
BATCH_LAST_BELOW = 16


def _batch_last(windows: Windows) -> bool:
    return windows.input_size[-1] < BATCH_LAST_BELOW


def _convolve(x: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
              groups: int, spatial: int) -> Tensor:
    op = f"conv{spatial}d"
    for name, value in (("input", x), ("weight", weight)):
        if np.ndim(value.data if isinstance(value, Tensor) else value) != spatial + 2:
            raise ValueError(f"{op}: expected a {spatial + 2}-D {name} "
                             f"({'N, C' if name == 'input' else 'O, C/groups'}, {_dims_name(spatial)}), "
                             f"got shape {np.shape(value.data if isinstance(value, Tensor) else value)}")
    return ConvNd.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution: x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, Ho, Wo).

    stride/dilation: int or pair; padding: int, pair, 'valid' or 'same' (output = ceil(input/stride),
    the odd pixel of padding at the bottom/right, as Keras). Ho = (H + pad - dilation*(kh-1) - 1)//stride + 1.
    """
    return _convolve(x, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution: x (N, C, L), weight (O, C/groups, k), bias (O,) -> (N, O, Lo); options as conv2d."""
    return _convolve(x, weight, bias, stride, padding, dilation, groups, 1)
