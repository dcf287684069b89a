"""Pooling over 1, 2 or 3 spatial dims, as PyTorch computes it: max and average pooling over kernel windows,
adaptive pooling to a given output size, and max_unpool, over (N, C, *spatial) or (C, *spatial) input.

Every pooling here is separable: a window is a box, so its max (or sum) is the max (or sum) along the last axis
of each row, then along the next axis of those results, and so on. Each op runs one 1-D pass per spatial axis,
last axis first, and its backward runs the passes' adjoints in reverse order. A kernel pass loops over the k
offsets of its kernel with strided slices (the shared `Windows` offsets, so padding is never materialised):
O(sum of the kernel sides) vectorised passes, no im2col copy. When the windows do not overlap (stride >= span,
the usual 2x2/2) the backward writes each slice once instead of accumulating into it. Adaptive windows differ
in length; a pass over them gathers the j-th element of every window at once, for j up to the longest window.

Max-pool ties follow PyTorch: the gradient (and the returned index) goes to the first maximum in row-major
window order. Taking the first maximum along the last axis, then the first row whose maximum is strictly
greater, and so on outwards, picks exactly that element.

`return_indices=True` gives, beside the values, each maximum's flat index within its (H, W) plane (its
(D, H, W) volume in 3-D, its row in 1-D), int64, as PyTorch; `max_unpool` puts values back at such indices.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, pair, random_array, scatter_add
from ._windows import Windows
from .registry import Sample, register

_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length; with ceil_mode the last window must start inside the input or left pad."""
    span = dilation * (kernel - 1) + 1
    numerator = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _check_input(op: str, n: int, shape: tuple) -> None:
    """A ValueError unless `shape` is a non-empty (C, *spatial) or (N, C, *spatial) shape with n spatial dims."""
    dims = ", ".join(_SPATIAL[n])
    if len(shape) not in (n + 1, n + 2) or 0 in shape[-n - 1:]:  # as PyTorch, a batch may be empty
        raise ValueError(f"{op}: expected a non-empty {n + 1}D (C, {dims}) or {n + 2}D (N, C, {dims}) input, "
                         f"got shape {shape}")


def _geometry(op: str, n: int, shape: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool) -> tuple:
    """Validated (kernel, stride, padding, dilation, output size) n-tuples for the spatial dims of `shape`."""
    _check_input(op, n, shape)
    kernel = pair(kernel_size, "kernel_size", op, n)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        pair(stride, "stride", op, n)
    padding, dilation = pair(padding, "padding", op, n), pair(dilation, "dilation", op, n)
    for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(values) <= 0:
            raise ValueError(f"{op}: {name} must be positive, got {values}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding should be at most half of the kernel size, "
                         f"got padding={padding} and kernel_size={kernel}")
    size = shape[-n:]
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


def _plan(op: str, n: int, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
          ceil_mode: bool) -> tuple[Windows, ...]:
    """Checked 1-D windows along each of the n spatial axes of x, outermost first."""
    geometry = _geometry(op, n, x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return tuple(_axis_windows(*args) for args in zip(x.shape[-n:], *geometry))


def _spatial_axes(ndim: int, n: int) -> range:
    return range(ndim - n, ndim)


def _along(axis: int, ndim: int, values: np.ndarray) -> np.ndarray:
    """A 1-D array shaped to broadcast along `axis` of an ndim-array."""
    return values.reshape((-1,) + (1,) * (ndim - 1 - axis))


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



def _first_max_positions(offset: np.ndarray, axis: int, windows: Windows) -> np.ndarray:
    """The input positions along `axis` that `_max_along`'s chosen offsets name (clipped into the input: a
    window wholly on padding has no maximum inside, and PyTorch's index for it is arbitrary too)."""
    (size,), (stride,), (dilation,), ((low, _),) = windows.input_size, windows.stride, windows.dilation, \
        windows.padding
    starts = _along(axis, offset.ndim, np.arange(windows.output_size[0]) * stride - low)
    return np.clip(starts + offset.astype(np.int64) * dilation, 0, size - 1)


def flat_plane_indices(input_shape: tuple, passes: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Flat int64 indices into each input plane, (N, C, *out), of the elements that per-axis passes chose.

    `passes` holds, in the order the passes ran, (axis, positions): the input position along `axis` that each
    output of that pass took. Following them back from a flat index per input element finds the element
    each final output came from.
    """
    n = len(passes)
    spatial = input_shape[-n:]
    flat = np.arange(math.prod(spatial), dtype=np.int64).reshape((1,) * (len(input_shape) - n) + spatial)
    for axis, positions in passes:
        flat = np.take_along_axis(flat, positions, axis)
    return flat


def _scatter_along(values: np.ndarray, positions: np.ndarray, axis: int, size: int) -> np.ndarray:
    """An array like `values` with `axis` of length `size`, holding at each position the sum of the values
    sent there (`positions` broadcasts against values; repeated positions add up)."""
    moved = np.moveaxis(values, axis, -1)
    targets = np.broadcast_to(np.moveaxis(positions, axis, -1) if positions.ndim == values.ndim else positions,
                              moved.shape)
    rows = np.arange(math.prod(moved.shape[:-1]), dtype=np.int64).reshape(moved.shape[:-1] + (1,))
    summed = scatter_add(moved.shape[:-1] + (size,), rows * size + targets, moved)
    return np.moveaxis(summed, -1, axis)


# ----- max and average pooling over kernel windows ---------------------------------------------------------
def _max_pool_arrays(x: np.ndarray, plan: tuple[Windows, ...]) -> tuple[np.ndarray, list]:
    """The max over each window (padding counts as -inf), and per spatial axis the offsets of the first maxima."""
    offsets: list[np.ndarray | None]
    result, offsets = x, [None] * len(plan)
    for k in reversed(range(len(plan))):
        result, offsets[k] = _max_along(result, x.ndim - len(plan) + k, plan[k])
    return result, offsets


def _max_pool_indices(x: np.ndarray, plan: tuple[Windows, ...], offsets: list) -> np.ndarray:
    """PyTorch's return_indices for `_max_pool_arrays`: the first maximum's flat index in its plane."""
    n = len(plan)
    # After the pass along axis k, the axes before it still have input size: `offsets[k]` has that shape.
    passes = [(x.ndim - n + k, _first_max_positions(offsets[k], x.ndim - n + k, plan[k]))
              for k in reversed(range(n))]
    return flat_plane_indices(x.shape, passes)


class _MaxPoolNd(Function):
    """The max over each kernel window (padding counts as -inf); the gradient goes to the first maximum."""

    n: ClassVar[int]

    @classmethod
    def forward(cls, ctx, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        plan = _plan(cls.name, cls.n, x, kernel_size, stride, padding, dilation, ceil_mode)
        result, ctx.offsets = _max_pool_arrays(x, plan)
        ctx.plan = plan
        return result

    @staticmethod
    def backward(ctx, grad_output):
        n = len(ctx.plan)
        for k in range(n):  # outermost axis first: the reverse of the forward passes
            grad_output = _route(grad_output, ctx.offsets[k], grad_output.ndim - n + k, ctx.plan[k])
        return grad_output


def _window_divisor(plan: tuple[Windows, ...], ndim: int, count_include_pad: bool,
                    divisor_override: int | np.integer | None) -> Any:
    """What PyTorch divides each window's sum by: a number, or an array that broadcasts over the output.

    Per axis a window [start, start + k) counts up to the end of the padded input (ceil_mode's last window may
    reach past it), or, without count_include_pad, only its part inside the input; a box counts the product.
    """
    if divisor_override is not None:
        return divisor_override
    divisor: int | np.ndarray
    n, divisor = len(plan), 1
    for k, windows in enumerate(plan):
        (size,), (kernel,), (stride,), ((low, _),) = windows.input_size, windows.kernel, windows.stride, \
            windows.padding
        starts = np.arange(windows.output_size[0]) * stride - low
        ends = np.minimum(starts + kernel, size + low)
        counts = ends - starts if count_include_pad else np.minimum(ends, size) - np.maximum(starts, 0)
        divisor = divisor * (int(counts[0]) if (counts == counts[0]).all() else _along(k, n, counts))
    return divisor


class _AvgPoolNd(Function):
    """The mean over each kernel window, divided as PyTorch divides it (see `_window_divisor`)."""

    n: ClassVar[int]

    @classmethod
    def forward(cls, ctx, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
        if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                             or isinstance(divisor_override, bool) or divisor_override == 0):
            raise ValueError(f"{cls.name}: divisor_override must be a non-zero int, got {divisor_override!r}")
        plan = _plan(cls.name, cls.n, x, kernel_size, stride, padding, 1, ceil_mode)
        size, kernel = x.shape[-cls.n:], tuple(windows.kernel[0] for windows in plan)
        if cls.n == 3 and any(s < k for s, k in zip(size, kernel)):  # PyTorch checks this in 3-D only
            raise ValueError(f"{cls.name}: input of spatial size {size} is smaller than kernel_size={kernel}")
        divisor = _window_divisor(plan, cls.n, count_include_pad, divisor_override)
        ctx.plan, ctx.divisor = plan, divisor if isinstance(divisor, int) else divisor.astype(x.dtype)
        total = x
        for k in reversed(range(cls.n)):
            total = _sum_along(total, x.ndim - cls.n + k, plan[k])
        return total / ctx.divisor

    @staticmethod
    def backward(ctx, grad_output):
        n, grad = len(ctx.plan), grad_output / ctx.divisor
        for k in range(n):
            grad = _route(grad, None, grad.ndim - n + k, ctx.plan[k])
        return grad


# ----- adaptive pooling: windows [floor(i * in / out), ceil((i + 1) * in / out)) ----------------------------
def _adaptive_output_size(op: str, n: int, shape: tuple, output_size: Any) -> tuple[int, ...]:
    """output_size as n positive ints: an int, or n entries where None keeps the input's size (not in 1-D, as
    PyTorch)."""
    _check_input(op, n, shape)
    values = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if n > 1 and len(values) == n:
        values = tuple(size if v is None else v for v, size in zip(values, shape[-n:]))
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        keep = " (None keeps that dim)" if n > 1 else ""
        raise ValueError(f"{op}: output_size must be an int or {n} ints{keep}, got {output_size!r}")
    if min(values) <= 0:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return tuple(int(v) for v in values)


def _adaptive_windows(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows along one axis: (starts, ends), output i pooling [starts[i], ends[i])."""
    i = np.arange(out)
    return i * size // out, -(-(i + 1) * size // out)


def _window_elements(starts: np.ndarray, ends: np.ndarray):
    """Per j up to the longest window: the j-th position of every window (its last where it is shorter), and
    whether it is really the j-th (False where the window ended)."""
    for j in range(int((ends - starts).max())):
        yield np.minimum(starts + j, ends - 1), starts + j < ends


def _adaptive_sum_along(x: np.ndarray, axis: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The sum over each adaptive window along axis."""
    total = None
    for positions, inside in _window_elements(starts, ends):
        part = np.take(x, positions, axis)
        if not inside.all():  # np.where, not a 0/1 product: an inf outside a window must not become NaN
            part = np.where(_along(axis, x.ndim, inside), part, 0)
        total = part if total is None else total + part
    return total  # type: ignore[return-value]  # an array: every window holds at least one position


def _adaptive_spread_along(grad: np.ndarray, axis: int, starts: np.ndarray, ends: np.ndarray,
                           size: int) -> np.ndarray:
    """Backward of `_adaptive_sum_along`: each window's gradient to every position in it (overlaps add up)."""
    positions, inside = (np.concatenate(parts) for parts in zip(*_window_elements(starts, ends)))
    repeated = np.take(grad, np.tile(np.arange(len(starts)), len(positions) // len(starts)), axis)
    repeated = np.where(_along(axis, grad.ndim, inside), repeated, 0)
    return _scatter_along(repeated, positions, axis, size)


def _adaptive_max_along(x: np.ndarray, axis: int, starts: np.ndarray, ends: np.ndarray) -> tuple:
    """The max over each adaptive window along axis and the input position of its first maximum."""
    best, chosen = None, None
    for positions, _ in _window_elements(starts, ends):
        # A shorter window repeats its last element, which is never strictly greater than the best so far.
        view, positions = np.take(x, positions, axis), _along(axis, x.ndim, positions)
        if best is None:
            best, chosen = view, np.broadcast_to(positions, view.shape)
            continue
        better = view > best
        chosen = np.where(better, positions, chosen)  # type: ignore[arg-type]  # set with best, on the first pass
        best = np.maximum(best, view)  # NaN propagates, as in PyTorch
    return best, chosen


def _adaptive_max_arrays(x: np.ndarray, out: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive max pooling of x to spatial size `out`: the values and the flat plane indices of the maxima."""
    n = len(out)
    if all(o == 1 for o in out):  # global pooling: one max per plane
        planes = x.reshape(x.shape[:-n] + (math.prod(x.shape[-n:]),))
        indices = planes.argmax(axis=-1)[..., None]  # the first maximum, as PyTorch
        values = np.take_along_axis(planes, indices, -1)
        return values.reshape(x.shape[:-n] + out), indices.reshape(x.shape[:-n] + out)
    result, passes = x, []
    for k in reversed(range(n)):
        axis = x.ndim - n + k
        result, positions = _adaptive_max_along(result, axis, *_adaptive_windows(x.shape[axis], out[k]))
        passes.append((axis, positions))
    return result, flat_plane_indices(x.shape, passes)


class _AdaptiveAvgPoolNd(Function):
    """The mean over each adaptive window; output size 1 everywhere is the global mean."""

    n: ClassVar[int]

    @classmethod
    def forward(cls, ctx, x, output_size):
        out = _adaptive_output_size(cls.name, cls.n, x.shape, output_size)
        axes = tuple(_spatial_axes(x.ndim, cls.n))
        ctx.input_shape, ctx.out = x.shape, out
        if all(o == 1 for o in out):
            return x.mean(axis=axes, keepdims=True)
        ctx.windows = [_adaptive_windows(x.shape[axis], o) for axis, o in zip(axes, out)]
        ctx.divisor = 1
        for k, (starts, ends) in enumerate(ctx.windows):
            ctx.divisor = ctx.divisor * _along(k, cls.n, (ends - starts).astype(x.dtype))
        total = x
        for k in reversed(range(cls.n)):
            total = _adaptive_sum_along(total, axes[k], *ctx.windows[k])
        return total / ctx.divisor

    @staticmethod
    def backward(ctx, grad_output):
        n, shape = len(ctx.out), ctx.input_shape
        if all(o == 1 for o in ctx.out):
            count = math.prod(shape[-n:])
            return np.broadcast_to(grad_output / grad_output.dtype.type(count), shape)
        grad = grad_output / ctx.divisor
        for k, axis in enumerate(_spatial_axes(len(shape), n)):
            # ctx.windows[k] is (starts, ends); mypy lets a starred argument take every remaining parameter.
            grad = _adaptive_spread_along(grad, axis, *ctx.windows[k], shape[axis])  # type: ignore[call-arg]
        return grad


class _AdaptiveMaxPoolNd(Function):
    """The max over each adaptive window; the gradient goes to its first maximum."""

    n: ClassVar[int]

    @classmethod
    def forward(cls, ctx, x, output_size):
        out = _adaptive_output_size(cls.name, cls.n, x.shape, output_size)
        result, ctx.indices = _adaptive_max_arrays(x, out)
        ctx.input_shape, ctx.n = x.shape, cls.n
        return result

    @staticmethod
    def backward(ctx, grad_output):
        return _scatter_to_planes(grad_output, ctx.indices, ctx.input_shape, ctx.n)


def _scatter_to_planes(values: np.ndarray, indices: np.ndarray, shape: tuple, n: int) -> np.ndarray:
    """An array of `shape` holding, per (N, C) plane of n spatial dims, the sum of the values sent to each flat
    index in it (`indices` is shaped as `values`)."""
    planes, plane_size = math.prod(shape[:-n]), math.prod(shape[-n:])
    sent = math.prod(values.shape[-n:])
    targets = np.arange(planes, dtype=np.int64)[:, None] * plane_size + indices.reshape(planes, sent)
    return scatter_add(shape, targets, values.reshape(planes, sent))


# ----- max_unpool: values back at their max_pool indices ------------------------------------------------
def _unpool_output_size(op: str, input_size: tuple, kernel: tuple, stride: tuple, padding: tuple,
                        output_size: Any) -> tuple[int, ...]:
    """PyTorch's unpooled size: (in - 1) * stride - 2 * padding + kernel per dim, or `output_size` (n sizes, or
    n + 2 with N and C first) within one stride of it."""
    n = len(kernel)
    default = tuple((size - 1) * s - 2 * p + k for size, k, s, p in zip(input_size, kernel, stride, padding))
    if output_size is None:
        if min(default) < 1:
            raise ValueError(f"{op}: kernel_size={kernel}, stride={stride} and padding={padding} unpool an input "
                             f"of size {input_size} to size {default}")
        return default
    sizes = tuple(output_size)
    if len(sizes) == n + 2:
        sizes = sizes[2:]
    if len(sizes) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in sizes):
        raise ValueError(f"{op}: output_size should be {n} or {n + 2} ints, got {output_size!r}")
    for d, (size, default_size, s) in enumerate(zip(sizes, default, stride)):
        if not default_size - s < size < default_size + s:
            raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim {d} must be between "
                             f"{default_size - s} and {default_size + s}, exclusive)")
    return tuple(int(v) for v in sizes)


class _MaxUnpoolNd(Function):
    """Zeros with each input value at its index (a flat index into its output plane, as max_pool's
    return_indices gives); the gradient gathers from the same indices."""

    n: ClassVar[int]

    @classmethod
    def forward(cls, ctx, x, indices, kernel_size, stride=None, padding=0, output_size=None):
        op, n = cls.name, cls.n
        _check_input(op, n, x.shape)
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{op}: indices must be integers (int64, as max_pool's return_indices gives), "
                            f"got {indices.dtype}")
        if indices.shape != x.shape:
            raise ValueError(f"{op}: indices must have the input's shape {x.shape}, got {indices.shape}")
        kernel = pair(kernel_size, "kernel_size", op, n)
        stride = kernel if stride is None else pair(stride, "stride", op, n)
        padding = pair(padding, "padding", op, n)
        for name, values in (("kernel_size", kernel), ("stride", stride)):
            if min(values) <= 0:
                raise ValueError(f"{op}: {name} must be positive, got {values}")
        if min(padding) < 0:
            raise ValueError(f"{op}: padding must be non-negative, got {padding}")
        out = _unpool_output_size(op, x.shape[-n:], kernel, stride, padding, output_size)
        planes, plane_size = math.prod(x.shape[:-n]), math.prod(out)
        flat = indices.reshape(planes, math.prod(x.shape[-n:])).astype(np.int64, copy=False)
        bad = flat[(flat < 0) | (flat >= plane_size)]
        if bad.size:
            raise ValueError(f"{op}: Found an invalid max index: {bad[0]} (output planes are of size "
                             f"{'x'.join(map(str, out))})")
        result = np.zeros((planes, plane_size), x.dtype)
        np.put_along_axis(result, flat, x.reshape(flat.shape), axis=1)  # a repeated index keeps the last value
        ctx.flat, ctx.input_shape, ctx.plane_size = flat, x.shape, plane_size
        return result.reshape(x.shape[:-n] + out)

    @staticmethod
    def backward(ctx, grad_output):
        grad = np.take_along_axis(grad_output.reshape(len(ctx.flat), ctx.plane_size), ctx.flat, axis=1)
        return grad.reshape(ctx.input_shape), None


# ----- samples: every option, in 1, 2 and 3 dims; random floats, so no tied maxima -----------------------
_SampleConfigs = dict[int, list[tuple[tuple[int, ...], dict[str, Any]]]]  # per dim: (input shape, attrs) per sample


def _samples(configs: list) -> Any:
    def generate(rng: np.random.Generator):
        for shape, attrs in configs:
            yield Sample((random_array(rng, *shape),), attrs, note=f"{shape} {attrs}")
    return generate


_MAX_POOL_CONFIGS: _SampleConfigs = {
    1: [((2, 3, 9), dict(kernel_size=2)),
        ((1, 2, 8), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 1, 9), dict(kernel_size=2, stride=2, padding=1, dilation=2)),
        ((1, 2, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((2, 7), dict(kernel_size=3, stride=1, padding=1))],
    2: [((2, 3, 6, 6), dict(kernel_size=2)),
        ((1, 2, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 1, 6, 7), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0))),
        ((1, 2, 5, 5), dict(kernel_size=3, stride=1)),
        ((2, 4, 4), dict(kernel_size=2, stride=1)),
        ((1, 2, 7, 6), dict(kernel_size=2, stride=2, padding=1, dilation=2)),
        ((1, 2, 6, 5), dict(kernel_size=2, stride=2, padding=1, dilation=1, ceil_mode=True)),
        ((2, 1, 6, 6), dict(kernel_size=3, stride=2, ceil_mode=True))],
    3: [((1, 2, 4, 4, 4), dict(kernel_size=2)),
        ((1, 1, 5, 4, 6), dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1))),
        ((1, 1, 5, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
        ((1, 1, 5, 6, 5), dict(kernel_size=2, stride=1, dilation=(2, 1, 2))),
        ((2, 3, 4, 5), dict(kernel_size=2, stride=1))],
}

_AVG_POOL_CONFIGS: _SampleConfigs = {
    1: [((2, 3, 8), dict(kernel_size=2)),
        ((1, 2, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
        ((1, 2, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((2, 1, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
        ((3, 7), dict(kernel_size=2, stride=1))],
    2: [((2, 3, 6, 6), dict(kernel_size=2)),
        ((1, 2, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 1, 6, 7), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), count_include_pad=False)),
        ((1, 2, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((1, 2, 7, 8), dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
        ((1, 1, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=4)),
        ((2, 4, 4), dict(kernel_size=2, stride=1))],
    3: [((1, 2, 4, 4, 4), dict(kernel_size=2)),
        ((1, 1, 5, 4, 6), dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1),
                               count_include_pad=False)),
        ((1, 1, 5, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((1, 1, 4, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True, divisor_override=3)),
        ((2, 3, 4, 5), dict(kernel_size=2, stride=1))],
}

_ADAPTIVE_CONFIGS: _SampleConfigs = {
    1: [((2, 3, 8), dict(output_size=4)),
        ((1, 2, 7), dict(output_size=3)),
        ((2, 1, 3), dict(output_size=5)),
        ((2, 2, 6), dict(output_size=1)),
        ((3, 7), dict(output_size=(3,)))],
    2: [((2, 2, 6, 6), dict(output_size=3)),
        ((1, 2, 7, 5), dict(output_size=(3, 2))),
        ((1, 2, 5, 7), dict(output_size=(None, 3))),
        ((2, 3, 4, 4), dict(output_size=1)),
        ((1, 1, 3, 2), dict(output_size=(4, 5))),
        ((2, 5, 5), dict(output_size=(2, 3)))],
    3: [((1, 2, 4, 5, 6), dict(output_size=(2, 3, 4))),
        ((1, 1, 3, 4, 5), dict(output_size=1)),
        ((1, 1, 3, 2, 4), dict(output_size=(4, None, 3))),
        ((2, 3, 4, 5), dict(output_size=2))],
}


def _unpool_samples(n: int):
    configs_by_dim: _SampleConfigs = {
               1: [((2, 2, 4), dict(kernel_size=2)), ((1, 2, 5), dict(kernel_size=3, stride=2, padding=1)),
                   ((1, 1, 3), dict(kernel_size=2, output_size=(7,)))],
               2: [((2, 2, 3, 3), dict(kernel_size=2)),
                   ((1, 2, 3, 4), dict(kernel_size=3, stride=2, padding=1)),
                   ((1, 1, 3, 3), dict(kernel_size=2, output_size=(1, 1, 7, 7))),
                   ((2, 3, 3), dict(kernel_size=(2, 3), stride=(2, 1)))],
               3: [((1, 2, 2, 2, 2), dict(kernel_size=2)),
                   ((2, 2, 3, 2), dict(kernel_size=(2, 3, 2), stride=2, padding=(0, 1, 0)))]}
    configs = configs_by_dim[n]

    def generate(rng: np.random.Generator):
        for shape, attrs in configs:
            kernel = pair(attrs["kernel_size"], "", "", n)
            stride, padding = pair(attrs.get("stride", kernel), "", "", n), pair(attrs.get("padding", 0), "", "", n)
            out = _unpool_output_size("", shape[-n:], kernel, stride, padding, attrs.get("output_size"))
            planes = math.prod(shape[:-n])
            # Distinct indices per plane: a repeated one would keep only the last value, not differentiably.
            indices = np.stack([rng.choice(math.prod(out), math.prod(shape[-n:]), replace=False)
                                for _ in range(planes)]).reshape(shape)
            yield Sample((random_array(rng, *shape), indices), attrs, note=f"{shape} {attrs}")
    return generate


def _tie_kinks(sample: Sample) -> list:
    """Elements equal to another element of the input: where a window's max may be tied."""
    x = sample.args[0]
    flat = x.ravel()
    order = np.argsort(flat)
    ordered = flat[order]
    same = np.zeros(ordered.shape, bool)
    same[1:] |= ordered[1:] == ordered[:-1]
    same[:-1] |= ordered[1:] == ordered[:-1]
    tied = np.empty_like(same)
    tied[order] = same
    return [tied.reshape(x.shape)]


# ----- the registered ops, one thin class per dim --------------------------------------------------------
@register("max_pool1d", samples=_samples(_MAX_POOL_CONFIGS[1]), kinks=_tie_kinks)
class MaxPool1d(_MaxPoolNd):
    """The max over each kernel window of (N, C, L); the gradient goes to the first maximum."""

    n = 1


@register("max_pool2d", samples=_samples(_MAX_POOL_CONFIGS[2]), kinks=_tie_kinks)
class MaxPool2d(_MaxPoolNd):
    """The max over each kernel window of (N, C, H, W); the gradient goes to the first maximum."""

    n = 2


@register("max_pool3d", samples=_samples(_MAX_POOL_CONFIGS[3]), kinks=_tie_kinks)
class MaxPool3d(_MaxPoolNd):
    """The max over each kernel window of (N, C, D, H, W); the gradient goes to the first maximum."""

    n = 3


@register("avg_pool1d", samples=_samples(_AVG_POOL_CONFIGS[1]))
class AvgPool1d(_AvgPoolNd):
    """The mean over each kernel window of (N, C, L), divided as PyTorch divides it."""

    n = 1


@register("avg_pool2d", samples=_samples(_AVG_POOL_CONFIGS[2]))
class AvgPool2d(_AvgPoolNd):
    """The mean over each kernel window of (N, C, H, W), divided as PyTorch divides it."""

    n = 2


@register("avg_pool3d", samples=_samples(_AVG_POOL_CONFIGS[3]))
class AvgPool3d(_AvgPoolNd):
    """The mean over each kernel window of (N, C, D, H, W), divided as PyTorch divides it."""

    n = 3


@register("adaptive_avg_pool1d", samples=_samples(_ADAPTIVE_CONFIGS[1]))
class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """The mean over each adaptive window of (N, C, L)."""

    n = 1


@register("adaptive_avg_pool2d", samples=_samples(_ADAPTIVE_CONFIGS[2]))
class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """The mean over each adaptive window of (N, C, H, W)."""

    n = 2


@register("adaptive_avg_pool3d", samples=_samples(_ADAPTIVE_CONFIGS[3]))
class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """The mean over each adaptive window of (N, C, D, H, W)."""

    n = 3


@register("adaptive_max_pool1d", samples=_samples(_ADAPTIVE_CONFIGS[1]), kinks=_tie_kinks)
class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The max over each adaptive window of (N, C, L); the gradient goes to the first maximum."""

    n = 1


@register("adaptive_max_pool2d", samples=_samples(_ADAPTIVE_CONFIGS[2]), kinks=_tie_kinks)
class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """The max over each adaptive window of (N, C, H, W); the gradient goes to the first maximum."""

    n = 2


@register("adaptive_max_pool3d", samples=_samples(_ADAPTIVE_CONFIGS[3]), kinks=_tie_kinks)
class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """The max over each adaptive window of (N, C, D, H, W); the gradient goes to the first maximum."""

    n = 3


@register("max_unpool1d", samples=_unpool_samples(1))
class MaxUnpool1d(_MaxUnpoolNd):
    """(N, C, L) values placed at their indices in zero (N, C, L_out) planes."""

    n = 1


@register("max_unpool2d", samples=_unpool_samples(2))
class MaxUnpool2d(_MaxUnpoolNd):
    """(N, C, H, W) values placed at their indices in zero (N, C, H_out, W_out) planes."""

    n = 2


@register("max_unpool3d", samples=_unpool_samples(3))
class MaxUnpool3d(_MaxUnpoolNd):
    """(N, C, D, H, W) values placed at their indices in zero (N, C, D_out, H_out, W_out) planes."""

    n = 3


# ----- the functions (nn.functional's) -------------------------------------------------------------------
def _max_pool(cls: type[_MaxPoolNd], x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool) -> Any:
    expect_tensor(cls.name, "input", x)
    values = cls.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                       ceil_mode=bool(ceil_mode))
    if not return_indices:
        return values
    # The indices take a second forward pass (an op has one output); return_indices is the rare case.
    plan = _plan(cls.name, cls.n, x._data, kernel_size, stride, padding, dilation, bool(ceil_mode))
    _, offsets = _max_pool_arrays(x._data, plan)
    return values, Tensor(_max_pool_indices(x._data, plan, offsets))


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-D max pooling, as torch.nn.functional.max_pool1d: (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out),
    L_out = floor or ceil((L + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1; with return_indices,
    (values, int64 indices into L)."""
    return _max_pool(MaxPool1d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-D max pooling, as torch.nn.functional.max_pool2d.

    x: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW) or (C, OH, OW), with
    OH = floor or ceil((H + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1 (likewise OW); with
    return_indices, (values, int64 indices into each H * W plane).
    """
    return _max_pool(MaxPool2d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """3-D max pooling, as torch.nn.functional.max_pool3d: (N, C, D, H, W) or (C, D, H, W) -> (N, C, OD, OH, OW)
    or (C, OD, OH, OW); with return_indices, (values, int64 indices into each D * H * W volume)."""
    return _max_pool(MaxPool3d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(cls: type[_AvgPoolNd], x: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None) -> Tensor:
    expect_tensor(cls.name, "input", x)
    return cls.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=bool(ceil_mode),
                     count_include_pad=bool(count_include_pad), divisor_override=divisor_override)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling, as torch.nn.functional.avg_pool1d: (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out).

    A window's divisor is its length up to the end of the padded input, or, with count_include_pad=False, the
    length of its part inside the input.
    """
    return _avg_pool(AvgPool1d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling, as torch.nn.functional.avg_pool2d.

    x: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW) or (C, OH, OW), OH = floor or ceil((H + 2 * padding - kernel)
    / stride) + 1. A window's divisor is its area up to the end of the padded input, or, with
    count_include_pad=False, the area of its part inside the input; divisor_override replaces it.
    """
    return _avg_pool(AvgPool2d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling, as torch.nn.functional.avg_pool3d: (N, C, D, H, W) or (C, D, H, W) ->
    (N, C, OD, OH, OW) or (C, OD, OH, OW); divisors as avg_pool2d's."""
    return _avg_pool(AvgPool3d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _adaptive_avg_pool(cls: type[_AdaptiveAvgPoolNd], x: Tensor, output_size: Any) -> Tensor:
    expect_tensor(cls.name, "input", x)
    return cls.apply(x, output_size=output_size)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """The mean over windows [floor(i * L / out), ceil((i + 1) * L / out)): (N, C, L) or (C, L) -> (..., out)."""
    return _adaptive_avg_pool(AdaptiveAvgPool1d, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """The mean over adaptive windows (per axis [floor(i * in / out), ceil((i + 1) * in / out))):
    (N, C, H, W) or (C, H, W) -> (..., OH, OW); output_size an int or (OH, OW), None keeping that dim.
    Output size 1 is global average pooling."""
    return _adaptive_avg_pool(AdaptiveAvgPool2d, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """adaptive_avg_pool2d's windows over (N, C, D, H, W) or (C, D, H, W) -> (..., OD, OH, OW)."""
    return _adaptive_avg_pool(AdaptiveAvgPool3d, input, output_size)


def _adaptive_max_pool(cls: type[_AdaptiveMaxPoolNd], x: Tensor, output_size: Any, return_indices: bool) -> Any:
    expect_tensor(cls.name, "input", x)
    values = cls.apply(x, output_size=output_size)
    if not return_indices:
        return values
    # The indices take a second forward pass (an op has one output); return_indices is the rare case.
    _, indices = _adaptive_max_arrays(x._data, _adaptive_output_size(cls.name, cls.n, x.shape, output_size))
    return values, Tensor(indices)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The max over adaptive windows: (N, C, L) or (C, L) -> (..., out); with return_indices, (values, indices)."""
    return _adaptive_max_pool(AdaptiveMaxPool1d, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The max over adaptive windows (as adaptive_avg_pool2d's): (N, C, H, W) or (C, H, W) -> (..., OH, OW);
    with return_indices, (values, int64 indices into each H * W plane). Output size 1 is global max pooling."""
    return _adaptive_max_pool(AdaptiveMaxPool2d, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """adaptive_max_pool2d over (N, C, D, H, W) or (C, D, H, W) -> (..., OD, OH, OW)."""
    return _adaptive_max_pool(AdaptiveMaxPool3d, input, output_size, return_indices)


def _max_unpool(cls: type[_MaxUnpoolNd], x: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any) -> Tensor:
    expect_tensor(cls.name, "input", x)
    expect_tensor(cls.name, "indices", indices)
    return cls.apply(x, indices, kernel_size=kernel_size, stride=stride, padding=padding,
                     output_size=None if output_size is None else tuple(output_size))


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """max_pool1d's partial inverse: zeros of length (L - 1) * stride - 2 * padding + kernel (or output_size)
    with each value at its index. (N, C, L) or (C, L) -> (..., L_out)."""
    return _max_unpool(MaxUnpool1d, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """max_pool2d's partial inverse: zero planes of size (in - 1) * stride - 2 * padding + kernel per dim (or
    output_size) with each value at its flat index. (N, C, H, W) or (C, H, W) -> (..., H_out, W_out)."""
    return _max_unpool(MaxUnpool2d, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """max_pool3d's partial inverse, as max_unpool2d's: (N, C, D, H, W) or (C, D, H, W) -> (..., OD, OH, OW)."""
    return _max_unpool(MaxUnpool3d, input, indices, kernel_size, stride, padding, output_size)
