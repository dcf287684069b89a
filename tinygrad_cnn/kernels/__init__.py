"""Fast variants of the ops, beside their reference math, one file per technique.

An op's `Function` (in `tinygrad_cnn.ops`) holds the plain math. Before running it, the op asks `choose(op,
*args)` for a variant of this layer that applies to its arguments; a variant is a module with

    NAME, OP                  its name and the registered op it runs
    applies(*args) -> bool    whether it runs this call (the op says what args it passes)
    forward(ctx, ...)         the same contract as the op's own forward (arrays in, array out) ...
    backward(ctx, grad)       ... and backward (the gradients, None where not needed)

and the op falls back to its own math when none applies. `with tc.kernels.disabled():` runs the references
only, so a model can be stepped through in its plain form; tests force one variant with `only(name)`, and the
registry test checks every variant against its op's reference on every sample that reaches it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from types import ModuleType

from . import batch_norm, im2col_chunks, winograd

# op name -> its variants, tried in order; the first whose `applies` holds runs.
VARIANTS: dict[str, tuple[ModuleType, ...]] = {
    winograd.OP: (winograd, im2col_chunks),
    batch_norm.OP: (batch_norm,),
}


class _State(threading.local):
    """This thread's switches: read on every op that has variants, so plain attributes on a thread-local."""

    enabled: bool = True
    only: str | None = None
    runs: dict[str, int] | None = None  # variant name -> times chosen, while a test counts them


_state = _State()


def choose(op: str, *args: object) -> ModuleType | None:
    """The variant of `op` that runs for these arguments, or None for the op's reference math."""
    if not _state.enabled:
        return None
    for variant in VARIANTS.get(op, ()):
        if (_state.only is None or _state.only == variant.NAME) and variant.applies(*args):
            if _state.runs is not None:
                _state.runs[variant.NAME] = _state.runs.get(variant.NAME, 0) + 1
            return variant
    return None


def names(op: str) -> tuple[str, ...]:
    """The names of the variants that can run `op`."""
    return tuple(variant.NAME for variant in VARIANTS.get(op, ()))


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run every op's reference math inside (in this thread): `with tc.kernels.disabled(): model(x)`."""
    previous = _state.enabled
    _state.enabled = False
    try:
        yield
    finally:
        _state.enabled = previous


@contextlib.contextmanager
def only(name: str) -> Iterator[dict[str, int]]:
    """Inside (in this thread), the variant `name` runs wherever it applies and no other does; yields a dict that
    counts the calls it ran (under its name), so that a test can tell that it was reached."""
    if not any(name in names(op) for op in VARIANTS):
        raise ValueError(f"kernels.only: no variant named {name!r}; known: {sorted(_all_names())}")
    saved = _state.enabled, _state.only, _state.runs
    runs: dict[str, int] = {}
    _state.enabled, _state.only, _state.runs = True, name, runs
    try:
        yield runs
    finally:
        _state.enabled, _state.only, _state.runs = saved


def _all_names() -> set[str]:
    return {name for op in VARIANTS for name in names(op)}


__all__ = ["VARIANTS", "choose", "disabled", "names", "only"]
