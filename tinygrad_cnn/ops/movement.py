"""Movement: reshape, permute, expand, indexing, cat, stack, pad — ops that move values, not change them."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import normalize_dim, normalize_dims, random_array, result_type, scatter_add, unbroadcast
from .registry import Sample, register


def resolve_shape(input_shape: tuple[int, ...], shape: tuple) -> tuple[int, ...]:
    """`reshape(2, -1)` or `reshape((2, -1))` as a full shape, or a ValueError naming both shapes."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    size = int(np.prod(input_shape))
    unknown = [i for i, n in enumerate(shape) if n == -1]
    known = int(np.prod([n for n in shape if n != -1]))
    bad = len(unknown) > 1 or any((not isinstance(n, (int, np.integer))) or n < -1 for n in shape)
    if not bad and unknown:
        bad = known == 0 or size % known != 0
        if not bad:
            shape = tuple(size // known if n == -1 else int(n) for n in shape)
    if bad or int(np.prod(shape)) != size:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {input_shape} ({size} elements) into {shape}")
    return tuple(int(n) for n in shape)


@register("reshape", samples=lambda rng: [
    Sample((random_array(rng, 2, 3, 4),), {"shape": (6, 4)}),
    Sample((random_array(rng, 2, 3),), {"shape": (3, 1, 2)}),
    Sample((random_array(rng, 5),), {"shape": (5, 1)}),
])
class Reshape(Function):
    """The same elements in a new shape (a view where NumPy can make one)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.input_shape)


@register("permute", samples=lambda rng: [
    Sample((random_array(rng, 2, 3, 4),), {"dims": (2, 0, 1)}),
    Sample((random_array(rng, 3, 4),), {"dims": (1, 0)}),
])
class Permute(Function):
    """Axes reordered: output axis i is input axis dims[i]."""

    @staticmethod
    def forward(ctx, x, dims):
        axes = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of the {x.ndim} axes of {x.shape}")
        ctx.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.transpose(ctx.inverse)


@register("expand", samples=lambda rng: [
    Sample((random_array(rng, 3, 1),), {"shape": (3, 4)}),
    Sample((random_array(rng, 4),), {"shape": (2, -1)}, note="-1 keeps an axis"),
])
class Expand(Function):
    """Size-1 axes repeated (without copying) to `shape`; -1 keeps an axis, new axes go in front."""

    @staticmethod
    def forward(ctx, x, shape):
        lead = len(shape) - x.ndim
        if lead < 0:
            raise ValueError(f"expand: shape {shape} has fewer dims than the tensor's {x.shape}")
        target = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
        try:
            out = np.broadcast_to(x, target)
        except ValueError as error:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {tuple(shape)}") from error
        ctx.input_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return unbroadcast(grad_output, ctx.input_shape)


def _is_advanced(index: Any) -> bool:
    """Whether an index holds an integer array, where positions can repeat and must add up in backward."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def _is_int(part: Any) -> bool:
    """An index part that PyTorch applies as basic indexing: an integer, or a 0-d integer array (tensor)."""
    if isinstance(part, (bool, np.bool_)):
        return False
    return isinstance(part, (int, np.integer)) or (
        isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu")


def _dims_taken(part: Any) -> int:
    """How many of the input's dims an index part consumes (an Ellipsis counted apart)."""
    if part is None or part is Ellipsis or isinstance(part, (bool, np.bool_)):
        return 0
    if isinstance(part, np.ndarray) and part.dtype.kind == "b":
        return part.ndim
    return 1


def torch_index(index: Any, ndim: int) -> tuple:
    """PyTorch's indexing of an `ndim`-d array as NumPy steps: `(index,)` where NumPy agrees, else
    `(ints, rest)`, a basic index of the integers alone (a view) and then the rest of the index.

    PyTorch applies integers as basic indexing, each removing its dim, before the advanced parts (integer
    or bool arrays); NumPy counts integers as advanced as soon as an array is present, which can move the
    result's dims to the front: for x of shape (2, 3, 4), x[0, :, [1, 2]] has shape (3, 2) in PyTorch
    and (2, 3) in NumPy.
    """
    parts = index if isinstance(index, tuple) else (index,)
    has_array = any(isinstance(p, (np.ndarray, bool, np.bool_)) and not _is_int(p) for p in parts)
    if not has_array or not any(_is_int(p) for p in parts) or sum(p is Ellipsis for p in parts) > 1:
        return (index,)
    taken = [_dims_taken(p) for p in parts]
    if sum(taken) > ndim:  # NumPy says "too many indices"
        return (index,)
    ints: list[slice | int]
    ints, dim = [slice(None)] * ndim, 0
    for part, count in zip(parts, taken):
        if part is Ellipsis:
            dim += ndim - sum(taken)
        elif _is_int(part):
            ints[dim] = int(part)
        dim += count
    # The Ellipsis keeps the first step a view even when the ints take every dim (backward writes through it).
    return (*ints, Ellipsis), tuple(p for p in parts if not _is_int(p))


def _getitem_samples(rng):
    x = random_array(rng, 4, 5)
    yield Sample((x,), {"index": (slice(1, 3), slice(None, None, 2))}, note="slices with a step")
    yield Sample((x,), {"index": 2}, note="an int")
    yield Sample((x,), {"index": (Ellipsis, -1)}, note="ellipsis and a negative int")
    yield Sample((x,), {"index": (np.array([0, 2, 2, 3]),)}, note="integer array with a repeat")
    yield Sample((x,), {"index": (np.array([1, 1]), np.array([0, 4]))}, note="paired integer arrays")
    yield Sample((x,), {"index": x > 0}, note="bool mask")
    yield Sample((x,), {"index": (None, slice(None), 1)}, note="new axis")
    cube = random_array(rng, 2, 3, 4)
    yield Sample((cube,), {"index": (0, slice(None), np.array([2, 2]))},
                 note="int, slice, repeated integer array: PyTorch's shape (3, 2), not NumPy's (2, 3)")
    yield Sample((cube,), {"index": (np.array([1, 0, 1]), slice(None), -1)}, note="integer array, slice, int")
    yield Sample((cube,), {"index": (1, np.array([True, False, True]), None)}, note="int, bool array, new axis")


@register("getitem", samples=_getitem_samples)
class GetItem(Function):
    """x[index] for slices, ints, None, Ellipsis, integer and bool arrays, with PyTorch's result shape (see
    `torch_index`); repeated picks add up in backward."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        ctx.steps = torch_index(index, x.ndim)
        try:
            out = x
            for step in ctx.steps:
                out = out[step]
            return out
        except IndexError as error:
            raise IndexError(f"index {index!r} is out of range for a tensor of shape {x.shape}: {error}") from error

    @staticmethod
    def backward(ctx, grad_output):
        if _is_advanced(ctx.index):
            # The flat input position of each output element, gathered as forward gathers the values.
            positions = np.arange(int(np.prod(ctx.input_shape))).reshape(ctx.input_shape)
            for step in ctx.steps:
                positions = positions[step]
            return scatter_add(ctx.input_shape, positions, grad_output)
        grad = np.zeros(ctx.input_shape, dtype=grad_output.dtype)
        view = grad if len(ctx.steps) == 1 else grad[ctx.steps[0]]  # the ints' basic index: a view
        view[ctx.steps[-1]] = grad_output
        return grad


def _join_samples(rng):
    yield Sample((random_array(rng, 2, 3), random_array(rng, 4, 3)), {"dim": 0})
    yield Sample((random_array(rng, 2, 1), random_array(rng, 2, 3), random_array(rng, 2, 2)), {"dim": -1})


def _check_join(arrays: tuple, dim: int, op: str, same_shape: bool) -> int:
    if not arrays:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    first = arrays[0]
    ndim = first.ndim + (1 if same_shape else 0)
    axis = normalize_dim(dim, ndim, op)
    for i, a in enumerate(arrays):
        shape_ok = a.shape == first.shape if same_shape else (
            a.ndim == first.ndim and all(n == m for j, (n, m) in enumerate(zip(a.shape, first.shape)) if j != axis))
        if not shape_ok:
            raise ValueError(f"{op}: tensor {i} has shape {a.shape}, which does not fit tensor 0's {first.shape} "
                             f"along dim {dim}")
    return axis


@register("cat", samples=_join_samples)
class Cat(Function):
    """Tensors joined along an existing dim."""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        arrays = tuple(np.asarray(a) for a in arrays)
        axis = _check_join(arrays, dim, "cat", same_shape=False)
        ctx.axis, ctx.splits = axis, np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis, dtype=result_type("cat", *arrays))  # float32 with int: float32

    @staticmethod
    def backward(ctx, grad_output):
        return tuple(np.split(grad_output, ctx.splits, axis=ctx.axis))


@register("stack", samples=lambda rng: [
    Sample((random_array(rng, 2, 3), random_array(rng, 2, 3)), {"dim": 0}),
    Sample((random_array(rng, 4), random_array(rng, 4), random_array(rng, 4)), {"dim": -1}),
])
class Stack(Function):
    """Tensors of one shape joined along a new dim."""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        arrays = tuple(np.asarray(a) for a in arrays)
        ctx.axis = _check_join(arrays, dim, "stack", same_shape=True)
        return np.stack(arrays, axis=ctx.axis, dtype=result_type("stack", *arrays))

    @staticmethod
    def backward(ctx, grad_output):
        return tuple(np.moveaxis(grad_output, ctx.axis, 0))


def _pad_widths(shape: tuple, pad: tuple) -> list[tuple[int, int]]:
    """PyTorch's pad order (last dim first: left, right, top, bottom, ...) as NumPy's per-axis pairs."""
    if len(pad) % 2 or len(pad) // 2 > len(shape):
        raise ValueError(f"pad: {pad} must hold an even number of widths, two per dim, for at most "
                         f"{len(shape)} dims (shape {shape})")
    widths = [(0, 0)] * len(shape)
    for i in range(len(pad) // 2):
        widths[len(shape) - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return widths


@register("pad", samples=lambda rng: [
    Sample((random_array(rng, 2, 3, 4),), {"pad": (1, 2)}),
    Sample((random_array(rng, 2, 3, 4),), {"pad": (0, 1, 2, 0), "value": 1.5}),
    Sample((random_array(rng, 3, 5),), {"pad": (-1, 2, 1, -1)}, note="negative widths crop"),
])
class Pad(Function):
    """Constant padding with PyTorch's order of widths; a negative width crops."""

    @staticmethod
    def forward(ctx, x, pad, value=0.0):
        widths = _pad_widths(x.shape, tuple(pad))
        for axis, (before, after) in enumerate(widths):
            if x.shape[axis] + before + after < 0:
                raise ValueError(f"pad: widths {(before, after)} would leave dim {axis} of {x.shape} empty")
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape))
        grow = [(max(b, 0), max(a, 0)) for b, a in widths]
        ctx.input_shape, ctx.crop = x.shape, crop
        ctx.inner = tuple(slice(b, b + (s.stop - s.start)) for (b, _), s in zip(grow, crop))
        return np.pad(x[crop], grow, constant_values=value)

    @staticmethod
    def backward(ctx, grad_output):
        inner = grad_output[ctx.inner]
        if inner.shape == ctx.input_shape:
            return inner
        grad = np.zeros(ctx.input_shape, dtype=grad_output.dtype)
        grad[ctx.crop] = inner
        return grad


@register("clone", samples=lambda rng: [Sample((random_array(rng, 3, 2),))])
class Clone(Function):
    """A copy that does not share memory with its input."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


# ----- shape helpers that are compositions of the ops above ------------------------------------
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    start, end = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if x.ndim == 0:
        return x.reshape(1)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])


def unflatten(x: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dim `dim` into `sizes` (ints, one of them may be -1): (*, S, *) -> (*, *sizes, *) with prod = S."""
    if not isinstance(sizes, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes):
        raise TypeError(f"unflatten: sizes must be a tuple or list of ints, got {sizes!r}")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if x.ndim == 0:
        raise IndexError(f"unflatten: dim {dim} is out of range for a 0-d tensor")
    axis = normalize_dim(dim, x.ndim, "unflatten")
    length = x.shape[axis]
    unknown = [n for n in sizes if n == -1]
    known = int(np.prod([n for n in sizes if n != -1]))
    if len(unknown) > 1 or any(n < -1 for n in sizes) or (unknown and known == 0) or (
            not unknown and known != length) or (unknown and length % known):
        raise RuntimeError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim {dim} ({length}) "
                           f"of the input of shape {x.shape} (at most one -1, no other negative size)")
    split = tuple(length // known if n == -1 else int(n) for n in sizes)
    return x.reshape(x.shape[:axis] + split + x.shape[axis + 1:])


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    a, b = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    axes = list(range(x.ndim))
    if x.ndim:  # a 0-d tensor takes dims 0 and -1 and stays as it is, as in PyTorch
        axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(x, dims=tuple(axes))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    axis = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(x: Tensor, dim: int | tuple | None = None) -> Tensor:
    """Drop size-1 axes (all, or those of dim that have size 1, as PyTorch)."""
    if dim is None:
        axes = {i for i, n in enumerate(x.shape) if n == 1}
    elif isinstance(dim, (tuple, list)) and not dim:  # unlike a reduction, squeeze(()) names no dim
        axes = set()
    else:
        axes = {a for a in normalize_dims(dim, x.ndim, "squeeze") if x.shape[a] == 1}
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def pad(x: Tensor, pad: Any, value: float = 0.0) -> Tensor:
    """F.pad(x, pad, value): constant padding, widths in PyTorch's order (last dim first)."""
    return Pad.apply(x, pad=tuple(pad), value=value)
