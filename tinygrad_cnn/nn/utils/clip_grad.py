"""Gradient clipping, as torch.nn.utils: `clip_grad_norm_` (by the total norm of all gradients) and
`clip_grad_value_` (each element), both in place on every parameter's `.grad`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ...autograd import no_grad
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _gradients(parameters: Tensor | Iterable[Tensor], where: str) -> list[Tensor]:
    """The `.grad` of each parameter that has one, after checking every parameter and gradient."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = []
    for position, param in enumerate(params):
        if not isinstance(param, Tensor):
            raise TypeError(f"{where}: parameters must be Tensors, got {type(param).__name__} at position {position}")
        grad = param.grad
        if grad is None:
            continue
        if not isinstance(grad, Tensor) or grad.dtype.kind != "f":
            kind = f"dtype {grad.dtype}" if isinstance(grad, Tensor) else type(grad).__name__
            raise TypeError(f"{where}: the gradient of parameter {position} must be a floating point Tensor, "
                            f"got {kind}")
        grads.append(grad)
    return grads


def _read_real(where: str, name: str, value: Any, allow_inf: bool = False) -> float:
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ValueError(f"{where}: invalid {name}={number}")
    return number


def _check_foreach(where: str, foreach: Any) -> None:
    # torch's foreach only chooses how the same arithmetic runs; NumPy has one way.
    if foreach is not None and not isinstance(foreach, (bool, np.bool_)):
        raise TypeError(f"{where}: foreach must be None, True or False, got {foreach!r}")


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    """torch.linalg.vector_norm of the flattened array: (sum |x|**p)**(1/p); max |x| for inf, min for -inf,
    the count of non-zeros for 0."""
    flat = np.abs(array.reshape(-1))
    if flat.size == 0:
        return np.zeros((), array.dtype) if norm_type >= 0 else np.array(np.inf, array.dtype)
    if norm_type == math.inf:
        return flat.max()
    if norm_type == -math.inf:
        return flat.min()
    if norm_type == 0:
        return np.array(np.count_nonzero(flat), array.dtype)[()]
    if norm_type == 1:
        return flat.sum()
    if norm_type == 2:
        return np.sqrt(np.dot(flat, flat))
    return (flat ** norm_type).sum() ** (1 / norm_type)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float | str = 2.0,
                     error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their total `norm_type`-norm is at most `max_norm`, as torch:
    each `.grad` is multiplied by min(max_norm / (total_norm + 1e-6), 1) in place. Returns the total norm
    (the norm of the per-gradient norms, as a 0-d Tensor, before clipping).

    With `error_if_nonfinite`, a NaN or infinite total norm raises RuntimeError before any gradient changes;
    without, the gradients are scaled by it, as torch does.
    """
    where = "clip_grad_norm_"
    grads = _gradients(parameters, where)
    max_norm = _read_real(where, "max_norm", max_norm, allow_inf=True)
    if max_norm < 0:
        raise ValueError(f"{where}: invalid max_norm={max_norm}: expected a number >= 0")
    if isinstance(norm_type, str):
        if norm_type.strip().lower() not in ("inf", "-inf"):
            raise ValueError(f"{where}: norm_type must be a number or 'inf', got {norm_type!r}")
        norm_type = float(norm_type)
    norm_type = _read_real(where, "norm_type", norm_type, allow_inf=True)
    if not isinstance(error_if_nonfinite, (bool, np.bool_)):
        raise TypeError(f"{where}: error_if_nonfinite must be True or False, got {error_if_nonfinite!r}")
    _check_foreach(where, foreach)
    if not grads:
        return Tensor(np.zeros((), np.float32))
    with np.errstate(all="ignore"):  # inf and NaN norms are results here (refused below when asked to)
        dtype = np.result_type(*(grad.dtype for grad in grads))
        norms = np.array([_vector_norm(grad._data, norm_type) for grad in grads], dtype)
        total_norm = _vector_norm(norms, norm_type).astype(dtype)
        if error_if_nonfinite and not np.isfinite(total_norm):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                               "so it cannot be clipped. To disable this error and scale the gradients by the "
                               "non-finite norm anyway, set `error_if_nonfinite=False`")
        clip_coef = np.minimum(dtype.type(max_norm) / (total_norm + dtype.type(1e-6)), dtype.type(1.0))
        with no_grad():
            for grad in grads:
                grad._data *= clip_coef.astype(grad.dtype)
                grad._modified()
    return Tensor(np.asarray(total_norm))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every element of every `.grad` to [-clip_value, clip_value] in place, as torch."""
    where = "clip_grad_value_"
    grads = _gradients(parameters, where)
    clip_value = _read_real(where, "clip_value", clip_value, allow_inf=True)
    if clip_value < 0:
        raise ValueError(f"{where}: invalid clip_value={clip_value}: expected a number >= 0")
    _check_foreach(where, foreach)
    with no_grad():
        for grad in grads:
            np.clip(grad._data, -clip_value, clip_value, out=grad._data)
            grad._modified()
