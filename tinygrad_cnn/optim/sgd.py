"""SGD with momentum, dampening, Nesterov and weight decay, as PyTorch computes it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule: g += weight_decay * p; with momentum,
    b = momentum * b + (1 - dampening) * g (b = g at the first step) and g = b (or g + momentum * b
    with nesterov); then p -= lr * g.

    lr, momentum, weight_decay >= 0 and dampening finite, as numbers (NaN refused); nesterov a bool and
    only with momentum > 0 and dampening 0. State per parameter: "momentum_buffer" (with momentum).
    """

    _number_options = {**Optimizer._number_options, "momentum": (0.0, None), "dampening": (None, None)}
    _flag_options = ("nesterov",)
    _may_be_none = frozenset({"momentum_buffer"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_combination(self, options):
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={options['momentum']}, dampening={options['dampening']})")

    def _state_layout(self, options):
        return set(), {"momentum_buffer"}

    def _update(self, param, grad, state, group):
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        if weight_decay:
            grad = grad + weight_decay * param
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.copy()
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= group["lr"] * grad

