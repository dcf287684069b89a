"""Matrix products: matmul (batched, broadcasting, 1-D cases as NumPy) and linear (x @ W.T + b)."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, random_array, unbroadcast
from .registry import Sample, register


def same_dtype(op: str, **arrays: np.ndarray | None) -> None:
    """PyTorch's matrix products take one dtype, never promoting: a float64 input to float32 weights is
    a RuntimeError naming the dtypes (silently rounding the input, or widening the layer, would hide it)."""
    named = [(name, np.asarray(array).dtype) for name, array in arrays.items() if array is not None]
    if len({dtype for _, dtype in named}) > 1:
        listed = ", ".join(f"{name} {dtype}" for name, dtype in named)
        raise RuntimeError(f"{op}: expected operands of one dtype, got {listed}; convert one with .to(dtype) "
                           "(or .float() / .double())")


def _matmul_samples(rng):
    cases = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)), ((3, 4), (4,)),
             ((4,), (4,)), ((2, 3, 4), (4,))]
    for shape_a, shape_b in cases:
        yield Sample((random_array(rng, *shape_a), random_array(rng, *shape_b)), note=f"{shape_a} @ {shape_b}")


@register("matmul", samples=_matmul_samples)
class MatMul(Function):
    """a @ b with NumPy's rules: batch dims broadcast, a 1-D operand is a row (left) or a column (right)."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype:
            same_dtype("matmul", first=a, second=b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit (inner sizes "
                             f"{a.shape[-1]} and {b.shape[-2 if b.ndim > 1 else 0]})")
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        # Give 1-D operands (and the gradient) their matrix form, so one rule covers every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        grad = grad_output
        if b.ndim == 1:
            grad = grad[..., None]
        if a.ndim == 1:
            grad = grad[..., None, :]
        need_a, need_b = ctx.needs_input_grad
        grad_a = unbroadcast(grad @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) if need_a else None
        grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ grad, b2.shape).reshape(b.shape) if need_b else None
        return grad_a, grad_b


def _linear_samples(rng):
    yield Sample((random_array(rng, 5, 3), random_array(rng, 4, 3), random_array(rng, 4)), note="with bias")
    yield Sample((random_array(rng, 2, 5, 3), random_array(rng, 4, 3), None), note="batch dims, no bias")
    yield Sample((random_array(rng, 3), random_array(rng, 2, 3), random_array(rng, 2)), note="a single vector")


@register("linear", samples=_linear_samples)
class Linear(Function):
    """x @ weight.T + bias over the last dim of x: (*, in) -> (*, out); weight (out, in), bias (out,)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
                             f"(expected input (*, {weight.shape[1] if weight.ndim == 2 else '?'}))")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
        if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
            same_dtype("linear", input=x, weight=weight, bias=bias)
        ctx.save_for_backward(x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        rows = grad_output.reshape(-1, weight.shape[0])
        grad_x = grad_output @ weight if need_x else None
        grad_w = rows.T @ x.reshape(-1, weight.shape[1]) if need_w else None
        grad_b = rows.sum(axis=0) if need_b else None
        return grad_x, grad_w, grad_b


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """F.linear: (*, in) with weight (out, in) and bias (out,) -> (*, out), all of one dtype."""
    expect_tensor("linear", "input", x)
    expect_tensor("linear", "weight", weight)
    return Linear.apply(x, weight, bias)
