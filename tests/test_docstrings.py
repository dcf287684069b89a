"""Every public callable has a docstring, so `help(tc.randn)` and the API reference say what it does.

The walk: the `__all__` of each public module; every public class among those names (Tensor, the `nn` layers, the
optimizers, the schedulers, the datasets...) with its public methods and properties; and every `Module`,
`Optimizer` and `LRScheduler` subclass the package defines, exported or not. `inspect.getdoc` follows inheritance,
so an override of a documented base method needs no docstring of its own. Dtype objects, namespaces and plain
constants are not callables: the walk skips them.
"""

from __future__ import annotations

import functools
import importlib
import inspect

import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim

PUBLIC_MODULES = [
    "tinygrad_cnn", "tinygrad_cnn.accelerator", "tinygrad_cnn.backends", "tinygrad_cnn.cuda",
    "tinygrad_cnn.datasets", "tinygrad_cnn.debug", "tinygrad_cnn.gradcheck", "tinygrad_cnn.io",
    "tinygrad_cnn.kernels", "tinygrad_cnn.nn", "tinygrad_cnn.nn.functional", "tinygrad_cnn.nn.init",
    "tinygrad_cnn.nn.utils", "tinygrad_cnn.ops", "tinygrad_cnn.optim", "tinygrad_cnn.optim.lr_scheduler",
    "tinygrad_cnn.testing", "tinygrad_cnn.utils", "tinygrad_cnn.utils.data", "tinygrad_cnn.viz",
]


def _subclasses(base: type) -> list[type]:
    """base and every class below it, depth first."""
    found, stack = [], [base]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def _own_classes(base: type) -> list[type]:
    """The public subclasses of base (base included) that tinygrad_cnn itself defines."""
    return [cls for cls in _subclasses(base)
            if cls.__module__.startswith("tinygrad_cnn.") and not cls.__name__.startswith("_")]


def _members(cls: type) -> dict[str, object]:
    """qualified name -> object for the public methods and properties of cls, inherited ones included, each
    named after the class that defines it (Conv2d's `to` is `Module.to`)."""
    members = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next((base for base in cls.__mro__ if name in vars(base)), cls)
        where = f"{owner.__module__}.{owner.__qualname__}.{name}"
        static = inspect.getattr_static(cls, name)
        if isinstance(static, (property, functools.cached_property)):
            members[where] = static
        elif callable(getattr(cls, name)) and not inspect.isclass(getattr(cls, name)):
            members[where] = getattr(cls, name)
    return members


def _public_callables() -> dict[str, object]:
    """qualified name -> object for everything the walk checks (see the module docstring)."""
    found: dict[str, object] = {}
    classes: list[type] = [*_own_classes(nn.Module), *_own_classes(optim.Optimizer),
                           *_own_classes(optim.lr_scheduler.LRScheduler)]
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.ismodule(value) or not callable(value):
                continue
            found[f"{module_name}.{name}"] = value
            if inspect.isclass(value):
                classes.append(value)
    for cls in classes:
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
        found.update(_members(cls))
    return found


def _doc(value: object) -> str | None:
    # A partial's getdoc is functools.partial's own docstring: the wrapped function's is the one a user reads.
    if isinstance(value, functools.partial):
        value = value.func
    return inspect.getdoc(value)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_module_has_a_docstring_and_all(module_name):
    module = importlib.import_module(module_name)
    assert inspect.getdoc(module), f"{module_name} has no docstring"
    assert isinstance(getattr(module, "__all__", None), list), f"{module_name} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names what it does not have: {missing}"


def test_every_public_callable_has_a_docstring():
    undocumented = sorted(name for name, value in _public_callables().items() if not (_doc(value) or "").strip())
    assert not undocumented, f"{len(undocumented)} public callables have no docstring:\n" + "\n".join(undocumented)


def test_the_walk_reaches_tensor_layers_optimizers_schedulers_and_factories():
    """The walk itself: it must see what it promises to check, or the test above passes by seeing nothing."""
    walked = _public_callables()
    for name in ["tinygrad_cnn.zeros", "tinygrad_cnn.randn_like", "tinygrad_cnn.nn.functional.conv2d",
                 "tinygrad_cnn.tensor.Tensor.backward", "tinygrad_cnn.tensor.Tensor.shape",
                 "tinygrad_cnn.nn.module.Module.forward", "tinygrad_cnn.nn.layers.Linear.extra_repr",
                 "tinygrad_cnn.optim.optimizer.Optimizer.step", "tinygrad_cnn.optim.lr_scheduler.StepLR.get_lr",
                 "tinygrad_cnn.utils.data.DataLoader"]:
        assert name in walked, name
    assert "tinygrad_cnn.float32" not in walked  # a dtype, not a callable
    # Every public method and property of Tensor; its instance attributes (`grad`, `requires_grad`, `name`, slots)
    # are data, not callables.
    public_tensor_members = [name for name in dir(tc.Tensor) if not name.startswith("_")
                             and name not in tc.Tensor.__slots__]
    assert len(public_tensor_members) > 90
    missing = [name for name in public_tensor_members if f"tinygrad_cnn.tensor.Tensor.{name}" not in walked]
    assert not missing, missing
    assert all(f"{cls.__module__}.{cls.__qualname__}" in walked for cls in [nn.Conv2d, nn.Sequential, optim.Adam])


def test_a_missing_docstring_is_found():
    """The check catches what it is for: a callable without a docstring, and one whose docstring is blank."""
    def undocumented():
        pass

    def blank():
        """ """
    assert _doc(undocumented) is None and not _doc(blank).strip()
    assert _doc(functools.partial(undocumented)) is None
