"""Whole models in `tc.save` files: a model built from tinygrad_cnn's own layers and containers, as plain data.

A module is recorded as its class name (one of the classes `tinygrad_cnn.nn` exports), the keyword arguments
that build it (`Module._constructor_args`), its train/eval mode, its children, and its own parameters and
buffers (arrays, with their requires_grad flags). Loading calls that class with those arguments (the
constructor's own checks run, and it may allocate no more than the file holds for it), checks that the result
reports the same arguments, adds the children, and copies the arrays into the state the constructor made,
after checking that names, shapes and dtypes match exactly. Children, parameters and buffers added after
construction (`seq.append(...)`, `register_buffer`) are added again. No code named by the file ever runs: a class
outside the allowed set is refused, and a user-defined Module class is refused when saving.

A module that appears twice in a model (one ReLU used at two places) is recorded once and referred to by
number, numbered in the order their records end (children first), so that loading rebuilds one shared module.

`io.py` owns the file format and calls `encode_module`/`decode_module` for module entries, handing them its
own encoder and decoder (`encode(value, where, depth)`, `decode(entry, where, depth)`) for everything else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import random as _random
from .nn import Module, Parameter
from .nn.module import allocation_budget
from .tensor import Tensor

_MODULE_FIELDS = {"type", "class", "args", "training", "children", "parameters", "buffers"}

_STATE_DICT_ADVICE = ("Save its weights instead: tc.save(model.state_dict(), path); to load them, build the model "
                      "in code and call model.load_state_dict(tc.load(path)). (PyTorch would pickle such a class; "
                      "tinygrad_cnn never pickles, so loading can never run code from a file.)")


def library_modules() -> dict[str, type[Module]]:
    """The Module classes a whole-model file may name: every one `tinygrad_cnn.nn` exports, by name."""
    from . import nn

    return {name: value for name, value in vars(nn).items()
            if isinstance(value, type) and issubclass(value, Module) and not name.startswith("_")}


# ----- save --------------------------------------------------------------------------------------
class ModuleMemo:
    """What one save has recorded so far: modules by id -> their number, and tensors by id -> where they were."""

    def __init__(self) -> None:
        self.modules: dict[int, int] = {}
        self.tensors: dict[int, str] = {}
        self.library = library_modules()


def _tensor_slots(module: Module, registry: str, where: str, memo: ModuleMemo,
                  encode: Callable[[Any, str, int], Any], depth: int) -> list[list[Any]]:
    """[[name, tensor entry or None, requires_grad, (persistent)], ...] for the module's parameters or buffers."""
    slots = []
    for name, tensor in getattr(module, registry).items():
        here = f"{where}.{name}"
        if tensor is None:
            slot = [name, None, False]
        else:
            first = memo.tensors.setdefault(id(tensor), here)
            if first != here:
                raise TypeError(f"save: {here} is the same tensor as {first} (tied weights), which a whole-model "
                                f"file does not keep. {_STATE_DICT_ADVICE}")
            slot = [name, encode(tensor, here, depth + 1), bool(tensor.requires_grad)]
        if registry == "_buffers":
            slot.append(name not in module._non_persistent)
        slots.append(slot)
    return slots


def encode_module(module: Module, where: str, depth: int, memo: ModuleMemo,
                  encode: Callable[[Any, str, int], Any]) -> dict[str, Any]:
    """The JSON-able record of `module` and everything below it; its arrays go where `encode` puts them."""
    if id(module) in memo.modules:
        return {"type": "module_ref", "index": memo.modules[id(module)]}
    cls = type(module)
    if memo.library.get(cls.__name__) is not cls:
        raise TypeError(f"save: {where} is a {cls.__name__}, a Module class defined in {cls.__module__}, outside "
                        "tinygrad_cnn: a whole model is saved only when all its modules are tinygrad_cnn's own "
                        f"layers and containers. {_STATE_DICT_ADVICE}")
    try:
        args = module._constructor_args()
    except TypeError as error:
        raise TypeError(f"save: {where} cannot be saved whole: {error}") from None
    entry = {
        "type": "module",
        "class": type(module).__name__,
        "args": encode(args, f"{where} (constructor arguments)", depth + 1),
        "training": module.training,
        "children": [[name, None if child is None else encode(child, f"{where}.{name}", depth + 1)]
                     for name, child in module._modules.items()],
        "parameters": _tensor_slots(module, "_parameters", where, memo, encode, depth),
        "buffers": _tensor_slots(module, "_buffers", where, memo, encode, depth),
    }
    memo.modules[id(module)] = len(memo.modules)  # numbered when its record ends, as decode_module numbers them
    return entry


# ----- load --------------------------------------------------------------------------------------
def _same_argument(a: Any, b: Any) -> bool:
    """Whether two constructor arguments are equal, types included (True is not 1), NaN equal to NaN."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_argument(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_argument(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _flattened(value: Any) -> list[Any]:
    """The leaves of nested dicts, lists and tuples."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _flattened(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flattened(item)]
    return [value]


def _list_field(entry: dict, field: str, width: int, where: str) -> list[list[Any]]:
    """entry[field], checked to be a list of lists of `width` items each starting with a str name."""
    items = entry[field]
    if type(items) is not list or not all(type(item) is list and len(item) == width and type(item[0]) is str
                                          for item in items):
        raise ValueError(f"{where}: its {field!r} is not a list of [name, ...] lists of {width} items")
    names = [item[0] for item in items]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: its {field!r} names some entry twice: {names}")
    return items


def _decode_slots(items: list[list[Any]], where: str, depth: int,
                  decode: Callable[[Any, str, int], Any]) -> dict[str, tuple[Tensor | None, bool, list[Any]]]:
    """name -> (the file's Tensor or None, requires_grad, the remaining flags) for parameter or buffer slots."""
    slots = {}
    for name, entry, requires_grad, *flags in items:
        if type(requires_grad) is not bool or not all(type(flag) is bool for flag in flags):
            raise ValueError(f"{where}.{name}: its requires_grad and persistent flags must be bools")
        tensor = None if entry is None else decode(entry, f"{where}.{name}", depth + 1)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise ValueError(f"{where}.{name}: a parameter or buffer must be a tensor entry, got a "
                             f"{type(tensor).__name__}")
        if tensor is None and requires_grad:
            raise ValueError(f"{where}.{name}: an empty slot cannot require grad")
        slots[name] = (tensor, requires_grad, flags)
    return slots


def _construct(cls: type[Module], args: dict[str, Any], budget: int, where: str) -> Module:
    """cls(**args), allowed to allocate at most `budget` bytes of state, leaving the global random stream
    where it was (the constructor's initial draws are overwritten by the file's arrays anyway)."""
    generator = _random.generator()
    random_state = generator.bit_generator.state
    token = allocation_budget.set([budget, budget])
    try:
        return cls(**args)
    except MemoryError:
        raise
    except Exception as error:
        shown = ", ".join(f"{key}={value!r}" for key, value in args.items())
        raise ValueError(f"{where}: {cls.__name__}({shown[:300]}) cannot be built: {error}") from error
    finally:
        allocation_budget.reset(token)
        generator.bit_generator.state = random_state


def _check_added_name(module: Module, name: str, where: str) -> None:
    """ValueError if a child or tensor the file adds under `name` would hide a method or attribute of the class."""
    if hasattr(type(module), name):
        raise ValueError(f"{where}: a child or tensor named {name!r} would hide {type(module).__name__}.{name}")


def _load_slots(module: Module, registry: str, slots: dict[str, tuple[Tensor | None, bool, list[Any]]],
                where: str) -> None:
    """Copy the file's parameters or buffers into the rebuilt module, after checking that the ones its
    constructor made come first in the file, in order, with the same empty slots, persistence, shapes and
    dtypes. The file's further ones were registered after construction (as children may be added): they are
    registered again, holding the file's arrays."""
    made = getattr(module, registry)
    if list(slots)[: len(made)] != list(made):
        raise ValueError(f"{where}: the file has {registry[1:]} {list(slots)} but the rebuilt "
                         f"{type(module).__name__} has {list(made)}")
    copies, added = [], []
    for name, (source, requires_grad, flags) in slots.items():
        if source is not None and requires_grad and source.dtype.kind != "f":
            raise ValueError(f"{where}.{name}: a {source.dtype} tensor cannot require grad")
        if name not in made:
            _check_added_name(module, name, where)
            added.append((name, source, requires_grad, flags))
            continue
        target = made[name]
        if (source is None) != (target is None):
            raise ValueError(f"{where}.{name}: the file has {'no' if source is None else 'a'} tensor where the "
                             f"rebuilt {type(module).__name__} has {'none' if target is None else 'one'}")
        if flags and flags[0] != (name not in module._non_persistent):
            raise ValueError(f"{where}.{name}: the file's persistent flag differs from the rebuilt module's")
        if source is None:
            continue
        if source.shape != target.shape or source.dtype != target.dtype:
            raise ValueError(f"{where}.{name}: the file holds shape {source.shape} of {source.dtype} where the "
                             f"rebuilt {type(module).__name__} has shape {target.shape} of {target.dtype}")
        copies.append((target, source, requires_grad))
    for target, source, requires_grad in copies:
        np.copyto(target._data, source._data)
        target._modified()
        target.requires_grad = requires_grad
    for name, source, requires_grad, flags in added:
        if source is not None:
            source.requires_grad = requires_grad
        try:
            if registry == "_parameters":
                module.register_parameter(name, None if source is None else Parameter(source, requires_grad))
            else:
                module.register_buffer(name, source, persistent=flags[0])
        except KeyError as error:
            raise ValueError(f"{where}: cannot add the tensor {name!r}: {error}") from None


def decode_module(entry: dict[str, Any], where: str, depth: int, rebuilt: list[Module],
                  decode: Callable[[Any, str, int], Any]) -> Module:
    """The module a checked record describes, rebuilt from tinygrad_cnn's own classes; `rebuilt` collects
    the modules rebuilt so far, by number, for `module_ref` entries. Anything that does not fit is a
    ValueError naming `where`."""
    if entry["type"] == "module_ref":
        index = entry.get("index")
        if set(entry) != {"type", "index"} or type(index) is not int or not 0 <= index < len(rebuilt):
            raise ValueError(f"{where}: a module_ref entry must have exactly an 'index' of one of the "
                             f"{len(rebuilt)} modules rebuilt before it: {str(entry)[:80]}")
        return rebuilt[index]
    if set(entry) != _MODULE_FIELDS:
        raise ValueError(f"{where}: a 'module' entry has the fields {sorted(entry)}, not {sorted(_MODULE_FIELDS)}")
    name = entry["class"]
    cls = library_modules().get(name) if type(name) is str else None
    if cls is None:
        raise ValueError(f"{where}: the class {str(name)[:80]!r} is not one of tinygrad_cnn.nn's layers and "
                         "containers; refused (a whole-model file builds nothing else)")
    where = f"{where} ({name})"
    if type(entry["training"]) is not bool:
        raise ValueError(f"{where}: its 'training' must be a bool, got {entry['training']!r}")
    args = decode(entry["args"], f"{where} (constructor arguments)", depth + 1)
    if type(args) is not dict or not all(type(key) is str for key in args):
        raise ValueError(f"{where}: its constructor arguments must be a dict with str keys")
    if any(isinstance(value, Module) for value in _flattened(args)):
        raise ValueError(f"{where}: its constructor arguments hold a module; modules are children, not arguments")
    children = _list_field(entry, "children", 2, where)
    parameters = _decode_slots(_list_field(entry, "parameters", 3, where), where, depth, decode)
    buffers = _decode_slots(_list_field(entry, "buffers", 4, where), where, depth, decode)
    budget = sum(tensor._data.nbytes for tensor, _, _ in [*parameters.values(), *buffers.values()]
                 if tensor is not None)
    module = _construct(cls, args, budget, where)
    rebuilt_args = module._constructor_args()
    if not _same_argument(rebuilt_args, args):
        raise ValueError(f"{where}: the file's constructor arguments {str(args)[:200]} build a module whose "
                         f"arguments are {str(rebuilt_args)[:200]}")
    for child_name, child_entry in children:
        _check_added_name(module, child_name, where)
        child = None if child_entry is None else decode(child_entry, f"{where}.{child_name}", depth + 1)
        if child is not None and not isinstance(child, Module):
            raise ValueError(f"{where}.{child_name}: a child must be a module entry, got a {type(child).__name__}")
        try:
            module.add_module(child_name, child)
        except KeyError as error:
            raise ValueError(f"{where}: cannot add the child {child_name!r}: {error}") from None
    if list(module._modules) != [child_name for child_name, _ in children]:
        raise ValueError(f"{where}: the file has children {[n for n, _ in children]} but the rebuilt "
                         f"{name} has {list(module._modules)}")
    _load_slots(module, "_parameters", parameters, where)
    _load_slots(module, "_buffers", buffers, where)
    object.__setattr__(module, "training", entry["training"])
    rebuilt.append(module)
    return module
