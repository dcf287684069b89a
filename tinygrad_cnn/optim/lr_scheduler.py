"""Learning-rate schedulers with PyTorch's semantics: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR,
LambdaLR, OneCycleLR, ReduceLROnPlateau, and the LRScheduler base class to write others.

As in torch: a scheduler made with `last_epoch=-1` stores each group's starting lr as `group["initial_lr"]`
and takes one step at once (epoch 0); `step()` after each `optimizer.step()` moves to the next epoch and
writes the new lr into every group; `get_last_lr()` gives the lrs it set last; the lrs are computed with
torch's formulas in torch's order (the chainable forms, which scale the group's current lr, and the closed
forms that `step(epoch)` uses), so the sequences are torch's to the last bit. `state_dict()` holds torch's
entries (LambdaLR's without the lambdas), so a state saved by torch loads here and the reverse.

Stricter than torch: settings are checked when given (step_size 0, T_max 0 or a NaN gamma are refused at
once, not met as a ZeroDivisionError or NaN weights later); `step()` refuses to set a learning rate that is
NaN or infinite and then changes nothing (a negative one, which torch's linear OneCycleLR computes for the step
after its last, is set as torch sets it, and the optimizer refuses to step with it); `load_state_dict` checks
every entry before it changes anything and lists every problem in one ValueError.
"""

from __future__ import annotations

import copy
import math
import operator
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _read_number

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "MultiStepLR", "OneCycleLR",
           "ReduceLROnPlateau", "StepLR"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from "
    "None, the closed form is used instead of the new chainable form, where available."
)


# ----- reading settings -------------------------------------------------------------------------------
def _read_int(name: str, value: Any, low: int) -> int:
    """`value` (an int or NumPy integer, never a bool or float) as a Python int >= low."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if number < low:
        raise ValueError(f"invalid {name}={number}: expected an integer >= {low}")
    return number


def _read_real(name: str, value: Any, low: float | None = None, high: float | None = None) -> int | float:
    """`value` as a finite Python number (NaN and infinity refused) in [low, high)."""
    number = _read_number(name, value)
    if low is not None and number < low:
        raise ValueError(f"invalid {name}={number!r}: expected a number >= {low:g}")
    if high is not None and number >= high:
        raise ValueError(f"invalid {name}={number!r}: expected a number < {high:g}")
    return number


def _read_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _per_group(name: str, value: Any, optimizer: Optimizer, read: Callable[[str, Any], Any]) -> list[Any]:
    """One value per parameter group: a list or tuple of them (as many as groups), or one for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has "
                             f"{len(value)} values, param_groups has {len(optimizer.param_groups)}.")
        return [read(f"{name}[{i}]", item) for i, item in enumerate(value)]
    return [read(name, value)] * len(optimizer.param_groups)


def _read_lr_list(name: str, value: Any, groups: int) -> list[int | float]:
    if not isinstance(value, (list, tuple)) or len(value) != groups:
        raise ValueError(f"{name} must be a list of {groups} learning rates (one per parameter group), got {value!r}")
    return [_read_real(f"{name}[{i}]", lr) for i, lr in enumerate(value)]


class LRScheduler:
    """Base class: the epoch count, `step`, `get_last_lr`, `state_dict`, `load_state_dict`.

    A subclass sets its settings (named in `_settings`, read by `_read_setting`, both for the constructor
    and for `load_state_dict`) and then calls `super().__init__(optimizer, last_epoch)`; it computes the
    lrs of the epoch `self.last_epoch` in `get_lr()` (and, optionally, `_get_closed_form_lr()`).
    """

    _settings: tuple[str, ...] = ()
    # Entries of torch's state dicts that say only what torch was doing when it saved: taken and ignored.
    _torch_flags = ("_is_initial", "_get_lr_called_within_step")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        last_epoch = _read_int("last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        # A failed first step (a LambdaLR whose lambda gives NaN) leaves the groups as they were.
        saved_groups = [dict(group) for group in optimizer.param_groups]
        try:
            if last_epoch == -1:
                for group in optimizer.param_groups:
                    group.setdefault("initial_lr", group["lr"])
            else:
                for i, group in enumerate(optimizer.param_groups):
                    if "initial_lr" not in group:
                        raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                       "scheduler with last_epoch >= 0 (load the optimizer's state first)")
            self.base_lrs: list[int | float] = [group["initial_lr"] for group in optimizer.param_groups]
            self.last_epoch = last_epoch
            self._step_count = 0
            self._is_initial = True
            self._get_lr_called_within_step = False
            self.step()
        except BaseException:
            for group, saved in zip(optimizer.param_groups, saved_groups, strict=True):
                group.clear()
                group.update(saved)
            raise
        finally:
            self._is_initial = False

    def _read_setting(self, name: str, value: Any) -> Any:
        """One of `_settings`, normalized; TypeError/ValueError naming it if invalid."""
        raise NotImplementedError

    # ----- stepping -----------------------------------------------------------------------------------
    def get_lr(self) -> list[int | float]:
        """The lrs of epoch `self.last_epoch`, one per group (called by `step`; use `get_last_lr()` to read)."""
        raise NotImplementedError

    def _warn_if_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=3)

    def get_last_lr(self) -> list[int | float]:
        """The learning rates the last `step()` set, one per parameter group (a new list)."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Move to the next epoch (or, deprecated as in torch, to `epoch`, with the closed form where there is
        one) and set every group's lr. Call it after `optimizer.step()`.

        A learning rate that would be NaN or infinite (or not a number) raises and changes nothing.
        """
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should call them "
                          "in the opposite order: `optimizer.step()` before `lr_scheduler.step()`; otherwise the "
                          "first value of the learning rate schedule is skipped.", UserWarning, stacklevel=2)
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            epoch = _read_int("epoch", epoch, 0)
        before = self.last_epoch, self._step_count
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._get_lr_called_within_step = True
        try:
            if epoch is not None and hasattr(self, "_get_closed_form_lr"):
                values = self._get_closed_form_lr()
            else:
                values = self.get_lr()
            values = self._checked_lrs(values)
        except BaseException:
            self.last_epoch, self._step_count = before
            raise
        finally:
            self._get_lr_called_within_step = False
        self._apply(values)

    def _checked_lrs(self, values: Any) -> list[int | float]:
        groups = len(self.optimizer.param_groups)
        values = list(values)
        if len(values) != groups:
            raise ValueError(f"{type(self).__name__}.step: computed {len(values)} learning rates for {groups} "
                             "parameter groups")
        checked = []
        for i, value in enumerate(values):
            try:
                checked.append(_read_real("lr", value))
            except (TypeError, ValueError) as error:
                raise type(error)(f"{type(self).__name__}.step: the learning rate of parameter group {i} at epoch "
                                  f"{self.last_epoch} would be invalid ({error}); nothing was changed") from None
        return checked

    def _apply(self, values: list[int | float]) -> None:
        """Write the checked lrs of the new epoch into the groups (OneCycleLR also sets the momentum)."""
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    # ----- state --------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """torch's entries: the settings, base_lrs, last_epoch, _step_count, _last_lr (and torch's two flags)."""
        state = {name: copy.deepcopy(getattr(self, name)) for name in self._settings}
        state.update(base_lrs=list(self.base_lrs), last_epoch=self.last_epoch, _step_count=self._step_count,
                     _is_initial=False, _get_lr_called_within_step=False, _last_lr=list(self._last_lr))
        return state

    def _read_state_entry(self, name: str, value: Any) -> Any:
        groups = len(self.optimizer.param_groups)
        if name in ("base_lrs", "_last_lr"):
            return _read_lr_list(name, value, groups)
        if name == "last_epoch":
            return _read_int(name, value, -1)
        if name == "_step_count":
            return _read_int(name, value, 0)
        if name in self._torch_flags:
            return _read_flag(name, value)
        return self._read_setting(name, value)

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a `state_dict()` (ours or torch's); every entry is checked first, and on any problem a
        ValueError lists them all and nothing changes."""
        self.__dict__.update(self._checked_state(state_dict))

    def _checked_state(self, state_dict: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of a saved state, normalized (torch's flags dropped); ValueError listing every problem."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        expected = set(self.state_dict())
        optional = set(self._torch_flags)
        problems = []
        missing, unknown = expected - optional - set(state_dict), set(state_dict) - expected
        if missing:
            problems.append(f"missing entries {sorted(missing)}")
        if unknown:
            problems.append(f"unknown entries {sorted(map(str, unknown))} (known: {sorted(expected)})")
        read = {}
        for name in sorted(set(state_dict) & expected):
            try:
                read[name] = self._read_state_entry(name, state_dict[name])
            except (TypeError, ValueError) as error:
                problems.append(str(error))
        if problems:
            raise ValueError(f"{where}: the state does not fit this scheduler (nothing was changed):\n  "
                             + "\n  ".join(problems))
        for name in optional:
            read.pop(name, None)
        return read

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._settings if not name.startswith("_"))
        return f"{type(self).__name__}({settings}, last_epoch={self.last_epoch})"


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch), with one function for every group or one per group.

    The state dict holds no functions (None for each plain function or lambda; a callable object's
    `__dict__`, restored into the object on load), as torch's.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * len(optimizer.param_groups)
        for i, function in enumerate(lambdas):
            if not callable(function):
                raise TypeError(f"lr_lambda[{i}] must be callable (epoch -> factor), got {type(function).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """initial_lr * lr_lambda(last_epoch), one per group."""
        self._warn_if_outside_step()
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        """The base entries and `lr_lambdas`: None for a plain function or lambda, a callable object's
        `__dict__` (a copy), as torch's."""
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else copy.deepcopy(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def _read_state_entry(self, name, value):
        if name != "lr_lambdas":
            return super()._read_state_entry(name, value)
        if not isinstance(value, (list, tuple)) or len(value) != len(self.lr_lambdas):
            raise ValueError(f"lr_lambdas must be a list of {len(self.lr_lambdas)} entries, got {value!r}")
        for i, (saved, function) in enumerate(zip(value, self.lr_lambdas, strict=True)):
            if saved is not None and not (isinstance(saved, Mapping) and hasattr(function, "__dict__")
                                          and not isinstance(function, types.FunctionType)):
                raise ValueError(f"lr_lambdas[{i}]: a saved callable object's attributes (a dict) or None, and "
                                 f"the scheduler's lr_lambda[{i}] must then be such an object, got {saved!r}")
        return list(value)

    def load_state_dict(self, state_dict):
        """Restore a `state_dict()`, every entry checked first: the functions stay, a callable object gets
        its saved attributes back."""
        read = self._checked_state(state_dict)
        saved = read.pop("lr_lambdas")  # the functions stay; a callable object gets its saved attributes back
        self.__dict__.update(read)
        for function, attributes in zip(self.lr_lambdas, saved, strict=True):
            if attributes is not None:
                function.__dict__.update(copy.deepcopy(attributes))


class StepLR(LRScheduler):
    """Multiply the lr by gamma every `step_size` epochs: lr = initial_lr * gamma ** (epoch // step_size)."""

    _settings = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = self._read_setting("step_size", step_size)
        self.gamma = self._read_setting("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _read_setting(self, name, value):
        return _read_int(name, value, 1) if name == "step_size" else _read_real(name, value, low=0.0)

    def get_lr(self):
        """The current lrs, times gamma every `step_size` epochs (torch's chainable form)."""
        self._warn_if_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by gamma at each milestone epoch (a milestone given twice multiplies twice, as torch)."""

    _settings = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = self._read_setting("milestones", milestones)
        self.gamma = self._read_setting("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _read_setting(self, name, value):
        if name == "gamma":
            return _read_real(name, value, low=0.0)
        if isinstance(value, Mapping):  # torch's state dict: a Counter of epoch -> count
            return Counter({_read_int("milestone", epoch, 0): _read_int(f"milestones[{epoch}]", count, 1)
                            for epoch, count in value.items()})
        if isinstance(value, (str, bytes, Tensor)) or not isinstance(value, Iterable):
            raise TypeError(f"milestones must be a list of epochs, got {type(value).__name__} {value!r}")
        return Counter(_read_int(f"milestones[{i}]", epoch, 0) for i, epoch in enumerate(value))

    def get_lr(self):
        """The current lrs, times gamma at a milestone epoch (gamma ** n for a milestone given n times)."""
        self._warn_if_outside_step()
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by gamma every epoch: lr = initial_lr * gamma ** epoch."""

    _settings = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = self._read_setting("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _read_setting(self, name, value):
        return _read_real(name, value, low=0.0)

    def get_lr(self):
        """The current lrs times gamma (torch's chainable form; unchanged at construction)."""
        self._warn_if_outside_step()
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (SGDR without restarts): lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch /
    T_max)) / 2, computed in torch's chainable form (from the current lr), which goes back up after T_max."""

    _settings = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = self._read_setting("T_max", T_max)
        self.eta_min = self._read_setting("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def _read_setting(self, name, value):
        return _read_int(name, value, 1) if name == "T_max" else _read_real(name, value, low=0.0)

    def get_lr(self):
        """The next lrs from the current ones, in torch's chainable form of the cosine."""
        self._warn_if_outside_step()
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            # The chainable ratio below would divide by zero here (the bottom of the cosine).
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups, strict=True)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min for group in groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): the lr rises from max_lr / div_factor to max_lr over the first
    `pct_start` of `total_steps`, then falls to initial_lr / final_div_factor (`three_phase`: falls back to the
    start, then to the end); with `cycle_momentum` the momentum (SGD's, RMSprop's) or Adam's beta1 moves the
    other way between max_momentum and base_momentum. Step it after every batch, `total_steps` times.

    Sets "initial_lr", "max_lr", "min_lr" (and "max_momentum", "base_momentum") in each group, as torch.
    """

    _settings = ("total_steps", "_schedule_phases", "_anneal_func_type", "cycle_momentum", "use_beta1")

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is not None:
            self.total_steps = _read_int("total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _read_int("epochs", epochs, 1) * _read_int("steps_per_epoch", steps_per_epoch, 1)
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        pct_start = _read_real("pct_start", pct_start, low=0.0)
        if pct_start > 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        three_phase = _read_flag("three_phase", three_phase)
        phases = [(float(pct_start * self.total_steps) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum")]
        if three_phase:
            phases += [(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                        "max_momentum"),
                       (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            phases += [(self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        keys = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")
        self._schedule_phases = self._read_setting("_schedule_phases", [dict(zip(keys, phase)) for phase in phases])
        self._anneal_func_type = self._read_setting("_anneal_func_type", anneal_strategy)
        self.cycle_momentum = _read_flag("cycle_momentum", cycle_momentum)
        div_factor = _read_real("div_factor", div_factor)
        final_div_factor = _read_real("final_div_factor", final_div_factor)
        for name, value in [("div_factor", div_factor), ("final_div_factor", final_div_factor)]:
            if value <= 0:
                raise ValueError(f"invalid {name}={value!r}: expected a number > 0")
        max_lrs = _per_group("max_lr", max_lr, optimizer, lambda name, value: _read_real(name, value, low=0.0))
        group_values: list[dict[str, Any]] = [{} for _ in optimizer.param_groups]
        if last_epoch == -1:
            for values, group_max_lr in zip(group_values, max_lrs, strict=True):
                values.update(initial_lr=group_max_lr / div_factor, max_lr=group_max_lr)
                values["min_lr"] = values["initial_lr"] / final_div_factor
        self.use_beta1 = False
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            high = 1.0 if self.use_beta1 else None  # beta1 must stay below 1
            momenta = [_per_group(name, value, optimizer, lambda n, v: _read_real(n, v, low=0.0, high=high))
                       for name, value in [("max_momentum", max_momentum), ("base_momentum", base_momentum)]]
            if last_epoch == -1:
                for values, group, top, base in zip(group_values, optimizer.param_groups, *momenta, strict=True):
                    if self.use_beta1:
                        values["betas"] = (top, *group["betas"][1:])
                    else:
                        values["momentum"] = top
                    values.update(max_momentum=top, base_momentum=base)
        saved_groups = [dict(group) for group in optimizer.param_groups]
        for group, values in zip(optimizer.param_groups, group_values, strict=True):
            group.update(values)
        try:
            super().__init__(optimizer, last_epoch)
        except BaseException:
            for group, saved in zip(optimizer.param_groups, saved_groups, strict=True):
                group.clear()
                group.update(saved)
            raise

    def _read_setting(self, name, value):
        if name == "total_steps":
            return _read_int(name, value, 1)
        if name in ("cycle_momentum", "use_beta1"):
            return _read_flag(name, value)
        if name == "_anneal_func_type":
            if value not in ("cos", "linear"):
                raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {value!r}")
            return value
        # _schedule_phases: each phase's last step and the group keys it moves between.
        if not isinstance(value, (list, tuple)) or len(value) not in (2, 3):
            raise ValueError(f"_schedule_phases must be a list of 2 or 3 phases, got {value!r}")
        phases, start = [], 0.0
        for i, phase in enumerate(value):
            keys = {"end_step", "start_lr", "end_lr", "start_momentum", "end_momentum"}
            if not isinstance(phase, Mapping) or set(phase) != keys:
                raise ValueError(f"_schedule_phases[{i}] must be a dict with keys {sorted(keys)}, got {phase!r}")
            end = _read_real(f"_schedule_phases[{i}]['end_step']", phase["end_step"])
            if end == start:
                # torch divides by the phase's length and fails with ZeroDivisionError when it is reached.
                raise ValueError(f"OneCycleLR: phase {i} of the schedule would last no steps (it ends at step {end:g}"
                                 f" where it starts); change pct_start or total_steps")
            for key in keys - {"end_step"}:
                if phase[key] not in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
                    raise ValueError(f"_schedule_phases[{i}][{key!r}] names no schedule key: {phase[key]!r}")
            phases.append({**phase, "end_step": end})
            start = end
        return phases

    @staticmethod
    def _annealing_cos(start, end, pct):
        cos_out = math.cos(math.pi * pct) + 1
        return end + (start - end) / 2.0 * cos_out

    @staticmethod
    def _annealing_linear(start, end, pct):
        return (end - start) * pct + start

    def _phase_values(self, group: dict[str, Any]) -> tuple[float, float | None]:
        """(lr, momentum or None) of one group at step `last_epoch`."""
        anneal = self._annealing_cos if self._anneal_func_type == "cos" else self._annealing_linear
        needed = {"initial_lr", "max_lr", "min_lr"} | ({"max_momentum", "base_momentum"} if self.cycle_momentum
                                                       else set())
        missing = needed - set(group)
        if missing:
            raise KeyError(f"OneCycleLR: the optimizer's group lacks {sorted(missing)} (load the optimizer's state "
                           "saved with this scheduler's)")
        step_num, start_step = self.last_epoch, 0.0
        for i, phase in enumerate(self._schedule_phases):
            end_step = phase["end_step"]
            if step_num <= end_step or i == len(self._schedule_phases) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                lr = anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                momentum = (anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                            if self.cycle_momentum else None)
                return lr, momentum
            start_step = phase["end_step"]
        raise AssertionError("unreachable: the last phase always matches")

    def get_lr(self):
        """Each group's lr at step `last_epoch` of its phase; a ValueError past `total_steps`."""
        self._warn_if_outside_step()
        if self.last_epoch > self.total_steps:
            raise ValueError(f"Tried to step {self.last_epoch} times. The specified number of total steps is "
                             f"{self.total_steps}")
        values = [self._phase_values(group) for group in self.optimizer.param_groups]
        self._next_momenta = [momentum for _, momentum in values]
        return [lr for lr, _ in values]

    def state_dict(self) -> dict[str, Any]:
        """The base entries; `use_beta1` only when the momentum cycles, as torch's."""
        state = super().state_dict()
        if not self.cycle_momentum:
            del state["use_beta1"]  # torch sets it only when cycling the momentum
        return state

    def _apply(self, values):
        if self.cycle_momentum:
            for group, momentum in zip(self.optimizer.param_groups, self._next_momenta, strict=True):
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        super()._apply(values)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by `factor` (never below `min_lr`) once the metric given to `step(metric)` has not
    improved for more than `patience` epochs, then wait `cooldown` epochs; an improvement beats the best by
    `threshold` (relative or absolute, `mode` 'min' or 'max'). A NaN metric is never an improvement, as in torch.
    """

    _settings = ("factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps", "mode_worse", "mode",
                 "threshold", "threshold_mode", "best", "cooldown_counter", "num_bad_epochs")
    # Set in __init__ from the checked arguments, all at once through __dict__.
    factor: float
    default_min_lr: float | None  # None when min_lr was given per group
    min_lrs: list[float]
    patience: int
    cooldown: int
    eps: float
    mode: str
    threshold: float
    threshold_mode: str

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        settings = dict(factor=factor, patience=patience, cooldown=cooldown, eps=eps, mode=mode, threshold=threshold,
                        threshold_mode=threshold_mode)
        read = {name: self._read_setting(name, value) for name, value in settings.items()}
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            read.update(default_min_lr=None, min_lrs=self._read_setting("min_lrs", list(min_lr)))
        else:
            default = self._read_setting("default_min_lr", min_lr)
            read.update(default_min_lr=default, min_lrs=[default] * len(optimizer.param_groups))
        self.__dict__.update(read)
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._reset()

    def _read_setting(self, name, value):
        if name == "factor":
            factor = _read_real(name, value, low=0.0)
            if factor >= 1.0:
                raise ValueError(f"Factor should be < 1.0, got factor={factor!r}")
            return factor
        if name in ("patience", "cooldown", "cooldown_counter", "num_bad_epochs"):
            return _read_int(name, value, 0)
        if name in ("eps", "threshold"):
            return _read_real(name, value, low=0.0)
        if name == "default_min_lr":
            return None if value is None else _read_real("min_lr", value, low=0.0)
        if name == "min_lrs":
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"min_lrs must be a list of numbers, got {value!r}")
            return [_read_real(f"min_lr[{i}]", lr, low=0.0) for i, lr in enumerate(value)]
        if name == "mode":
            if value not in ("min", "max"):
                raise ValueError(f"mode {value!r} is unknown! (expected 'min' or 'max')")
            return value
        if name == "threshold_mode":
            if value not in ("rel", "abs"):
                raise ValueError(f"threshold mode {value!r} is unknown! (expected 'rel' or 'abs')")
            return value
        # best and mode_worse: any float, infinity included (the best so far starts at the worst).
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
        return float(value)

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        """Whether a reduction came less than `cooldown` epochs ago: bad epochs are not counted meanwhile."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Take the epoch's metric (a number or a one-element Tensor) and lower the lrs if it has stalled."""
        if isinstance(metrics, (Tensor, np.ndarray)):
            array = metrics._data if isinstance(metrics, Tensor) else metrics
            if array.size != 1:
                raise ValueError(f"ReduceLROnPlateau.step: metrics must be one number, got a tensor of shape "
                                 f"{array.shape}")
            metrics = array.reshape(())[()]
        if isinstance(metrics, (bool, np.bool_)) or not isinstance(metrics, (int, float, np.integer, np.floating)):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number, got {type(metrics).__name__}")
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            epoch = _read_int("epoch", epoch, 0)
        best, num_bad_epochs, cooldown_counter = self.best, self.num_bad_epochs, self.cooldown_counter
        if self._is_better(current, best):
            best, num_bad_epochs = current, 0
        else:
            num_bad_epochs += 1
        if cooldown_counter > 0:
            cooldown_counter -= 1
            num_bad_epochs = 0
        reduce = num_bad_epochs > self.patience
        if reduce and len(self.optimizer.param_groups) != len(self.min_lrs) and self.default_min_lr is None:
            raise RuntimeError(f"The number of param groups in the `optimizer` ({len(self.optimizer.param_groups)}) "
                               f"differs from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                               "usually due to a new param group being added to the optimizer. Please modify the "
                               "`min_lrs` field to match the length of the `optimizer` param groups.")
        self.last_epoch, self.best, self.num_bad_epochs, self.cooldown_counter = epoch, best, num_bad_epochs, \
            cooldown_counter
        if reduce:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            # A float here: `step` refuses a changed number of groups when min_lr was given per group.
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)  # type: ignore[list-item]
        for i, group in enumerate(self.optimizer.param_groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def state_dict(self) -> dict[str, Any]:
        """torch's entries: the settings (with `best`, `cooldown_counter`, `num_bad_epochs`), `last_epoch` and
        `_last_lr`; no `base_lrs`."""
        state = {name: copy.deepcopy(getattr(self, name)) for name in self._settings}
        state.update(last_epoch=self.last_epoch, _last_lr=list(self._last_lr))
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a `state_dict()` (ours or torch's) as `LRScheduler.load_state_dict` does; the mode's
        worst value is derived again from the mode."""
        super().load_state_dict(state_dict)
        self.mode_worse = math.inf if self.mode == "min" else -math.inf  # torch re-derives it from the mode

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, patience={self.patience}, "
                f"threshold={self.threshold}, threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown}, "
                f"min_lrs={self.min_lrs}, eps={self.eps})")
