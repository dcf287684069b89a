"""In-place ops: `x[index] = value`, `fill_`, `zero_`, `copy_`, and the arithmetic `add_ sub_ mul_ div_ clamp_`.

Each is an ordinary out-of-place Function; `Tensor._inplace` runs it and writes the result into the tensor's
own array, and when grad is recorded makes that tensor the op's output in the graph (PyTorch's semantics:
`u[u < 0] = 0` sends no gradient to the overwritten elements, `u.mul_(3)` sends 3). The registry entries
call them through the Tensor methods, on a clone of the first input, so the in-place path itself is
gradchecked.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import away_from, random_array, shape_of, unbroadcast
from .activation import LeakyReLU, ReLU
from .elementwise import Add, Clip, Div, Mul, Sub, _clip_kinks, _clip_samples
from .movement import torch_index
from .registry import Sample, register


def _setitem_samples(rng):
    x = random_array(rng, 4, 5)
    yield Sample((x, 0.0), {"index": x < 0}, note="mask, scalar value")
    yield Sample((x, random_array(rng, 5)), {"index": (slice(1, 3),)}, note="slice, value broadcast over rows")
    yield Sample((x, random_array(rng, 2, 5)), {"index": np.array([3, 0])}, note="index array")
    yield Sample((x, random_array(rng)), {"index": (1, 2)}, note="one element, 0-d tensor value")
    yield Sample((x, random_array(rng, 4, 2)), {"index": (slice(None), np.array([4, 1]))},
                 requires_grad=(False, True), note="columns of a constant tensor")
    cube = random_array(rng, 2, 3, 4)
    yield Sample((cube, random_array(rng, 3, 2)), {"index": (0, slice(None), np.array([1, 3]))},
                 note="int, slice, index array: the value has PyTorch's shape (3, 2), not NumPy's (2, 3)")


@register("setitem", samples=_setitem_samples, inplace=lambda x, value, index: x.__setitem__(index, value))
class IndexPut(Function):
    """x with x[index] = value (value broadcast); no gradient reaches the overwritten elements of x."""

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.steps, ctx.value_shape = torch_index(index, x.ndim), shape_of(value)
        out = x.copy()
        _write(out, ctx.steps, value)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        need_x, need_value = ctx.needs_input_grad
        grad_x = None
        if need_x:
            grad_x = grad_output.copy()
            _write(grad_x, ctx.steps, 0)
        grad_value = unbroadcast(_read(grad_output, ctx.steps), ctx.value_shape) if need_value else None
        return grad_x, grad_value


def _read(array: np.ndarray, steps: tuple) -> np.ndarray:
    """array[index] with PyTorch's placement of dims: `steps` from `torch_index` (a view, then the rest)."""
    for step in steps:
        array = array[step]
    return array


def _write(array: np.ndarray, steps: tuple, value) -> None:
    """array[index] = value, through the same steps (the first ones are views, so the write lands in array)."""
    _read(array, steps[:-1])[steps[-1]] = value


def _fill_samples(rng):
    yield Sample((random_array(rng, 3, 4), 1.5), note="Python number")
    yield Sample((random_array(rng, 3, 4), random_array(rng)), note="0-d tensor value")


@register("fill_", samples=_fill_samples, inplace=lambda x, value: x.fill_(value))
class Fill(Function):
    """Every element of x set to `value` (a number or a 0-d tensor, which gets the summed gradient)."""

    @staticmethod
    def forward(ctx, x, value):
        return np.full(x.shape, value, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        need_x, need_value = ctx.needs_input_grad
        return (np.zeros_like(grad_output) if need_x else None,
                grad_output.sum() if need_value else None)


@register("zero_", samples=lambda rng: [Sample((random_array(rng, 2, 3),))], inplace=lambda x: x.zero_())
class Zero(Function):
    """Every element of x set to 0."""

    @staticmethod
    def forward(ctx, x):
        return np.zeros_like(x)

    @staticmethod
    def backward(ctx, grad_output):
        return np.zeros_like(grad_output)


def _copy_samples(rng):
    yield Sample((random_array(rng, 3, 4), random_array(rng, 3, 4)), note="same shape")
    yield Sample((random_array(rng, 3, 4), random_array(rng, 4)), note="source broadcast")


@register("copy_", samples=_copy_samples, inplace=lambda x, source: x.copy_(source))
class Copy(Function):
    """x's elements replaced by `source`'s (broadcast to x's shape, converted to x's dtype)."""

    @staticmethod
    def forward(ctx, x, source):
        ctx.source_shape = shape_of(source)
        try:
            return np.broadcast_to(source, x.shape).astype(x.dtype)
        except ValueError as error:
            raise RuntimeError(f"copy_: cannot copy a source of shape {shape_of(source)} into a tensor of shape "
                               f"{x.shape} (the source must broadcast to it)") from error

    @staticmethod
    def backward(ctx, grad_output):
        need_x, need_source = ctx.needs_input_grad
        return (np.zeros_like(grad_output) if need_x else None,
                unbroadcast(grad_output, ctx.source_shape) if need_source else None)


def _inplace_binary_samples(rng, avoid_zero=False):
    """x and an operand that broadcasts to x's shape (an in-place op cannot grow x)."""
    def operand(*shape):
        return away_from(rng, shape, margin=0.3) if avoid_zero else random_array(rng, *shape)

    for shape_x, shape_other in [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3), ())]:
        yield Sample((random_array(rng, *shape_x), operand(*shape_other)), note=f"{shape_x} with {shape_other}")
    yield Sample((random_array(rng, 2, 3), 1.5), note="tensor with a Python scalar")
    yield Sample((random_array(rng, 2, 3), operand(3)), requires_grad=(False, True), note="constant x")


# The in-place arithmetic records the out-of-place op's math under the in-place name, as PyTorch's graph does.
@register("add_", samples=_inplace_binary_samples, inplace=lambda x, other: x.add_(other))
class AddInPlace(Add):
    """x += other."""


@register("sub_", samples=_inplace_binary_samples, inplace=lambda x, other: x.sub_(other))
class SubInPlace(Sub):
    """x -= other."""


@register("mul_", samples=_inplace_binary_samples, inplace=lambda x, other: x.mul_(other))
class MulInPlace(Mul):
    """x *= other."""


@register("div_", samples=lambda rng: _inplace_binary_samples(rng, avoid_zero=True),
          inplace=lambda x, other: x.div_(other))
class DivInPlace(Div):
    """x /= other."""


@register("clamp_", samples=_clip_samples, kinks=_clip_kinks, inplace=lambda x, **bounds: x.clamp_(**bounds))
class ClampInPlace(Clip):
    """x limited to [min, max], in place."""


def _activation_samples(rng):
    yield Sample((away_from(rng, (3, 4)),), note="3x4, away from the kink at 0")


@register("relu_", samples=_activation_samples, inplace=lambda x: x.relu_())
class ReLUInPlace(ReLU):
    """max(x, 0), in place (`F.relu(x, inplace=True)`, `nn.ReLU(inplace=True)`)."""


@register("leaky_relu_", samples=_activation_samples, inplace=lambda x: x.leaky_relu_(0.1))
class LeakyReLUInPlace(LeakyReLU):
    """x where x > 0, else negative_slope * x, in place."""
