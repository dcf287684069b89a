"""Top-level functions that mirror Tensor methods, as PyTorch's: `tc.sum(x, 1)` is `x.sum(1)`.

Many shadow Python's builtins here (sum, max, abs...): this module uses `builtins.` for those.

Where PyTorch's function takes `out=`, so does ours: the result is computed as usual, then written into `out`
in place (through `copy_`, so its version counter moves; a result of another dtype is cast to out's where
PyTorch casts). `out` must have the result's shape, or no elements (it is then resized). As in PyTorch, `out=`
records no gradient: it is refused while grad is recorded and an input or `out` requires grad.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import is_grad_enabled
from .ops import math_functions as _math
from .ops import reduce as _reduce
from .ops._util import expect_tensor
from .ops.pointwise import maximum, minimum
from .tensor import Tensor, scaled_operand


def _into(op: str, out: Tensor | None, inputs: tuple, compute: Callable[[], Tensor]) -> Tensor:
    """compute(), written into `out` when one is given (checked before anything is computed or changed)."""
    if out is None:
        return compute()
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if is_grad_enabled() and builtins.any(isinstance(t, Tensor) and t.requires_grad for t in (*inputs, out)):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad; drop out= or compute under tc.no_grad()")
    result = compute()
    if not np.can_cast(result.dtype, out.dtype, "same_kind"):
        raise RuntimeError(f"{op}(): result type {result.dtype} can't be cast to the desired output type "
                           f"{out.dtype} (out=)")
    if out.shape != result.shape:
        if out.numel() != 0:
            raise RuntimeError(f"{op}(): out has shape {out.shape} but the result has shape {result.shape}; give "
                               "out the result's shape (or no elements, to have it resized)")
        out._data = np.empty(result.shape, out.dtype)  # PyTorch resizes an out without elements, silently
    return out.copy_(result)


def _binary(op: str, input: Any, other: Any) -> None:
    """PyTorch's rule for add, mul...: input is a Tensor, or a number when other is one."""
    number = isinstance(input, (int, float, np.number)) and isinstance(other, Tensor)
    if not (isinstance(input, Tensor) or number):
        expect_tensor(op, "input", input)


# ----- arithmetic ----------------------------------------------------------------------------------------
def add(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + alpha * other."""
    _binary("add", input, other)
    return _into("add", out, (input, other), lambda: input + scaled_operand("add", input, other, alpha))


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input - alpha * other."""
    _binary("sub", input, other)
    return _into("sub", out, (input, other), lambda: input - scaled_operand("sub", input, other, alpha))


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """input * other."""
    _binary("mul", input, other)
    return _into("mul", out, (input, other), lambda: input * other)


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """input / other (true division only)."""
    _binary("div", input, other)
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode={rounding_mode!r} is not supported, only None (true division)")
    return _into("div", out, (input, other), lambda: input / other)


def pow(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A001 (PyTorch's name)
    """input ** exponent."""
    _binary("pow", input, exponent)
    return _into("pow", out, (input, exponent), lambda: input ** exponent)


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The matrix product, as `input @ other`."""
    expect_tensor("matmul", "input", input)
    expect_tensor("matmul", "other", other)
    return _into("matmul", out, (input, other), lambda: input @ other)


# ----- elementwise ---------------------------------------------------------------------------------------
def _unary(op: str, input: Tensor, out: Tensor | None, compute: Callable[[], Tensor]) -> Tensor:
    expect_tensor(op, "input", input)
    return _into(op, out, (input,), compute)


def exp(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """e ** input."""
    return _unary("exp", input, out, lambda: input.exp())


def log(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The natural logarithm."""
    return _unary("log", input, out, lambda: input.log())


def sqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The square root."""
    return _unary("sqrt", input, out, lambda: input.sqrt())


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001 (PyTorch's name)
    """|input|."""
    return _unary("abs", input, out, lambda: input.abs())


def sigmoid(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """1 / (1 + e ** -input)."""
    return _unary("sigmoid", input, out, lambda: input.sigmoid())


def tanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The hyperbolic tangent."""
    return _unary("tanh", input, out, lambda: input.tanh())


def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input limited to [min, max] (either may be None)."""
    return _unary("clamp", input, out, lambda: input.clamp(min, max))


clip = clamp


def relu(input: Tensor) -> Tensor:
    """max(input, 0)."""
    expect_tensor("relu", "input", input)
    return input.relu()


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Softmax over dim; `dtype` converts input first."""
    expect_tensor("softmax", "input", input)
    return (input if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Log-softmax over dim; `dtype` converts input first."""
    expect_tensor("log_softmax", "input", input)
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)


# ----- reductions ----------------------------------------------------------------------------------------
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,  # noqa: A001
        out: Tensor | None = None) -> Tensor:
    """The sum over dim (None: all)."""
    return _unary("sum", input, out, lambda: input.sum(dim, keepdim, dtype=dtype))


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Tensor | None = None) -> Tensor:
    """The mean over dim (None: all)."""
    return _unary("mean", input, out, lambda: input.mean(dim, keepdim, dtype=dtype))


def _extremum(op: str, input: Tensor, dim: Any, keepdim: bool, out: Any, largest: bool) -> Any:
    expect_tensor(op, "input", input)
    if isinstance(dim, Tensor):  # tc.max(input, other)
        return _into(op, out, (input, dim), lambda: (maximum if largest else minimum)(input, dim))
    if out is not None:
        raise TypeError(f"{op}(): out= is supported only for {op}(input, other), not with a dim")
    return input.max(dim, keepdim) if largest else input.min(dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Any:  # noqa: A001
    """max(input): the largest element; max(input, dim): the pair (values, indices); max(input, other): the
    elementwise maximum."""
    return _extremum("max", input, dim, keepdim, out, largest=True)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Any:  # noqa: A001
    """min(input): the smallest element; min(input, dim): the pair (values, indices); min(input, other): the
    elementwise minimum."""
    return _extremum("min", input, dim, keepdim, out, largest=False)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the first largest element (over dim), int64."""
    expect_tensor("argmax", "input", input)
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the first smallest element (over dim), int64."""
    expect_tensor("argmin", "input", input)
    return input.argmin(dim, keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, out: Tensor | None = None,
         dtype: Any = None) -> Tensor:
    """The vector p-norm over dim (None: all), as `Tensor.norm`."""
    return _unary("norm", input, out, lambda: _reduce.norm(input, p, dim, keepdim, dtype))


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element (over dim) is nonzero."""
    expect_tensor("all", "input", input)
    return input.all(dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether some element (over dim) is nonzero."""
    expect_tensor("any", "input", input)
    return input.any(dim, keepdim)


def numel(input: Tensor) -> int:
    """The number of elements."""
    expect_tensor("numel", "input", input)
    return input.numel()


# ----- shape -------------------------------------------------------------------------------------------
def reshape(input: Tensor, shape: Any) -> Tensor:
    """input's elements in `shape` (one dim may be -1)."""
    expect_tensor("reshape", "input", input)
    return input.reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims start_dim..end_dim merged into one."""
    expect_tensor("flatten", "input", input)
    return input.flatten(start_dim, end_dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """dim0 and dim1 swapped."""
    expect_tensor("transpose", "input", input)
    return input.transpose(dim0, dim1)


def t(input: Tensor) -> Tensor:
    """A matrix transposed; a vector or a 0-d tensor as it is."""
    expect_tensor("t", "input", input)
    return input.t()


def permute(input: Tensor, dims: Any) -> Tensor:
    """The dims reordered."""
    expect_tensor("permute", "input", input)
    return input.permute(dims)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Dims of size 1 removed (all, or those of dim)."""
    expect_tensor("squeeze", "input", input)
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A dim of size 1 inserted at dim."""
    expect_tensor("unsqueeze", "input", input)
    return input.unsqueeze(dim)


# ----- comparisons -------------------------------------------------------------------------------------
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether |input - other| <= atol + rtol * |other| everywhere (broadcast); the dtypes must match, as
    PyTorch's."""
    expect_tensor("allclose", "input", input)
    expect_tensor("allclose", "other", other)
    if input.dtype != other.dtype:
        raise RuntimeError(f"allclose: {input.dtype} did not match {other.dtype}; convert one with .to(dtype)")
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both have the same shape and equal elements (NaN equals nothing)."""
    expect_tensor("equal", "input", input)
    expect_tensor("equal", "other", other)
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


# ----- more shape and indexing (ops/indexing.py) --------------------------------------------------------
def is_tensor(obj: Any) -> bool:
    """Whether obj is a Tensor."""
    return isinstance(obj, Tensor)


def clone(input: Tensor) -> Tensor:
    """A copy with its own memory that stays in the graph, as `Tensor.clone`."""
    expect_tensor("clone", "input", input)
    return input.clone()


def flip(input: Tensor, dims: Any) -> Tensor:
    """input's elements in reverse order along each of `dims`, as `Tensor.flip`."""
    expect_tensor("flip", "input", input)
    return input.flip(dims)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """input's elements shifted along dims, wrapping around, as `Tensor.roll`."""
    expect_tensor("roll", "input", input)
    return input.roll(shifts, dims)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None) -> Tensor:
    """Each entry along `dim` (None: of the flattened input) repeated `repeats` times, as
    `Tensor.repeat_interleave`; `repeat_interleave(counts)` repeats each position i counts[i] times."""
    expect_tensor("repeat_interleave", "input", input)
    return input.repeat_interleave(repeats, dim)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of tensor cut along `dim`, as `Tensor.split`."""
    expect_tensor("split", "tensor", tensor)
    return tensor.split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` views of input cut along `dim`, as `Tensor.chunk`."""
    expect_tensor("chunk", "input", input)
    return input.chunk(chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of input along `dim`, each without that dim, as `Tensor.unbind`."""
    expect_tensor("unbind", "input", input)
    return input.unbind(dim)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Values of input picked along `dim` by an integer `index`, as `Tensor.gather`."""
    expect_tensor("gather", "input", input)
    return input.gather(dim, index)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of input along `dim` at the positions of a 1-d integer `index`, as `Tensor.index_select`."""
    expect_tensor("index_select", "input", input)
    return input.index_select(dim, index)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any) -> Tensor:
    """A copy of input with src's values (a tensor or a number) written where index points along dim, as
    `Tensor.scatter`."""
    expect_tensor("scatter", "input", input)
    return input.scatter(dim, index, src)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src's values added where index points along dim, as `Tensor.scatter_add`."""
    expect_tensor("scatter_add", "input", input)
    return input.scatter_add(dim, index, src)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """A copy of input with `value` where the bool `mask` is True, as `Tensor.masked_fill`."""
    expect_tensor("masked_fill", "input", input)
    return input.masked_fill(mask, value)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of input's last two dims, the rest 0, as `Tensor.tril`."""
    expect_tensor("tril", "input", input)
    return input.tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of input's last two dims, the rest 0, as `Tensor.triu`."""
    expect_tensor("triu", "input", input)
    return input.triu(diagonal)


# ----- common math functions (ops/math_functions.py) -----------------------------------------------------
def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-input."""
    return _unary("neg", input, out, lambda: input.neg())


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(1 + input), exact for small values."""
    return _unary("log1p", input, out, lambda: input.log1p())


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """e ** input - 1, exact for small values."""
    return _unary("expm1", input, out, lambda: input.expm1())


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input * input; integer tensors stay integer."""
    return _unary("square", input, out, lambda: input.square())


def rsqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """1 / sqrt(input)."""
    return _unary("rsqrt", input, out, lambda: input.rsqrt())


def reciprocal(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """1 / input; integer tensors give float32."""
    return _unary("reciprocal", input, out, lambda: input.reciprocal())


def floor(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The largest integer <= each element; gradient 0."""
    return _unary("floor", input, out, lambda: input.floor())


def ceil(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The smallest integer >= each element; gradient 0."""
    return _unary("ceil", input, out, lambda: input.ceil())


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001 (PyTorch's name)
    """Each element rounded to `decimals` places, halves to even; gradient 0."""
    return _unary("round", input, out, lambda: input.round(decimals))


def trunc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Each element rounded toward 0; gradient 0."""
    return _unary("trunc", input, out, lambda: input.trunc())


def isnan(input: Tensor) -> Tensor:
    """True where input is NaN; a bool tensor."""
    return _math.isnan(input)


def isinf(input: Tensor) -> Tensor:
    """True where input is inf or -inf; a bool tensor."""
    return _math.isinf(input)


def isfinite(input: Tensor) -> Tensor:
    """True where input is neither NaN nor +-inf; a bool tensor."""
    return _math.isfinite(input)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None, *,
               out: Tensor | None = None) -> Tensor:
    """input with NaN, inf and -inf replaced (the infinities by default by the dtype's largest and lowest values)."""
    return _unary("nan_to_num", input, out, lambda: input.nan_to_num(nan, posinf, neginf))


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over dim (an int or a tuple), computed without overflow."""
    expect_tensor("logsumexp", "input", input)
    return input.logsumexp(dim, keepdim)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The product over one int dim (None: all); integer tensors give int64."""
    expect_tensor("prod", "input", input)
    return input.prod(dim, keepdim, dtype=dtype)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along dim; integer tensors give int64."""
    expect_tensor("cumsum", "input", input)
    return input.cumsum(dim, dtype=dtype)


def _correction(op: str, dim: Any, unbiased: Any, correction: Any) -> tuple[Any, int]:
    """PyTorch's two spellings of var's divisor: `correction=`, or the older `unbiased` (also as the second
    positional argument, `var(x, False)`)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim if unbiased is None else unbiased
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): give unbiased or correction, not both (got unbiased={unbiased}, "
                        f"correction={correction})")
    if unbiased is not None:
        return dim, builtins.int(builtins.bool(unbiased))
    return dim, 1 if correction is None else correction


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """The variance over dim (None: all), divided by N - correction (default 1; `unbiased=False` is 0)."""
    expect_tensor("var", "input", input)
    dim, correction = _correction("var", dim, unbiased, correction)
    return input.var(dim, keepdim, correction)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """The standard deviation over dim (None: all), `var(...).sqrt()`."""
    expect_tensor("std", "input", input)
    dim, correction = _correction("std", dim, unbiased, correction)
    return input.std(dim, keepdim, correction)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices, (n, k) @ (k, m) -> (n, m)."""
    return _math.mm(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """The batched matrix product, (B, n, k) @ (B, k, m) -> (B, n, m)."""
    return _math.bmm(input, mat2)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The inner product of two 1-D tensors, a 0-d tensor."""
    return _math.dot(input, tensor)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-D tensors, (n,) and (m,) -> (n, m)."""
    return _math.outer(input, vec2)


einsum = _math.einsum


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """input sorted along dim, as `(values, indices)`; the gradient flows through the values."""
    return _math.sort(input, dim, descending, stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The int64 indices that sort input along dim."""
    return _math.argsort(input, dim, descending, stable)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The k largest (or smallest) elements along dim, as `(values, indices)`."""
    return _math.topk(input, k, dim, largest, sorted)
