"""Sliding windows over the spatial dims of (N, C, *spatial) arrays, for any number of spatial dims.

One description of a windowed op (`Windows`: kernel, stride, dilation, padding, output size), checked once by
`make_windows`, and, per kernel offset, the output positions whose input position lies inside the input
(`Windows.offsets`): pooling walks those offsets without materialising the padding; conv's im2col reads them from
a padded copy.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any, NamedTuple

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

    index: tuple[int, ...]  # type: ignore[assignment]  # the kernel position (shadows tuple.index, unused here)
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
