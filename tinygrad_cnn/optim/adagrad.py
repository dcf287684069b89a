"""Adagrad (Duchi et al.), as PyTorch computes it, with a learning-rate decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad, PyTorch's rule: at step t, g += weight_decay * p; s += g**2; p -= clr * g / (sqrt(s) + eps)
    with clr = lr / (1 + (t - 1) * lr_decay).

    lr, lr_decay, weight_decay, initial_accumulator_value, eps >= 0 (NaN refused). State per parameter:
    "step" and "sum", made when the parameter's group is added (as torch does), "sum" filled with the
    group's `initial_accumulator_value` (torch fills it with the constructor's value even for a group that
    names its own).
    """

    _number_options = {**Optimizer._number_options, "lr_decay": (0.0, None), "initial_accumulator_value": (0.0, None),
                       "eps": (0.0, None)}
    _second_moments = frozenset({"sum"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for param in group["params"]:
            self.state[id(param)] = self._fresh_state(param._data, group)

    @staticmethod
    def _fresh_state(param: np.ndarray | Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _state_layout(self, options):
        return {"step", "sum"}, {"step", "sum"}

    def _update(self, param, grad, state, group):
        if not state:  # a state dict without this parameter's entry was loaded
            state.update(self._fresh_state(param, group))
        state["step"] += 1
        step = state["step"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]
        state_sum += grad * grad
        std = np.sqrt(state_sum)
        std += group["eps"]
        param -= clr * grad / std
