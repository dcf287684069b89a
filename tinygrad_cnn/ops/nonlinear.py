"""The activation functions beyond relu/sigmoid/tanh/leaky_relu/softmax (which live in activation.py):
gelu, silu, mish, softplus, elu, selu, hardtanh, relu6, hardswish, hardsigmoid, logsigmoid, softsign.

Each is one Function, forward beside backward, written after PyTorch's CPU kernels (the same branches at the
same points, so the gradient at a kink is PyTorch's) in a form that stays exact for any finite input:
no overflow warning, no inf * 0, and the far tails as accurate as the float format allows. Infinite and NaN
inputs give what PyTorch's formulas give (NaN for gelu(-inf), as x * 0 there); at a NaN input the gradient takes
the branch of PyTorch's scalar kernel (its vectorised one may differ: PyTorch's result depends on the position).

The public functions at the end take `inplace=` where PyTorch does: the result is then written into the input
tensor through `Tensor._inplace`, which records the op in the graph as PyTorch's in-place activations do.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import DEFAULT_DTYPE, Tensor
from ._special import erfc
from ._util import away_from, expect_tensor
from .activation import stable_sigmoid
from .registry import Sample, register


def _require_float(x: np.ndarray, op: str) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype} (PyTorch has no {op} for "
                        "integer or bool tensors; convert with .float() first)")


def real_number(value: Any, name: str, op: str) -> float:
    """A finite-or-infinite real number as a Python float (a NumPy float64 scalar would promote float32 data)."""
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    return float(value)


# ----- samples ----------------------------------------------------------------------------------------------
SHAPES = [(), (7,), (3, 4), (2, 3, 4)]


def _inputs(rng: np.random.Generator, low: float = -3.0, high: float = 3.0, kinks: tuple = ()):
    """One float64 input per shape, no element near a kink: there the registry's central differences average the
    one-sided derivatives, which PyTorch's gradient (one of them) need not equal. tests/test_nonlinear.py checks
    the gradient exactly on each kink, against PyTorch and as lying between the one-sided derivatives."""
    for shape in SHAPES:
        yield away_from(rng, shape, kinks, 0.1, low, high) if kinks else rng.uniform(low, high, size=shape)


def _unary_samples(low: float = -3.0, high: float = 3.0, kinks: tuple = (), **attrs: Any):
    def samples(rng: np.random.Generator):
        for x in _inputs(rng, low, high, kinks):
            yield Sample((x,), dict(attrs), note=f"{x.shape} {attrs}" if attrs else str(x.shape))
    return samples


def _kinks_at(*points: float):
    def kinks(sample: Sample) -> list:
        return [np.isin(sample.args[0], points)]
    return kinks


# x * f(x) with f(±inf) = 0 is NaN at x = ±inf, as in PyTorch's kernels (the limit would be 0): quietly.
def _inf_times_zero() -> np.errstate:
    return np.errstate(invalid="ignore")


# ----- smooth activations -----------------------------------------------------------------------------------
_SQRT_HALF = math.sqrt(0.5)
_ONE_OVER_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_BETA = math.sqrt(2 / math.pi)  # PyTorch's kBeta = M_SQRT2 * M_2_SQRTPI * 0.5
_TANH_KAPPA = 0.044715
_TANH_SLOPE_LIMIT = 1e5  # beyond it sigmoid(2u) is exactly 0 or 1 in float32 and float64: the slope term is 0


def _gelu_samples(rng):
    for approximate in ("none", "tanh"):
        for x in _inputs(rng, -5.0, 5.0):
            yield Sample((x,), {"approximate": approximate}, note=f"{x.shape} approximate={approximate}")


@register("gelu", samples=_gelu_samples)
class GELU(Function):
    """x * Phi(x), Phi the standard normal CDF: exact through erfc (approximate='none'), or PyTorch's
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3))) (approximate='tanh')."""

    @staticmethod
    def forward(ctx, x, approximate="none"):
        _require_float(x, "gelu")
        ctx.approximate = approximate
        if approximate == "none":
            # Phi(x) = erfc(-x / sqrt 2) / 2 (not (1 + erf) / 2, which is 0 for x < -8 instead of 1e-16 and below)
            cdf = (0.5 * erfc(x * -_SQRT_HALF)).astype(x.dtype, copy=False)
            ctx.save_for_backward(x, cdf)
            with _inf_times_zero():
                return x * cdf
        if approximate == "tanh":
            # (1 + tanh(u)) / 2 = sigmoid(2u): no cancellation in the left tail, where 1 + tanh(u) loses digits
            with np.errstate(over="ignore"):  # x**3 overflows to ±inf for huge x: sigmoid is then 0 or 1, its limit
                half_one_plus_tanh = stable_sigmoid(2 * _TANH_BETA * (x + _TANH_KAPPA * (x * x * x)))
            ctx.save_for_backward(x, half_one_plus_tanh)
            with _inf_times_zero():
                return x * half_one_plus_tanh
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    @staticmethod
    def backward(ctx, grad_output):
        x, saved = ctx.saved_tensors
        if ctx.approximate == "none":
            with np.errstate(over="ignore", invalid="ignore"):  # x*x = inf for huge x: the density is exactly 0
                density = np.exp(-0.5 * (x * x)) * _ONE_OVER_SQRT_2PI
                return grad_output * (saved + x * density)
        # With s = (1 + t)/2, t = tanh(u): d/dx = s + x/2 (1 - t**2) u'(x) = s + 2 x s (1 - s) u'(x). Beyond
        # |x| = 1e5, s (1 - s) is exactly 0 but u'(x) may overflow (0 * inf): clipping x there changes nothing else.
        s = saved
        x_slope = np.clip(x, -_TANH_SLOPE_LIMIT, _TANH_SLOPE_LIMIT)
        inner_slope = _TANH_BETA * (1 + 3 * _TANH_KAPPA * (x_slope * x_slope))
        return grad_output * (s + 2 * x_slope * (s * (1 - s)) * inner_slope)


@register("silu", samples=_unary_samples(-6.0, 6.0))
class SiLU(Function):
    """x * sigmoid(x) (swish)."""

    @staticmethod
    def forward(ctx, x):
        _require_float(x, "silu")
        sigmoid = stable_sigmoid(x)
        ctx.save_for_backward(x, sigmoid)
        with _inf_times_zero():
            return x * sigmoid

    @staticmethod
    def backward(ctx, grad_output):
        x, sigmoid = ctx.saved_tensors
        with _inf_times_zero():
            return grad_output * sigmoid * (1 + x * (1 - sigmoid))


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e**z) without overflow: max(z, 0) + log1p(e**-|z|)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


@register("mish", samples=_unary_samples(-6.0, 6.0))
class Mish(Function):
    """x * tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        _require_float(x, "mish")
        tanh_softplus = np.tanh(_softplus(x))
        ctx.save_for_backward(x, tanh_softplus)
        with _inf_times_zero():
            return x * tanh_softplus

    @staticmethod
    def backward(ctx, grad_output):
        x, tanh_softplus = ctx.saved_tensors
        # softplus'(x) = sigmoid(x); PyTorch's formula term for term
        with _inf_times_zero():
            return grad_output * (tanh_softplus + x * stable_sigmoid(x) * (1 - tanh_softplus * tanh_softplus))


def _softplus_samples(rng):
    # x * beta > threshold is the linear branch; the inputs keep a margin from threshold / beta, where the
    # function jumps (by log1p(e**threshold) / beta - threshold / beta).
    for attrs, low, high in [({}, -30.0, 30.0), ({"beta": 2.0, "threshold": 1.0}, -2.0, 2.0),
                             ({"beta": -1.5, "threshold": 3.0}, -4.0, 4.0), ({"beta": 0.5, "threshold": 5.0}, -20, 20)]:
        jump_at = attrs.get("threshold", 20.0) / attrs.get("beta", 1.0)
        for shape in SHAPES:
            x = away_from(rng, shape, (jump_at,), 0.3, low, high)
            yield Sample((x,), attrs, note=f"{shape} {attrs}")


@register("softplus", samples=_softplus_samples)
class Softplus(Function):
    """log(1 + e**(beta x)) / beta, and x itself where beta * x > threshold (PyTorch's linear branch)."""

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        _require_float(x, "softplus")
        beta, threshold = real_number(beta, "beta", "softplus"), real_number(threshold, "threshold", "softplus")
        if beta == 0:
            raise ValueError("softplus: beta must be non-zero (log(1 + e**(beta x)) / beta is 0 / 0 at beta = 0)")
        with np.errstate(over="ignore"):  # beta * x = ±inf only past the threshold or where e**x is 0 anyway
            scaled = x * beta
        linear = scaled > threshold
        ctx.save_for_backward(scaled)
        ctx.linear = linear
        return np.where(linear, x, _softplus(scaled) / beta)

    @staticmethod
    def backward(ctx, grad_output):
        (scaled,) = ctx.saved_tensors
        return np.where(ctx.linear, grad_output, grad_output * stable_sigmoid(scaled))


# ----- exponential linear units -----------------------------------------------------------------------------
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu_forward(ctx, x, alpha, scale, op):
    _require_float(x, op)
    alpha = real_number(alpha, "alpha", op)
    ctx.save_for_backward(x)
    ctx.alpha, ctx.scale = alpha, scale
    negative = np.expm1(np.minimum(x, 0)) * (alpha * scale)  # min: no overflow in the branch not taken
    with np.errstate(over="ignore"):  # selu: scale * x beyond the float maximum is inf, as in PyTorch
        return np.where(x <= 0, negative, x * scale)  # x <= 0 as PyTorch's kernel


def _elu_backward(ctx, grad_output):
    (x,) = ctx.saved_tensors
    negative_slope = np.exp(np.minimum(x, 0)) * (ctx.alpha * ctx.scale)
    return grad_output * np.where(x <= 0, negative_slope, ctx.scale)


@register("elu", samples=lambda rng: [s for alpha in (1.0, 0.5, 2.5)
                                      for s in _unary_samples(kinks=(0.0,), alpha=alpha)(rng)],
          kinks=_kinks_at(0.0))
class ELU(Function):
    """x where x > 0, else alpha * (e**x - 1); the gradient at 0 is alpha (the left one), as PyTorch's."""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        return _elu_forward(ctx, x, alpha, 1.0, "elu")

    backward = staticmethod(_elu_backward)


@register("selu", samples=_unary_samples(kinks=(0.0,)), kinks=_kinks_at(0.0))
class SELU(Function):
    """scale * elu(x, alpha) with SELU's fixed alpha = 1.6733 and scale = 1.0507 (self-normalising)."""

    @staticmethod
    def forward(ctx, x):
        return _elu_forward(ctx, x, _SELU_ALPHA, _SELU_SCALE, "selu")

    backward = staticmethod(_elu_backward)


# ----- piecewise linear -------------------------------------------------------------------------------------
def _hardtanh_forward(ctx, x, min_val, max_val, op):
    """clip(x, min_val, max_val), integers included (as PyTorch); remembers where the gradient is cut."""
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{op}: expected a number tensor, got {x.dtype}")
    min_val, max_val = real_number(min_val, "min_val", op), real_number(max_val, "max_val", op)
    if min_val > max_val:
        raise ValueError(f"{op}: min_val cannot be greater than max_val, got min_val={min_val}, max_val={max_val}")
    ctx.outside = (x <= min_val) | (x >= max_val)  # PyTorch's rule: no gradient on the bounds themselves
    return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)


def _hardtanh_backward(ctx, grad_output):
    return np.where(ctx.outside, 0, grad_output)


def _hardtanh_samples(rng):
    for attrs in ({}, {"min_val": -0.5, "max_val": 2.0}, {"min_val": 0.3, "max_val": 0.3}):
        low, high = attrs.get("min_val", -1.0), attrs.get("max_val", 1.0)
        for x in _inputs(rng, low - 1, high + 1, kinks=(low, high)):
            yield Sample((x,), attrs, note=f"{x.shape} {attrs}")


def _hardtanh_kinks(sample):
    return [np.isin(sample.args[0], (sample.attrs.get("min_val", -1.0), sample.attrs.get("max_val", 1.0)))]


@register("hardtanh", samples=_hardtanh_samples, kinks=_hardtanh_kinks)
class Hardtanh(Function):
    """x clipped to [min_val, max_val]; the gradient is 0 on the bounds, as PyTorch's."""

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        return _hardtanh_forward(ctx, x, min_val, max_val, "hardtanh")

    backward = staticmethod(_hardtanh_backward)


@register("relu6", samples=_unary_samples(-2.0, 8.0, kinks=(0.0, 6.0)), kinks=_kinks_at(0.0, 6.0))
class ReLU6(Function):
    """min(max(x, 0), 6); the gradient is 0 at 0 and at 6, as PyTorch's."""

    @staticmethod
    def forward(ctx, x):
        return _hardtanh_forward(ctx, x, 0.0, 6.0, "relu6")

    backward = staticmethod(_hardtanh_backward)


@register("hardswish", samples=_unary_samples(-5.0, 5.0, kinks=(-3.0, 3.0)), kinks=_kinks_at(-3.0, 3.0))
class Hardswish(Function):
    """x * relu6(x + 3) / 6; the gradient at -3 is 0 and at 3 is 1 (the left and right ones), as PyTorch 2's."""

    @staticmethod
    def forward(ctx, x):
        _require_float(x, "hardswish")
        ctx.save_for_backward(x)
        with _inf_times_zero():
            return x * (np.clip(x + 3, 0, 6) / 6)  # not (x * clip) / 6, which overflows near the float maximum

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        slope = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))  # PyTorch's branches
        return grad_output * slope.astype(grad_output.dtype, copy=False)


@register("hardsigmoid", samples=_unary_samples(-5.0, 5.0, kinks=(-3.0, 3.0)), kinks=_kinks_at(-3.0, 3.0))
class Hardsigmoid(Function):
    """relu6(x + 3) / 6; the gradient is 0 at ±3 (PyTorch's; its float64 slope is 1/6 rounded to float32, ours
    is 1/6)."""

    @staticmethod
    def forward(ctx, x):
        _require_float(x, "hardsigmoid")
        ctx.inside = (x > -3) & (x < 3)
        return np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad_output):
        return np.where(ctx.inside, grad_output / 6, 0)


# ----- sigmoid-like -----------------------------------------------------------------------------------------
@register("logsigmoid", samples=_unary_samples(-8.0, 8.0))
class LogSigmoid(Function):
    """log(sigmoid(x)) = min(x, 0) - log1p(e**-|x|), exact in both tails."""

    @staticmethod
    def forward(ctx, x):
        _require_float(x, "logsigmoid")
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * stable_sigmoid(-x)


@register("softsign", samples=_unary_samples(-5.0, 5.0))
class Softsign(Function):
    """x / (1 + |x|)."""

    @staticmethod
    def forward(ctx, x):
        _require_float(x, "softsign")
        denominator = 1 + np.abs(x)
        ctx.save_for_backward(1 / denominator)
        with np.errstate(invalid="ignore"):  # inf / inf is NaN, as PyTorch's x / (1 + |x|)
            return x / denominator

    @staticmethod
    def backward(ctx, grad_output):
        (reciprocal,) = ctx.saved_tensors
        return grad_output * (reciprocal * reciprocal)  # 1 / (1 + |x|)**2 without squaring a huge number


# ----- the public functions (F.gelu etc.) -------------------------------------------------------------------
def _run(function: type[Function], input: Tensor, inplace: bool, **attrs: Any) -> Tensor:
    """function applied to input, or written into it when `inplace` (PyTorch's `F.elu(x, inplace=True)`)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{function.name}: input must be a Tensor, got {type(input).__name__}")
    return input._inplace(function, **attrs) if inplace else function.apply(input, **attrs)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation; any shape."""
    return _run(GELU, input, False, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x); any shape."""
    return _run(SiLU, input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)); any shape."""
    return _run(Mish, input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e**(beta x)) / beta, linear (x) where beta * x > threshold; any shape."""
    return _run(Softplus, input, False, beta=beta, threshold=threshold)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha * (e**x - 1); any shape."""
    return _run(ELU, input, inplace, alpha=alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """1.0507 * elu(x, alpha=1.6733); any shape."""
    return _run(SELU, input, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]; any shape."""
    return _run(Hardtanh, input, inplace, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6); any shape."""
    return _run(ReLU6, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6; any shape."""
    return _run(Hardswish, input, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6; any shape."""
    return _run(Hardsigmoid, input, inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)); any shape."""
    return _run(LogSigmoid, input, False)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|); any shape. An integer input gives float32, as in PyTorch."""
    if isinstance(input, Tensor) and input.dtype.kind != "f":
        input = input.to(DEFAULT_DTYPE)
    return _run(Softsign, input, False)


# ----- prelu: a leaky relu with learnt slopes -------------------------------------------------------------------
def _prelu_samples(rng: np.random.Generator):
    for shape, slopes in [((3, 4), 4), ((2, 3, 2, 2), 3), ((2, 3), 1), ((5,), 1), ((), 1)]:
        yield Sample((away_from(rng, shape, (0.0,), 0.1, -3.0, 3.0), rng.uniform(-0.5, 0.5, slopes)),
                     note=f"{shape} {slopes} slopes")


@register("prelu", samples=_prelu_samples, kinks=lambda sample: [sample.args[0] == 0, None])
class PReLU(Function):
    """x where x > 0, else weight * x, with one slope (weight of 1 element) or one per channel (dim 1)."""

    @staticmethod
    def forward(ctx, x, weight):
        _require_float(x, "prelu")
        if weight.ndim > 1:
            raise ValueError(f"prelu: expected weight to be a scalar or 1-D tensor, got shape {weight.shape}")
        if weight.dtype != x.dtype:
            raise TypeError(f"prelu: weight has dtype {weight.dtype} but the input has {x.dtype}; "
                            "convert one so that they match")
        channels = x.shape[1] if x.ndim >= 2 else 1
        if weight.size != 1 and weight.size != channels:
            raise ValueError(f"prelu: mismatch of parameter numbers and input channel size: found {weight.size} "
                             f"parameters and channel size {channels} (input of shape {x.shape})")
        per_channel = weight.reshape((1, -1) + (1,) * (x.ndim - 2)) if weight.size != 1 else weight.reshape(())
        positive = x > 0
        ctx.save_for_backward(x, per_channel)
        ctx.positive, ctx.weight_shape = positive, weight.shape
        return np.where(positive, x, per_channel * x)

    @staticmethod
    def backward(ctx, grad_output):
        x, per_channel = ctx.saved_tensors
        need_x, need_weight = ctx.needs_input_grad[:2]
        grad_x = np.where(ctx.positive, grad_output, per_channel * grad_output) if need_x else None
        grad_weight = None
        if need_weight:
            slope_grad = np.where(ctx.positive, 0, x * grad_output)
            if per_channel.ndim == 0:
                grad_weight = slope_grad.sum().reshape(ctx.weight_shape)
            else:
                grad_weight = slope_grad.sum(axis=(0, *range(2, x.ndim))).reshape(ctx.weight_shape)
        return grad_x, grad_weight


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight * x; weight: 1 element, or (C,) for the channels (dim 1) of the input."""
    expect_tensor("prelu", "input", input)
    expect_tensor("prelu", "weight", weight)
    return PReLU.apply(input, weight)
