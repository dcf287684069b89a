"""RMSprop (Hinton's lecture 6e), as PyTorch computes it: plain, centered, with momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start += weight * (end - start) in place, with the two forms torch's `lerp_` picks between by the size
    of `weight` (the second is exact at weight 1)."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


class RMSprop(Optimizer):
    """RMSprop, PyTorch's rule: g += weight_decay * p; v = alpha * v + (1 - alpha) * g**2; with `centered`,
    m = lerp(m, g, 1 - alpha) and the denominator is sqrt(v - m**2) + eps, else sqrt(v) + eps; with
    momentum, b = momentum * b + g / denominator and p -= lr * b, else p -= lr * g / denominator.

    lr, eps, weight_decay, momentum >= 0 and alpha in [0, 1] (torch takes alpha > 1, which makes the
    average of squares negative; we refuse it), NaN refused; centered a bool. State per parameter: "step",
    "square_avg", "momentum_buffer" (with momentum > 0), "grad_avg" (with centered).
    """

    _number_options = {**Optimizer._number_options, "alpha": (0.0, None), "eps": (0.0, None),
                       "momentum": (0.0, None)}
    _flag_options = ("centered",)
    _torch_options = {**Optimizer._torch_options, "capturable": (False, True)}
    _second_moments = frozenset({"square_avg"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _check_combination(self, options):
        if options["alpha"] > 1:
            raise ValueError(f"invalid alpha={options['alpha']!r}: expected a number in [0, 1] (the weight of the "
                             "old average of squared gradients)")

    def _state_layout(self, options):
        # .get: a saved group whose momentum or centered is invalid is reported by itself.
        required = {"step", "square_avg"}
        if (options.get("momentum") or 0) > 0:
            required.add("momentum_buffer")
        if options.get("centered"):
            required.add("grad_avg")
        return required, {"step", "square_avg", "momentum_buffer", "grad_avg"}

    def _update(self, param, grad, state, group):
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, grad, 1 - alpha)
            denominator = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denominator = np.sqrt(square_avg)
        denominator += eps
        if momentum > 0:
            buffer = state["momentum_buffer"]
            buffer *= momentum
            buffer += grad / denominator
            param -= lr * buffer
        else:
            param -= lr * grad / denominator
