"""The engine: Function and Context, grad mode, and the iterative backward walk.

An op is a `Function` subclass with `forward(ctx, *arrays, **attrs)` and `backward(ctx, grad_output)`
over NumPy arrays. `Function.apply` runs the forward and, when some input requires grad, records a
`Context`: the graph node that remembers the op, its inputs' edges and what backward needs.
The engine knows nothing of particular ops.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .tensor import Tensor


class _GradMode(threading.local):
    """The switches read by every `Function.apply`, one set per thread as in PyTorch: `no_grad` in an
    evaluation thread leaves a training thread recording. Attributes are read once per op."""

    def __init__(self) -> None:
        self.enabled = True
        self.scope: tuple = ()  # the nn.Module call path, set by Module.__call__, recorded on each node
        self.scope_names: dict[int, str] = {}  # id(module) -> qualified name in the model being called
        self.anomaly = False  # set by detect_anomaly: record creation sites and check for NaN/inf
        self.hooks: list = []  # callables(ctx, output_array) run on each recorded node while anomaly is on
        self.backward_check: Callable | None = None  # (node, grad_output, input_grads), while anomaly is on


grad_mode = _GradMode()


class no_grad(contextlib.ContextDecorator):
    """Record nothing inside: `with tc.no_grad(): ...` or `@tc.no_grad()` on a function."""

    def __enter__(self) -> None:
        self._previous = grad_mode.enabled
        grad_mode.enabled = False

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._previous


class enable_grad(contextlib.ContextDecorator):
    """Record again inside a `no_grad` block."""

    def __enter__(self) -> None:
        self._previous = grad_mode.enabled
        grad_mode.enabled = True

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._previous


class set_grad_enabled(contextlib.ContextDecorator):  # noqa: N801 (named as PyTorch's)
    """Turn recording on or off in this thread: at once when called, `tc.set_grad_enabled(False)`, or for
    a block, `with tc.set_grad_enabled(training): ...`, after which the previous mode is restored."""

    def __init__(self, mode: bool) -> None:
        self._previous = grad_mode.enabled
        self.mode = bool(mode)
        grad_mode.enabled = self.mode

    def __enter__(self) -> None:
        grad_mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._previous


def is_grad_enabled() -> bool:
    """Whether ops record the graph in this thread."""
    return grad_mode.enabled


class Context:
    """One node of the graph: the op that made a tensor and what its backward needs.

    Engine fields are slots; an op keeps its own values as ordinary attributes (`ctx.mask = ...`),
    which live in `__dict__` and are dropped with the saved arrays when the graph is released.

    `parents[i]` is the edge to the i-th positional input: the `Context` that made it, the leaf
    `Tensor` itself, or the raw constant (a number or array) that was passed.
    """

    __slots__ = (
        "function", "parents", "needs_input_grad", "saved_tensors", "attrs", "shape", "dtype",
        "scope", "released", "versions", "__dict__", "__weakref__",
    )
    # The slots' types (set in __init__ and by `Function.apply`); annotations only, so they coexist with `__slots__`.
    function: type[Function]
    parents: tuple[Any, ...]  # a Context, a leaf Tensor or the constant passed, per positional input
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[Any, ...]
    attrs: dict[str, Any]
    shape: tuple[int, ...]
    dtype: np.dtype
    scope: tuple[tuple[str, str], ...]
    released: bool
    versions: Sequence[tuple[int, list[int], int]]  # (input position or -1, version counter, version seen)

    if TYPE_CHECKING:
        # An op keeps its own values on ctx as ordinary attributes (`ctx.mask = ...`): any other name is allowed.
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def __init__(self) -> None:
        self.saved_tensors = ()
        self.released = False

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (or None) for backward; freed after backward unless retain_graph=True."""
        self.saved_tensors = arrays

    @property
    def op(self) -> str:
        """The op's registered name ("mul", "conv"), or a user Function's class name lower-cased."""
        return getattr(self.function, "name", self.function.__name__.lower())

    def name(self) -> str:
        """PyTorch's name of this node: "MulBackward0" for a built-in op, "SquareBackward" for a user's Function."""
        registered = hasattr(self.function, "name")  # set by ops.registry.register
        return f"{self.function.__name__}Backward{'0' if registered else ''}"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """PyTorch's edges to the nodes of the inputs, one `(node, 0)` per positional input: the `Context` that
        made it, an `AccumulateGrad` for a leaf that requires grad, or None for one that gets no gradient."""
        return tuple((parent if type(parent) is Context else
                      AccumulateGrad(parent) if isinstance(parent, Tensor) and parent.requires_grad else None, 0)
                     for parent in self.parents)

    def release(self) -> None:
        """Free everything backward needed, keeping the structure (op, edges, shape) for inspection."""
        self.saved_tensors = ()
        self.__dict__.clear()
        self.released = True

    def __repr__(self) -> str:
        return f"<{self.name()} {self.shape}>"


class AccumulateGrad:
    """The node PyTorch shows where a gradient ends in a leaf: `.variable` is the leaf tensor."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    @property
    def next_functions(self) -> tuple:
        return ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return f"<AccumulateGrad {self.variable.shape}>"


class Function:
    """Base class of every differentiable op, built-in or a user's own.

    Subclass it with two staticmethods over NumPy arrays:

        class Square(tc.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad_output):
                (x,) = ctx.saved_tensors
                return 2 * x * grad_output

    and call `Square.apply(tensor)`. Positional inputs that are Tensors arrive as arrays; anything else
    (a number, an array) arrives as it was passed and gets no gradient. Keyword arguments are the op's
    attributes: passed to forward as they are and shown in graph drawings. `backward` returns one
    gradient per positional input (a tuple when there are several, None where none is needed).
    """

    name: str  # the registered name, set by `ops.registry.register`; else the class name lower-cased

    @staticmethod
    def forward(ctx: Context, *args: Any, **attrs: Any) -> np.ndarray:
        """The op's output array from its input arrays and attributes; each op defines it, as a staticmethod.

        Save on `ctx` what backward needs (`ctx.save_for_backward(x)`, or attributes)."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> Any:
        """The gradient of each positional input, from `grad_output` (an array of the output's shape).

        One array for one input, else a tuple with one entry per input (None where no gradient is needed)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any) -> Tensor:
        """Run the op: Tensors among `inputs` reach forward as arrays; the output comes back as a Tensor.

        It is recorded in the graph when grad mode is on and some input requires grad."""
        # One pass over the inputs: this runs once per op, so it is kept lean (see benchmarks/).
        ctx = Context()
        arrays, needs, parents = [], [], []
        for x in inputs:
            if isinstance(x, Tensor):
                if x._view_of is not None and x._view_of[0] != x._counter[1] and grad_mode.enabled:
                    _refuse_stale_view(cls, x)
                arrays.append(x._data)
                needs.append(x.requires_grad)
                parents.append(x if x._ctx is None else x._ctx)
            else:
                arrays.append(x)
                needs.append(False)
                parents.append(x)
        record = grad_mode.enabled and True in needs
        # Set before forward: ops read it to skip work for inputs that get no gradient.
        ctx.needs_input_grad = tuple(needs) if record else (False,) * len(needs)
        output = _ieee(cls.forward, ctx, *arrays, **attrs)
        if type(output) is not np.ndarray:
            output = np.asarray(output)
        result = Tensor._make(output, ctx if record else None)
        if output.base is not None or (arrays and output is arrays[0]):
            _share_versions_with_viewed_input(result, inputs, cls, attrs)
        if not record:
            return result
        ctx.function = cls
        ctx.parents = tuple(parents)
        ctx.attrs = attrs
        ctx.shape = output.shape
        ctx.dtype = output.dtype
        ctx.scope = grad_mode.scope
        saved = ctx.saved_tensors
        if saved:
            # The version of each input (or the output, position -1) whose array backward will read: it
            # refuses to run if one was changed in place since (PyTorch's rule: only saved tensors count).
            saved_ids = {id(array) for array in saved}
            ctx.versions = [
                (position, t._counter, t._counter[0])
                for position, t in (*enumerate(inputs), (-1, result))
                if isinstance(t, Tensor) and id(t._data) in saved_ids
            ]
        else:
            ctx.versions = ()
        if grad_mode.anomaly:
            for hook in grad_mode.hooks:
                hook(ctx, output)
        return result


@np.errstate(all="ignore")  # as a decorator it costs half of a `with` block, and this runs once per op
def _ieee(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """function(*args, **kwargs) where a result past a float's range is inf, and NaN where undefined, as IEEE
    and PyTorch give them, never a NumPy RuntimeWarning; non-finite values are what detect_anomaly is for."""
    return function(*args, **kwargs)


def _share_versions_with_viewed_input(result: Tensor, inputs: tuple, function: type[Function],
                                      attrs: dict) -> None:
    """Make `result` a view of the input whose memory its array shares (reshape, slicing, transpose).

    As in PyTorch, a view and its base share one version counter, so that changing either in place
    invalidates the saved arrays of both. A view also remembers how often its base's history had been
    rewritten by recorded in-place ops, so that using a view taken before such a rewrite is refused instead
    of giving a gradient that misses it, and the op that made it from its base, so that an in-place op on
    a slice can be written back into the base (`Tensor._inplace`).
    """
    owner = result._data if result._data.base is None else result._data.base
    for x in inputs:
        if isinstance(x, Tensor) and (x._data is owner or x._data.base is owner):
            result._counter = x._counter
            result._view_of = (x._counter[1], x, function, attrs)
            return


def _refuse_stale_view(function: type[Function], view: Tensor) -> None:
    raise RuntimeError(
        f"{getattr(function, 'name', function.__name__)}: an input is a view (a reshape, slice or transpose) "
        "of a tensor that was modified by an in-place operation recorded in the graph after the view was "
        "taken, so the view's gradient would miss that operation; take the view again after the in-place "
        "operation, or clone() the tensor before changing it"
    )


def _check_versions(node: Context) -> None:
    for position, counter, seen in node.versions:
        if counter[0] != seen:
            label = "its output" if position < 0 else f"input {position}"
            raise RuntimeError(
                f"backward through '{node.op}': {label}, which it saved for backward, was modified in place "
                f"after it was used (its version is {counter[0]}, expected {seen}); clone it before changing "
                "it, or change it after backward"
            )


def _as_gradient(root: Tensor, gradient: Any) -> np.ndarray:
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {root.shape}; pass gradient= an array of that shape"
            )
        return np.ones_like(root._data)
    array = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"backward: gradient has dtype {array.dtype}; it must be a real (float) array")
    if array.shape != root.shape:
        raise RuntimeError(f"backward: gradient has shape {array.shape} but the output has shape {root.shape}")
    return array.astype(root.dtype, copy=False)  # never written in place: see `owned` in backward


def _walk(root: Context) -> dict[Context, int]:
    """Every node reachable from root with its number of consumers in that subgraph (iterative DFS)."""
    consumers: dict[Context, int] = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.released:
            raise RuntimeError(
                f"backward: trying to go through the graph a second time: the buffers of '{node.op}' "
                "were already freed. Pass retain_graph=True to the first backward() to keep them."
            )
        for parent in node.parents:
            if type(parent) is Context:
                if parent in consumers:
                    consumers[parent] += 1
                else:
                    consumers[parent] = 1
                    stack.append(parent)
    return consumers


def backward(
    root: Tensor,
    gradient: Any = None,
    retain_graph: bool = False,
    trace: Callable[[Context, np.ndarray], None] | None = None,
) -> None:
    """Accumulate d(root)/d(leaf) into `.grad` of every leaf that requires grad.

    Nodes are visited in topological order (Kahn's algorithm on consumer counts), so each node's
    gradient is complete, summed over all paths, before its backward runs. `trace(node, grad)` is
    called as each node is visited (see `tc.explain_backward`).
    """
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no grad_fn")
    seed = _as_gradient(root, gradient)
    if root._ctx is None:
        consumers: dict[Context, int] = {}
    else:
        consumers = _walk(root._ctx)
        for node in consumers:
            _check_versions(node)
    if root._ctx is None:
        _ieee(_accumulate_into_leaves, {root: seed}, owned=set())
    else:
        _ieee(_propagate, root._ctx, seed, consumers, retain_graph, trace)


def _propagate(root: Context, seed: np.ndarray, consumers: dict[Context, int], retain_graph: bool,
               trace: Callable[[Context, np.ndarray], None] | None) -> None:
    """Run each node's backward in topological order and add the results into the leaves' `.grad`."""
    grads: dict[Context, np.ndarray] = {root: seed}
    owned: set = set()  # nodes whose gradient array this walk allocated, safe to add into in place
    leaf_grads: dict[Tensor, np.ndarray] = {}
    owned_leaves: set = set()
    ready = [root]
    check = grad_mode.backward_check if grad_mode.anomaly else None  # decided once: no cost when off
    while ready:
        node = ready.pop()
        grad_output = grads.pop(node, None)
        if grad_output is not None:
            if trace is not None:
                trace(node, grad_output)
            try:
                input_grads = node.function.backward(node, grad_output)
            except ValueError as error:
                if node.saved_tensors or "unpack" not in str(error):
                    raise
                raise RuntimeError(
                    f"backward of '{node.op}': ctx.saved_tensors is empty ({error}); did its forward call "
                    "ctx.save_for_backward(...) with the arrays backward needs?"
                ) from error
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(node.parents):
                raise RuntimeError(
                    f"backward of '{node.op}' returned {len(input_grads)} gradients for "
                    f"{len(node.parents)} inputs"
                )
            if check is not None:
                check(node, grad_output, input_grads)
        else:  # nothing flowed into this node; still let its parents count it as done
            input_grads = (None,) * len(node.parents)
        for parent, needed, grad in zip(node.parents, node.needs_input_grad, input_grads, strict=True):
            is_node = type(parent) is Context
            if needed and grad is not None:
                grad = _conform(node, parent, grad)
                target, owners = (grads, owned) if is_node else (leaf_grads, owned_leaves)
                if parent in target:
                    if parent in owners:
                        target[parent] += grad
                    else:
                        target[parent] = target[parent] + grad
                        owners.add(parent)
                else:
                    target[parent] = grad
            if is_node:
                consumers[parent] -= 1
                if consumers[parent] == 0:
                    ready.append(parent)
        if not retain_graph:
            node.release()
    _accumulate_into_leaves(leaf_grads, owned_leaves)


def _conform(node: Context, parent: Any, grad: Any) -> np.ndarray:
    """Check a gradient from `node.backward` against the input it is for; keep the input's dtype."""
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != parent.shape:
        raise RuntimeError(
            f"backward of '{node.op}' returned a gradient of shape {grad.shape} for an input of "
            f"shape {parent.shape}"
        )
    if grad.dtype != parent.dtype:
        if grad.dtype.kind not in "fiub":
            raise RuntimeError(f"backward of '{node.op}' returned a gradient of dtype {grad.dtype} for an input "
                               f"of dtype {parent.dtype}; gradients must be real")
        grad = grad.astype(parent.dtype)
    return grad


def _accumulate_into_leaves(leaf_grads: dict[Tensor, np.ndarray], owned: set) -> None:
    for leaf, grad in leaf_grads.items():
        if leaf.grad is None:
            # An op may hand the same array to several inputs (add does): own a copy before storing.
            leaf.grad = Tensor._make(grad if leaf in owned else grad.copy(), None)
        else:
            leaf.grad._data += grad
