"""Helpers shared by the ops: undoing broadcasting, reading dims and integer pairs."""

from __future__ import annotations

from typing import Any

import numpy as np


def ceil_div(a: int, b: int) -> int:
    """a / b rounded up, for positive b."""
    return -(-a // b)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes).reshape(shape)


def scatter_add(shape: tuple[int, ...], flat_index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """An array of `shape` holding, at each flat position, the sum of the `values` sent there.

    Repeated positions add up (the backward of gathers); bincount does it in one vectorised pass,
    where np.add.at would loop element by element.
    """
    summed = np.bincount(flat_index.ravel(), weights=values.ravel(), minlength=int(np.prod(shape)))
    return summed.reshape(shape).astype(values.dtype, copy=False)


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """A dim in [-ndim, ndim) as a non-negative axis, or PyTorch's IndexError.

    As in PyTorch, a 0-d tensor takes dim 0 or -1 (both give 0), though it has no axis to name: ops that
    reduce or squeeze use `normalize_dims`, which turns that into no axis at all.
    """
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return int(dim) % max(ndim, 1)


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """The array axes that a dim argument names: None or () for all, an int, or a tuple of ints; no repeats.

    On a 0-d tensor, dim 0 and -1 are accepted (PyTorch's rule) and name no axis: the array has none.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:  # PyTorch reduces over every dim when given an empty list of them
        return tuple(range(ndim))
    axes = tuple(normalize_dim(d, ndim, op) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} names an axis twice")
    return axes if ndim else ()


def pair(value: Any, name: str, op: str, n: int = 2) -> tuple[int, ...]:
    """An int or an n-sequence of ints as an n-tuple."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {n} ints, got {value!r}")
    return tuple(int(v) for v in values)


def random_array(rng: np.random.Generator, *shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """A float64 sample array, uniform in [low, high)."""
    return rng.uniform(low, high, size=shape)


def away_from(rng: np.random.Generator, shape: tuple, points: tuple = (0.0,), margin: float = 0.1,
              low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """A float64 sample array with no element within `margin` of any of `points` (a kink)."""
    return push_away(rng.uniform(low, high, size=shape), points, margin)


def push_away(array: np.ndarray, points: tuple = (0.0,), margin: float = 0.1) -> np.ndarray:
    """`array` (changed in place and returned) with each element within `margin` of one of `points`
    moved to 2 * margin from it, on its own side: finite differences then never straddle the kink."""
    for point in points:
        close = np.abs(array - point) < margin
        array[close] = point + np.where(array[close] >= point, margin, -margin) * 2
    return array
