"""Elementwise arithmetic: + - * / **, neg, exp, log, sqrt, abs, clip, and dtype casts.

Binary ops broadcast as NumPy does and promote dtypes as PyTorch does (`_util.promote`, called in forward so
that it holds for `Function.apply` too); their backward sums the gradient back to each input's shape.
Results past a float's range are inf and undefined ones NaN, quietly, as IEEE and PyTorch say (the engine runs
every forward and backward under np.errstate(all="ignore")).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import as_floating, away_from, promote, random_array, result_type, shape_of, unary_samples, unbroadcast
from .registry import Sample, register


def _binary_samples(rng: np.random.Generator, positive_second: bool = False, avoid_zero: bool = False):
    """Pairs of shapes that broadcast in every way PyTorch allows, plus a scalar constant."""
    pairs = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1))]
    for shape_a, shape_b in pairs:
        a = random_array(rng, *shape_a)
        b = rng.uniform(0.5, 2.0, size=shape_b) if positive_second else (
            away_from(rng, shape_b, margin=0.3) if avoid_zero else random_array(rng, *shape_b))
        yield Sample((a, b), note=f"{shape_a} with {shape_b}")
    yield Sample((random_array(rng, 2, 3), 1.5), note="tensor with a Python scalar")
    yield Sample((0.5, rng.uniform(0.5, 2.0, size=(3,)) if positive_second else away_from(rng, (3,), margin=0.3)),
                 note="Python scalar with a tensor")


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype.kind == "b")


@register("add", samples=_binary_samples)
class Add(Function):
    """a + b."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote("add", a, b)
        ctx.shapes = (shape_of(a), shape_of(b))
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad_output, shape_a) if need_a else None,
                unbroadcast(grad_output, shape_b) if need_b else None)


@register("sub", samples=_binary_samples)
class Sub(Function):
    """a - b."""

    @staticmethod
    def forward(ctx, a, b):
        if _is_bool(a) or _is_bool(b):
            raise RuntimeError("sub: subtraction, the `-` operator, with a bool tensor is not supported, as in "
                               "PyTorch; to invert a mask use `~mask` or `mask.logical_not()`")
        a, b = promote("sub", a, b)
        ctx.shapes = (shape_of(a), shape_of(b))
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad_output, shape_a) if need_a else None,
                unbroadcast(-grad_output, shape_b) if need_b else None)


@register("mul", samples=_binary_samples)
class Mul(Function):
    """a * b."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote("mul", a, b)
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad_output * b, shape_of(a)) if need_a else None,
                unbroadcast(grad_output * a, shape_of(b)) if need_b else None)


@register("div", samples=lambda rng: _binary_samples(rng, avoid_zero=True))
class Div(Function):
    """a / b, float32 at least (integers divide truly, as PyTorch); dividing by zero gives ±inf (or NaN
    for 0/0) without a warning, as PyTorch does."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote("div", a, b, floating=True)
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = unbroadcast(grad_output / b, shape_of(a)) if need_a else None
        # (a / b) / b, PyTorch's order: b * b would underflow to 0 for |b| < 1e-19 in float32.
        grad_b = unbroadcast(-grad_output * ((a / b) / b), shape_of(b)) if need_b else None
        return grad_a, grad_b


def _remainder_samples(rng):
    """Pairs away from the jumps of a % b (where a / b is an integer) and from b = 0."""
    for shape_a, shape_b in [((3, 4), (3, 4)), ((2, 3), (3,)), ((4,), ())]:
        b = away_from(rng, shape_b, margin=0.5) * 2
        quotient = away_from(rng, shape_a, points=tuple(float(k) for k in range(-3, 4)), margin=0.1, low=-3, high=3)
        yield Sample((quotient * b, b), note=f"{shape_a} with {shape_b}")
    yield Sample((random_array(rng, 5) + 0.25, 2.0), note="tensor with a Python scalar")


def _integer_division_operands(op: str, a, b):
    """a and b promoted for % or //, refusing what PyTorch refuses: bool operands, and an integer division by
    zero (NumPy would give 0 without a word)."""
    a, b = promote(op, a, b)
    kind = np.result_type(a, b).kind
    if kind == "b":
        raise TypeError(f"{op}: not defined for bool tensors, as in PyTorch; convert them with .long()")
    if kind in "iu" and np.any(np.asarray(b) == 0):
        raise RuntimeError(f"{op}: ZeroDivisionError, an integer division by zero (as PyTorch)")
    return a, b


@register("remainder", samples=_remainder_samples)
class Remainder(Function):
    """a % b with the sign of b, as Python and PyTorch (`torch.remainder`); the gradient is 1 to a and
    -floor(a / b) to b."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = _integer_division_operands("remainder", a, b)
        ctx.save_for_backward(a, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = unbroadcast(grad_output, shape_of(a)) if need_a else None
        grad_b = unbroadcast(-grad_output * np.floor_divide(a, b), shape_of(b)) if need_b else None
        return grad_a, grad_b


class FloorDivide(Function):
    """a // b, rounded towards -inf, as PyTorch's `floor_divide`; like PyTorch's it has no derivative: a backward
    through it raises rather than send a wrong gradient (not registered: the registry checks gradients)."""

    name = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        a, b = _integer_division_operands("floor_divide", a, b)
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        raise RuntimeError("the derivative of floor_divide (//) is not implemented, as in PyTorch: it is 0 almost "
                           "everywhere and undefined at the jumps; detach() its inputs or use true division")


def _pow_samples(rng):
    base = rng.uniform(0.5, 2.0, size=(3, 4))
    yield Sample((base, 3.0), note="integer-valued exponent")
    yield Sample((base, -1.5), note="negative exponent")
    yield Sample((base, rng.uniform(-2, 2, size=(4,))), note="tensor exponent, broadcast")
    yield Sample((2.0, rng.uniform(-2, 2, size=(3,))), note="scalar base")
    yield Sample((random_array(rng, 5), 2), note="negative base, integer exponent")
    # The points at 0 where PyTorch defines a gradient by its limit (see Pow). Finite differences fail where
    # the exponent's step would leave the function's domain, so those inputs get no gradient here.
    zeros_and_more = np.array([0.0, 0.0, 0.0, 0.0, 1.5, -1.2])
    yield Sample((zeros_and_more, np.array([0.0, 1.0, 2.0, 3.0, 0.0, 2.0])), requires_grad=(True, False),
                 note="base 0 with exponents 0 to 3 (x**0 at 0), gradient to the base")
    yield Sample((zeros_and_more.copy(), 0.0), note="x**0 with x = 0 among others")
    yield Sample((np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.5, 1.5, 2.0, 1.2])), requires_grad=(False, True),
                 note="base 0 with positive exponents, gradient to the exponent")
    yield Sample((0.0, rng.uniform(0.5, 2.0, size=(3,))), note="scalar base 0 (0**x)")
    yield Sample((np.array([-2.0, -1.5, -0.5]), np.array([2.0, 3.0, -1.0])), requires_grad=(True, False),
                 note="negative base, integer exponent tensor")


@register("pow", samples=_pow_samples)
class Pow(Function):
    """a ** b. As PyTorch: the gradient to a is 0 where b == 0 (x**0 is 1 everywhere), the gradient to b,
    a**b * log(a), is 0 where a == 0 and b >= 0 (0**b is constant there) and NaN for a < 0."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote("pow", a, b)
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(np.where(b == 0, 0, grad_output * (b * np.power(a, b - 1))), shape_of(a))
        if need_b:
            constant = (a == 0) & (b >= 0)
            grad_b = unbroadcast(grad_output * np.where(constant, 0, out * np.log(a)), shape_of(b))
        return grad_a, grad_b




@register("neg", samples=unary_samples)
class Neg(Function):
    """-x."""

    @staticmethod
    def forward(ctx, x):
        if _is_bool(x):
            raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not supported, as in PyTorch; "
                               "to invert a mask use `~mask` or `mask.logical_not()`")
        return -x

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


@register("exp", samples=unary_samples)
class Exp(Function):
    """e**x; overflows to inf quietly, as PyTorch does."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("exp", x)
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out


@register("log", samples=lambda rng: unary_samples(rng, 0.2, 3.0))
class Log(Function):
    """Natural log; log(0) = -inf and log(-1) = NaN quietly, as PyTorch does."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("log", x)
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / x


@register("sqrt", samples=lambda rng: unary_samples(rng, 0.2, 3.0))
class Sqrt(Function):
    """Square root; its gradient at 0 is inf, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("sqrt", x)
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output / (2 * out)


def _abs_kinks(sample):
    return [sample.args[0] == 0]


@register("abs", samples=lambda rng: unary_samples(rng, kinks=(0.0,)), kinks=_abs_kinks)
class Abs(Function):
    """|x|; the gradient at 0 (and at NaN) is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sign = np.subtract(x > 0, x < 0, dtype=x.dtype)  # PyTorch's sign: 0 at NaN too, where np.sign gives NaN
        # an inf gradient at x == 0: inf * 0 is NaN, as in PyTorch
        return grad_output * sign


def _clip_samples(rng):
    for low, high in [(-0.5, 0.5), (None, 0.3), (-0.3, None), (0.5, -0.5)]:
        bounds = tuple(v for v in (low, high) if v is not None)
        yield Sample((away_from(rng, (4, 5), bounds, 0.05),), {"min": low, "max": high}, note=f"[{low}, {high}]")


def _clip_kinks(sample):
    x, low, high = sample.args[0], sample.attrs.get("min"), sample.attrs.get("max")
    return [((x == low) if low is not None else False) | ((x == high) if high is not None else False)]


@register("clip", samples=_clip_samples, kinks=_clip_kinks)
class Clip(Function):
    """x limited to [min, max]; the gradient passes where min <= x <= max (PyTorch's rule at the bounds).

    With min > max every element becomes max and no gradient passes, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, min=None, max=None):  # noqa: A002
        if not (x.dtype == np.float32 or x.dtype == np.float64):  # clamp(int tensor, min=0.5) is float32
            x = x.astype(result_type("clip", x, min, max), copy=False)
        inside = np.ones(x.shape, dtype=bool)
        if min is not None:
            inside &= x >= min
        if max is not None:
            inside &= x <= max
        ctx.inside = inside
        return np.clip(x, min, max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        return np.where(ctx.inside, grad_output, 0)  # where, not *: an inf gradient outside gives 0


def _cast_samples(rng):
    # Finite differences need float64 on both sides; the float32 round trip is tested in test_tensor.
    yield Sample((random_array(rng, 3, 4),), {"dtype": np.dtype(np.float64)}, note="float64 -> float64")


@register("cast", samples=_cast_samples)
class Cast(Function):
    """x converted to another float dtype; the gradient is converted back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.astype(ctx.input_dtype)
