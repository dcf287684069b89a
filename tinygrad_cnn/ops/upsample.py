"""Resizing (F.interpolate, nn.Upsample): nearest, nearest-exact, linear, bilinear and trilinear, as PyTorch.

Every mode is separable: resizing an axis from n to m positions is a linear map (m, n) whose row j takes one
input (nearest) or two (linear) per output, `taps` below: out[j] = sum_t weight_t[j] * x[index_t[j]]. The
forward applies each axis's map in turn (a gather, `np.take`); the backward applies the transposed maps in
reverse order: each tap's gradient is added back onto its source positions. The indices never decrease along
an axis, so that scatter-add is one `np.add.reduceat` over runs of equal index (no np.add.at, no loop).
Source positions follow PyTorch's CPU kernels to the rounding: see `_taps`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, random_array
from .registry import Sample, register

# Mode -> the numbers of spatial dims it takes (PyTorch: linear 3-D input, bilinear 4-D, trilinear 5-D).
MODES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,), "trilinear": (3,)}
_LINEAR_NAMES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def resolve(input_shape: tuple[int, ...], size: Any, scale_factor: Any, mode: str, align_corners: bool | None,
            recompute_scale_factor: bool | None) -> tuple[tuple[int, ...], tuple[float | None, ...], bool]:
    """PyTorch's argument rules: (output size, the scale per axis handed to the kernel or None, align_corners).

    Raises as PyTorch does: ValueError for size and scale_factor both or neither given, lengths that do not
    match the spatial dims, align_corners with a nearest mode, a non-positive output size; NotImplementedError
    for a mode that does not fit the input's dims.
    """
    if not isinstance(mode, str) or mode not in MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported, expected one of {tuple(MODES)}")
    if mode.startswith("nearest"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                             f"linear | bilinear | trilinear (got mode={mode!r}, align_corners={align_corners!r})")
        align_corners = False
    elif align_corners is None:
        align_corners = False
    elif not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"interpolate: align_corners must be a bool or None, got {align_corners!r}")
    spatial = len(input_shape) - 2
    if spatial not in (1, 2, 3):
        raise NotImplementedError(f"interpolate: only 3-D, 4-D and 5-D inputs (N, C, *spatial) are supported, got "
                                  f"{len(input_shape)}-D input of shape {input_shape} (mode {mode!r})")
    if spatial not in MODES[mode]:
        needs = MODES[mode][0] + 2
        raise NotImplementedError(f"interpolate: got {spatial + 2}D input, but {mode} mode needs {needs}D input "
                                  f"(shape {input_shape})")
    in_size = tuple(input_shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined, got "
                         f"size={size!r} and scale_factor={scale_factor!r}")
    scales: tuple[float | None, ...]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * spatial
        if len(sizes) != spatial:
            raise ValueError(f"interpolate: input and output must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {list(in_size)} and output size of {size!r}")
        if not all(_is_int(s) for s in sizes):
            raise TypeError(f"interpolate: size must be an int or a tuple of {spatial} ints, got {size!r}")
        out_size, scales = tuple(int(s) for s in sizes), (None,) * spatial
    elif scale_factor is not None:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * spatial
        if len(factors) != spatial:
            raise ValueError(f"interpolate: input and scale_factor must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {list(in_size)} and scale_factor of "
                             f"{scale_factor!r}")
        if not all(isinstance(f, (int, float, np.integer, np.floating)) and not isinstance(f, bool) for f in factors):
            raise TypeError(f"interpolate: scale_factor must be a number or a tuple of {spatial} numbers, "
                            f"got {scale_factor!r}")
        if not all(math.isfinite(f) for f in factors):
            raise ValueError(f"interpolate: scale_factor must be finite, got {scale_factor!r}")
        out_size = tuple(math.floor(n * float(f)) for n, f in zip(in_size, factors))
        # With recompute_scale_factor the kernel derives its scale from the sizes (in/out), as PyTorch.
        scales = (None,) * spatial if recompute_scale_factor else tuple(float(f) for f in factors)
    else:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if min(in_size) < 1 or min(out_size) < 1:
        raise ValueError(f"interpolate: input and output sizes should be greater than 0, but got input size "
                         f"{in_size} and output size {out_size}")
    return out_size, scales, bool(align_corners)


def _step(scale: float | None, in_size: int, out_size: int, dtype: np.dtype) -> np.floating:
    """Input positions per output position, in `dtype`: 1/scale_factor where one was given, else in/out
    (PyTorch's compute_scales_value)."""
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(in_size) / dtype.type(out_size)


def _taps(in_size: int, out_size: int, scale: float | None, mode: str, align_corners: bool,
          dtype: np.dtype) -> list[tuple[np.ndarray, np.ndarray | None]] | None:
    """One axis's resize as (index, weight) pairs, out[j] = sum weight[j] * x[index[j]] (weight None: 1);
    None where the axis stays as it is.

    Rounding as PyTorch's CPU kernels: nearest takes floor(j * s) with s = 1/scale_factor (or in/out) in float32,
    nearest-exact floor((j + 0.5) * s), even where the size stays (scale_factor 1.3 on 3 positions gives 3 that
    are not the input); linear copies an axis that keeps its size, else computes its source coordinate in the
    input's dtype, clamps it at 0 (align_corners=False), and floors it through float32 as they do.
    """
    if out_size == in_size and (scale is None or not mode.startswith("nearest")):
        return None
    dst = np.arange(out_size)
    if mode.startswith("nearest"):
        step = _step(scale, in_size, out_size, np.dtype(np.float32))
        if mode == "nearest":
            index = np.floor(dst.astype(np.float32) * step)
        else:  # the product is a double in PyTorch, rounded to float32 by floorf
            index = np.floor(((dst + 0.5) * np.float64(step)).astype(np.float32))
        return [(np.minimum(index.astype(np.int64), in_size - 1), None)]
    if align_corners:
        step = dtype.type(in_size - 1) / dtype.type(out_size - 1) if out_size > 1 else dtype.type(0)
        source = step * dst.astype(dtype)
    else:
        step = _step(scale, in_size, out_size, dtype)
        source = np.maximum(step * (dst.astype(dtype) + dtype.type(0.5)) - dtype.type(0.5), 0)
    low = np.minimum(np.floor(source.astype(np.float32)).astype(np.int64), in_size - 1)
    high_weight = np.clip(source - low.astype(dtype), 0, 1)
    high = low + (low < in_size - 1)
    return [(low, (1 - high_weight).astype(dtype)), (high, high_weight)]


def _along(weight: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A per-position weight shaped to broadcast along `axis` of an ndim array."""
    return weight.reshape((-1,) + (1,) * (ndim - 1 - axis))


def _gather(x: np.ndarray, axis: int, taps: list) -> np.ndarray:
    """out[..., j, ...] = sum_t weight_t[j] * x[..., index_t[j], ...] along `axis`."""
    out = None
    for index, weight in taps:
        term = x[(slice(None),) * axis + (index,)]  # faster than np.take along the last axis
        if weight is not None:
            term *= _along(weight, axis, x.ndim)
        out = term if out is None else np.add(out, term, out=out)
    return out  # type: ignore[return-value]  # an array: taps is never empty


def _scatter(grad: np.ndarray, axis: int, taps: list, in_size: int) -> np.ndarray:
    """The adjoint of `_gather`: each tap's grad * weight added onto its (non-decreasing) source indices."""
    result = None
    for index, weight in taps:
        values = grad if weight is None else grad * _along(weight, axis, grad.ndim)
        starts = np.flatnonzero(np.diff(index, prepend=-1))  # where each run of one source index begins
        sums = np.add.reduceat(values, starts, axis=axis)  # one per source position that is read, in order
        if result is None and starts.size == in_size:  # every input position is read: no zeros to add onto
            result = sums
            continue
        if result is None:
            result = np.zeros(grad.shape[:axis] + (in_size,) + grad.shape[axis + 1:], grad.dtype)
        sources = index[starts]
        if sources[-1] - sources[0] + 1 == sources.size:  # a run of positions: a slice adds without a gather
            sources = slice(sources[0], sources[-1] + 1)
        result[(slice(None),) * axis + (sources,)] += sums
    return result  # type: ignore[return-value]  # an array: taps is never empty


def _interpolate_samples(rng: np.random.Generator):
    def case(shape, note, **attrs):
        return Sample((random_array(rng, *shape),), attrs, note=note)

    yield case((2, 3, 4), "nearest 1d, scale 2", scale_factor=2)
    yield case((1, 2, 3), "nearest 1d, size 7", size=7)
    yield case((1, 2, 7), "nearest 1d, downsampling size 3", size=3)
    yield case((1, 2, 3), "nearest 1d, scale 1.3: the size stays, the positions move", scale_factor=1.3)
    yield case((2, 2, 3, 4), "nearest 2d, scale (1.5, 2.3)", scale_factor=(1.5, 2.3))
    yield case((1, 2, 5, 3), "nearest 2d, scale 1.7 recomputed", scale_factor=1.7, recompute_scale_factor=True)
    yield case((1, 2, 2, 3, 2), "nearest 3d, size (3, 5, 4)", size=(3, 5, 4))
    yield case((1, 2, 4, 3), "nearest-exact 2d, scale 1.6", mode="nearest-exact", scale_factor=1.6)
    yield case((1, 2, 5, 2, 3), "nearest-exact 3d, size (3, 3, 5)", mode="nearest-exact", size=(3, 3, 5))
    for align in (False, True):
        yield case((2, 2, 5), f"linear, align_corners {align}, size 9", mode="linear", size=9, align_corners=align)
        yield case((2, 2, 3, 4), f"bilinear, align_corners {align}, scale 2", mode="bilinear", scale_factor=2,
                   align_corners=align)
        yield case((1, 2, 6, 5), f"bilinear, align_corners {align}, downsampling size (4, 3)", mode="bilinear",
                   size=(4, 3), align_corners=align)
        yield case((1, 1, 2, 3, 2), f"trilinear, align_corners {align}, scale (1.5, 1, 2.5)", mode="trilinear",
                   scale_factor=(1.5, 1, 2.5), align_corners=align)
    yield case((1, 2, 4, 3), "bilinear, size (1, 5): one output row", mode="bilinear", size=(1, 5),
               align_corners=True)
    yield case((1, 2, 3, 5), "bilinear, scale 1.4 recomputed", mode="bilinear", scale_factor=1.4,
               recompute_scale_factor=True)


@register("interpolate", samples=_interpolate_samples)
class Interpolate(Function):
    """Resize the spatial dims: x (N, C, *S) -> (N, C, *S_out), by `size` or `scale_factor`, as F.interpolate."""

    @staticmethod
    def forward(ctx, x, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        out_size, scales, align = resolve(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor)
        if x.dtype.kind != "f":
            raise TypeError(f"interpolate: expected a float input, got {x.dtype}")
        ctx.input_shape = x.shape
        axis_taps = [(axis, _taps(n, m, s, mode, align, x.dtype)) for axis, n, m, s in
                     zip(range(2, x.ndim), x.shape[2:], out_size, scales)]
        ctx.axis_taps = [(axis, taps) for axis, taps in axis_taps if taps is not None]
        out = x
        for axis, taps in ctx.axis_taps:
            out = _gather(out, axis, taps)
        return out if out is not x else x.copy()

    @staticmethod
    def backward(ctx, grad_output):
        grad = grad_output
        for axis, taps in reversed(ctx.axis_taps):
            grad = _scatter(grad, axis, taps, ctx.input_shape[axis])
        return grad


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to `size` (int or one per spatial dim) or by
    `scale_factor` (output floor(in * scale)); modes 'nearest', 'nearest-exact', 'linear' (3-D input),
    'bilinear' (4-D), 'trilinear' (5-D), with `align_corners` for the linear ones. Values as PyTorch's."""
    expect_tensor("interpolate", "input", input)
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    return Interpolate.apply(input, size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners,
                             recompute_scale_factor=recompute_scale_factor)
