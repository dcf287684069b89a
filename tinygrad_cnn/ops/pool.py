"""Pooling: max_pool2d and avg_pool2d over NCHW (or CHW) input, as PyTorch computes them.

Both are separable: a 2-D window's max (or sum) is the max (or sum) over its rows of each row's 1-D
window result. So each op runs two 1-D passes, first along W then along H, and each pass loops over
the k offsets of its kernel with strided slices (the shared `Windows` offsets, so padding is never
materialised): O(kh + kw) vectorised passes, no im2col copy. When the windows do not overlap
(stride >= span, the usual 2x2/2) the backward writes each slice once instead of accumulating into it.

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
from ._windows import Windows
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


def _axis_windows(size: int, kernel: int, stride: int, padding: int, dilation: int, out: int) -> Windows:
    """The 1-D windows of one spatial axis: the right padding is as far as the last window reaches
    (ceil_mode may reach past the symmetric padding)."""
    right = max(padding, (out - 1) * stride + dilation * (kernel - 1) + 1 - size - padding)
    return Windows((size,), (kernel,), (stride,), (dilation,), ((padding, right),))


def _at(axis: int, index: slice) -> tuple:
    return (slice(None),) * axis + (index,)


def _max_along(x: np.ndarray, axis: int, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
    """The max over each 1-D window along axis (padding is -inf), and the offset of its first maximum."""
    offsets = [(j, out, inside, full) for (j,), (out,), (inside,), full in windows.offsets]
    if len(offsets) == 2 and offsets[0][3] and offsets[1][3]:  # the usual 2-wide window, no padding
        first, second = x[_at(axis, offsets[0][2])], x[_at(axis, offsets[1][2])]
        return np.maximum(first, second), second > first  # strictly greater: a tie keeps offset 0
    shape = x.shape[:axis] + windows.output_size + x.shape[axis + 1:]
    # Start from an offset that sees no padding (a copy beats filling with -inf). So that the first
    # maximum wins, the offsets before it go in reverse order and win ties (>=), then those after it
    # must be strictly greater (>).
    base = next((j for j, _, _, full in offsets if full), None)
    if base is None:
        best, base = np.full(shape, -np.inf, x.dtype), -1
    else:
        best = x[_at(axis, offsets[base][2])].copy()
    index = np.full(shape, max(base, 0), np.min_scalar_type(len(offsets) - 1))
    for j, out, inside, _ in offsets[:max(base, 0)][::-1] + offsets[base + 1:]:
        if out.stop <= out.start:
            continue
        target, view, chosen = best[_at(axis, out)], x[_at(axis, inside)], index[_at(axis, out)]
        step = j - chosen  # chosen += better * (j - chosen): branch-free, unlike copyto(where=); wraps exactly
        step *= (view >= target) if j < base else (view > target)
        chosen += step
        np.maximum(target, view, out=target)
    return best, index


def _sum_along(x: np.ndarray, axis: int, windows: Windows) -> np.ndarray:
    """The sum over each 1-D window along axis (padding is 0)."""
    offsets = [(out, inside, full) for _, (out,), (inside,), full in windows.offsets]
    if len(offsets) > 1 and offsets[0][2] and offsets[1][2]:
        total = x[_at(axis, offsets[0][1])] + x[_at(axis, offsets[1][1])]
        offsets = offsets[2:]
    else:
        total = np.zeros(x.shape[:axis] + windows.output_size + x.shape[axis + 1:], x.dtype)
    for out, inside, _ in offsets:
        total[_at(axis, out)] += x[_at(axis, inside)]
    return total


def _route(grad: np.ndarray, index: np.ndarray | None, axis: int, windows: Windows) -> np.ndarray:
    """Backward of a 1-D pass along axis: each window's gradient goes to the input position of the
    offset that `index` names, or of every offset when index is None (a sum); padding drops out."""
    (size,), (kernel,), (stride,), (dilation,) = windows.input_size, windows.kernel, windows.stride, windows.dilation
    overlap = stride < dilation * (kernel - 1) + 1
    # Non-overlapping windows that tile the whole axis write each input position exactly once.
    covers = dilation == 1 and stride == kernel and windows.padding[0][0] == 0 and \
        windows.output_size[0] * kernel == size
    shape = grad.shape[:axis] + (size,) + grad.shape[axis + 1:]
    result = np.empty(shape, grad.dtype) if covers else np.zeros(shape, grad.dtype)
    for (j,), (out,), (inside,), _ in windows.offsets:
        if out.stop <= out.start:
            continue
        source, target = grad[_at(axis, out)], result[_at(axis, inside)]
        if index is None:
            part = source
        else:
            hit = index[_at(axis, out)]
            # A 2-wide kernel's index is a bool array: use it as the mask rather than compare it.
            hit = (hit if j else ~hit) if hit.dtype == np.bool_ else hit == j
            if not overlap:
                np.multiply(source, hit, out=target)
                continue
            part = source * hit
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


def _plan(op: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
          ceil_mode: bool) -> tuple[Windows, Windows]:
    """Checked 1-D windows along H and along W of an (N, C, H, W) or (C, H, W) input."""
    kernel, stride, padding, dilation, out = _geometry(op, x.shape, kernel_size, stride, padding, dilation,
                                                       ceil_mode)
    return tuple(_axis_windows(*args) for args in zip(x.shape[-2:], kernel, stride, padding, dilation, out))


@register("max_pool2d", samples=_pool_samples, kinks=_tie_kinks)
class MaxPool2d(Function):
    """The max over each kernel window (padding counts as -inf); the gradient goes to the first maximum."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        along_h, along_w = _plan("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
        row_max, index_w = _max_along(x, x.ndim - 1, along_w)
        result, index_h = _max_along(row_max, x.ndim - 2, along_h)
        ctx.windows, ctx.indices = (along_h, along_w), (index_h, index_w)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (along_h, along_w), (index_h, index_w) = ctx.windows, ctx.indices
        grad_rows = _route(grad_output, index_h, grad_output.ndim - 2, along_h)
        return _route(grad_rows, index_w, grad_output.ndim - 1, along_w)


@register("avg_pool2d", samples=lambda rng: _pool_samples(rng, ceil_modes=()))
class AvgPool2d(Function):
    """The mean over each kernel window, zero padding included in the count (PyTorch's default)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        along_h, along_w = _plan("avg_pool2d", x, kernel_size, stride, padding, 1, False)
        result = _sum_along(_sum_along(x, x.ndim - 1, along_w), x.ndim - 2, along_h)
        # Without ceil_mode every window lies inside the padded input: the divisor is always kh * kw.
        result *= 1.0 / (along_h.kernel[0] * along_w.kernel[0])
        ctx.windows = (along_h, along_w)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        along_h, along_w = ctx.windows
        grad = grad_output * (1.0 / (along_h.kernel[0] * along_w.kernel[0]))
        grad_rows = _route(grad, None, grad.ndim - 2, along_h)
        return _route(grad_rows, None, grad.ndim - 1, along_w)


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
