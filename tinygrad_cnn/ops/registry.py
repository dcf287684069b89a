"""The registry: every op by name, with the sample inputs that the tests check it on.

Like PyTorch's OpInfo, an entry declares its samples once; one registry-wide test gradchecks every
op on every sample, so registering an op is what puts it under test. An entry also names the variants of
`tinygrad_cnn.kernels` that can run the op; the same test checks each against the op's reference on every
sample, and fails if no sample reaches it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import Function


@dataclass(frozen=True)
class Sample:
    """One call of an op: positional `args` (float arrays become inputs that require grad unless
    `requires_grad` says otherwise; anything else is passed as a constant) and keyword `attrs`."""

    args: tuple
    attrs: dict = field(default_factory=dict)
    requires_grad: tuple[bool, ...] | None = None
    note: str = ""

    def grad_flags(self) -> tuple[bool, ...]:
        """Per positional arg, whether it is an input that requires grad: `requires_grad`, else float arrays."""
        if self.requires_grad is not None:
            return self.requires_grad
        return tuple(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in self.args)


SampleFn = Callable[[np.random.Generator], Iterable[Sample]]


@dataclass(frozen=True)
class OpInfo:
    """A registered op: its Function, a sample generator, where it is not differentiable, and the names of the
    kernels' variants that can run it.

    `kinks(sample)` gives, per positional argument, a bool mask of the elements that sit on a point
    where the op is not differentiable (relu at 0, tied maxima), or None when there are none.
    `inplace(tensor, *args, **attrs)`, for an in-place op, is the Tensor method that runs it (`x.add_(y)`):
    the tests call that on a clone of the first input, so that the in-place path is what they check.
    """

    name: str
    function: type[Function]
    samples: SampleFn
    kinks: Callable[[Sample], list] | None = None
    doc: str = ""
    inplace: Callable[..., Any] | None = None
    variants: tuple[str, ...] = ()


registry: dict[str, OpInfo] = {}


def register(name: str, samples: SampleFn, kinks: Callable[[Sample], list] | None = None,
             inplace: Callable[..., Any] | None = None, variants: tuple[str, ...] = ()) -> Callable:
    """Class decorator: `@register("mul", samples=...)` over a Function subclass; `variants` names the kernels
    that can run it (`tinygrad_cnn.kernels.names(name)`)."""

    def decorate(function: type[Function]) -> type[Function]:
        if name in registry:
            raise ValueError(f"an op named {name!r} is already registered ({registry[name].function.__name__})")
        function.name = name
        registry[name] = OpInfo(name, function, samples, kinks, (function.__doc__ or "").strip(), inplace,
                                tuple(variants))
        return function

    return decorate


def call(info: OpInfo, *args: Any, **attrs: Any) -> Any:
    """Run a registered op on Tensors as the tests do: its Function, or its in-place method on a clone of
    the first argument (which then is the result)."""
    if info.inplace is None:
        return info.function.apply(*args, **attrs)
    target = args[0].clone()
    info.inplace(target, *args[1:], **attrs)
    return target
