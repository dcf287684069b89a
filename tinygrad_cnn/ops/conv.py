"""Convolution (cross-correlation, as PyTorch): conv1d, conv2d and conv3d, backed by one N-d Function.

Forward and backward are one matrix product each over im2col columns. `unfold` lays the (padded) input out as
cols (G, Cg*K, N*L): Cg = channels per group, K = kernel positions, L = output positions. Then, per group,
    forward:      out  = W @ cols        (Og, Cg*K) @ (Cg*K, N*L)
    weight grad:  dW   = dY @ cols.T     (Og, N*L) @ (N*L, Cg*K)
    input grad:   dcols = W.T @ dY       then `fold`, the adjoint of unfold, adds each column back
with dY the output gradient as (G, Og, N*L). A faster variant (`tinygrad_cnn.kernels`, e.g. Winograd for 3x3
stride 1) runs instead where one applies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import kernels
from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, random_array
from ._windows import Windows, make_windows
from .registry import Sample, register


def _check(x: np.ndarray, weight: np.ndarray, bias: Any, groups: Any, op: str) -> None:
    """ValueError/TypeError naming the values for inputs that do not make a convolution."""
    spatial = weight.ndim - 2
    if x.ndim != weight.ndim:
        raise ValueError(f"{op}: expected a {spatial + 2}-D input (N, C, {_dims_name(spatial)}) for a "
                         f"{weight.ndim}-D weight, got input of shape {x.shape}")
    check_dtypes_and_groups(x, weight, bias, groups, op)
    if x.shape[0] and x.shape[1] and 0 in x.shape[2:]:
        raise ValueError(f"{op}: only zero batch or zero channel inputs are supported (as PyTorch), but got input "
                         f"of shape {x.shape}")
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


def check_dtypes_and_groups(x: np.ndarray, weight: np.ndarray, bias: Any, groups: Any, op: str) -> None:
    """TypeError unless input, weight and bias share one float dtype; ValueError unless groups is a positive int
    (shared with the transposed convolution)."""
    if x.dtype.kind != "f" or x.dtype != weight.dtype or (bias is not None and np.asarray(bias).dtype != x.dtype):
        bias_dtype = "" if bias is None else f", bias {np.asarray(bias).dtype}"
        raise TypeError(f"{op}: input, weight and bias must share one float dtype, got input {x.dtype}, "
                        f"weight {weight.dtype}{bias_dtype}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")


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
    # Winograd's samples: 3x3 stride 1, at least 8 channels in and out, outputs at least 10 on each side.
    yield case((1, 8, 10, 10), (8, 8, 3, 3), padding=1, note="2d 3x3 'same' 8->8 (winograd)")
    yield case((2, 8, 12, 13), (9, 8, 3, 3), bias=False, note="2d 3x3 odd output, no bias (winograd)")
    # More than one chunk of columns for im2col_chunks (over 1 MiB in float64), with padding larger than the input.
    yield case((9, 1, 12, 12), (2, 1, 7, 7), padding=6, note="2d 7x7 padding 6, batch 9 (im2col_chunks, 2 chunks)")
    yield case((2, 1, 6, 5), (8, 1, 3, 3), padding=1, note="2d 1->8 (im2col_chunks folds W.T @ dY by rows)")
    yield case((2, 3, 9), (4, 3, 3), note="1d")
    yield case((1, 2, 4, 3, 4), (2, 2, 2, 2, 3), stride=(1, 2, 1), padding=(1, 0, 1), note="3d")
    yield case((2, 2, 4, 4, 5), (3, 2, 2, 3, 2), padding=(1, 0, 1), dilation=(1, 1, 2), note="3d stride 1, dilation")
    yield case((2, 4, 10), (2, 2, 4), stride=3, padding=2, dilation=2, groups=2, note="1d stride, dilation, groups")
    yield case((1, 2, 7), (3, 2, 4), bias=False, stride=2, padding="same", note="1d 'same', stride 2")


def unfold(x: np.ndarray, windows: Windows) -> np.ndarray:
    """im2col: x (N, C, *S) -> cols (C, *K, N, *O), where cols[c, k, n, o] is the padded x[n, c] at
    o * stride + k * dilation."""
    dims = len(windows.kernel)
    # A negative trailing padding (a transposed conv's output_padding) is input no window reaches: left in place.
    padded = np.pad(x, ((0, 0), (0, 0), *((lo, max(hi, 0)) for lo, hi in windows.padding)))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(windows.kernel, windows.dilation))
    views = sliding_window_view(padded, extent, axis=tuple(range(2, 2 + dims)))  # (N, C, *P, *extent)
    views = views[(slice(None), slice(None),
                   *(slice(0, (o - 1) * s + 1, s) for o, s in zip(windows.output_size, windows.stride)),
                   *(slice(None, None, d) for d in windows.dilation))]  # (N, C, *O, *K)
    return np.ascontiguousarray(views.transpose(1, *range(2 + dims, 2 + 2 * dims), 0, *range(2, 2 + dims)))


def fold(cols: np.ndarray, windows: Windows, input_shape: tuple[int, ...]) -> np.ndarray:
    """col2im, the adjoint of `unfold`: cols (C, *K, N, *O) -> (N, C, *S), overlapping windows summed.
    One strided add per kernel offset (never per pixel); what falls on the padding is cropped."""
    batch, channels = input_shape[:2]
    padded_size = tuple(size + lo + max(hi, 0) for size, (lo, hi) in zip(windows.input_size, windows.padding))
    padded = np.zeros((channels, batch, *padded_size), cols.dtype)
    for k in np.ndindex(*windows.kernel):
        region = tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                       for i, d, o, s in zip(k, windows.dilation, windows.output_size, windows.stride))
        padded[(slice(None), slice(None), *region)] += cols[(slice(None), *k)]
    inside = tuple(slice(lo, lo + size) for (lo, _), size in zip(windows.padding, windows.input_size))
    return np.ascontiguousarray(padded[(slice(None), slice(None), *inside)].swapaxes(0, 1))


@register("conv", samples=_conv_samples, variants=kernels.names("conv"))
class ConvNd(Function):
    """N-d convolution: x (N, C, *S), weight (O, C/groups, *K), bias (O,) or None -> (N, O, *S_out)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        op = f"conv{weight.ndim - 2}d"
        _check(x, weight, bias, groups, op)
        windows = make_windows(x.shape[2:], weight.shape[2:], stride, padding, dilation, op)
        ctx.kernel = kernels.choose("conv", x, weight, windows, groups)
        if ctx.kernel is not None:
            return ctx.kernel.forward(ctx, x, weight, bias, windows, groups)
        batch, out_channels, positions = x.shape[0], weight.shape[0], int(np.prod(windows.output_size))
        cols = unfold(x, windows).reshape(groups, weight[0].size, batch * positions)  # (G, Cg*K, N*L); N may be 0
        out = np.matmul(weight.reshape(groups, out_channels // groups, -1), cols).reshape(out_channels, -1)
        if bias is not None:
            out += bias[:, None]
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.windows, ctx.groups, ctx.input_shape = windows, groups, x.shape
        # The weight itself (not a reshaped view): the engine's in-place check knows saved arrays by identity.
        ctx.save_for_backward(cols if need_w else None, weight if need_x else None)
        return np.ascontiguousarray(out.reshape(out_channels, batch, *windows.output_size).swapaxes(0, 1))

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.kernel is not None:
            return ctx.kernel.backward(ctx, grad_output)
        cols, weight = ctx.saved_tensors
        need_x, need_w, need_b = (*ctx.needs_input_grad, False)[:3]  # bias may be left out of apply()
        windows, groups, (batch, channels) = ctx.windows, ctx.groups, ctx.input_shape[:2]
        out_channels = grad_output.shape[1]
        grad_rows = np.ascontiguousarray(grad_output.swapaxes(0, 1)).reshape(groups, out_channels // groups,
                                                                              grad_output[:, 0].size)
        grad_x = grad_w = grad_b = None
        if need_b:
            grad_b = grad_rows.reshape(out_channels, -1).sum(axis=1)
        if need_w:
            grad_w = np.matmul(grad_rows, cols.transpose(0, 2, 1)).reshape(out_channels, -1, *windows.kernel)
        if need_x:
            kernels_t = weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)  # (G, Cg*K, Og)
            grad_cols = np.matmul(kernels_t, grad_rows).reshape(channels, *windows.kernel, batch,
                                                                *windows.output_size)
            grad_x = fold(grad_cols, windows, ctx.input_shape)
        return (grad_x, grad_w, grad_b)[:len(ctx.needs_input_grad)]


def _convolve(x: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
              groups: int, spatial: int) -> Tensor:
    expect_tensor(f"conv{spatial}d", "input", x)
    op = f"conv{spatial}d"
    if np.ndim(weight._data if isinstance(weight, Tensor) else weight) != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-D weight (O, C/groups, {_dims_name(spatial)}), got shape "
                         f"{np.shape(weight._data if isinstance(weight, Tensor) else weight)}")
    input_dims = np.ndim(x._data if isinstance(x, Tensor) else x)
    if input_dims not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D (C, {_dims_name(spatial)}) or {spatial + 2}-D (N, C, "
                         f"{_dims_name(spatial)}) input, got shape {np.shape(x._data if isinstance(x, Tensor) else x)}")
    if input_dims == spatial + 1:  # one unbatched sample, as PyTorch accepts
        return _convolve(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups, spatial).squeeze(0)
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


def conv3d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D convolution: x (N, C, D, H, W), weight (O, C/groups, kd, kh, kw), bias (O,) -> (N, O, Do, Ho, Wo);
    options as conv2d, in triples."""
    return _convolve(x, weight, bias, stride, padding, dilation, groups, 3)
