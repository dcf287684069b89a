"""Reductions: sum, mean, var, amax/amin, max/min along a dim with their indices, and the vector p-norm.

Gradient rule at ties: `amax`/`amin` (and `max()` with no dim) split the gradient evenly among equal
extrema, which keeps it symmetric; `max(dim)`/`min(dim)` send it to the index they return, as PyTorch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import away_from, normalize_dim, normalize_dims, random_array, scatter_add
from .registry import Sample, register


def dim_alias(dim: Any, axis: Any) -> Any:
    """`axis=` is accepted as NumPy's name for `dim=`."""
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or axis, not both")
        return axis
    return dim


def _expand_back(grad_output: np.ndarray, input_shape: tuple, axes: tuple, keepdim: bool) -> np.ndarray:
    """The reduced gradient given its reduced axes back (size 1), so it broadcasts to the input."""
    if not keepdim:
        grad_output = np.expand_dims(grad_output, axes)
    return grad_output


def _reduced_count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements each output element of a reduction over `axes` gathers."""
    return int(np.prod([shape[a] for a in axes]))


def _require_float(x: np.ndarray, message: str) -> None:
    if x.dtype.kind != "f":
        raise RuntimeError(f"{message}, got {x.dtype}; convert the tensor with .float() or .double() first")


def _reduction_samples(rng):
    x = random_array(rng, 3, 4, 5)
    for dim, keepdim in [(None, False), (0, False), (1, True), (-1, False), ((0, 2), False), ((0, 2), True)]:
        yield Sample((x,), {"dim": dim, "keepdim": keepdim}, note=f"dim={dim} keepdim={keepdim}")
    yield Sample((random_array(rng, 6),), {"dim": 0, "keepdim": False}, note="vector")
    yield Sample((np.array(1.5),), {"dim": None, "keepdim": False}, note="0-d")
    yield Sample((np.array(-0.5),), {"dim": 0, "keepdim": False}, note="0-d with dim=0")
    yield Sample((np.array(0.75),), {"dim": -1, "keepdim": True}, note="0-d with dim=-1, keepdim")


@register("sum", samples=_reduction_samples)
class Sum(Function):
    """Sum over dim (None: all); integer and bool tensors sum to int64, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = normalize_dims(dim, x.ndim, "sum")
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim, dtype=None if x.dtype.kind == "f" else np.int64)

    @staticmethod
    def backward(ctx, grad_output):
        grad = _expand_back(grad_output, ctx.input_shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(grad, ctx.input_shape)


def _empty_mean_samples(rng):
    yield Sample((np.zeros((0, 3)),), {"dim": 1, "keepdim": False}, note="rows of an empty tensor")


@register("mean", samples=lambda rng: [*_reduction_samples(rng), *_empty_mean_samples(rng)])
class Mean(Function):
    """Mean over dim (None: all); NaN where it averages no element, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = normalize_dims(dim, x.ndim, "mean")
        _require_float(x, "mean(): could not infer output dtype: mean needs a floating point tensor")
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = _reduced_count(x.shape, axes)
        # sum / count is what np.mean computes; written out so that 0 / 0 is a quiet NaN, not a warning.
        return x.sum(axis=axes, keepdims=keepdim) / x.dtype.type(ctx.count)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.count == 0:  # the input is empty: so is its gradient
            return np.zeros(ctx.input_shape, grad_output.dtype)
        grad = _expand_back(grad_output, ctx.input_shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(grad / grad.dtype.type(ctx.count), ctx.input_shape)


def _var_samples(rng):
    x = random_array(rng, 4, 5)
    for dim, keepdim, correction in [(None, False, 1), (0, False, 1), (1, True, 0), ((0, 1), False, 2)]:
        yield Sample((x,), {"dim": dim, "keepdim": keepdim, "correction": correction},
                     note=f"dim={dim} correction={correction}")
    yield Sample((np.array(0.5),), {"dim": 0, "keepdim": False, "correction": 0}, note="0-d with dim=0")


@register("var", samples=_var_samples)
class Var(Function):
    """Variance over dim: sum((x - mean)**2) / (n - correction); correction=1 is unbiased (PyTorch's default).

    With no degrees of freedom left (n - correction <= 0) it divides by 0, giving inf (NaN where all the
    values are equal) and PyTorch's UserWarning; the gradient 2 (x - mean) / 0 is then +-inf, NaN at the mean.
    """

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, correction=1):
        axes = normalize_dims(dim, x.ndim, "var")
        _require_float(x, "var(): std and var need a floating point tensor")
        count = _reduced_count(x.shape, axes)
        if count - correction <= 0:
            warnings.warn(f"var(): degrees of freedom is <= 0 ({count} elements with correction={correction}), "
                          "so the result is inf or NaN", UserWarning, stacklevel=4)
        ctx.axes, ctx.keepdim, ctx.divisor = axes, keepdim, x.dtype.type(max(count - correction, 0))
        # 0 / 0 for an empty tensor or no freedom
        centered = x - x.sum(axis=axes, keepdims=True) / x.dtype.type(count)
        ctx.save_for_backward(centered)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / ctx.divisor

    @staticmethod
    def backward(ctx, grad_output):
        (centered,) = ctx.saved_tensors
        grad = _expand_back(grad_output, centered.shape, ctx.axes, ctx.keepdim)
        return grad * centered * (centered.dtype.type(2) / ctx.divisor)


def _extremum_samples(rng):
    yield from _reduction_samples(rng)
    tied = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])
    yield Sample((tied,), {"dim": 1, "keepdim": False}, requires_grad=(True,), note="ties share the gradient")


def _tie_kinks(sample):
    x, attrs = sample.args[0], sample.attrs
    axes = normalize_dims(attrs.get("dim"), x.ndim, "kinks")
    extreme = x.max(axis=axes, keepdims=True)
    at_max = x == extreme
    return [at_max & (at_max.sum(axis=axes, keepdims=True) > 1)]


def _check_nonempty(shape: tuple[int, ...], axes: tuple[int, ...], dim: Any, op: str) -> None:
    """PyTorch's errors for a largest or smallest element of no elements (there is no identity to give)."""
    if dim is None and 0 in shape:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0 (shape {shape}). "
                           "Specify the reduction dim with the 'dim' argument.")
    for axis in axes:
        if shape[axis] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size (shape {shape}).")


class _Extremum(Function):
    """Shared by amax and amin: the gradient is split evenly among the tied extrema."""

    reduce: Callable[..., np.ndarray] = staticmethod(np.max)

    @classmethod
    def _forward(cls, ctx, x, dim, keepdim, op):
        axes = normalize_dims(dim, x.ndim, op)
        _check_nonempty(x.shape, axes, dim, op)
        out = cls.reduce(x, axis=axes, keepdims=True)
        if ctx.needs_input_grad[0]:
            hits = x == out
            ctx.share = hits / hits.sum(axis=axes, keepdims=True).astype(x.dtype)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad_output):
        return _expand_back(grad_output, ctx.share.shape, ctx.axes, ctx.keepdim) * ctx.share


@register("amax", samples=_extremum_samples, kinks=_tie_kinks)
class Amax(_Extremum):
    """Largest value over dim; tied maxima share the gradient evenly."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        return Amax._forward(ctx, x, dim, keepdim, "amax")


@register("amin", samples=_extremum_samples, kinks=_tie_kinks)
class Amin(_Extremum):
    """Smallest value over dim; tied minima share the gradient evenly."""

    reduce = staticmethod(np.min)

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        return Amin._forward(ctx, x, dim, keepdim, "amin")


def _take_samples(rng):
    x = random_array(rng, 3, 4)
    yield Sample((x, rng.integers(0, 4, size=(3, 1))), {"dim": 1}, note="one per row")
    yield Sample((x, rng.integers(0, 3, size=(2, 4))), {"dim": 0}, note="repeats along dim 0")


@register("take_along_dim", samples=_take_samples)
class TakeAlongDim(Function):
    """x's elements at `indices` along dim (NumPy's take_along_axis); repeated indices add up in backward."""

    @staticmethod
    def forward(ctx, x, indices, dim):
        axis = normalize_dim(dim, x.ndim, "take_along_dim")
        if indices.dtype.kind not in "iu":
            raise TypeError(f"take_along_dim: indices must be integers, got {indices.dtype}")
        ctx.input_shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(indices)
        return np.take_along_axis(x, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        (indices,) = ctx.saved_tensors
        coords = list(np.indices(indices.shape, sparse=True))
        coords[ctx.axis] = indices
        flat = np.ravel_multi_index(np.broadcast_arrays(*coords), ctx.input_shape)
        return scatter_add(ctx.input_shape, flat, grad_output), None


def extremum(x: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Any:
    """Tensor.max/min: a scalar with no dim, else `(values, indices)` with the gradient to the index."""
    if dim is None:
        return (Amax if largest else Amin).apply(x, dim=None, keepdim=False)
    indices = arg_extremum(x, dim, True, largest, "max" if largest else "min")
    if x.ndim == 0:  # one element, at index 0: amax over no axis passes it (and its gradient) through
        return MinMaxResult((Amax if largest else Amin).apply(x, dim=dim), indices)
    values = TakeAlongDim.apply(x, indices._data, dim=dim)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return MinMaxResult(values, indices)


class MinMaxResult(tuple):
    """The `(values, indices)` pair from max(dim)/min(dim), also readable as `.values`/`.indices`."""

    def __new__(cls, values: Tensor, indices: Tensor):
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


def arg_extremum(x: Tensor, dim: int | None, keepdim: bool, largest: bool, op: str | None = None) -> Tensor:
    """Index of the first largest (or smallest) element; int64, no gradient. `op` names the caller in errors."""
    op = op or ("argmax" if largest else "argmin")
    if dim is not None:
        normalize_dim(dim, x.ndim, op)  # one int dim, as in PyTorch
    axes = normalize_dims(dim, x.ndim, op)
    _check_nonempty(x.shape, axes, dim, op)
    pick = np.argmax if largest else np.argmin
    if dim is None:
        index = pick(x._data)
        return Tensor._make(np.asarray(index, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()), None)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64), None)
    return Tensor._make(pick(x._data, axis=axes[0], keepdims=keepdim).astype(np.int64), None)


# ----- the vector p-norm -------------------------------------------------------------------------------
def _norm_samples(rng):
    x = away_from(rng, (3, 4))  # no element at 0, where |x| has a kink
    for p in (2.0, 1.0, 3.0, 1.5, 0.5, -1.0, 0.0, np.inf, -np.inf):
        yield Sample((x,), {"p": p, "dim": None, "keepdim": False}, note=f"p={p}, all elements")
    yield Sample((x,), {"p": 2.0, "dim": 1, "keepdim": True}, note="rows, keepdim")
    yield Sample((away_from(rng, (2, 3, 4)),), {"p": 3.0, "dim": (0, 2), "keepdim": False}, note="dims (0, 2)")
    tied = np.array([[1.0, -3.0, 3.0], [2.0, 0.5, -1.0]])
    yield Sample((tied,), {"p": np.inf, "dim": 1, "keepdim": False}, note="tied |x|: they share the gradient")
    zero_row = np.array([[0.0, 0.0, 0.0], [0.6, -0.8, 1.2]])
    yield Sample((zero_row,), {"p": 2.0, "dim": 1, "keepdim": False}, note="a zero row: gradient 0, as PyTorch")
    yield Sample((zero_row,), {"p": 1.0, "dim": 1, "keepdim": False}, note="zeros under p=1: gradient 0")


def _norm_kinks(sample):
    """Elements at 0 (|x| bends there) and, for p=+-inf, tied extremes of |x|."""
    x, attrs = sample.args[0], sample.attrs
    kinks = x == 0
    if np.isinf(attrs["p"]):
        axes = normalize_dims(attrs["dim"], x.ndim, "kinks")
        absolute = np.abs(x)
        extreme = (absolute.max if attrs["p"] > 0 else absolute.min)(axis=axes, keepdims=True)
        hits = absolute == extreme
        kinks |= hits & (hits.sum(axis=axes, keepdims=True) > 1)
    return [kinks]


@register("norm", samples=_norm_samples, kinks=_norm_kinks)
class Norm(Function):
    """The p-norm of x over dim (None: all): (sum |x|^p)^(1/p), max |x| for inf, the nonzero count for 0.

    Gradients as PyTorch's: 0 where the norm is 0 (p >= 1) or the element is 0 (p < 1); tied extremes of an
    inf-norm share it evenly.
    """

    @staticmethod
    def forward(ctx, x, p=2.0, dim=None, keepdim=False):
        axes = normalize_dims(dim, x.ndim, "norm")
        if (p < 0 or np.isinf(p)) and any(x.shape[a] == 0 for a in axes):
            raise RuntimeError(f"norm: cannot compute the {p} norm over no elements (shape {x.shape}, dim {dim}): "
                               "the operation does not have an identity")
        absolute = np.abs(x)
        if np.isinf(p):
            norm = (absolute.max if p > 0 else absolute.min)(axis=axes, keepdims=True)
        elif p == 0:
            norm = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif p == 1:
            norm = absolute.sum(axis=axes, keepdims=True)
        elif p == 2:
            norm = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            norm = ((absolute ** p).sum(axis=axes, keepdims=True) ** (1 / p)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, norm)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return norm if keepdim else np.squeeze(norm, axis=axes)

    @staticmethod
    def backward(ctx, grad_output):
        x, norm = ctx.saved_tensors
        p, grad = ctx.p, _expand_back(grad_output, x.shape, ctx.axes, ctx.keepdim)
        if p == 0:
            return np.zeros_like(x)
        if p == 1:
            return np.sign(x) * grad
        if np.isinf(p):
            absolute = np.abs(x)
            hits = (absolute == norm) | np.isnan(absolute)
            return np.sign(x) * hits * (grad / hits.sum(axis=ctx.axes, keepdims=True).astype(x.dtype))
        if p == 2:
            return x * np.where(norm == 0, 0, grad / norm)
        scaled = np.sign(x) * np.abs(x) ** (p - 1)
        if p < 1:  # |x|^(p-1) is inf at 0, where PyTorch sends no gradient
            return np.where(x == 0, 0, scaled) * grad * norm ** (1 - p)
        return scaled * np.where(norm == 0, 0, grad / norm ** (p - 1))


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Tensor.norm, as PyTorch's: the vector p-norm over dim (None: every element); 'fro' is p=2 over at most two
    dims; p=1, 2, inf, -inf, 0 or any other number. `dtype` converts x first. Shape: x's without dim."""
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported: use 'fro', or a number (2, 1, inf, -inf, 0...)"
                             + ("; the nuclear norm is not implemented" if p == "nuc" else ""))
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"norm: p='fro' takes at most two dims, got dim={dim}; use p=2 for more")
        p = 2.0
    if not isinstance(p, (int, float, np.integer, np.floating)) or isinstance(p, bool):
        raise TypeError(f"norm: p must be a number or 'fro', got {p!r}")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"norm: expected a floating point tensor as input, got {x.dtype}; convert it with "
                           ".float() or .double() first")
    return Norm.apply(x, p=float(p), dim=dim, keepdim=keepdim)
