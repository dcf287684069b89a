"""gradcheck: compare analytic gradients with central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, float64


class GradcheckError(RuntimeError):
    """The analytic and numeric gradients disagree; the message says where and by how much."""


def _output(fn: Callable, inputs: Sequence[Any]) -> Tensor:
    out = fn(*inputs)
    if isinstance(out, tuple):
        out = out[0]
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def gradcheck(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, seed: int = 0) -> bool:
    """Check fn's backward against central differences for every input that requires grad.

    Inputs are copied to float64. The output is projected on a random direction v, so one backward
    gives <v, J> and one pair of evaluations per element gives its numeric counterpart. On failure the
    message names the input (0-based position), the element (multi-index), both values and the error.
    """
    inputs = [Tensor(x.data, requires_grad=x.requires_grad, dtype=float64)
              if isinstance(x, Tensor) and x.dtype.kind == "f" else x for x in inputs]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    out = _output(fn, inputs)
    direction = np.random.default_rng(seed).standard_normal(out.shape)
    if out.requires_grad:
        out.backward(direction)
    for position in checked:
        x = inputs[position]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.data
        numeric = np.zeros(x.shape)
        with no_grad():
            for index in np.ndindex(x.shape):
                original = x.data[index]
                x.data[index] = original + eps
                plus = float(np.sum(_output(fn, inputs).data * direction))
                x.data[index] = original - eps
                minus = float(np.sum(_output(fn, inputs).data * direction))
                x.data[index] = original
                numeric[index] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric)
        bad = error > atol + rtol * np.abs(numeric)
        if bad.any():
            worst = np.unravel_index(np.argmax(np.where(bad, error, -1)), x.shape)
            message = (f"gradcheck: input {position} (shape {x.shape}): {int(bad.sum())} of {x.size} elements "
                       f"differ; worst at {tuple(int(i) for i in worst)}: analytic {analytic[worst]:.6g}, "
                       f"numeric {numeric[worst]:.6g}, error {error[worst]:.3g} "
                       f"(atol {atol}, rtol {rtol})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
