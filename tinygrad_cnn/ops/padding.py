"""F.pad with every PyTorch mode: 'constant' (movement.Pad) and 'reflect', 'replicate', 'circular' (here).

The non-constant modes copy input values into the border, so each is a gather: per padded axis, an index map
from output positions to input positions, out = x[..., index, ...]. Its backward is the adjoint, a scatter-add
of the gradient through the same map: one `np.bincount` over flat positions per axis (`_util.scatter_add`).
For an axis of size n padded by (before, after), output position j reads input position i = j - before:
    reflect    i mirrored at the edges, not repeating them: -1 -> 1, n -> n - 2 (needs before, after < n)
    replicate  i clipped into [0, n - 1]
    circular   i modulo the axis; PyTorch first crops for negative widths, then wraps what remains
Negative widths crop, as PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, random_array, scatter_add
from .movement import Pad
from .registry import Sample, register

INDEX_MODES = ("reflect", "replicate", "circular")


def _check_widths(pad: Any) -> tuple[int, ...]:
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(pad)} widths {tuple(pad)}")
    return tuple(int(p) for p in pad)


def _axis_index(size: int, before: int, after: int, mode: str, axis: int, shape: tuple) -> np.ndarray:
    """The input position each output position along one axis reads (see the module docstring)."""
    out_size = size + before + after
    where = f"(widths {(before, after)} for dim {axis} of input shape {shape})"
    if mode == "circular":
        if before > size or after > size:
            raise ValueError(f"pad: padding value causes wrapping around more than once {where}")
        if out_size < 0:
            raise ValueError(f"pad: negative padding value is resulting in an empty dimension {where}")
        start, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)  # PyTorch crops first
        if out_size and max(before, after) > kept:
            raise ValueError(f"pad: padding value causes wrapping around more than once (the input cropped "
                             f"to size {kept} by the negative width) {where}")
        return start + (np.arange(out_size) - max(before, 0)) % max(kept, 1)
    if out_size < 1:
        raise ValueError(f"pad: input (size {size}) is too small, calculated output size {out_size} {where}")
    source = np.arange(out_size) - before
    if mode == "replicate":
        return np.clip(source, 0, size - 1)
    if before >= size or after >= size:
        raise ValueError(f"pad: padding size should be less than the corresponding input dimension in "
                         f"reflect mode {where}")
    source = np.abs(source)
    return np.where(source > size - 1, 2 * (size - 1) - source, source)


def _index_pad_samples(rng: np.random.Generator):
    def case(shape, pad, mode, note):
        return Sample((random_array(rng, *shape),), {"pad": pad, "mode": mode}, note=note)

    for mode in INDEX_MODES:
        yield case((2, 3, 5), (2, 3), mode, f"{mode} 1d, batched")
        yield case((3, 4), (3, 1), mode, f"{mode} 1d, unbatched")
        yield case((2, 2, 4, 5), (1, 2, 3, 0), mode, f"{mode} 2d")
        yield case((2, 3, 4), (2, 2, 1, 1), mode, f"{mode} 2d, unbatched")
        yield case((1, 2, 3, 3, 4), (1, 0, 2, 2, 0, 1), mode, f"{mode} 3d")
        yield case((2, 3, 4, 3), (1, 1, 2, 1, 1, 0), mode, f"{mode} 3d, unbatched")
        yield case((2, 2, 5), (-1, 2), mode, f"{mode} 1d, a negative width crops")
    yield case((1, 1, 4, 6), (5, 5, 2, 3), "reflect", "reflect widths up to size - 1")
    yield case((1, 2, 3), (3, 3), "circular", "circular widths equal to the size")
    yield case((1, 2, 3), (4, 0), "replicate", "replicate widths beyond the size")


@register("index_pad", samples=_index_pad_samples)
class IndexPad(Function):
    """Reflect, replicate or circular padding, PyTorch's order of widths: x (*, S) -> (*, S padded)."""

    @staticmethod
    def forward(ctx, x, pad, mode="reflect"):
        pad = _check_widths(pad)
        if mode not in INDEX_MODES:
            raise ValueError(f"pad: mode must be one of {INDEX_MODES} here, got {mode!r}")
        dims = len(pad) // 2
        if dims not in (1, 2, 3) or x.ndim not in (dims + 1, dims + 2):
            raise NotImplementedError(
                f"pad: padding size {len(pad)} is not supported for {x.ndim}D input (shape {x.shape}) in "
                f"{mode} mode; non-constant padding takes 2 widths for 2D or 3D input, 4 for 3D or 4D, "
                f"6 for 4D or 5D (it pads the last 1, 2 or 3 dims)")
        # The batch dim (of a batched input) may be empty; reflect and replicate need every other dim non-empty.
        if mode != "circular" and 0 in x.shape[x.ndim - dims - 1:]:
            raise ValueError(f"pad: {mode} mode expects non-empty dims except a batch dim, got input shape {x.shape}")
        first = x.ndim - dims
        ctx.axis_index = [(axis, _axis_index(x.shape[axis], pad[2 * i], pad[2 * i + 1], mode, axis, x.shape))
                          for i, axis in enumerate(range(x.ndim - 1, first - 1, -1))]
        ctx.input_shape = x.shape
        out = x
        for axis, index in ctx.axis_index:
            out = np.take(out, index, axis=axis)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        grad = grad_output
        for axis, index in reversed(ctx.axis_index):
            grad = _scatter_along(grad, axis, index, ctx.input_shape[axis])
        return grad


def _scatter_along(grad: np.ndarray, axis: int, index: np.ndarray, size: int) -> np.ndarray:
    """The adjoint of np.take(x, index, axis): grad summed onto the input positions it was read from."""
    moved = np.moveaxis(grad, axis, -1)  # (rest..., out)
    rows = np.arange(int(np.prod(moved.shape[:-1]))).reshape(*moved.shape[:-1], 1)
    summed = scatter_add((*moved.shape[:-1], size), rows * size + index, moved)
    return np.moveaxis(summed, -1, axis)


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """F.pad: widths in PyTorch's order (last dim first: left, right, top, bottom, front, back).

    mode 'constant' fills with `value` (default 0) on any dims; 'reflect', 'replicate' and 'circular' pad the
    last 1, 2 or 3 dims of a (batched or unbatched) input and take no value. Negative widths crop.
    """
    expect_tensor("pad", "input", input)
    if not isinstance(mode, str):
        raise TypeError(f"pad: mode must be a string ('constant', 'reflect', 'replicate' or 'circular'), got "
                        f"{mode!r}; the fill value goes in value=")
    if mode == "constant":
        return Pad.apply(input, pad=tuple(_check_widths(pad)), value=0.0 if value is None else value)
    if mode not in INDEX_MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}, expected 'constant', 'reflect', "
                                  f"'replicate' or 'circular'")
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument, got value={value!r}")
    return IndexPad.apply(input, pad=_check_widths(pad), mode=mode)
