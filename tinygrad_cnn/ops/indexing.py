"""Indexing and rearranging: flip, roll, repeat, gather, index_select, scatter(_add), masked_fill, tril/triu, and
the splits (split, chunk, unbind: views through GetItem) and repeat_interleave (an index_select).

Each op copies (as PyTorch's do), so a change in place to its result never reaches the input. The gathers
(gather, index_select) send their gradient back with `_scatter_positions`: the flat input position of each
output element is gathered exactly as the values are, then the gradient is added up at those positions; the
scatters find where they write the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import normalize_dim, random_array, scatter_add, shape_of, unbroadcast
from .registry import Sample, register


def _scatter_positions(input_shape: tuple[int, ...], pick: Callable[[np.ndarray], np.ndarray],
                       grad_output: np.ndarray) -> np.ndarray:
    """The gradient of `pick` (a gather of an array of `input_shape`): grad_output added up where each
    output element came from; repeated picks add up."""
    positions = pick(np.arange(int(np.prod(input_shape))).reshape(input_shape))
    return scatter_add(input_shape, positions, grad_output)


def _int_sequence(value: Any, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple, or a TypeError naming `name`."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a sequence of ints, got {value!r}")
    return tuple(int(v) for v in values)


def _index_array(op: str, index: np.ndarray) -> np.ndarray:
    """`index` checked to hold integers (PyTorch takes int32 and int64), as int64."""
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32 or int64 for index, got {index.dtype}")
    return index.astype(np.int64, copy=False)


def _check_range(op: str, index: np.ndarray, size: int, axis: int) -> None:
    """A RuntimeError naming the first index outside [0, size); PyTorch's gathers take no negative index."""
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError(f"{op}(): index {int(index[bad].flat[0])} is out of bounds for dimension {axis} "
                           f"with size {size}")


# ----- flip, roll, repeat --------------------------------------------------------------------------
@register("flip", samples=lambda rng: [
    Sample((random_array(rng, 2, 3, 4),), {"dims": (0, 2)}),
    Sample((random_array(rng, 3, 4),), {"dims": (-1,)}),
])
class Flip(Function):
    """The order of the elements reversed along each of `dims` (a copy, as PyTorch's)."""

    @staticmethod
    def forward(ctx, x, dims):
        axes = tuple(normalize_dim(d, x.ndim, "flip") for d in _int_sequence(dims, "dims", "flip"))
        if len(set(axes)) != len(axes):
            repeated = next(a for a in axes if axes.count(a) > 1)
            raise RuntimeError(f"flip: dim {repeated} appears multiple times in the list of dims {tuple(dims)}")
        ctx.axes = axes if x.ndim else ()
        return np.flip(x, ctx.axes).copy()

    @staticmethod
    def backward(ctx, grad_output):
        return np.flip(grad_output, ctx.axes)


def _roll_axes(shape: tuple[int, ...], shifts: Any, dims: Any) -> tuple[tuple[int, ...], Any]:
    """PyTorch's roll arguments as NumPy's (shifts, axis): one shift per dim, or one shift of the flattened
    tensor where dims is None."""
    shift = _int_sequence(shifts, "shifts", "roll")
    if not shift:
        raise RuntimeError("roll: `shifts` required")
    if dims is None:
        if len(shift) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shift)}, dims:0")
        return shift, None
    dim = _int_sequence(dims, "dims", "roll")
    if not shape:
        raise IndexError(f"roll: dims {dims} name a dim, but a 0-d tensor has none")
    if len(shift) != len(dim):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shift)}, dims:{len(dim)}")
    return shift, tuple(normalize_dim(d, len(shape), "roll") for d in dim)


@register("roll", samples=lambda rng: [
    Sample((random_array(rng, 3, 4),), {"shifts": (1, -3), "dims": (0, 1)}),
    Sample((random_array(rng, 3, 4),), {"shifts": 5}, note="no dims: the flattened tensor rolls"),
    Sample((random_array(rng, 2, 5),), {"shifts": (2, 1), "dims": (1, 1)}, note="one dim twice"),
])
class Roll(Function):
    """Elements shifted along dims (the flattened tensor without dims); those that go past the end come back
    at the start."""

    @staticmethod
    def forward(ctx, x, shifts, dims=None):
        ctx.shifts, ctx.axes = _roll_axes(x.shape, shifts, dims)
        if ctx.axes is None:
            return np.roll(x, ctx.shifts[0])
        return np.roll(x, ctx.shifts, ctx.axes)

    @staticmethod
    def backward(ctx, grad_output):
        back = tuple(-s for s in ctx.shifts)
        return np.roll(grad_output, back[0]) if ctx.axes is None else np.roll(grad_output, back, ctx.axes)


@register("repeat", samples=lambda rng: [
    Sample((random_array(rng, 2, 3),), {"sizes": (2, 3)}),
    Sample((random_array(rng, 3),), {"sizes": (2, 1, 2)}, note="more sizes than dims: new dims in front"),
])
class Repeat(Function):
    """The whole tensor tiled: (n0, n1) with sizes (s0, s1) -> (s0 * n0, s1 * n1); extra sizes add dims in front."""

    @staticmethod
    def forward(ctx, x, sizes):
        sizes = _int_sequence(sizes, "sizes", "repeat")
        if len(sizes) < x.ndim:
            raise RuntimeError(f"repeat: Number of dimensions of repeat dims ({len(sizes)}, {sizes}) can not be "
                               f"smaller than number of dimensions of tensor ({x.ndim}, shape {x.shape})")
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"repeat: sizes {sizes} must not be negative")
        ctx.input_shape = x.shape
        ctx.padded_shape = (1,) * (len(sizes) - x.ndim) + x.shape
        ctx.sizes = sizes
        return np.tile(x.reshape(ctx.padded_shape), sizes)

    @staticmethod
    def backward(ctx, grad_output):
        # Output dim i is (sizes[i] copies) x (padded_shape[i] elements): split it so and sum the copies.
        split = tuple(n for pair in zip(ctx.sizes, ctx.padded_shape) for n in pair)
        copies = tuple(range(0, 2 * len(ctx.sizes), 2))
        return grad_output.reshape(split).sum(axis=copies).reshape(ctx.input_shape)


# ----- gathers -------------------------------------------------------------------------------------
def _gather_pick(x_shape: tuple[int, ...], axis: int, index: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """`out[i][j][k] = a[i][index[i][j][k]][k]` (axis 1), on the part of `a` that index covers."""
    covered = tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))
    return lambda array: np.take_along_axis(array.reshape(x_shape)[covered], index, axis)


def _gather_samples(rng):
    x = random_array(rng, 3, 4)
    yield Sample((x,), {"dim": 1, "index": np.array([[0, 3, 3], [1, 1, 0], [2, 0, 1]])}, note="repeated picks")
    yield Sample((x,), {"dim": 0, "index": np.array([[2, 0, 1, 1]])}, note="index smaller than x")
    yield Sample((random_array(rng, 2, 3, 2),), {"dim": -1, "index": np.array([[[1], [0], [1]]])})


@register("gather", samples=_gather_samples)
class Gather(Function):
    """Values picked along `dim` by an integer `index` of x's number of dims (out has index's shape):
    `out[i][j] = x[i][index[i][j]]` for dim 1."""

    @staticmethod
    def forward(ctx, x, dim, index):
        axis = normalize_dim(dim, x.ndim, "gather")
        index = _index_array("gather", np.asarray(index))
        work_shape = x.shape if x.ndim else (1,)  # a 0-d x is one element along dim 0, as in PyTorch
        work_index = index if x.ndim else index.reshape(-1)
        if work_index.ndim != len(work_shape):
            raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as input tensor "
                               f"(index shape {index.shape}, input shape {x.shape})")
        for d, (n, m) in enumerate(zip(work_index.shape, work_shape)):
            if d != axis and n > m:
                raise RuntimeError(f"gather(): Size does not match at dimension {d}: expected index {index.shape} "
                                   f"to be no larger than self {x.shape} apart from dimension {axis}")
        _check_range("gather", work_index, work_shape[axis], axis)
        ctx.input_shape, ctx.pick = x.shape, _gather_pick(work_shape, axis, work_index)
        return ctx.pick(x).reshape(index.shape)

    @staticmethod
    def backward(ctx, grad_output):
        return _scatter_positions(ctx.input_shape, ctx.pick, grad_output)


@register("index_select", samples=lambda rng: [
    Sample((random_array(rng, 3, 4),), {"dim": 1, "index": np.array([3, 0, 3])}, note="a repeated index"),
    Sample((random_array(rng, 3, 4),), {"dim": 0, "index": np.array(2)}, note="a 0-d index"),
])
class IndexSelect(Function):
    """The entries of dim `dim` at the positions of a 1-d (or 0-d) integer `index`, in its order."""

    @staticmethod
    def forward(ctx, x, dim, index):
        axis = normalize_dim(dim, x.ndim, "index_select")
        index = np.asarray(index)
        if index.ndim > 1:
            raise IndexError(f"index_select(): Index is supposed to be a vector, got shape {index.shape}")
        index = _index_array("index_select", index).reshape(-1)
        work_shape = x.shape if x.ndim else (1,)
        _check_range("index_select", index, work_shape[axis], axis)
        if x.ndim == 0 and index.size != 1:
            raise RuntimeError(f"index_select(): a 0-d input takes exactly one index, got {index.size}")
        ctx.input_shape = x.shape
        ctx.pick = lambda array: np.take(array.reshape(work_shape), index, axis)
        out = ctx.pick(x)
        return out.reshape(()) if x.ndim == 0 else out

    @staticmethod
    def backward(ctx, grad_output):
        return _scatter_positions(ctx.input_shape, ctx.pick, grad_output)


def _scatter_targets(op: str, x: np.ndarray, src: np.ndarray, dim: int, index: Any) -> tuple[np.ndarray, tuple]:
    """The flat positions of x that scatter writes (one per element of index), and the part of src that it
    reads (src[:index.shape]), after PyTorch's checks of index and src."""
    if x.ndim == 0:
        raise RuntimeError(f"{op}(): scatter into a 0-d tensor is not supported; reshape it to shape (1,) first")
    axis = normalize_dim(dim, x.ndim, op)
    index = _index_array(op, np.asarray(index))
    if src.dtype != x.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (self {x.dtype}, src {src.dtype})")
    if not index.ndim == x.ndim == src.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as self tensor and src "
                           f"tensor (index shape {index.shape}, self {x.shape}, src {src.shape})")
    if any(n > m for d, (n, m) in enumerate(zip(index.shape, x.shape)) if d != axis) or any(
            n > m for n, m in zip(index.shape, src.shape)):
        raise RuntimeError(f"{op}(): Expected index {list(index.shape)} to be no larger than self {list(x.shape)} "
                           f"apart from dimension {axis} and to be no larger size than src {list(src.shape)}")
    _check_range(op, index, x.shape[axis], axis)
    targets = _gather_pick(x.shape, axis, index)(np.arange(x.size).reshape(x.shape))
    return targets, tuple(slice(0, n) for n in index.shape)


def _scatter_samples(rng, add=False):
    x = random_array(rng, 3, 4)
    index = np.array([[0, 3, 1], [1, 1, 0] if add else [1, 2, 0], [2, 0, 3]])
    yield Sample((x, random_array(rng, 3, 3)), {"dim": 1, "index": index},
                 note="repeated targets in a row add up" if add else "distinct targets")
    first_rows = [[2, 0, 1, 1]] if add else [[2, 0, 1, 0]]
    yield Sample((x, random_array(rng, 4, 5)), {"dim": 0, "index": np.array(first_rows)},
                 note="src larger than index: only src[:index.shape] is read")


@register("scatter", samples=_scatter_samples)
class Scatter(Function):
    """x with src's values written where index points along dim: for dim 1, `out[i][index[i][j]] = src[i][j]`
    (where index repeats a position, the last write wins)."""

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.targets, ctx.read = _scatter_targets("scatter", x, src, dim, index)
        ctx.src_shape = src.shape
        out = x.copy()
        out.reshape(-1)[ctx.targets.reshape(-1)] = src[ctx.read].reshape(-1)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        need_x, need_src = ctx.needs_input_grad
        grad_x = None
        if need_x:
            grad_x = grad_output.copy()
            grad_x.reshape(-1)[ctx.targets.reshape(-1)] = 0
        return grad_x, _scatter_src_grad(ctx, grad_output) if need_src else None


@register("scatter_add", samples=lambda rng: _scatter_samples(rng, add=True))
class ScatterAdd(Function):
    """x with src's values added where index points along dim: for dim 1, `out[i][index[i][j]] += src[i][j]`
    (repeated positions add up)."""

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.targets, ctx.read = _scatter_targets("scatter_add", x, src, dim, index)
        ctx.src_shape = src.shape
        out = x.copy()
        # np.add.at adds in order in the tensor's own dtype (exact for integers, float32 sums as PyTorch's)
        np.add.at(out.reshape(-1), ctx.targets.reshape(-1), src[ctx.read].reshape(-1))
        return out

    @staticmethod
    def backward(ctx, grad_output):
        need_x, need_src = ctx.needs_input_grad
        return grad_output if need_x else None, _scatter_src_grad(ctx, grad_output) if need_src else None


def _scatter_src_grad(ctx, grad_output: np.ndarray) -> np.ndarray:
    """src's gradient: the output gradient where each read element of src went; 0 for the rest of src."""
    grad_src = np.zeros(ctx.src_shape, dtype=grad_output.dtype)
    grad_src[ctx.read] = grad_output.reshape(-1)[ctx.targets]
    return grad_src


# ----- masked fill ---------------------------------------------------------------------------------
def check_mask(op: str, mask: Any, value: Any) -> None:
    """PyTorch's checks of masked_fill's arguments: a bool mask, a number or a 0-d tensor as the value."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be a Tensor, not {type(mask).__name__}")
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{op}: only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"{op}: only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s) (shape {value.shape})")
    elif not isinstance(value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"{op}(): argument 'value' must be a number or a 0-d Tensor, not {type(value).__name__}")


def _as_tensor(array: Any) -> Tensor:
    return array if isinstance(array, Tensor) else Tensor(array)


def _masked_fill_samples(rng, inplace=False):
    x = random_array(rng, 3, 4)
    yield Sample((x, 1.5), {"mask": x > 0}, note="Python number")
    yield Sample((x, random_array(rng)), {"mask": x < 0.5}, note="0-d tensor value: it gets the summed gradient")
    yield Sample((x, -2.0), {"mask": np.array([True, False, False, True])}, note="mask broadcast over rows")
    if not inplace:
        yield Sample((random_array(rng, 4), 0.0), {"mask": random_array(rng, 2, 4) > 0}, note="x broadcast")


@register("masked_fill", samples=_masked_fill_samples)
class MaskedFill(Function):
    """x with `value` where `mask` (bool, broadcast with x) is True; the result has x's dtype."""

    @staticmethod
    def forward(ctx, x, value, mask):
        try:
            out_shape = np.broadcast_shapes(x.shape, mask.shape)
        except ValueError as error:
            raise RuntimeError(f"masked_fill: the mask of shape {mask.shape} does not broadcast with the input "
                               f"of shape {x.shape}") from error
        ctx.input_shape, ctx.value_shape, ctx.mask = x.shape, shape_of(value), mask
        return np.where(mask, value, x).astype(x.dtype, copy=False).reshape(out_shape)

    @staticmethod
    def backward(ctx, grad_output):
        need_x, need_value = ctx.needs_input_grad
        grad_x = unbroadcast(np.where(ctx.mask, 0, grad_output), ctx.input_shape) if need_x else None
        grad_value = np.where(ctx.mask, grad_output, 0).sum() if need_value else None
        return grad_x, grad_value


@register("masked_fill_", samples=lambda rng: _masked_fill_samples(rng, inplace=True),
          inplace=lambda x, value, mask: x.masked_fill_(_as_tensor(mask), value))
class MaskedFillInPlace(MaskedFill):
    """x[mask] = value, in place (the mask broadcasts to x's shape)."""


# ----- triangles -----------------------------------------------------------------------------------
def _check_matrix(op: str, x: np.ndarray, diagonal: Any) -> None:
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {x.shape}")
    if not isinstance(diagonal, (int, np.integer)) or isinstance(diagonal, bool):
        raise TypeError(f"{op}(): argument 'diagonal' must be an int, got {diagonal!r}")


def _triangle_samples(rng):
    yield Sample((random_array(rng, 3, 4),), {"diagonal": 0})
    yield Sample((random_array(rng, 2, 4, 3),), {"diagonal": -1}, note="a batch of matrices")
    yield Sample((random_array(rng, 3, 3),), {"diagonal": 2})


@register("tril", samples=_triangle_samples)
class Tril(Function):
    """The lower triangle of the last two dims: elements on and below diagonal `diagonal` kept, the rest 0."""

    @staticmethod
    def forward(ctx, x, diagonal=0):
        _check_matrix("tril", x, diagonal)
        ctx.diagonal = int(diagonal)
        return np.tril(x, ctx.diagonal)

    @staticmethod
    def backward(ctx, grad_output):
        return np.tril(grad_output, ctx.diagonal)


@register("triu", samples=_triangle_samples)
class Triu(Function):
    """The upper triangle of the last two dims: elements on and above diagonal `diagonal` kept, the rest 0."""

    @staticmethod
    def forward(ctx, x, diagonal=0):
        _check_matrix("triu", x, diagonal)
        ctx.diagonal = int(diagonal)
        return np.triu(x, ctx.diagonal)

    @staticmethod
    def backward(ctx, grad_output):
        return np.triu(grad_output, ctx.diagonal)


# ----- compositions of the ops above and GetItem ---------------------------------------------------
def _along(axis: int, part: Any) -> tuple:
    """An index that applies `part` (a slice or an int) to dim `axis` and keeps the others whole."""
    return (slice(None),) * axis + (part,)


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of x cut along `dim`: pieces of an int size (the last may be smaller), or of the listed sizes
    (which must add up to the dim's length)."""
    axis = normalize_dim(dim, x.ndim, "split")
    if x.ndim == 0:
        raise RuntimeError("split: a 0-d tensor has no dim to split")
    length = x.shape[axis]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = _int_sequence(split_size_or_sections, "split_size_or_sections", "split")
        if any(n < 0 for n in sizes) or sum(sizes) != length:
            raise RuntimeError(f"split: split_sizes {list(sizes)} must be non-negative and sum exactly to "
                               f"{length} (input tensor's size at dimension {dim}, shape {x.shape})")
    else:
        (size,) = _int_sequence(split_size_or_sections, "split_size_or_sections", "split")
        if size < 0 or (size == 0 and length):
            raise RuntimeError(f"split: split_size can only be 0 if dimension size is 0, and never negative, but "
                               f"got split_size {size} for dimension size {length}")
        # an empty dim still gives one (empty) piece, as in PyTorch
        sizes = (0,) if length == 0 else tuple(min(size, length - start) for start in range(0, length, size))
    starts = np.cumsum((0,) + sizes)
    return tuple(x[_along(axis, slice(int(a), int(b)))] for a, b in zip(starts[:-1], starts[1:]))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """x cut along `dim` into at most `chunks` views of ceil(length / chunks) (the last may be smaller)."""
    if not isinstance(chunks, (int, np.integer)) or isinstance(chunks, bool):
        raise TypeError(f"chunk: chunks must be an int, got {chunks!r}")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = normalize_dim(dim, x.ndim, "chunk")
    if x.ndim == 0:
        raise RuntimeError("chunk: a 0-d tensor has no dim to split")
    length = x.shape[axis]
    if length == 0:  # PyTorch gives `chunks` empty pieces
        return tuple(x[_along(axis, slice(0, 0))] for _ in range(chunks))
    return split(x, -(-length // chunks), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of x along `dim`, each without that dim: shape (*, S, *) -> S tensors of shape (*, *)."""
    if x.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    axis = normalize_dim(dim, x.ndim, "unbind")
    return tuple(x[_along(axis, i)] for i in range(x.shape[axis]))


def repeat_interleave(x: Tensor, repeats: Any = None, dim: int | None = None) -> Tensor:
    """Each element (dim None: of the flattened x) or each entry along `dim` repeated `repeats` times (an int,
    or an integer tensor with one count per entry); without repeats, x holds the counts and the result is
    the positions repeated."""
    if repeats is None:
        counts = x._data
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be a 0-d or 1-d integer tensor, got shape "
                               f"{counts.shape} of dtype {counts.dtype}")
        return Tensor(np.repeat(np.arange(counts.size), _checked_counts(counts.reshape(-1), counts.size)))
    if dim is None:
        x, axis = x.reshape(-1), 0
    else:
        axis = normalize_dim(dim, x.ndim, "repeat_interleave")
    length = x.shape[axis] if x.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1 or repeats.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be a 0-d or 1-d integer tensor, got shape "
                               f"{repeats.shape} of dtype {repeats.dtype}")
        counts = repeats._data.reshape(-1)
    elif isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
        counts = np.array([repeats])
    else:
        raise TypeError(f"repeat_interleave: repeats must be an int or an integer Tensor, got {repeats!r}")
    index = np.repeat(np.arange(length), _checked_counts(counts, length))
    return IndexSelect.apply(x, dim=axis, index=index)


def _checked_counts(counts: np.ndarray, length: int) -> np.ndarray:
    """One non-negative repeat count per entry (a single count serves all), or PyTorch's RuntimeError."""
    if (counts < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {counts.tolist()}")
    if counts.size == 1:
        return np.broadcast_to(counts, (length,))
    if counts.size != length:
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.size} and input.size = {length}")
    return counts
