"""The optimizers' base class: parameter groups, checked options, state, `step`, `state_dict`.

Each takes parameters, or a list of parameter groups (dicts with "params" and their own options), and
updates every parameter's `.data` in place in its own dtype (float32 stays float32), bumping the
parameter's version so that a graph built before the step refuses a stale backward.

Nothing changes half-way: options are checked when a group is added, `step()` checks every gradient,
parameter and state entry before it updates any parameter, and `load_state_dict` checks the whole
state before it replaces anything. Options are stored as Python numbers: NumPy scalars and
one-element Tensors are read once into a float or int (a Tensor changed later does not change the
optimizer; set `group["lr"]` instead). Unlike PyTorch, NaN and infinity are refused for every
numeric option (PyTorch takes `lr=nan` and turns every weight into NaN at the first step).
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..nn.module import zero_grads
from ..tensor import Tensor


def _read_number(name: str, value: Any) -> int | float:
    """`value` (a number, a NumPy scalar, a one-element Tensor or array) as a finite Python int or float."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"{name} given as a Tensor or array must have one element, got shape {value.shape}")
        value = value.reshape(())[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    number = value.item() if isinstance(value, np.generic) else value
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"invalid {name}={number}: NaN and infinity are refused")
    return number


def _read_flag(name: str, value: Any) -> bool:
    """`value` (True/False, a NumPy bool) as a Python bool; anything else is refused, 0 and 1 included."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _read_step_count(value: Any) -> int:
    """A saved step count (an int, an integral float, or PyTorch's 0-d float tensor as a 0-d array or
    Tensor) as a Python int >= 0."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise ValueError(f"'step' must be a number or a 0-d tensor, got shape {value.shape}")
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"'step' must be a number, got {type(value).__name__} {value!r}")
    count = value.item() if isinstance(value, np.generic) else value
    if isinstance(count, float):
        if not (math.isfinite(count) and count.is_integer()):
            raise ValueError(f"'step' must be a whole number, got {count}")
        count = int(count)
    if count < 0:
        raise ValueError(f"'step' must be >= 0, got {count}")
    return count


# What learning-rate schedulers keep in a parameter group beside the optimizer's options (torch's schedulers
# store them there, so they are in the optimizer's state_dict too): each optional, a finite number >= 0.
SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


def _read_param_id(value: Any) -> int:
    """A parameter number from a saved group's "params" or a "state" key (an int, or its digits as text)."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"parameter ids are integers, got {value!r}")
    return operator.index(value)


class Optimizer:
    """Base class: parameter groups, per-parameter state, `zero_grad`, `step`, `state_dict`, `load_state_dict`.

    A subclass names its options' rules in `_number_options` (name -> (lowest allowed, bound excluded
    above)) and `_flag_options`, the state each parameter keeps in `_state_layout`, and its update in
    `_update`.
    """

    _number_options: dict[str, tuple[float | None, float | None]] = {"lr": (0.0, None), "weight_decay": (0.0, None)}
    _flag_options: tuple[str, ...] = ()
    # Options that PyTorch's groups carry and we do not: name -> the values whose arithmetic we follow
    # exactly (foreach, fused and capturable only choose how torch runs the same rule). A state dict
    # from torch may hold them with these values; they are checked and dropped.
    _torch_options: dict[str, tuple[Any, ...]] = {"maximize": (False,), "differentiable": (False,),
                                                  "foreach": (None, False, True), "fused": (None, False, True)}
    _may_be_none: frozenset[str] = frozenset()  # state entries that PyTorch may save as None
    _second_moments: frozenset[str] = frozenset()  # state arrays that can never be negative

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = self._checked_options(defaults, list(defaults), type(self).__name__)
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
        if "params" not in param_group:
            raise ValueError(f"param group must have a 'params' entry, got keys {sorted(param_group)}")
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
        unknown = set(param_group) - set(self.defaults) - {"params"} - set(SCHEDULER_KEYS)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown option(s) {sorted(unknown)} in a parameter group "
                            f"(known: {sorted(self.defaults)}, and the schedulers' {list(SCHEDULER_KEYS)})")
        options = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}}
        names = list(self.defaults) + [key for key in SCHEDULER_KEYS if key in param_group]
        options = self._checked_options(options, names,
                                        f"{type(self).__name__}: parameter group {len(self.param_groups)}")
        self.param_groups.append({**options, "params": params})

    # ----- options ----------------------------------------------------------------------------
    def _read_option(self, name: str, value: Any) -> Any:
        """One option's value, normalized (Python numbers, bools, tuples); TypeError/ValueError if invalid."""
        if name in self._flag_options:
            return _read_flag(name, value)
        low, high = self._number_options[name] if name in self._number_options else (0.0, None)
        number = _read_number(name, value)
        if low is not None and number < low:
            raise ValueError(f"invalid {name}={number!r}: expected a number >= {low:g}")
        if high is not None and number >= high:
            raise ValueError(f"invalid {name}={number!r}: expected a number < {high:g}")
        return number

    def _check_combination(self, options: dict[str, Any]) -> None:
        """Rules between options (each already valid on its own); ValueError if they conflict."""

    def _read_options(self, options: Mapping[str, Any], names: Iterable[str],
                      problems: list[Exception]) -> dict[str, Any]:
        """The options `names` from `options`, normalized; every problem is appended to `problems`."""
        read, problems_before = {}, len(problems)
        for name in names:
            if name not in options:
                problems.append(ValueError(f"option {name!r} is missing"))
                continue
            try:
                read[name] = self._read_option(name, options[name])
            except (TypeError, ValueError) as error:
                problems.append(error)
        if len(problems) == problems_before:
            try:
                self._check_combination(read)
            except ValueError as error:
                problems.append(error)
        return read

    def _checked_options(self, options: Mapping[str, Any], names: Iterable[str], where: str) -> dict[str, Any]:
        """The options `names` normalized, or the first problem raised (its type kept) with every
        problem in its message."""
        problems: list[Exception] = []
        read = self._read_options(options, names, problems)
        if problems:
            raise type(problems[0])(f"{where}: " + "; ".join(str(p) for p in problems))
        return read

    # ----- state of one parameter -------------------------------------------------------------
    def _state_layout(self, options: dict[str, Any]) -> tuple[set[str], set[str]]:
        """(required, allowed) names of a parameter's state entries once it has any state."""
        return set(), set()

    def _state_problems(self, state: Mapping[str, Any], shape: tuple[int, ...], options: dict[str, Any],
                        reported: frozenset[str] = frozenset()) -> list[str]:
        """What is wrong with one parameter's state (arrays and the step count) for a parameter of
        `shape`; an empty state is a fresh one and always fits. Entries in `reported` (unreadable,
        already reported) are not called missing."""
        if not state and not reported:
            return []
        required, allowed = self._state_layout(options)
        problems = []
        missing, unknown = required - set(state) - reported, set(state) - allowed
        if missing:
            problems.append(f"missing state entries {sorted(missing)}")
        if unknown:
            problems.append(f"unknown state entries {', '.join(sorted(map(repr, unknown)))} "
                            f"(allowed: {sorted(allowed)})")
        for name in sorted(set(state) & allowed):
            value = state[name]
            if name == "step":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    problems.append(f"'step' must be an integer >= 0, got {value!r}")
            elif value is None and name in self._may_be_none:
                continue
            elif not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                kind = f"dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
                problems.append(f"state {name!r} must be a floating point array, got {kind}")
            elif value.shape != shape:
                problems.append(f"state {name!r} has shape {value.shape}, but the parameter has shape {shape}")
        return problems

    # ----- stepping ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's `.grad`: drop it (default) or fill it with zeros."""
        zero_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` (re-evaluating the loss) is called
        first, with grad enabled, and its value returned.

        Every group's options, every gradient (a floating Tensor of its parameter's shape, never
        broadcast; a float of another width is cast) and every parameter's state are checked before
        any parameter or state changes: a wrong shape raises RuntimeError, a wrong type TypeError.
        """
        self._opt_called = True  # lets a learning-rate scheduler see that step() came first, as torch's does
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for param, grad, options in self._checked_updates():
            self._update(param._data, grad, self.state.setdefault(id(param), {}), options)
            param._modified()
        return loss

    def _checked_updates(self) -> list[tuple[Tensor, np.ndarray, dict[str, Any]]]:
        """(parameter, gradient array in the parameter's dtype, its group's options) for each parameter
        with a gradient, after checking all of them; raises before anything changes."""
        name = type(self).__name__
        updates = []
        for group_index, group in enumerate(self.param_groups):
            options = self._checked_options(group, list(self.defaults), f"{name}.step: parameter group {group_index}")
            for position, param in enumerate(group["params"]):
                if param.grad is None:
                    continue
                where = f"{name}.step: parameter {position} of group {group_index}"
                data, grad = param._data, param.grad
                if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
                    kind = f"dtype {data.dtype}" if isinstance(data, np.ndarray) else type(data).__name__
                    raise TypeError(f"{where} holds {kind}; only floating point parameters can be optimized")
                if not data.flags.writeable:
                    raise RuntimeError(f"{where} (shape {data.shape}) holds a read-only array")
                if not isinstance(grad, Tensor):
                    raise TypeError(f"{where}: .grad must be a Tensor or None, got {type(grad).__name__}")
                if grad.dtype.kind != "f":
                    raise TypeError(f"{where}: the gradient has dtype {grad.dtype}; it must be floating point "
                                    f"like the parameter ({data.dtype})")
                if grad.shape != data.shape:
                    raise RuntimeError(f"{where}: the gradient has shape {grad.shape}, but the parameter has "
                                       f"shape {data.shape}")
                problems = self._state_problems(self.state.get(id(param), {}), data.shape, options)
                if problems:
                    raise RuntimeError(f"{where} (shape {data.shape}): its state does not fit: " + "; ".join(problems))
                grad_array = grad._data if grad.dtype == data.dtype else grad._data.astype(data.dtype)
                updates.append((param, grad_array, options))
        return updates

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

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore options and state from `state_dict()` of an optimizer of this kind over parameters
        of the same shapes (PyTorch's layout and names: one from torch with its tensors converted to
        arrays or Tensors loads too).

        Checked before anything changes: the keys, the number and sizes of the groups, each group's
        options (this optimizer's names; valid values), and each parameter's state (every entry this
        optimizer needs, none it does not know, floating arrays of the parameter's shape holding no
        NaN or infinity, second moments >= 0, `step` a whole number >= 0). Every problem is listed in
        one ValueError and the optimizer is left unchanged. Arrays are copied and cast to each
        parameter's dtype, as PyTorch does.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"{where}: expected a dict with keys 'state' and 'param_groups', got "
                             f"{type(state_dict).__name__}")
        if set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{where}: expected a dict with keys 'state' and 'param_groups', got keys "
                             f"{', '.join(sorted(map(repr, state_dict)))}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, Mapping):
            raise ValueError(f"{where}: 'param_groups' must be a list and 'state' a dict, got "
                             f"{type(saved_groups).__name__} and {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state has {len(saved_groups)} parameter groups but the optimizer "
                             f"has {len(self.param_groups)}")
        problems: list[str] = []
        new_options = [self._loaded_options(saved, group, number, problems)
                       for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True))]
        # Saved parameter id -> (parameter, its group's options, where it is), as torch pairs them: in order.
        by_id: dict[int, tuple[Tensor, dict[str, Any], str]] = {}
        for number, (saved, group, options) in enumerate(zip(saved_groups, self.param_groups, new_options,
                                                             strict=True)):
            ids = saved.get("params") if isinstance(saved, Mapping) else None
            if not isinstance(ids, (list, tuple)) or len(ids) != len(group["params"]):
                continue  # reported by _loaded_options
            for position, (saved_id, param) in enumerate(zip(ids, group["params"], strict=True)):
                try:
                    saved_id = _read_param_id(saved_id)
                except TypeError:
                    problems.append(f"group {number}: parameter id {saved_id!r} is not an integer")
                    continue
                if saved_id in by_id:
                    problems.append(f"group {number}: parameter id {saved_id} is listed more than once")
                by_id[saved_id] = (param, options, f"state of parameter {saved_id} (group {number}, position "
                                                   f"{position}, shape {param.shape})")
        new_state: dict[int, dict[str, Any]] = {}
        for key, entry in saved_state.items():
            try:
                param, options, place = by_id[_read_param_id(key)]
            except (TypeError, KeyError):
                problems.append(f"state for parameter {key!r}, which no group lists")
                continue
            if not isinstance(entry, Mapping):
                problems.append(f"{place}: expected a dict, got {type(entry).__name__}")
                continue
            restored = self._restored_state(entry, param, options, place, problems)
            if restored:
                new_state[id(param)] = restored
        if problems:
            raise ValueError(f"{where}: the state does not fit this optimizer (nothing was changed):\n  "
                             + "\n  ".join(problems))
        for group, options in zip(self.param_groups, new_options, strict=True):
            for key in SCHEDULER_KEYS:  # the saved group replaces the current one, as in torch
                group.pop(key, None)
            group.update(options)
        self.state = new_state

    def _loaded_options(self, saved: Any, group: dict[str, Any], number: int, problems: list[str]) -> dict[str, Any]:
        """A saved group's options, normalized; its problems (size, names, values) are appended."""
        if not isinstance(saved, Mapping):
            problems.append(f"group {number}: expected a dict, got {type(saved).__name__}")
            return {}
        ids = saved.get("params")
        if not isinstance(ids, (list, tuple)):
            problems.append(f"group {number}: 'params' must be a list of parameter ids, got {ids!r}")
        elif len(ids) != len(group["params"]):
            problems.append(f"group {number} has {len(ids)} parameters in the state but "
                            f"{len(group['params'])} in the optimizer")
        names = set(saved) - {"params"}
        missing = set(self.defaults) - names
        unknown = names - set(self.defaults) - set(self._torch_options) - set(SCHEDULER_KEYS)
        if missing:
            problems.append(f"group {number}: missing options {sorted(missing)}")
        if unknown:
            problems.append(f"group {number}: unknown options {', '.join(sorted(map(repr, unknown)))} "
                            f"(known: {sorted(self.defaults)})")
        for name in sorted(names & set(self._torch_options)):
            value, allowed = saved[name], self._torch_options[name]
            if not (value is None and None in allowed
                    or isinstance(value, (bool, np.bool_)) and bool(value) in allowed):
                problems.append(f"group {number}: PyTorch option {name}={value!r} is not supported "
                                f"(only {' or '.join(map(repr, self._torch_options[name]))})")
        errors: list[Exception] = []
        options = self._read_options(saved, sorted(names & (set(self.defaults) | set(SCHEDULER_KEYS))), errors)
        problems.extend(f"group {number}: {error}" for error in errors)
        return options

    def _restored_state(self, entry: Mapping[str, Any], param: Tensor, options: dict[str, Any], place: str,
                        problems: list[str]) -> dict[str, Any]:
        """One parameter's saved state as fresh arrays in the parameter's dtype and an int step count;
        its problems are appended (prefixed with `place`)."""
        restored: dict[str, Any] = {}
        found, unreadable = [], set()
        for name, value in entry.items():
            if name == "step":
                try:
                    value = _read_step_count(value)
                except (TypeError, ValueError) as error:
                    found.append(str(error))
                    unreadable.add(name)
                    continue
            elif isinstance(value, (Tensor, np.ndarray)):
                value = np.array(value._data if isinstance(value, Tensor) else value)
                if value.dtype.kind == "f":
                    if not np.isfinite(value).all():
                        found.append(f"state {name!r} holds NaN or infinity")
                    elif name in self._second_moments and (value < 0).any():
                        found.append(f"state {name!r} (a second moment) holds negative values")
                    value = value.astype(param.dtype, copy=False)
            elif value is not None:
                value = copy.deepcopy(value)
            restored[name] = value
        found.extend(self._state_problems(restored, param.shape, options, frozenset(unreadable)))
        problems.extend(f"{place}: {problem}" for problem in found)
        return restored

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join(lines) + "\n)"

