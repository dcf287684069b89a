"""Adam and AdamW, as PyTorch computes them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _read_number


class Adam(Optimizer):
    """Adam (Kingma & Ba) as PyTorch computes it, with L2 weight decay added to the gradient; `amsgrad`
    keeps the running maximum of the second moment.

    lr, eps, weight_decay >= 0 and betas two numbers in [0, 1) (NaN refused); amsgrad a bool. State per
    parameter: "step", "exp_avg", "exp_avg_sq", and "max_exp_avg_sq" with amsgrad.
    """

    decoupled = False  # AdamW decays the weights directly instead
    _number_options = {**Optimizer._number_options, "eps": (0.0, None)}
    _flag_options = ("amsgrad",)
    _second_moments = frozenset({"exp_avg_sq", "max_exp_avg_sq"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    # torch's Adam with decoupled_weight_decay=True is AdamW, a different rule.
    _torch_options = {**Optimizer._torch_options, "capturable": (False, True), "decoupled_weight_decay": (False,)}

    def _read_option(self, name, value):
        if name != "betas":
            return super()._read_option(name, value)
        if isinstance(value, (Tensor, np.ndarray)):
            value = (value._data if isinstance(value, Tensor) else value).tolist()
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"betas must be a pair of numbers, got {type(value).__name__} {value!r}")
        if len(value) != 2:
            raise ValueError(f"betas must be a pair of numbers, got {len(value)} of them: {value!r}")
        betas = tuple(_read_number(f"betas[{i}]", beta) for i, beta in enumerate(value))
        for i, beta in enumerate(betas):
            if not 0 <= beta < 1:
                raise ValueError(f"invalid betas[{i}]={beta!r}: expected a number in [0, 1)")
        return betas

    def _state_layout(self, options):
        # .get: a saved group whose amsgrad is invalid is reported by itself.
        required = {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if options.get("amsgrad") else set())
        return required, required | {"max_exp_avg_sq"}

    def _update(self, param, grad, state, group):
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        if weight_decay:
            if self.decoupled:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        state["step"] += 1
        step = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * (grad * grad)
        second = exp_avg_sq
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second = state["max_exp_avg_sq"]
        denominator = np.sqrt(second)
        denominator /= math.sqrt(1 - beta2**step)
        denominator += eps
        param -= (lr / (1 - beta1**step)) * (exp_avg / denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay before the
    Adam step; weight_decay defaults to 0.01 as in PyTorch."""

    decoupled = True
    _torch_options = {**Adam._torch_options, "decoupled_weight_decay": (True,)}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
