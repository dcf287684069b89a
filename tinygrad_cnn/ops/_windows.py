"""Sliding windows over the spatial dims of (N, C, *spatial) arrays, for any number of spatial dims.

One description of a windowed op (`Windows`: kernel, stride, dilation, padding, output size) and the
two moves every windowed op is made of: `unfold` (im2col: copy each window into columns) and `fold`
(col2im: add columns back onto the input, the adjoint of `unfold`). Conv1d, conv2d and pooling share it.

Padding is never materialised: for each kernel offset, `Windows.offsets` gives the output positions
whose input position lies inside the input, so `unfold` copies straight from the input (and fills the
rest) and `fold` adds straight into the input gradient, with no padded buffer to allocate and crop.
Large unfolds, folds and batch transposes are split over `tinygrad_cnn.get_num_threads()` threads along their
first axis (or the second, when the first is a single channel); each chunk does what the whole would, so
results are bit-identical whatever the thread count.
"""

from __future__ import annotations

import functools
import itertools
import sys
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..threads import get_num_threads, parallel_chunks
from ._util import ceil_div, pair


def _dim_offsets(size: int, out: int, k: int, stride: int, dilation: int, low: int) -> list:
    """Per kernel index i of one dim: (out slice, input slice) of the positions inside the input."""
    result = []
    for i in range(k):
        start = i * dilation - low  # input position of output 0 at this kernel index
        first = max(0, -(start // stride) if start < 0 else 0)  # ceil(-start / stride), at least 0
        last = min(out - 1, (size - 1 - start) // stride)
        if last < first:
            result.append((slice(0, 0), slice(0, 0)))
            continue
        begin = start + first * stride
        result.append((slice(first, last + 1), slice(begin, begin + (last - first) * stride + 1, stride)))
    return result


@dataclass(frozen=True)
class Windows:
    """Where the windows of a strided, dilated, padded sliding window fall, per spatial dim.

    `padding` holds (before, after) per dim, so asymmetric ('same') padding is exact.
    """

    input_size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]

    @functools.cached_property
    def output_size(self) -> tuple[int, ...]:
        return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, k, s, d, (lo, hi) in
                     zip(self.input_size, self.kernel, self.stride, self.dilation, self.padding))

    @functools.cached_property
    def dim_offsets(self) -> list[list[tuple[slice, slice]]]:
        """Per spatial dim, per kernel index along it: (output slice, input slice) of the positions inside the input."""
        return [_dim_offsets(n, o, k, s, d, lo) for n, o, k, s, d, (lo, _) in
                zip(self.input_size, self.output_size, self.kernel, self.stride, self.dilation, self.padding)]

    @functools.cached_property
    def offsets(self) -> list[Offset]:
        """Every kernel offset with the output and input positions it pairs up (see `Offset`)."""
        return [Offset(index, out_slices, in_slices,
                       all(s.stop - s.start == o for s, o in zip(out_slices, self.output_size)))
                for index, out_slices, in_slices in _offset_product(self.dim_offsets)]


def _offset_product(per_dim: list[list[tuple[slice, slice]]]):
    """Every kernel offset over these dims, from their (output slice, input slice) per kernel index (see
    `Windows.dim_offsets`): (kernel index, output slices, input slices)."""
    for index in itertools.product(*(range(len(pairs)) for pairs in per_dim)):
        pairs = [dim_pairs[i] for dim_pairs, i in zip(per_dim, index)]
        yield index, tuple(out for out, _ in pairs), tuple(into for _, into in pairs)


class Offset(NamedTuple):
    """One kernel offset: output positions `out_slices` read input positions `in_slices` (same shape)."""

    index: tuple[int, ...]  # the kernel position
    out_slices: tuple[slice, ...]
    in_slices: tuple[slice, ...]
    every_output: bool  # no output of this offset falls on padding


def resolve_padding(padding: Any, input_size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                    dilation: tuple[int, ...], op: str) -> tuple[tuple[int, int], ...]:
    """(before, after) per dim from an int, a tuple of ints, 'valid' or 'same'.

    'same' gives output = ceil(input / stride) for any stride and dilation, the total padding split as
    Keras/TensorFlow do: the odd pixel goes after (bottom/right). With stride 1 this is PyTorch's 'same'.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            pads = []
            for size, k, s, d in zip(input_size, kernel, stride, dilation):
                out = ceil_div(size, s)
                total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{op}: padding must be an int, {n} ints, 'valid' or 'same', got {padding!r}")
    values = pair(padding, "padding", op, n)
    if any(p < 0 for p in values):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in values)


def make_windows(input_size: tuple[int, ...], kernel: tuple[int, ...], stride: Any, padding: Any, dilation: Any,
                 op: str) -> Windows:
    """Checked `Windows` for an input of spatial size `input_size`; stride/dilation as int or n ints.

    Raises ValueError naming the values for a non-positive kernel, stride or dilation, and for an
    input that, padded, is smaller than the (dilated) kernel.
    """
    n = len(kernel)
    stride, dilation = pair(stride, "stride", op, n), pair(dilation, "dilation", op, n)
    for name, values in (("kernel size", kernel), ("stride", stride), ("dilation", dilation)):
        if any(v <= 0 for v in values):
            raise ValueError(f"{op}: {name} must be positive, got {_fmt(values)}")
    pads = resolve_padding(padding, input_size, kernel, stride, dilation, op)
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(input_size, pads))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, extent)):
        raise ValueError(f"{op}: input of size {_fmt(input_size)} (padded {_fmt(padded)}) is smaller than the "
                         f"kernel size {_fmt(kernel)} (dilated {_fmt(extent)})")
    return _cached_windows(tuple(input_size), tuple(kernel), stride, dilation, pads)


def _fmt(values: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in values)


_cache: dict[tuple, Windows] = {}


def _cached_windows(*key: tuple) -> Windows:
    # A training loop asks for the same few geometries over and over; their offsets are computed once.
    windows = _cache.get(key)
    if windows is None:
        if len(_cache) > 256:
            _cache.clear()
        windows = _cache[key] = Windows(*key)
    return windows


_scratch: dict[tuple, list[np.ndarray]] = {}
_scratch_lock = threading.Lock()
_SCRATCH_PER_SHAPE = 4
SCRATCH_LIMIT = 512 * 2**20  # bytes kept at most: one huge evaluation batch must not stay resident
_scratch_bytes = 0


def _free_buffer(kept: list[np.ndarray]) -> np.ndarray | None:
    for buffer in kept:
        if sys.getrefcount(buffer) <= _UNUSED:
            return buffer
    return None


def _references_when_unused() -> int:
    # getrefcount, in the same pattern as _free_buffer, of an array only its keeper list holds
    # (measured, not assumed: the count differs between Python versions).
    kept = [np.empty(1)]
    for buffer in kept:
        return sys.getrefcount(buffer)
    raise AssertionError("unreachable")


_UNUSED = _references_when_unused()


def scratch(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array of `shape`, reusing a kept one that nothing else references any more.

    im2col buffers are large (kernel-size times the input) and made anew every step; a fresh one costs
    page faults that take about as long as filling it. A kept buffer is handed out again only when its
    reference count shows that the keeper alone holds it (a view holds its base, so views count too):
    data in use is never overwritten. At most a few buffers are kept per shape and SCRATCH_LIMIT bytes in
    all; `release_scratch` drops them.
    """
    return _take(shape, dtype)[0]


def _take(shape: tuple[int, ...], dtype: Any, tag: Any = None) -> tuple[np.ndarray, bool]:
    """`scratch` among the buffers kept under `tag`, and whether the buffer is new (else it holds what
    the last user under the same tag left in it)."""
    global _scratch_bytes
    key = (shape, np.dtype(dtype), tag)
    with _scratch_lock:
        kept = _scratch.setdefault(key, [])
        buffer = _free_buffer(kept)
        if buffer is not None:
            return buffer, False
        buffer = np.empty(shape, dtype)
        if len(kept) < _SCRATCH_PER_SHAPE and _scratch_bytes + buffer.nbytes <= SCRATCH_LIMIT:
            kept.append(buffer)
            _scratch_bytes += buffer.nbytes
        return buffer, True


def release_scratch() -> None:
    """Forget every kept buffer (memory returns once nothing else holds them)."""
    global _scratch_bytes
    with _scratch_lock:
        _scratch.clear()
        _scratch_bytes = 0


def batch_to_last(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Copy x (N, A, *rest) into out (A, *rest, N), the batch axis moved last; returns out.

    In two steps, through (A, N, *rest): a direct copy reads its N sources A*rest values apart, strides
    that collide in the cache (about 3x slower at 64x32x28x28); whole rest-blocks first keep them short.
    Large copies are split over A, one chunk per thread.
    """
    between = scratch((x.shape[1], x.shape[0], *x.shape[2:]), x.dtype)

    def move(start: int, stop: int) -> None:
        np.copyto(between[start:stop], x[:, start:stop].swapaxes(0, 1))
        np.copyto(out[start:stop], np.moveaxis(between[start:stop], 1, -1))

    parallel_chunks(move, x.shape[1], out.nbytes)
    return out


LAYOUTS = ("batch_first", "channel_major", "batch_last")


def unfold(x: np.ndarray, windows: Windows, fill: float = 0.0, layout: str = "channel_major") -> np.ndarray:
    """im2col: (N, C, *S) -> columns, padded positions set to `fill`, laid out as one of
        "channel_major" (C, *K, N, *O)   (C*K, N*O) is one matrix for a single GEMM
        "batch_last"    (C, *K, *O, N)   the same with each run Wo*N long: for short output rows
        "batch_first"   (N, *K, C, *O)   per-sample (K*C, O) matrices, kernel offset before channel
    Column (c, k..., n, o...) holds x[n, c] at the input position of output o under kernel offset k.
    Each kernel offset is one strided copy; its innermost run is an output row (Wo values), or Wo*N
    values in "batch_last", at the price of transposing the input once.
    The columns live in a kept buffer whose padded positions are filled once: read them, never write.
    """
    batch, channels = x.shape[:2]
    if layout == "batch_last":
        source = batch_to_last(x, scratch((channels, *x.shape[2:], batch), x.dtype))
    else:
        source = x if layout == "batch_first" else np.moveaxis(x, 1, 0)  # a view, (C, N, *S)
    # Kept per geometry: the padded positions are the same every time, so a reused buffer has them filled.
    cols, new = _take(cols_shape(layout, batch, channels, windows), x.dtype, ("unfold", windows, layout, fill))
    lead = (slice(None),) * (1 if layout == "batch_last" else 2)
    axis = _split_axis(source.shape, layout)

    def copy(start: int, stop: int) -> None:
        part = _part(source, axis, start, stop)
        for offset in windows.offsets:
            block = _part(_block(cols, offset), axis, start, stop)
            if new and not offset.every_output:
                _fill_outside(block, len(lead), offset.out_slices, windows.output_size, fill)
            block[(*lead, *offset.out_slices)] = part[(*lead, *offset.in_slices)]

    parallel_chunks(copy, source.shape[axis], cols.nbytes)
    return cols


def cols_shape(layout: str, batch: int, channels: int, windows: Windows) -> tuple[int, ...]:
    """The shape of `unfold`'s columns in `layout` (see there)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown column layout {layout!r}, expected one of {LAYOUTS}")
    return _layout_shape(layout, batch, channels, windows.kernel, windows.output_size)


def _layout_shape(layout: str, batch: int, channels: int, kernel: tuple[int, ...],
                  spatial: tuple[int, ...]) -> tuple[int, ...]:
    """(N, *K, C, *S), (C, *K, N, *S) or (C, *K, *S, N) by layout: columns, fold's partial sums, its result."""
    if layout == "batch_first":
        return (batch, *kernel, channels, *spatial)
    if layout == "channel_major":
        return (channels, *kernel, batch, *spatial)
    return (channels, *kernel, *spatial, batch)


def _block(cols: np.ndarray, offset: Offset) -> np.ndarray:
    """The columns of one kernel offset: (N, C, *O), (C, N, *O) or (C, *O, N) by layout, a view."""
    return cols[(slice(None), *offset.index)]


def _split_axis(shape: tuple[int, ...], layout: str) -> int:
    """The axis of the source/target (N, C, *S), (C, N, *S) or (C, *S, N) that `unfold` and `fold` split
    over threads: the first, unless it is too short to give each thread a part (C = 1) and the second is
    also an axis of every offset's block (not so in batch_last)."""
    return 1 if layout != "batch_last" and shape[0] < get_num_threads() and shape[1] > shape[0] else 0


def _part(array: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    """array[start:stop] along `axis` (0 or 1), a view."""
    return array[(slice(None),) * axis + (slice(start, stop),)]


def _fill_outside(block: np.ndarray, first_spatial: int, out_slices: tuple[slice, ...],
                  output_size: tuple[int, ...], fill: float) -> None:
    """Set the strips of `block` outside `out_slices` (the padded positions) to `fill`."""
    for dim, (inside, size) in enumerate(zip(out_slices, output_size)):
        lead = (slice(None),) * (first_spatial + dim)
        if inside.stop <= inside.start:
            block[lead] = fill
            return
        block[(*lead, slice(0, inside.start))] = fill
        block[(*lead, slice(inside.stop, size))] = fill


def fold(cols: np.ndarray, windows: Windows, batch: int, channels: int, layout: str = "channel_major") -> np.ndarray:
    """col2im, the adjoint of `unfold`: columns in `layout` -> (N, C, *S), overlapping windows summed.

    One strided add per kernel offset (never np.add.at); columns that fell on padding are dropped. Where the
    partial sums fit in STEPWISE_FOLD_BYTES, the offsets are added one spatial dim at a time instead (see there).
    """
    if cols.shape != cols_shape(layout, batch, channels, windows):
        raise ValueError(f"fold: columns of shape {cols.shape} do not match {layout} columns "
                         f"{cols_shape(layout, batch, channels, windows)}")
    grad = scratch((batch, channels, *windows.input_size), cols.dtype)
    if layout == "batch_last":
        target = scratch((channels, *windows.input_size, batch), cols.dtype)
    else:
        target = grad if layout == "batch_first" else np.moveaxis(grad, 1, 0)  # a view: writes land in grad
    dims = len(windows.kernel)
    # Step (first, end) adds the kernel offsets along dims first..end-1 into an array where those dims are
    # input-sized; the kernel dims after them are still apart, the spatial dims after them still output-sized.
    partial_shapes = [_layout_shape(layout, batch, channels, windows.kernel[d:], windows.input_size[:d] +
                                    windows.output_size[d:]) for d in range(1, dims)]
    if sum(int(np.prod(shape)) for shape in partial_shapes) * cols.itemsize <= STEPWISE_FOLD_BYTES:
        steps, arrays = [(d, d + 1) for d in range(dims)], [cols, *(scratch(s, cols.dtype) for s in partial_shapes)]
    else:
        steps, arrays = [(0, dims)], [cols]
    arrays.append(target)
    split = _split_axis(target.shape, layout)

    def add(start: int, stop: int) -> None:
        for (first, end), source, result in zip(steps, arrays, arrays[1:]):
            axis = split and split + dims - end  # the split axis of `result` and of `source[:, index]`
            before = (slice(None),) * (1 + dims - end + (layout != "batch_last") + first)  # the axes before `first`
            part = _part(result, axis, start, stop)
            covering, offsets = _step_offsets(windows, first, end)
            if covering is None:
                part.fill(0)
            else:  # this offset meets every input once: a copy starts the sum, saving the pass that zeroes
                np.copyto(part, _part(source[(slice(None), *covering)], axis, start, stop))
            for index, out_slices, in_slices in offsets:
                part[(*before, *in_slices)] += _part(source[(slice(None), *index)], axis, start, stop)[
                    (*before, *out_slices)]
        if layout == "batch_last":  # axis 0, C: this part's channels of grad
            np.copyto(grad[:, start:stop], np.moveaxis(target[start:stop], -1, 0))

    parallel_chunks(add, target.shape[split], grad.nbytes)
    return grad


# `fold` adds its kernel offsets one spatial dim at a time where the partial sums between the steps take at most
# this many bytes. A whole kernel offset at a time moves runs of one output row (Wo values, Wo*N in batch_last);
# the step along dim d moves runs spanning dim d and the dims after it (where its stride is 1), and only the last
# step, with kw offsets instead of kh*kw, moves single rows. NumPy adds long runs 2-3x faster per element; large
# partial sums cost more than that saves (one more pass through memory). Measured, dim by dim / whole offsets:
# batch_last 64x6x14x14 k5 0.66 (partial sums 1 MiB), 64x16x14x14 k3 0.80 (2.3 MiB); channel_major 64x1x28x28 k3
# 0.82 (0.6 MiB), 64x16x28x28 k3 1.22 (9.2 MiB), 64x32x28x28 k3 stride 2 1.36 (9.2 MiB).
STEPWISE_FOLD_BYTES = 4 * 2**20


@functools.lru_cache(maxsize=256)  # a training loop folds the same few geometries over and over
def _step_offsets(windows: Windows, first: int, end: int) -> tuple[tuple[int, ...] | None, tuple[tuple, ...]]:
    """The kernel offsets along dims first..end-1: the index of the one that reads every input position once, in
    order (the centre of a stride-1 'same' kernel), or None; and (index, output slices, input slices) of each other
    one with outputs inside the input."""
    per_dim = [windows.dim_offsets[d] for d in range(first, end)]
    covering = []
    for size, out_size, pairs in zip(windows.input_size[first:end], windows.output_size[first:end], per_dim):
        whole = slice(0, size, 1)
        covering.append(next((i for i, (_, into) in enumerate(pairs) if into == whole), None) if out_size == size
                        else None)
    covering = None if None in covering else tuple(covering)
    return covering, tuple(offset for offset in _offset_product(per_dim)
                           if offset[0] != covering and all(out.stop > out.start for out in offset[1]))
