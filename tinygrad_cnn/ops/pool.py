"""Pooling: max_pool2d and avg_pool2d over NCHW (or CHW) input, as PyTorch computes them.

Both are separable: a 2-D window's max (or sum) is the max (or sum) over its rows of each row's 1-D
window result. So each op runs two 1-D passes, first along W then along H, and each pass loops over
the k offsets of its kernel with strided slices: O(kh + kw) vectorised passes, no im2col copy. When
the windows do not overlap (stride >= span, the usual 2x2/2) the backward writes each slice once
instead of accumulating into it.

Max-pool ties follow PyTorch: the gradient goes to the first maximum in row-major window order.
Taking the first maximum along W within each row, then the first row whose maximum is strictly
greater, picks exactly that element.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import pair, random_array
from .registry import Sample, register


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length; with ceil_mode the last window must start inside the input or left pad."""
    span = dilation * (kernel - 1) + 1
    numerator = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _geometry(op: str, shape: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool) -> tuple:
    """Validated (kernel, stride, padding, dilation, output size) pairs for (H, W) of an NCHW or CHW input."""
    if len(shape) not in (3, 4) or 0 in shape:
        raise ValueError(f"{op}: expected a non-empty 3D (C, H, W) or 4D (N, C, H, W) input, got shape {shape}")
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(values) <= 0:
            raise ValueError(f"{op}: {name} must be positive, got {values}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding should be at most half of the kernel size, "
                         f"got padding={padding} and kernel_size={kernel}")
    size = shape[-2:]
    out = tuple(pool_output_size(*args, ceil_mode) for args in zip(size, kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"{op}: input of spatial size {size} is too small for kernel_size={kernel}, "
                         f"stride={stride}, padding={padding}, dilation={dilation}: output size would be {out}")
    return kernel, stride, padding, dilation, out


def _windows(kernel: int, stride: int, dilation: int, out: int) -> list[slice]:
    """For each kernel offset, the strided slice of the padded axis that it reads for every output."""
    return [slice(j * dilation, j * dilation + stride * (out - 1) + 1, stride) for j in range(kernel)]


def _at(axis: int, index: slice) -> tuple:
    return (slice(None),) * axis + (index,)


def _padded(x: np.ndarray, padding: tuple, kernel: tuple, stride: tuple, dilation: tuple, out: tuple,
            value: float) -> np.ndarray:
    """x (N, C, H, W) padded with `value`: `padding` on the left/top, and on the right/bottom as far as
    the last window reaches (ceil_mode may reach past the symmetric padding)."""
    needed = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out, stride, dilation, kernel)]
    right = [max(0, n - size - p) for n, size, p in zip(needed, x.shape[2:], padding)]
    if not any(padding) and not any(right):
        return x
    (top, left), (bottom, right_w) = padding, right
    padded = np.full(x.shape[:2] + (x.shape[2] + top + bottom, x.shape[3] + left + right_w), value, x.dtype)
    padded[:, :, top:top + x.shape[2], left:left + x.shape[3]] = x
    return padded


def _unpadded(grad: np.ndarray, padding: tuple, shape: tuple) -> np.ndarray:
    """The gradient of the padded input cut back to the input's (N, C, H, W) extent."""
    top, left = padding
    if grad.shape == shape:
        return grad
    return np.ascontiguousarray(grad[:, :, top:top + shape[2], left:left + shape[3]])


def _max_along(x: np.ndarray, axis: int, windows: list[slice]) -> tuple[np.ndarray, np.ndarray]:
    """The max over each 1-D window along axis, and the offset of its first maximum."""
    views = [x[_at(axis, s)] for s in windows]
    if len(views) == 1:
        return views[0].copy(), np.zeros(views[0].shape, np.uint8)
    best = np.maximum(views[0], views[1])
    index = views[1] > views[0]  # strictly greater: a tie keeps the earlier offset
    if len(views) > 2:
        index = index.astype(np.min_scalar_type(len(views) - 1))
        for j, view in enumerate(views[2:], start=2):
            np.copyto(index, j, where=view > best)
            np.maximum(best, view, out=best)
    return best, index


def _sum_along(x: np.ndarray, axis: int, windows: list[slice]) -> np.ndarray:
    """The sum over each 1-D window along axis."""
    views = [x[_at(axis, s)] for s in windows]
    if len(views) == 1:
        return views[0].copy()
    total = views[0] + views[1]
    for view in views[2:]:
        total += view
    return total


def _route(grad: np.ndarray, index: np.ndarray | None, axis: int, length: int, kernel: int, stride: int,
           dilation: int) -> np.ndarray:
    """Backward of a 1-D pass along axis, into an axis of `length`: each window's gradient goes to the
    offset that `index` names, or to every offset when index is None (a sum)."""
    windows = _windows(kernel, stride, dilation, grad.shape[axis])
    overlap = stride < dilation * (kernel - 1) + 1
    covers = dilation == 1 and stride == kernel and windows[-1].stop == length  # every position written once
    shape = grad.shape[:axis] + (length,) + grad.shape[axis + 1:]
    result = np.empty(shape, grad.dtype) if covers else np.zeros(shape, grad.dtype)
    for j, window in enumerate(windows):
        target = result[_at(axis, window)]
        if index is None:
            part = grad
        else:
            # A 2-wide kernel's index is a bool array: use it as the mask rather than compare it.
            hit = (index if j else ~index) if index.dtype == np.bool_ else index == j
            if not overlap:
                np.multiply(grad, hit, out=target)
                continue
            part = grad * hit
        if overlap:
            target += part
        else:
            target[...] = part
    return result


def _pool_samples(rng: np.random.Generator, ceil_modes: tuple = (False, True)):
    configs = [
        ((2, 3, 6, 6), dict(kernel_size=2)),
        ((1, 2, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 1, 6, 7), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0))),
        ((1, 2, 5, 5), dict(kernel_size=3, stride=1)),
        ((2, 4, 4), dict(kernel_size=2, stride=1)),
    ]
    for shape, attrs in configs:
        yield Sample((random_array(rng, *shape),), attrs, note=f"{shape} {attrs}")
    for ceil_mode in ceil_modes:
        if ceil_mode:
            attrs = dict(kernel_size=2, stride=2, padding=1, dilation=1, ceil_mode=True)
            yield Sample((random_array(rng, 1, 2, 6, 5),), attrs, note="ceil_mode, last window in the padding")
            attrs = dict(kernel_size=3, stride=2, ceil_mode=True)
            yield Sample((random_array(rng, 2, 1, 6, 6),), attrs, note="ceil_mode, last window past the input")
        else:
            attrs = dict(kernel_size=2, stride=2, padding=1, dilation=2)
            yield Sample((random_array(rng, 1, 2, 7, 6),), attrs, note="dilation 2 with padding")


def _tie_kinks(sample: Sample) -> list:
    """Elements equal to another element of their (N, C) plane: where a window's max may be tied."""
    x = sample.args[0]
    planes = x.reshape(-1, x.shape[-2] * x.shape[-1])
    order = np.argsort(planes, axis=1)
    ordered = np.take_along_axis(planes, order, axis=1)
    same = np.zeros(ordered.shape, bool)
    same[:, 1:] |= ordered[:, 1:] == ordered[:, :-1]
    same[:, :-1] |= ordered[:, 1:] == ordered[:, :-1]
    tied = np.empty_like(same)
    np.put_along_axis(tied, order, same, axis=1)
    return [tied.reshape(x.shape)]


@register("max_pool2d", samples=_pool_samples, kinks=_tie_kinks)
class MaxPool2d(Function):
    """The max over each kernel window (padding counts as -inf); the gradient goes to the first maximum."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        kernel, stride, padding, dilation, out = _geometry("max_pool2d", x.shape, kernel_size, stride, padding,
                                                           dilation, ceil_mode)
        x4 = x if x.ndim == 4 else x[None]
        padded = _padded(x4, padding, kernel, stride, dilation, out, -np.inf)
        rows_w = _windows(kernel[1], stride[1], dilation[1], out[1])
        rows_h = _windows(kernel[0], stride[0], dilation[0], out[0])
        row_max, index_w = _max_along(padded, 3, rows_w)
        result, index_h = _max_along(row_max, 2, rows_h)
        ctx.geometry = (kernel, stride, padding, dilation, padded.shape, x4.shape, x.shape)
        ctx.index_w, ctx.index_h = index_w, index_h
        return result if x.ndim == 4 else result[0]

    @staticmethod
    def backward(ctx, grad_output):
        kernel, stride, padding, dilation, padded_shape, shape4, shape = ctx.geometry
        grad = grad_output if grad_output.ndim == 4 else grad_output[None]
        grad_rows = _route(grad, ctx.index_h, 2, padded_shape[2], kernel[0], stride[0], dilation[0])
        grad_padded = _route(grad_rows, ctx.index_w, 3, padded_shape[3], kernel[1], stride[1], dilation[1])
        return _unpadded(grad_padded, padding, shape4).reshape(shape)


@register("avg_pool2d", samples=lambda rng: _pool_samples(rng, ceil_modes=()))
class AvgPool2d(Function):
    """The mean over each kernel window, zero padding included in the count (PyTorch's default)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        kernel, stride, padding, dilation, out = _geometry("avg_pool2d", x.shape, kernel_size, stride, padding,
                                                           1, False)
        x4 = x if x.ndim == 4 else x[None]
        padded = _padded(x4, padding, kernel, stride, dilation, out, 0.0)
        rows_w = _windows(kernel[1], stride[1], 1, out[1])
        rows_h = _windows(kernel[0], stride[0], 1, out[0])
        result = _sum_along(_sum_along(padded, 3, rows_w), 2, rows_h)
        # Without ceil_mode every window lies inside the padded input: the divisor is always kh * kw.
        result *= 1.0 / (kernel[0] * kernel[1])
        ctx.geometry = (kernel, stride, padding, padded.shape, x4.shape, x.shape)
        return result if x.ndim == 4 else result[0]

    @staticmethod
    def backward(ctx, grad_output):
        kernel, stride, padding, padded_shape, shape4, shape = ctx.geometry
        grad = grad_output if grad_output.ndim == 4 else grad_output[None]
        grad = grad * (1.0 / (kernel[0] * kernel[1]))
        grad_rows = _route(grad, None, 2, padded_shape[2], kernel[0], stride[0], 1)
        grad_padded = _route(grad_rows, None, 3, padded_shape[3], kernel[1], stride[1], 1)
        return _unpadded(grad_padded, padding, shape4).reshape(shape)


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """2-D max pooling, as torch.nn.functional.max_pool2d.

    x: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW) or (C, OH, OW), with
    OH = floor or ceil((H + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1 (likewise OW).
    """
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                           ceil_mode=bool(ceil_mode))


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """2-D average pooling with zero padding counted (count_include_pad=True), as PyTorch's default.

    x: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW) or (C, OH, OW), OH = floor((H + 2 * padding - kernel) / stride) + 1.
    """
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)
