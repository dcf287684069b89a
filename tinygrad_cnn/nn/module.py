"""Module and Parameter: the containers that hold a model's weights, buffers and sub-models.

Assigning a `Parameter`, a `Module` or (through `register_buffer`) a buffer Tensor to an attribute
registers it, as in PyTorch; `parameters()`, `state_dict()` and friends then walk the tree in the
order the attributes were assigned. Values also live in the instance `__dict__`, so reading
`self.weight` in `forward` costs a plain attribute lookup.
"""

from __future__ import annotations

import inspect
import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, NamedTuple

import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor, parse_to_args


class Parameter(Tensor):
    """A Tensor that a Module registers as a weight; requires grad by default.

    `Parameter(data, requires_grad=True)`: data as for `Tensor` (float32 for lists and floats).
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True, dtype: Any = None):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data._data
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# While `tc.load` rebuilds a layer from a file, the bytes its constructor may allocate for parameters and buffers
# (through `state_array`); None otherwise. A record asking for Linear(10**6, 10**6) beside a 10-element weight is
# refused before any memory is taken. Per thread and task, as a ContextVar is.
allocation_budget: ContextVar[list[int] | None] = ContextVar("allocation_budget", default=None)


def state_array(shape: tuple[int, ...], dtype: Any, fill: float | None = None) -> np.ndarray:
    """A new array of `shape` for a layer's parameter or buffer (uninitialised, or filled with `fill`).

    Layers allocate their state through it, so that a layer rebuilt by `tc.load` cannot take more memory than
    the file holds for it (see `allocation_budget`)."""
    dtype = np.dtype(dtype)
    budget = allocation_budget.get()
    if budget is not None:
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > budget[0]:
            raise ValueError(f"its parameters and buffers need more than the {budget[1]} bytes the file holds "
                             f"for them (an array of shape {tuple(shape)} of {dtype} would take {nbytes} bytes, "
                             f"{budget[0]} are left)")
        budget[0] -= nbytes
    return np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)


class StateDictError(RuntimeError, ValueError):
    """A state dict that does not fit the model: a RuntimeError as in PyTorch, and a ValueError (bad input)."""


class IncompatibleKeys(NamedTuple):
    """What `Module.load_state_dict` returns, as in PyTorch: the model's names the state dict lacked
    and the state dict's names the model does not have."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"IncompatibleKeys(missing_keys={self.missing_keys!r}, unexpected_keys={self.unexpected_keys!r})"


def _loadable_copy(key: str, value: Any, target: Tensor) -> tuple[np.ndarray | None, str | None]:
    """`value` (a Tensor or NumPy array) as a new array in `target`'s dtype, or what prevents it.

    Values are cast as PyTorch's `copy_` casts them, except where the cast would change them beyond
    rounding: a finite value that overflows to infinity, or a value an integer buffer cannot hold
    exactly (2.7 or NaN into `num_batches_tracked`), which PyTorch stores silently and we refuse.
    """
    if isinstance(value, Tensor):
        array = value._data
    elif isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
    else:
        return None, f"while copying {key!r}: expected a Tensor or NumPy array, got {type(value).__name__}"
    if array.dtype.kind not in "fiub":
        return None, f"{key}: value of dtype {array.dtype} is not a real number type"
    if array.shape != target.shape:
        return None, (f"size mismatch for {key}: copying a param with shape {array.shape}, "
                      f"the shape in the current model is {target.shape}")
    if not target._data.flags.writeable:
        return None, f"{key}: the model's array is read-only"
    with np.errstate(over="ignore", invalid="ignore"):  # both checked just below, by value
        converted = array.astype(target.dtype)  # always a copy: the source may share memory with a target
    if target.dtype.kind == "f":
        if (np.isinf(converted) & np.isfinite(array)).any():
            return None, f"{key}: values of dtype {array.dtype} overflow {target.dtype} (they would become infinity)"
    else:
        exact = converted == array
        if not exact.all():
            return None, (f"{key}: {target.dtype} cannot hold the value {array[~exact].flat[0].item()!r} "
                          f"(values must be whole numbers in its range)")
    return converted, None


# Bumped whenever any module gains or loses a sub-module, so a cached name map (see __call__) knows
# when it went stale without walking the tree on every call.
_structure_version = [0]


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Clear `.grad` of each tensor: drop it, or fill it with zeros (shared by Module and the optimizers)."""
    for param in params:
        if param.grad is None:
            continue
        if set_to_none:
            param.grad = None
        else:
            param.grad._data[...] = 0


class Module:
    """Base class of every layer and model: subclass it, assign layers in `__init__`, write `forward`."""

    training: bool
    # The registries, set in __init__ past the registering __setattr__; None marks a slot left empty.
    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Tensor | None]
    _non_persistent: set[str]
    _modules: OrderedDict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration -----------------------------------------------------------------------
    def _registries(self) -> tuple[dict, dict, dict]:
        try:
            return self._parameters, self._buffers, self._modules
        except AttributeError:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        parameters, buffers, modules = self._registries()
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            if modules.pop(name, None) is not None:
                _structure_version[0] += 1
            parameters[name] = value
        elif isinstance(value, Module):
            parameters.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
            _structure_version[0] += 1
        elif name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of {type(self).__name__} "
                    "(nn.Parameter or None expected)"
                )
            parameters[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} of {type(self).__name__} "
                    "(Tensor or None expected)"
                )
            buffers[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} of {type(self).__name__} "
                    "(nn.Module or None expected)"
                )
            modules[name] = None
            _structure_version[0] += 1
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        parameters, buffers, modules = self._registries()
        parameters.pop(name, None)
        buffers.pop(name, None)
        self._non_persistent.discard(name)
        if modules.pop(name, None) is not None:
            _structure_version[0] += 1
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or None: a slot with no parameter, like a bias switched off) as `name`."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._check_new_name(name, self._parameters)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a Tensor that is state but not a parameter (running statistics); it is saved in
        `state_dict` unless `persistent=False`, and converted by `to(dtype)` when it is floating."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._check_new_name(name, self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a child module under `name` (a name that is not a valid identifier is fine)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be an nn.Module or None, got {type(module).__name__}")
        self._check_new_name(name, self._modules)
        self._modules[name] = module
        _structure_version[0] += 1
        object.__setattr__(self, name, module)

    register_module = add_module

    def _check_new_name(self, name: str, own: dict) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{type(self).__name__}: attribute name must be a non-empty string without '.', "
                           f"got {name!r}")
        for registry in self._registries():
            if registry is not own and name in registry:
                raise KeyError(f"{type(self).__name__}: attribute {name!r} is already registered")
        if name not in own and name in self.__dict__:
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")

    # ----- walking the tree -------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(qualified name, module) for this module and every descendant, each once, depth first."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct child, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Each direct child module, once."""
        for _, module in self.named_children():
            yield module

    def get_submodule(self, target: str) -> Module:
        """The descendant at the dotted path `target` ("features.0"; "" is this module), as PyTorch's; an
        AttributeError names the first step that is not a child module."""
        if not isinstance(target, str):
            raise TypeError(f"get_submodule: target must be a str, got {type(target).__name__}")
        module: Module = self
        walked = ""
        for name in target.split(".") if target else []:
            child = module._modules.get(name)
            if child is None:
                what = ("is an attribute, not an nn.Module" if hasattr(module, name) and name not in module._modules
                        else "is an empty slot (None)" if name in module._modules else "does not exist")
                raise AttributeError(f"get_submodule({target!r}): {type(module).__name__} "
                                     f"{walked or '(the root)'} has no submodule {name!r}: it {what}")
            module, walked = child, f"{walked}.{name}" if walked else name
        return module

    def _named_members(self, registry: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        # A tensor shared by two modules (tied weights) is listed once, under its first name.
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(qualified name, parameter) here and (with recurse) below; a shared parameter once."""
        for name, param in self._named_members("_parameters", recurse):
            yield (f"{prefix}.{name}" if prefix else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter here and (with recurse) below, each once: what an optimizer takes."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(qualified name, buffer) here and (with recurse) below, each once."""
        for name, buffer in self._named_members("_buffers", recurse):
            yield (f"{prefix}.{name}" if prefix else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (running statistics and the like) here and below, each once."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Any) -> Module:
        """Call `fn(module)` on every descendant, children first, then on this module (custom init)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) here and below."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient recording on or off for every parameter (freezing layers)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's `.grad`: drop it (default) or fill it with zeros."""
        zero_grads(self.parameters(), set_to_none)

    # ----- device and dtype -------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """`to(dtype)`, `to(device)`, `to(device, dtype)` or `to(tensor)`, as PyTorch's: convert every floating
        parameter, gradient and buffer to the dtype in place (the Parameter objects stay the same, so an
        optimizer built before still holds them); integer buffers such as `num_batches_tracked` keep theirs.
        The CPU is the only device."""
        _, dtype, _ = parse_to_args("Module.to", args, kwargs)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are supported, got {dtype}")
        for tensor in [*self.parameters(), *self.buffers()]:
            if tensor.dtype.kind == "f" and tensor.dtype != dtype:
                tensor._data = tensor._data.astype(dtype)
                tensor._modified()
                if tensor.grad is not None:
                    tensor.grad._data = tensor.grad._data.astype(dtype)
        return self

    def cpu(self) -> Module:
        """This module: it is on the CPU already."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused: tinygrad_cnn computes with NumPy on the CPU."""
        raise RuntimeError("Module.cuda: no CUDA device: tinygrad_cnn computes with NumPy on the CPU")

    def float(self) -> Module:
        """Convert to float32: `to(float32)`."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Convert to float64: `to(float64)`, e.g. for gradient checks."""
        return self.to(np.float64)

    # ----- state ------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by qualified name, as detached Tensors that share
        their data with the model (copy them to keep a snapshot)."""
        state: OrderedDict[str, Tensor] = OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix):
            dot = f"{module_prefix}." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[dot + name] = param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    state[dot + name] = buffer.detach()
        return state

    def _state_targets(self) -> OrderedDict[str, Tensor]:
        targets: OrderedDict[str, Tensor] = OrderedDict()
        for module_prefix, module in self.named_modules():
            dot = f"{module_prefix}." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    targets[dot + name] = param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    targets[dot + name] = buffer
        return targets

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or NumPy arrays) into the parameters and persistent buffers of the same
        names, cast to each one's dtype as PyTorch's `copy_` casts them.

        Every problem (missing or unexpected keys with `strict=True`, buffers included; a value that
        is not a Tensor or array, not a real number type, of another shape, or that the cast would
        change beyond rounding) is reported in one StateDictError (a RuntimeError and a ValueError)
        raised before anything is copied: all values are converted first, then all copied.
        Returns `IncompatibleKeys(missing_keys, unexpected_keys)`, as PyTorch.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to Tensors, got "
                            f"{type(state_dict).__name__}")
        targets = self._state_targets()
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        problems, sources = [], {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            converted, problem = _loadable_copy(key, state_dict[key], target)
            if problem is None:
                sources[key] = converted
            else:
                problems.append(problem)
        if strict:
            if missing:
                problems.insert(0, "missing keys: " + ", ".join(repr(k) for k in missing))
            if unexpected:
                problems.insert(0, "unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        for key, array in sources.items():
            target = targets[key]
            np.copyto(target._data, array)  # type: ignore[arg-type]  # an array: only successful conversions are kept
            target._modified()
        return IncompatibleKeys(missing, unexpected)

    # ----- whole-model save ---------------------------------------------------------------------
    def _constructor_args(self) -> dict[str, Any]:
        """The keyword arguments that build a module like this one, for whole-model `tc.save`; `tc.load` calls
        the class with them, then adds the children and loads the state.

        Read, as PyTorch's layers keep them, from the attribute of each `__init__` parameter's name (so a
        later `layer.p = 0.2` is kept), except: `bias` is whether a bias parameter exists, `dtype` is the
        dtype (by name) of the module's own floating tensors, and `device` is the default one. A layer
        whose attributes differ from its arguments overrides this."""
        args: dict[str, Any] = {}
        signature = inspect.signature(type(self).__init__)
        for name, parameter in list(signature.parameters.items())[1:]:  # [0] is self
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if name == "dtype":
                dtypes = {tensor.dtype for tensor in [*self._parameters.values(), *self._buffers.values()]
                          if tensor is not None and tensor.dtype.kind == "f"}
                if len(dtypes) > 1:
                    raise TypeError(f"{type(self).__name__} holds tensors of several floating dtypes "
                                    f"({sorted(d.name for d in dtypes)}), which no dtype argument rebuilds")
                args[name] = dtypes.pop().name if dtypes else None
            elif name == "device":
                args[name] = None  # every tensor lives on the CPU, the default device
            elif name == "bias" and name in self._parameters:
                args[name] = self._parameters[name] is not None
            elif name in self.__dict__:
                args[name] = self.__dict__[name]
            else:
                raise TypeError(f"{type(self).__name__} keeps no attribute {name!r} for its constructor argument "
                                "of that name, so it cannot be rebuilt from its attributes")
        return args

    # ----- calling ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation, which each layer defines; call the module itself (`model(x)`), not forward.

        Calling the module runs forward with the graph nodes it makes named after the module."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run `forward` with `grad_mode.scope` naming this module, so graph nodes know their module.

        The scope is per thread, as grad mode is: a model called in another thread names its own nodes."""
        if args and not isinstance(args[0], Tensor) and type(self).__module__.startswith("tinygrad_cnn."):
            # The library's layers take Tensors, as PyTorch's do; a list or an array would fail deeper down.
            raise TypeError(f"{type(self).__name__}(): argument 'input' must be a Tensor, not "
                            f"{type(args[0]).__name__}; wrap it with tc.tensor(...)")
        mode = grad_mode  # thread-local: read once
        previous_scope, previous_names = mode.scope, mode.scope_names
        if previous_scope:
            name = previous_names.get(id(self), type(self).__name__)
            mode.scope = (*previous_scope, (name, type(self).__name__))
        else:
            mode.scope_names = self._qualified_names()
            mode.scope = (("", type(self).__name__),)
        try:
            return self.forward(*args, **kwargs)
        finally:
            mode.scope, mode.scope_names = previous_scope, previous_names

    def __getstate__(self) -> dict[str, Any]:
        # The name cache is keyed by id(): a copy or an unpickled model must build its own.
        state = self.__dict__.copy()
        state.pop("_scope_names", None)
        return state

    def _qualified_names(self) -> dict[int, str]:
        cache = self.__dict__.get("_scope_names")
        if cache is None or cache[0] != _structure_version[0]:
            cache = (_structure_version[0], {id(m): name for name, m in self.named_modules()})
            object.__setattr__(self, "_scope_names", cache)
        return cache[1]

    def _describe(self) -> str:
        """This module for error messages: its qualified name in the model being called, and its repr."""
        name = grad_mode.scope_names.get(id(self))
        return f"{name} ({self!r})" if name else repr(self)

    # ----- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown in `repr`; layers override it."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
