"""Helpers shared by the ops: undoing broadcasting, reading dims and integer pairs."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .registry import Sample


def expect_tensor(op: str, name: str, value: Any) -> None:
    """A TypeError unless `value` is a Tensor, as PyTorch's functional ops and layers refuse lists and arrays."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(value).__name__}; "
                        "wrap it with tc.tensor(...)")


def ceil_div(a: int, b: int) -> int:
    """a / b rounded up, for positive b."""
    return -(-a // b)


def shape_of(value: Any) -> tuple[int, ...]:
    """np.shape(value), without its cost (it makes an array of a Python number) in the common cases."""
    if isinstance(value, np.ndarray):
        return value.shape
    return () if isinstance(value, (int, float)) else np.shape(value)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    # a sum past the float's max is inf, inf + -inf NaN: IEEE
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


def unary_samples(rng: np.random.Generator, low: float = -2.0, high: float = 2.0, kinks: tuple = ()):
    """Samples for a one-input op: 0-d to 3-d float64 arrays uniform in [low, high), none near a kink."""
    for shape in [(), (5,), (3, 4), (2, 3, 4)]:
        yield Sample((away_from(rng, shape, kinks, 0.1, low, high),), note=str(shape))


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


# ----- dtype promotion: PyTorch's rules, in one place ------------------------------------------------
# Operands are arrays (Tensors' data: what forward receives) and Python scalars (NumPy scalars count as Python
# ones). PyTorch orders the dtypes by category, bool < integer < float, and lets an operand of a higher category
# set the result, while within one category a 0-d array or a scalar never widens an array with dims.
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)
_INT64, _BOOL = np.dtype(np.int64), np.dtype(np.bool_)
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
DEFAULT_FLOAT = _FLOAT32  # a Python float's dtype, and what true division and float ops on integers give


def _checked_dtype(op: str, dtype: np.dtype) -> np.dtype:
    if dtype.kind not in _CATEGORY or (dtype.kind == "f" and dtype not in (_FLOAT32, _FLOAT64)):
        raise TypeError(f"{op}: operands of dtype {dtype} are not supported (use float32, float64, an integer "
                        "type or bool)")
    return dtype


def _promote_types(op: str, first: np.dtype | None, second: np.dtype | None) -> np.dtype | None:
    """The smallest dtype holding both: the higher category's dtype, or NumPy's promotion within one."""
    if first is None or first == second:
        return second
    if second is None:
        return first
    first_category, second_category = _CATEGORY[first.kind], _CATEGORY[second.kind]
    if first_category != second_category:
        return first if first_category > second_category else second
    promoted = np.promote_types(first, second)
    if promoted.kind == "f" and first_category == 1:  # uint64 with a signed type: NumPy gives float64
        raise TypeError(f"{op}: no integer dtype holds both {first} and {second}")
    return promoted


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's combine_categories: `lower` (0-d arrays, scalars) counts only where its category is higher."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return _promote_types("", higher, lower)
    return higher


def result_type(op: str, *operands: Any) -> np.dtype:
    """The dtype PyTorch gives an op over `operands` (arrays and Python scalars; None is skipped).

    float32 vector + int64 vector -> float32; int vector * 0.5 -> float32; 0-d float64 + float32 vector ->
    float32; 0-d float64 + int32 vector -> float64; int32 + int64 -> int64; bool * int -> int64. Any other
    dtype (float16, complex, object...) raises a TypeError naming `op`.
    """
    with_dims = zero_dim = scalar = None
    for x in operands:
        if x is None:
            continue
        if isinstance(x, np.ndarray):
            dtype = _checked_dtype(op, x.dtype)
            if x.ndim:
                with_dims = _promote_types(op, with_dims, dtype)
            else:
                zero_dim = _promote_types(op, zero_dim, dtype)
            continue
        if isinstance(x, (bool, np.bool_)):
            dtype = _BOOL
        elif isinstance(x, (int, np.integer)):
            dtype = _INT64
        elif isinstance(x, (float, np.floating)):
            dtype = DEFAULT_FLOAT
        else:
            raise TypeError(f"{op}: unsupported operand of type {type(x).__name__} "
                            f"(expected a Tensor, an array, or a real Python number)")
        scalar = _promote_types(op, scalar, dtype)
    result = _combine(with_dims, _combine(zero_dim, scalar))
    if result is None:
        raise TypeError(f"{op}: no operands")
    return result


def _as_operand(x: Any, dtype: np.dtype) -> Any:
    if isinstance(x, np.ndarray):
        return x if x.dtype == dtype else x.astype(dtype)
    # A Python scalar stays one, weakly typed for NumPy; a NumPy scalar would count as an array of its dtype.
    return x.item() if isinstance(x, np.generic) else x


def promote(op: str, a: Any, b: Any, floating: bool = False) -> tuple[Any, Any]:
    """a and b converted to their `result_type` (to float32 at least where `floating`, as true division).

    Python scalars stay scalars (NumPy then keeps the array's dtype); arrays are cast only where they differ.
    """
    # The common cases need no cast; checked first, as this runs once per binary op.
    if type(a) is np.ndarray and (a.dtype is _FLOAT32 or a.dtype is _FLOAT64):
        if (type(b) is np.ndarray and b.dtype is a.dtype) or type(b) is float or type(b) is int:
            return a, b
    elif type(b) is np.ndarray and (b.dtype is _FLOAT32 or b.dtype is _FLOAT64) and (
            type(a) is float or type(a) is int):
        return a, b
    dtype = result_type(op, a, b)
    if floating and dtype.kind != "f":
        dtype = DEFAULT_FLOAT
    if not (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)):  # two scalars: a 0-d result of dtype
        return np.asarray(a, dtype), np.asarray(b, dtype)
    return _as_operand(a, dtype), _as_operand(b, dtype)


def as_floating(op: str, x: np.ndarray) -> np.ndarray:
    """x for a float-valued op (exp, log, sqrt...): integer and bool arrays as float32, as PyTorch."""
    if x.dtype is _FLOAT32 or x.dtype is _FLOAT64:
        return x
    dtype = _checked_dtype(op, np.asarray(x).dtype)
    return np.asarray(x, dtype if dtype.kind == "f" else DEFAULT_FLOAT)
