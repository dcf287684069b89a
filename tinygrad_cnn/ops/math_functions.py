"""PyTorch's common math functions: log1p, expm1, square, rsqrt, reciprocal, the roundings, nan_to_num; the
reductions logsumexp, prod and cumsum; einsum and the shape-checked products (mm, bmm, dot, outer); sort and topk.

Each differentiable one is a registered Function (forward beside backward) or a few lines over registered ops.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import as_floating, away_from, expect_tensor, normalize_dim, normalize_dims, random_array, unary_samples
from .matmul import MatMul, same_dtype
from .reduce import MinMaxResult, TakeAlongDim, _expand_back
from .registry import Sample, register


def _integer_as_int64(x: np.ndarray) -> np.ndarray:
    """bool as int64, as PyTorch's arithmetic on bool tensors (square, prod, cumsum) gives."""
    return x.astype(np.int64) if x.dtype.kind == "b" else x


# ----- elementwise ---------------------------------------------------------------------------------------
@register("log1p", samples=lambda rng: unary_samples(rng, -0.8, 2.0))
class Log1p(Function):
    """log(1 + x), exact for small x; -inf at -1 and NaN below, quietly, as PyTorch."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("log1p", x)
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (1 + x)


@register("expm1", samples=unary_samples)
class Expm1(Function):
    """e**x - 1, exact for small x."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("expm1", x)
        out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out + 1)


@register("square", samples=unary_samples)
class Square(Function):
    """x * x; integer tensors stay integer and bool becomes int64, as PyTorch."""

    @staticmethod
    def forward(ctx, x):
        x = _integer_as_int64(x)
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (2 * x)


@register("rsqrt", samples=lambda rng: unary_samples(rng, 0.2, 3.0))
class Rsqrt(Function):
    """1 / sqrt(x): inf at 0 (gradient -inf), NaN below 0, as PyTorch."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("rsqrt", x)
        out = 1 / np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (-0.5 * out * out * out)


@register("reciprocal", samples=lambda rng: unary_samples(rng, kinks=(0.0,)))
class Reciprocal(Function):
    """1 / x: +-inf at +-0; integer tensors give float32, as PyTorch."""

    @staticmethod
    def forward(ctx, x):
        x = as_floating("reciprocal", x)
        out = 1 / x
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return -grad_output * (out * out)


def _rounding_samples(rng):
    # away from the integers and the halves, where the result jumps: finite differences see the flat parts
    points = tuple(np.arange(-4.0, 4.5, 0.5))
    for shape in [(), (5,), (3, 4)]:
        yield Sample((away_from(rng, shape, points, 0.05, -3.0, 3.0),), note=str(shape))


def _integer_copy(x: np.ndarray, op: str) -> np.ndarray:
    """An integer tensor rounds to a copy of itself; a bool one is refused, as PyTorch refuses it."""
    if x.dtype.kind == "b":
        raise RuntimeError(f"{op}: not implemented for bool tensors, as in PyTorch; convert with .long() first")
    return x.copy()


class _Rounding(Function):
    """Shared by floor, ceil, round and trunc: integer tensors pass unchanged; the gradient is 0 everywhere, as
    PyTorch's (the derivative is 0 except at the jumps, where there is none)."""

    @staticmethod
    def backward(ctx, grad_output):
        return np.zeros_like(grad_output)


@register("floor", samples=_rounding_samples)
class Floor(_Rounding):
    """The largest integer <= x, elementwise; gradient 0."""

    @staticmethod
    def forward(ctx, x):
        return np.floor(x) if x.dtype.kind == "f" else _integer_copy(x, "floor")


@register("ceil", samples=_rounding_samples)
class Ceil(_Rounding):
    """The smallest integer >= x, elementwise; gradient 0."""

    @staticmethod
    def forward(ctx, x):
        return np.ceil(x) if x.dtype.kind == "f" else _integer_copy(x, "ceil")


@register("trunc", samples=_rounding_samples)
class Trunc(_Rounding):
    """x rounded toward 0, elementwise; gradient 0."""

    @staticmethod
    def forward(ctx, x):
        return np.trunc(x) if x.dtype.kind == "f" else _integer_copy(x, "trunc")


@register("round", samples=lambda rng: [*_rounding_samples(rng),
                                        Sample((random_array(rng, 4) * 0.1,), {"decimals": 2}, note="decimals=2")])
class Round(_Rounding):
    """x rounded to `decimals` places, halves to even (round(2.5) = 2), as PyTorch; gradient 0."""

    @staticmethod
    def forward(ctx, x, decimals=0):
        if x.dtype.kind != "f":
            x = _integer_copy(x, "round")
            if decimals != 0:
                raise RuntimeError(f"round: decimals={decimals} is not implemented for {x.dtype} tensors, as in "
                                   "PyTorch; convert the tensor with .float() or .double() first")
            return x
        if decimals == 0:
            return np.round(x)
        # PyTorch's order: scale, round half to even, scale back (np.round(x, d) divides by 10**-d instead)
        scale = x.dtype.type(10.0 ** abs(decimals))
        return np.round(x * scale) / scale if decimals > 0 else np.round(x / scale) * scale


def _nan_to_num_samples(rng):
    x = random_array(rng, 3, 4)
    yield Sample((x,), {"nan": 0.0, "posinf": None, "neginf": None}, note="finite values pass")
    # finite differences cannot step from NaN or inf: their zero gradient is pinned in tests/test_math_more.py
    yield Sample((random_array(rng, 5),), {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}, note="replacements given")


@register("nan_to_num", samples=_nan_to_num_samples)
class NanToNum(Function):
    """x with NaN, inf and -inf replaced (by `nan`, `posinf`, `neginf`; the infinities by default by the dtype's
    largest and lowest values); the replaced elements get no gradient, as PyTorch's."""

    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        if x.dtype.kind != "f":
            return x.copy()
        finite = np.isfinite(x)
        ctx.finite = finite
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad_output):
        return np.where(ctx.finite, grad_output, 0)  # where, not *: an inf gradient on a replaced element gives 0


def isnan(x: Tensor) -> Tensor:
    """True where x is NaN (never for integer and bool tensors); a bool tensor, no gradient."""
    expect_tensor("isnan", "input", x)
    return Tensor._make(np.isnan(x._data) if x.dtype.kind == "f" else np.zeros(x.shape, np.bool_), None)


def isinf(x: Tensor) -> Tensor:
    """True where x is inf or -inf; a bool tensor, no gradient."""
    expect_tensor("isinf", "input", x)
    return Tensor._make(np.isinf(x._data) if x.dtype.kind == "f" else np.zeros(x.shape, np.bool_), None)


def isfinite(x: Tensor) -> Tensor:
    """True where x is neither NaN nor +-inf; a bool tensor, no gradient."""
    expect_tensor("isfinite", "input", x)
    return Tensor._make(np.isfinite(x._data) if x.dtype.kind == "f" else np.ones(x.shape, np.bool_), None)


# ----- reductions ----------------------------------------------------------------------------------------
def _dim_samples(rng):
    x = random_array(rng, 3, 4)
    for dim, keepdim in [(0, False), (1, True), (-1, False), ((0, 1), False)]:
        yield Sample((x,), {"dim": dim, "keepdim": keepdim}, note=f"dim={dim} keepdim={keepdim}")
    yield Sample((np.array(0.7),), {"dim": 0, "keepdim": False}, note="0-d with dim=0")


@register("logsumexp", samples=lambda rng: [*_dim_samples(rng), Sample(
    (np.array([[800.0, 799.0, -3.0], [-900.0, -901.0, -899.5]]),), {"dim": 1, "keepdim": False},
    note="large values: no overflow")])
class LogSumExp(Function):
    """log(sum(exp(x))) over dim, with the largest element taken out first so that nothing overflows.

    An empty dim gives -inf; the gradient exp(x - out) is the softmax (NaN at an inf maximum, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        x = as_floating("logsumexp", x)
        axes = normalize_dims(dim, x.ndim, "logsumexp")
        if x.size == 0:
            largest = np.zeros([1 if a in axes else n for a, n in enumerate(x.shape)], x.dtype)
        else:
            largest = x.max(axis=axes, keepdims=True)
            largest = np.where(np.isinf(largest), 0, largest)  # inf - inf would be NaN: PyTorch shifts by 0 there
        out = np.log(np.exp(x - largest).sum(axis=axes, keepdims=True)) + largest
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        return _expand_back(grad_output, x.shape, ctx.axes, ctx.keepdim) * np.exp(x - out)


def _prod_samples(rng):
    x = random_array(rng, 3, 4)
    for dim, keepdim in [(None, False), (0, False), (1, True), (-1, False)]:
        yield Sample((x,), {"dim": dim, "keepdim": keepdim}, note=f"dim={dim} keepdim={keepdim}")
    zeros = np.array([[0.0, 1.5, -2.0, 0.5], [0.0, 0.0, 1.2, -0.7], [1.1, -0.9, 0.8, 1.3]])
    yield Sample((zeros,), {"dim": 1, "keepdim": False}, note="rows with one, two and no zeros")
    yield Sample((np.array(0.7),), {"dim": 0, "keepdim": False}, note="0-d with dim=0")


@register("prod", samples=_prod_samples)
class Prod(Function):
    """The product over one dim (None: all); integer and bool tensors give int64, as PyTorch.

    The gradient of each element is the product of the others, computed from prefix and suffix products: exact
    with zeros among them (one zero: only it gets a gradient; two: none does), where out / x would be 0 / 0."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        if dim is not None:
            normalize_dim(dim, x.ndim, "prod")  # one int dim, as PyTorch's
        axes = normalize_dims(dim, x.ndim, "prod")
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        return x.prod(axis=axes, keepdims=keepdim, dtype=None if x.dtype.kind == "f" else np.int64)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad = _expand_back(grad_output, x.shape, ctx.axes, ctx.keepdim)
        if x.size == 0:
            return np.zeros(x.shape, grad.dtype)
        if not ctx.axes:
            return np.broadcast_to(grad, x.shape)
        # the reduced axes as one last axis, so that one prefix and one suffix product cover any dim
        kept = [a for a in range(x.ndim) if a not in ctx.axes]
        moved = np.transpose(x, (*kept, *ctx.axes))
        flat = moved.reshape(*moved.shape[:len(kept)], -1)
        ones = np.ones((*flat.shape[:-1], 1), x.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.flip(np.cumprod(np.flip(np.concatenate([flat[..., 1:], ones], axis=-1), -1), axis=-1), -1)
        others = np.transpose((before * after).reshape(moved.shape), np.argsort((*kept, *ctx.axes)))
        return grad * others


@register("cumsum", samples=lambda rng: [
    Sample((random_array(rng, 3, 4),), {"dim": 1}, note="along rows"),
    Sample((random_array(rng, 3, 4),), {"dim": -2}, note="along columns, dim=-2"),
    Sample((np.array(0.3),), {"dim": 0}, note="0-d"),
])
class CumSum(Function):
    """Running sums along dim; integer and bool tensors give int64, as PyTorch. The gradient is the running sum
    of the output gradient from the other end."""

    @staticmethod
    def forward(ctx, x, dim):
        axis = normalize_dim(dim, x.ndim, "cumsum")
        if x.ndim == 0:
            return x.copy() if x.dtype.kind == "f" else x.astype(np.int64)
        ctx.axis = axis
        return np.cumsum(x, axis=axis, dtype=None if x.dtype.kind == "f" else np.int64)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.ndim == 0:
            return grad_output
        return np.flip(np.cumsum(np.flip(grad_output, ctx.axis), axis=ctx.axis), ctx.axis)


# ----- products ------------------------------------------------------------------------------------------
def mm(a: Tensor, b: Tensor) -> Tensor:
    """The matrix product of two matrices, (n, k) @ (k, m) -> (n, m); no broadcasting, as PyTorch's."""
    expect_tensor("mm", "input", a)
    expect_tensor("mm", "mat2", b)
    for name, t in (("self", a), ("mat2", b)):
        if t.ndim != 2:
            raise RuntimeError(f"mm: {name} must be a matrix, got shape {t.shape}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    return MatMul.apply(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product, (B, n, k) @ (B, k, m) -> (B, n, m); no broadcasting, as PyTorch's."""
    expect_tensor("bmm", "input", a)
    expect_tensor("bmm", "mat2", b)
    for name, t in (("batch1", a), ("batch2", b)):
        if t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shape {t.shape}")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}] "
                           f"(shapes {a.shape} and {b.shape})")
    return MatMul.apply(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The inner product of two 1-D tensors of one length and dtype: a 0-d tensor."""
    expect_tensor("dot", "input", a)
    expect_tensor("dot", "tensor", b)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensors of the same number of elements, "
                           f"but got {a.shape[0]} and {b.shape[0]} elements")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot: expected both vectors to have same dtype, but found {a.dtype} and {b.dtype}")
    return MatMul.apply(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two 1-D tensors, (n,) and (m,) -> (n, m): a[i] * b[j], dtypes promoted as `*`."""
    expect_tensor("outer", "input", a)
    expect_tensor("outer", "vec2", b)
    for name, t in (("self", a), ("vec2", b)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D (shape {t.shape})")
    return a.unsqueeze(1) * b.unsqueeze(0)


_SUBSCRIPTS = re.compile(r"^[a-zA-Z]*$")


def parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """The subscripts of each operand and of the output (implicit output: the letters seen once, sorted), checked
    against the operands' shapes. Ellipses and a letter repeated within one operand are refused."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a string, got {type(equation).__name__}")
    spec = equation.replace(" ", "")
    if "." in spec:
        raise NotImplementedError(f"einsum: ellipsis ('...') is not supported (equation {equation!r}); name every "
                                  "dim with a letter")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(terms)} operands, but {len(shapes)} "
                         "were given")
    sizes: dict[str, int] = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if not _SUBSCRIPTS.match(term):
            raise ValueError(f"einsum: subscripts must be letters, got {term!r} in {equation!r}")
        if len(term) != len(shape):
            raise ValueError(f"einsum: operand {i} has {len(shape)} dims (shape {shape}) but its subscripts "
                             f"{term!r} name {len(term)}")
        if len(set(term)) != len(term):
            raise NotImplementedError(f"einsum: a letter repeated within one operand ({term!r} in {equation!r}: a "
                                      "diagonal or trace) is not supported; take the diagonal first")
        for letter, size in zip(term, shape):
            if sizes.setdefault(letter, size) != size:
                raise ValueError(f"einsum: subscript {letter!r} has size {sizes[letter]} in one operand and {size} "
                                 f"in operand {i} (equation {equation!r}, shapes {shapes})")
    if not arrow:
        counts = {letter: inputs.count(letter) for letter in sizes}
        output = "".join(sorted(letter for letter, n in counts.items() if n == 1))
    if not _SUBSCRIPTS.match(output) or len(set(output)) != len(output):
        raise ValueError(f"einsum: the output subscripts {output!r} must be distinct letters ({equation!r})")
    unknown = set(output) - set(sizes)
    if unknown:
        raise ValueError(f"einsum: output subscript(s) {sorted(unknown)} appear in no operand ({equation!r})")
    return terms, output


def _einsum_samples(rng):
    cases: list[tuple[str, list[tuple[int, ...]]]] = [
        ("ij,jk->ik", [(3, 4), (4, 2)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]), ("ij->ji", [(3, 4)]),
        ("ij->i", [(3, 4)]), ("i,j->ij", [(3,), (4,)]), ("ij,ij->", [(3, 4), (3, 4)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ijk,j->ik", [(2, 3, 4), (3,)]), ("ij,jk", [(2, 3), (3, 2)])]
    for equation, shapes in cases:
        yield Sample(tuple(random_array(rng, *shape) for shape in shapes), {"equation": equation}, note=equation)


@register("einsum", samples=_einsum_samples)
class Einsum(Function):
    """Einstein summation over the operands, as `equation` names their dims (no ellipsis, no repeated letter
    within one operand). The gradient of an operand is the einsum of the output gradient with the others."""

    @staticmethod
    def forward(ctx, *operands, equation):
        operands = tuple(np.asarray(a) for a in operands)
        if len({a.dtype for a in operands}) > 1:
            same_dtype("einsum", **{f"operand {i}": a for i, a in enumerate(operands)})
        ctx.terms, ctx.output = parse_einsum(equation, [a.shape for a in operands])
        ctx.save_for_backward(*operands)
        return np.einsum(f"{','.join(ctx.terms)}->{ctx.output}", *operands, optimize=len(operands) > 2)

    @staticmethod
    def backward(ctx, grad_output):
        operands = ctx.saved_tensors
        grads: list[np.ndarray | None] = []
        for i, (term, operand) in enumerate(zip(ctx.terms, operands)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(t, a) for j, (t, a) in enumerate(zip(ctx.terms, operands)) if j != i]
            seen = set(ctx.output).union(*(t for t, _ in others))
            # letters only this operand has were summed away: its gradient is constant along them
            kept = "".join(letter for letter in term if letter in seen)
            spec = ",".join([ctx.output, *(t for t, _ in others)]) + "->" + kept
            grad = np.einsum(spec, grad_output, *(a for _, a in others), optimize=len(others) > 1)
            grad = grad.reshape([n if letter in seen else 1 for letter, n in zip(term, operand.shape)])
            grads.append(np.broadcast_to(grad, operand.shape))
        return tuple(grads)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, `tc.einsum("ij,jk->ik", a, b)`; operands also as one list, as PyTorch's.

    Ellipses and a letter repeated within one operand (diagonals, traces) are refused with NotImplementedError."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, operand in enumerate(operands):
        expect_tensor("einsum", f"operands[{i}]", operand)
    return Einsum.apply(*operands, equation=equation)


# ----- sorting -------------------------------------------------------------------------------------------
def _sort_indices(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sort order along axis; NaN counts as the largest value, as in PyTorch."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # Sorting the reversed array and reversing the order keeps ties in their first order, NaN first.
    reversed_order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return x.shape[axis] - 1 - np.flip(reversed_order, axis)


def _check_sortable(x: Tensor, op: str) -> None:
    expect_tensor(op, "input", x)
    if x.dtype.kind == "b" and op == "topk":
        raise RuntimeError('topk: "topk_cpu" not implemented for bool tensors, as in PyTorch')


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort x along dim (int64, no gradient); ties keep their order, NaN sorts as the largest."""
    _check_sortable(x, "argsort")
    axis = normalize_dim(dim, x.ndim, "argsort")
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64), None)
    return Tensor._make(_sort_indices(x._data, axis, descending).astype(np.int64), None)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> MinMaxResult:
    """x sorted along dim, as `(values, indices)` (also `.values`, `.indices`); the gradient flows through the
    values back to where each came from. Ties keep their order; NaN sorts as the largest, as in PyTorch."""
    indices = argsort(x, dim, descending, stable)
    return MinMaxResult(_gather(x, indices, dim), indices)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> MinMaxResult:  # noqa: A002
    """The k largest (or smallest) elements along dim, as `(values, indices)`, always sorted; the gradient flows
    through the values. NaN counts as the largest value, as in PyTorch."""
    _check_sortable(x, "topk")
    axis = normalize_dim(dim, x.ndim, "topk")
    size = x.shape[axis] if x.ndim else 1
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"topk: k must be an int, got {k!r}")
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k out of range: k={k} for dim {dim} of size {size} "
                           f"(shape {x.shape})")
    if x.ndim == 0:
        indices = Tensor._make(np.zeros((), np.int64), None)
    else:
        order = _sort_indices(x._data, axis, descending=largest)
        indices = Tensor._make(np.take(order, np.arange(k), axis=axis).astype(np.int64), None)
    return MinMaxResult(_gather(x, indices, dim), indices)


def _gather(x: Tensor, indices: Tensor, dim: int) -> Tensor:
    """x's elements at `indices` along dim, through the registered take_along_dim (a 0-d x is its one element)."""
    if x.ndim == 0:
        return TakeAlongDim.apply(x.reshape(1), np.zeros(1, np.int64), dim=0).reshape(())
    return TakeAlongDim.apply(x, indices._data, dim=dim)
