"""Containers: Sequential (a pipeline of layers) and ModuleList (layers held for a custom forward)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, overload

from .module import Module


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
