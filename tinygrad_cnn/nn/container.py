"""Containers: Sequential (a pipeline of layers), ModuleList and ModuleDict (layers held for a custom forward) and
ParameterList (parameters held by position)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from ..tensor import Tensor
from .module import Module, Parameter


def _as_index(container: _ModuleSequence, index: Any) -> int:
    """A non-negative position from an int index, or a clear IndexError/TypeError."""
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"{type(container).__name__} indices must be integers or slices, "
                        f"got {type(index).__name__}") from None
    size = len(container)
    if not -size <= index < size:
        raise IndexError(f"{type(container).__name__}: index {index} is out of range for {size} modules")
    return index % size


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: their children in order, `len`, iteration and `append`."""

    # Typed as modules, as PyTorch types them: a slot emptied by `seq[i] = None` is the caller's own doing.
    _modules: OrderedDict[str, Module]  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> _ModuleSequence:
        """Add `module` at the end, named by its position."""
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied in order: `Sequential(conv, relu, ...)` or `Sequential(OrderedDict(name=module))`.

    Supports `seq[i]`, `seq[i] = module`, `seq[a:b]` (a new Sequential of the same modules), `len`, iteration
    and `append`.
    """

    @overload
    def __init__(self, *modules: Module) -> None: ...

    @overload
    def __init__(self, modules: OrderedDict[str, Module], /) -> None: ...

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for position, module in enumerate(modules):
                self.add_module(str(position), module)

    def forward(self, x: Any) -> Any:
        """x through each module in order: the output of one is the input of the next."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_as_index(self, index)]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, list(self._modules)[_as_index(self, index)], module)


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent module registers; it has no forward of its own.

    Supports indexing, `len`, iteration, `append`, `extend`, `insert` and item assignment.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(_as_index(self, index))]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(_as_index(self, index)), module)

    def _constructor_args(self) -> dict[str, Any]:
        return {}  # built empty; whole-model load then adds the children, as for every module

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of `modules` at the end, in order."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put `module` before position `index`, renumbering the ones after it."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        for name in list(self._modules):
            delattr(self, name)
        self.extend(modules)


class ModuleDict(Module):
    """A dict of modules by name (insertion order kept) whose parameters the parent module registers; it has no
    forward of its own.

    Supports `d[key]`, `d[key] = module`, `del d[key]`, `key in d`, `len`, iteration over the keys, `keys`,
    `items`, `values`, `update`, `pop` and `clear`, as PyTorch's.
    """

    _modules: OrderedDict[str, Module]  # type: ignore[assignment]

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _constructor_args(self) -> dict[str, Any]:
        return {}  # built empty; whole-model load then adds the children, as for every module

    def _check_key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__} ({key!r})")
        if hasattr(type(self), key):
            raise KeyError(f"ModuleDict: the key {key!r} would hide the method or attribute ModuleDict.{key}")
        return key

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r} (it has {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} must be an nn.Module, got {type(module).__name__}")
        self._check_key(key)
        if key in self._modules:
            setattr(self, key, module)  # replaced in its place, as a dict keeps a key's position
        else:
            self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # a KeyError naming the keys, for one that is not there
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from (name, module) pairs, in their order."""
        if isinstance(modules, Module) or isinstance(modules, (str, bytes)):
            raise TypeError(f"ModuleDict.update expects a mapping or (name, module) pairs, got "
                            f"{type(modules).__name__}")
        pairs = list(modules.items()) if isinstance(modules, Mapping) else list(modules)
        for position, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ModuleDict.update: element {position} should be a (name, module) pair, got "
                                 f"{pair!r}")
        for key, module in pairs:  # checked first, so a bad pair changes nothing
            self._check_key(key)
            if not isinstance(module, Module):
                raise TypeError(f"ModuleDict: {key!r} must be an nn.Module, got {type(module).__name__}")
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove the module named `key` and return it."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            delattr(self, key)


class ParameterList(Module):
    """A list of parameters, registered by position ("0", "1", ...) so that the parent module's `parameters()`
    and `state_dict` include them; a Tensor that is not a Parameter is made one, as PyTorch does.

    Supports indexing, item assignment, `len`, iteration, `append` and `extend`.
    """

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _constructor_args(self) -> dict[str, Any]:
        return {}  # built empty; whole-model load then adds the parameters by name

    @staticmethod
    def _as_parameter(value: Any) -> Parameter:
        if isinstance(value, Parameter):
            return value
        if isinstance(value, Tensor):
            return Parameter(value)
        raise TypeError(f"ParameterList holds Tensors (made Parameters), got {type(value).__name__}")

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())  # type: ignore[arg-type]

    def __getitem__(self, index: Any) -> Any:
        parameters: list[Parameter] = list(self)
        if isinstance(index, slice):
            return ParameterList(parameters[index])
        return parameters[self._position(index)]

    def __setitem__(self, index: int, value: Tensor) -> None:
        setattr(self, str(self._position(index)), self._as_parameter(value))

    def _position(self, index: Any) -> int:
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"ParameterList indices must be integers or slices, got {type(index).__name__}") from None
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"ParameterList: index {index} is out of range for {size} parameters")
        return index % size

    def append(self, value: Tensor) -> ParameterList:
        """Add `value` (as a Parameter) at the end, named by its position."""
        self.register_parameter(str(len(self)), self._as_parameter(value))
        return self

    def extend(self, values: Iterable[Tensor]) -> ParameterList:
        """Add each of `values` at the end, in order."""
        if isinstance(values, Tensor):
            raise TypeError("ParameterList.extend expects an iterable of Tensors, got a Tensor")
        parameters = [self._as_parameter(value) for value in values]  # all checked before any is added
        for parameter in parameters:
            self.append(parameter)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for i, p in enumerate(self))
