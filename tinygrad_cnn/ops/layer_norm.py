"""Layer and group normalisation, as PyTorch: statistics per sample, never running ones.

layer_norm normalises over the trailing dims that `normalized_shape` names, with an elementwise weight and bias
of that shape; group_norm splits the channels of (N, C, *) into groups and normalises each (sample, group), with a
per-channel weight and bias. Both use the biased variance and have a closed-form backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, random_array
from .registry import Sample, register


def _normalize(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(x - mean) / sqrt(var + eps) over `axes` (biased variance, two passes: exact when |mean| >> std),
    and 1 / sqrt(var + eps) with the axes kept."""
    if x.size == 0:  # nothing to normalise (PyTorch returns the empty result): no mean of an empty slice
        return x.copy(), np.ones([1 if i in axes else n for i, n in enumerate(x.shape)], x.dtype)
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    inv_std = 1 / np.sqrt(np.square(centered).mean(axis=axes, keepdims=True) + eps)
    return centered * inv_std, inv_std


def _normalize_backward(grad_x_hat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray,
                        axes: tuple[int, ...]) -> np.ndarray:
    """The gradient to x from the gradient to x_hat = (x - mean) * inv_std, mean and variance taken over `axes`:
    inv_std * (g - mean(g) - x_hat * mean(g * x_hat))."""
    if grad_x_hat.size == 0:
        return np.zeros_like(grad_x_hat)
    return inv_std * (grad_x_hat - grad_x_hat.mean(axis=axes, keepdims=True)
                      - x_hat * (grad_x_hat * x_hat).mean(axis=axes, keepdims=True))


def _check_affine(op: str, x: np.ndarray, name: str, value: Any, shape: tuple[int, ...]) -> None:
    if value is None:
        return
    if np.shape(value) != shape:
        raise ValueError(f"{op}: {name} should have shape {shape}, got shape {np.shape(value)}")
    if value.dtype != x.dtype:
        raise TypeError(f"{op}: {name} has dtype {value.dtype} but the input has {x.dtype}; "
                        "convert one so that they match")


def _check_eps(op: str, eps: Any) -> None:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating, np.integer)) or not eps >= 0:
        raise ValueError(f"{op}: eps must be a non-negative number, got {eps!r}")


def _float_input(op: str, x: np.ndarray) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float tensor, got dtype {x.dtype}; convert it with .float()")


# ----- layer norm ----------------------------------------------------------------------------------------------
def _layer_norm_samples(rng: np.random.Generator):
    for shape, normalized in [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 3, 2, 3), (3,)), ((6,), (6,))]:
        x = random_array(rng, *shape)
        weight, bias = rng.uniform(0.5, 2.0, normalized), random_array(rng, *normalized)
        yield Sample((x, normalized, weight, bias), note=f"{shape} over {normalized}")
    yield Sample((random_array(rng, 3, 4), (4,), None, None), {"eps": 1e-3}, note="no affine")
    yield Sample((random_array(rng, 3, 4) + 50, (4,), rng.uniform(0.5, 2, 4), None), note="weight only, offset")


@register("layer_norm", samples=_layer_norm_samples)
class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias, the statistics over the trailing `normalized_shape` dims of
    each sample (biased variance); weight and bias of `normalized_shape`, elementwise."""

    @staticmethod
    def forward(ctx, x, normalized_shape, weight=None, bias=None, eps=1e-5):
        _float_input("layer_norm", x)
        _check_eps("layer_norm", eps)
        shape = tuple(normalized_shape)
        if not shape or len(shape) > x.ndim or x.shape[-len(shape):] != shape:
            raise ValueError(f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
                             f"[*, {', '.join(map(str, shape))}], but got input of size {list(x.shape)}")
        _check_affine("layer_norm", x, "weight", weight, shape)
        _check_affine("layer_norm", x, "bias", bias, shape)
        axes = tuple(range(x.ndim - len(shape), x.ndim))
        x_hat, inv_std = _normalize(x, axes, eps)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes = axes
        out = x_hat if weight is None else x_hat * weight
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx, grad_output):
        x_hat, inv_std, weight = ctx.saved_tensors
        need_x, _, need_weight, need_bias = ctx.needs_input_grad[:4]
        leading = tuple(range(x_hat.ndim - len(ctx.axes)))  # the batch dims: weight and bias are shared over them
        grad_x = None
        if need_x:
            grad_x_hat = grad_output if weight is None else grad_output * weight
            grad_x = _normalize_backward(grad_x_hat, x_hat, inv_std, ctx.axes)
        grad_weight = (grad_output * x_hat).sum(axis=leading) if need_weight else None
        grad_bias = grad_output.sum(axis=leading) if need_bias else None
        return grad_x, None, grad_weight, grad_bias


def _as_normalized_shape(normalized_shape: Any) -> tuple[int, ...]:
    """An int or a sequence of positive ints as a tuple, or a clear error."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    if not isinstance(shape, Sequence) or isinstance(shape, str) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"layer_norm: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}")
    if not shape or any(n < 0 for n in shape):
        raise ValueError(f"layer_norm: normalized_shape must be a non-empty list of sizes >= 0, got {list(shape)}")
    return tuple(int(n) for n in shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the trailing dims, as torch.nn.functional.layer_norm.

    input: (*, *normalized_shape) -> the same shape; weight, bias: normalized_shape (elementwise).
    """
    expect_tensor("layer_norm", "input", input)
    return LayerNorm.apply(input, _as_normalized_shape(normalized_shape), weight, bias, eps=eps)


# ----- group norm ----------------------------------------------------------------------------------------------
def _group_norm_samples(rng: np.random.Generator):
    for shape, groups in [((3, 4), 2), ((2, 6, 3), 3), ((2, 4, 2, 3), 2), ((2, 3, 4), 1), ((2, 3, 4), 3)]:
        channels = shape[1]
        x = random_array(rng, *shape)
        yield Sample((x, groups, rng.uniform(0.5, 2.0, channels), random_array(rng, channels)),
                     note=f"{shape} in {groups} groups")
    yield Sample((random_array(rng, 2, 4, 3), 2, None, None), {"eps": 1e-3}, note="no affine")


def _group_size(shape: tuple[int, ...], num_groups: int) -> int:
    """The elements of one group of one sample: its channels times the positions (0 for an empty input)."""
    return shape[1] // num_groups * int(np.prod(shape[2:], dtype=np.int64))


@register("group_norm", samples=_group_norm_samples)
class GroupNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias, the statistics over each group of C / num_groups channels
    (and all their positions) of each sample; weight and bias (C,), per channel."""

    @staticmethod
    def forward(ctx, x, num_groups, weight=None, bias=None, eps=1e-5):
        _float_input("group_norm", x)
        _check_eps("group_norm", eps)
        if x.ndim < 2:
            raise ValueError(f"group_norm: expected an input of shape (N, C, *), got shape {x.shape}")
        channels = x.shape[1]
        if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups <= 0:
            raise ValueError(f"group_norm: num_groups must be a positive integer, got {num_groups!r}")
        if channels % num_groups:
            raise ValueError(f"group_norm: expected the number of channels ({channels}) to be divisible by "
                             f"num_groups ({num_groups}), input of shape {x.shape}")
        num_groups = int(num_groups)
        _check_affine("group_norm", x, "weight", weight, (channels,))
        _check_affine("group_norm", x, "bias", bias, (channels,))
        grouped = x.reshape(x.shape[0], num_groups, _group_size(x.shape, num_groups))
        x_hat, inv_std = _normalize(grouped, (2,), eps)
        x_hat = x_hat.reshape(x.shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.num_groups = num_groups
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        out = x_hat if weight is None else x_hat * weight.reshape(per_channel)
        return out if bias is None else out + bias.reshape(per_channel)

    @staticmethod
    def backward(ctx, grad_output):
        x_hat, inv_std, weight = ctx.saved_tensors
        need_x, _, need_weight, need_bias = ctx.needs_input_grad[:4]
        shape, axes = x_hat.shape, (0, *range(2, x_hat.ndim))  # axes: all but the channels
        grad_x = None
        if need_x:
            per_channel = (1, -1) + (1,) * (len(shape) - 2)
            grad_x_hat = grad_output if weight is None else grad_output * weight.reshape(per_channel)
            grouped = (shape[0], ctx.num_groups, _group_size(shape, ctx.num_groups))
            grad_x = _normalize_backward(grad_x_hat.reshape(grouped), x_hat.reshape(grouped), inv_std,
                                         (2,)).reshape(shape)
        grad_weight = (grad_output * x_hat).sum(axis=axes) if need_weight else None
        grad_bias = grad_output.sum(axis=axes) if need_bias else None
        return grad_x, None, grad_weight, grad_bias


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation, as torch.nn.functional.group_norm.

    input: (N, C, *) -> the same shape, C divisible by num_groups; weight, bias: (C,).
    """
    expect_tensor("group_norm", "input", input)
    return GroupNorm.apply(input, num_groups, weight, bias, eps=eps)
