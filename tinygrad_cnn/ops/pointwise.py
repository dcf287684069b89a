"""Pointwise functions with gradients: sign, sin, cos, maximum, minimum, where; and one_hot (no gradient).

The binary ones broadcast as PyTorch does and send each input its gradient summed back to its shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, int64, to_array
from ._util import as_floating, random_array, result_type, unary_samples, unbroadcast
from .registry import Sample, register


@register("sign", samples=lambda rng: unary_samples(rng, -4.0, 4.0, kinks=(0.0,)))
class Sign(Function):
    """-1, 0 or 1 by the sign of x (0 for NaN, as PyTorch); the gradient is 0 everywhere, 0 included.

    The samples keep away from 0: at a jump the one-sided differences are ±1/h, so no finite-difference check
    applies there; tests/test_pointwise.py pins the gradient at 0."""

    @staticmethod
    def forward(ctx, x):
        if x.dtype == np.bool_:
            return x.copy()  # PyTorch: sign of a bool tensor is itself
        return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return np.zeros_like(grad_output)


@register("sin", samples=lambda rng: unary_samples(rng, -4.0, 4.0))
class Sin(Function):
    """Sine; integer input gives float32 (PyTorch's promotion)."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("sin", x)
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # sin(±inf) is NaN, quietly as in PyTorch
            return np.sin(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return grad_output * np.cos(x)


@register("cos", samples=lambda rng: unary_samples(rng, -4.0, 4.0))
class Cos(Function):
    """Cosine; integer input gives float32 (PyTorch's promotion)."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("cos", x)
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.cos(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return -grad_output * np.sin(x)


def _broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"{op}: shapes {', '.join(str(s) for s in shapes)} do not broadcast together") from None


def _extremum_samples(rng):
    pairs = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3))]
    for shape_a, shape_b in pairs:
        a, b = random_array(rng, *shape_a), random_array(rng, *shape_b)
        yield Sample((a, b), note=f"{shape_a} with {shape_b}")
    a = random_array(rng, 3, 4)
    b = a.copy()
    b[0] += 1.0
    b[1] -= 1.0  # row 2 ties: each side gets half the gradient there
    yield Sample((a, b), note="ties in the last row")
    yield Sample((a, b[2]), requires_grad=(False, True), note="ties, broadcast, constant first input")


def _tie_kinks(sample):
    """Per input, the elements that meet a tie in some output element (broadcasting may spread one input element
    over several)."""
    a, b = sample.args
    ties = np.asarray(a == b).astype(np.int64)
    return [unbroadcast(ties, np.shape(a)) > 0, unbroadcast(ties, np.shape(b)) > 0]


class _Extremum(Function):
    """Shared by maximum and minimum: the gradient goes to the larger (smaller) input, half to each at a tie,
    as PyTorch's; where either is NaN the output is NaN and both inputs get the whole gradient (PyTorch's)."""

    pick = staticmethod(np.maximum)

    @classmethod
    def _forward(cls, ctx, a, b, op):
        a, b = np.asarray(a), np.asarray(b)
        dtype = result_type(op, a, b)
        _broadcast_shape(op, a.shape, b.shape)
        a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @staticmethod
    def _backward(ctx, grad_output, beats):
        """beats(p, q): where p is picked over q (np.greater for maximum); the loser gets no gradient there."""
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        shared = np.where(a == b, grad_output / 2, grad_output)
        grad_a = unbroadcast(np.where(beats(b, a), 0, shared), a.shape) if need_a else None
        grad_b = unbroadcast(np.where(beats(a, b), 0, shared), b.shape) if need_b else None
        return grad_a, grad_b


@register("maximum", samples=_extremum_samples, kinks=_tie_kinks)
class Maximum(_Extremum):
    """The larger of a and b, elementwise (broadcast); NaN where either is NaN."""

    @staticmethod
    def forward(ctx, a, b):
        return Maximum._forward(ctx, a, b, "maximum")

    @staticmethod
    def backward(ctx, grad_output):
        return _Extremum._backward(ctx, grad_output, np.greater)


@register("minimum", samples=_extremum_samples, kinks=_tie_kinks)
class Minimum(_Extremum):
    """The smaller of a and b, elementwise (broadcast); NaN where either is NaN."""

    pick = staticmethod(np.minimum)

    @staticmethod
    def forward(ctx, a, b):
        return Minimum._forward(ctx, a, b, "minimum")

    @staticmethod
    def backward(ctx, grad_output):
        return _Extremum._backward(ctx, grad_output, np.less)


def _where_samples(rng):
    for shape_c, shape_x, shape_y in [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (3, 4)), ((4,), (2, 3, 4), ()),
                                      ((2, 3), (3,), (2, 1))]:
        condition = rng.random(shape_c) < 0.5
        yield Sample((condition, random_array(rng, *shape_x), random_array(rng, *shape_y)),
                     note=f"condition {shape_c}, x {shape_x}, y {shape_y}")
    yield Sample((rng.random((2, 3)) < 0.5, random_array(rng, 2, 3), 1.5), note="y a Python number")


@register("where", samples=_where_samples)
class Where(Function):
    """x where condition else y (all three broadcast); the gradient goes to the side that was picked."""

    @staticmethod
    def forward(ctx, condition, x, y):
        condition = np.asarray(condition)
        if condition.dtype != np.bool_:
            raise RuntimeError(f"where: expected condition to be a boolean tensor, but got dtype {condition.dtype}")
        _broadcast_shape("where", condition.shape, np.shape(x), np.shape(y))
        dtype = result_type("where", x, y)
        ctx.condition, ctx.shapes = condition, (np.shape(x), np.shape(y))
        return np.where(condition, x, y).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        _, need_x, need_y = ctx.needs_input_grad
        shape_x, shape_y = ctx.shapes
        zero = np.zeros((), grad_output.dtype)
        return (None,
                unbroadcast(np.where(ctx.condition, grad_output, zero), shape_x) if need_x else None,
                unbroadcast(np.where(ctx.condition, zero, grad_output), shape_y) if need_y else None)


# ----- the public functions (tc.sign, tc.maximum, F.one_hot, ...) -------------------------------------------
def _tensor(value: Any, op: str, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    return value


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 elementwise (same dtype); the gradient is 0."""
    return Sign.apply(_tensor(input, "sign", "input"))


def sin(input: Tensor) -> Tensor:
    """Sine elementwise."""
    return Sin.apply(_tensor(input, "sin", "input"))


def cos(input: Tensor) -> Tensor:
    """Cosine elementwise."""
    return Cos.apply(_tensor(input, "cos", "input"))


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """The elementwise larger of two tensors (broadcast); ties share the gradient. Both must be Tensors, as in
    PyTorch (`clamp(min=...)` takes a number)."""
    return Maximum.apply(_tensor(input, "maximum", "input"), _tensor(other, "maximum", "other"))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """The elementwise smaller of two tensors (broadcast); ties share the gradient."""
    return Minimum.apply(_tensor(input, "minimum", "input"), _tensor(other, "minimum", "other"))


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """`input` where `condition` else `other` (Tensors or numbers, broadcast together); with the condition
    alone, the tuple of index tensors of its True elements (`condition.nonzero(as_tuple=True)`)."""
    condition = _tensor(condition, "where", "condition")
    if input is None and other is None:
        return tuple(Tensor._make(index.astype(int64), None) for index in np.nonzero(condition._data))
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (then the indices of True elements)")
    operands = [v if isinstance(v, (Tensor, int, float, bool)) else to_array(v) for v in (input, other)]
    return Where.apply(condition, *operands)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 class indices of any shape (*) -> int64 (*, num_classes) with a 1 at each index; num_classes=-1
    takes the largest index + 1. No gradient (as in PyTorch)."""
    labels = _tensor(tensor, "one_hot", "tensor")._data
    if labels.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor (int64), got {labels.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be -1 (infer it) or a non-negative int, got {num_classes!r}")
    if labels.size and labels.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got {int(labels.min())}")
    if num_classes == -1:
        if labels.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor; pass num_classes")
        num_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({num_classes}), "
                           f"got {int(labels.max())}")
    encoded = np.zeros(labels.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(encoded, labels[..., None], 1, axis=-1)
    return Tensor._make(encoded, None)
