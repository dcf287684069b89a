"""Optimizers with PyTorch's update rules: SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW.

Each takes parameters, or a list of parameter groups (dicts with "params" and their own options), and
updates every parameter's `.data` in place in its own dtype (float32 stays float32), bumping the
parameter's version so that a graph built before the step refuses a stale backward.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .autograd import enable_grad
from .nn.module import zero_grads
from .tensor import Tensor


class Optimizer:
    """Base class: parameter groups, per-parameter state, `zero_grad`, `state_dict`, `load_state_dict`."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}  # by id(param): arrays and the step count
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if param.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating point Tensors, got {param.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer parameter group contains a parameter more than once")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown option(s) {sorted(unknown)} in a parameter group "
                            f"(known: {sorted(self.defaults)})")
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate one group's options (each optimizer names its own rules)."""
        lr = group["lr"]
        if not isinstance(lr, (int, float)) or lr < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {lr!r} (expected a number >= 0)")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay value {group['weight_decay']!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's `.grad`: drop it (default) or fill it with zeros."""
        zero_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` (re-evaluating the loss) is called
        first, with grad enabled, and its value returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.data
                if grad.dtype != param.dtype:
                    grad = grad.astype(param.dtype)
                self._update(param.data, grad, self.state.setdefault(id(param), {}), group)
                param._modified()
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Change `param` in place from `grad`, using and updating `state`."""
        raise NotImplementedError

    # ----- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: {"state": {index: {name: Tensor or number}}, "param_groups": [options with
        "params" as indices]}; parameters are numbered in group order. Arrays are shared, not copied."""
        index, groups = 0, []
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            indices = []
            for param in group["params"]:
                if id(param) in self.state and self.state[id(param)]:
                    state[index] = {key: Tensor._make(value, None) if isinstance(value, np.ndarray) else value
                                    for key, value in self.state[id(param)].items()}
                indices.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state from `state_dict()` of an optimizer over parameters of the same
        shapes; every problem is reported in one ValueError before anything changes."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("load_state_dict: expected a dict with keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the state has {len(saved_groups)} parameter groups but the "
                             f"optimizer has {len(self.param_groups)}")
        params = [p for group in self.param_groups for p in group["params"]]
        problems = []
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                problems.append(f"group {number} has {len(saved['params'])} parameters in the state but "
                                f"{len(group['params'])} in the optimizer")
        new_state: dict[int, dict[str, Any]] = {}
        # String keys too: a state dict that went through a file keeps its numbers as text.
        for key, entry in state_dict["state"].items():
            try:
                index = int(key)
                param = params[index]
            except (ValueError, IndexError):
                problems.append(f"state for parameter {key!r}, but the optimizer has {len(params)} parameters")
                continue
            restored = {}
            for name, value in entry.items():
                if isinstance(value, (Tensor, np.ndarray)):
                    array = np.array(value.data if isinstance(value, Tensor) else value)
                    if name != "step" and array.shape != param.shape:
                        problems.append(f"state {name!r} of parameter {index} has shape {array.shape}, but "
                                        f"the parameter has shape {param.shape}")
                    elif name != "step" and array.dtype.kind == "f":
                        array = array.astype(param.dtype, copy=False)
                    value = array
                else:
                    value = copy.deepcopy(value)
                restored[name] = value
            new_state[id(param)] = restored
        if problems:
            raise ValueError("load_state_dict: " + "; ".join(problems))
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule: g += weight_decay * p; with momentum,
    b = momentum * b + (1 - dampening) * g (b = g at the first step) and g = b (or g + momentum * b
    with nesterov); then p -= lr * g."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: invalid momentum value {group['momentum']!r}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, dampening={group['dampening']})")

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


class Adam(Optimizer):
    """Adam (Kingma & Ba) as PyTorch computes it, with L2 weight decay added to the gradient; `amsgrad`
    keeps the running maximum of the second moment."""

    decoupled = False  # AdamW decays the weights directly instead

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{type(self).__name__}: invalid betas {betas!r} (each in [0, 1))")
        if group["eps"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid epsilon value {group['eps']!r}")

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

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
