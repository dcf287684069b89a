"""Looking inside backward: the order nodes are visited, what a graph holds, and where NaN/inf came from."""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import numpy as np

from .autograd import Context, _walk, grad_mode
from .tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


# ----- explain backward ---------------------------------------------------------------------------
def tracer() -> Callable[[Context, np.ndarray], None]:
    """A fresh `trace` hook for one backward walk (`loss.backward(trace=True)`): one line per node as it
    is processed, with the step, the op, its output shape, the norm of the gradient arriving at it, and
    how many consumers it gathered gradient from (a node runs only once all of them have sent theirs)."""
    consumers: dict[Context, int] = {}
    step = 0

    def trace(node: Context, grad_output: np.ndarray) -> None:
        nonlocal consumers, step
        if not consumers:  # the first node is the root: count the walk's consumers once
            consumers = _walk(node)
        print(_trace_line(step, node, grad_output, consumers[node]))
        step += 1

    return trace


def _trace_line(step: int, node: Context, grad_output: np.ndarray, joins: int) -> str:
    gathered = f"  gathers gradients from {joins} paths" if joins > 1 else ""
    norm = float(np.linalg.norm(grad_output)) if np.isfinite(grad_output).all() else float("nan")
    return f"{step:>4}. {node.op:<16} out {str(node.shape):<18} |grad| {norm:<10.4g}{gathered}".rstrip()


def explain_backward(root: Tensor, gradient: Any = None) -> list[str]:
    """Print and return one line per node in the order backward processes it.

    Each line: the op, its output shape, the norm of the gradient flowing into it, and whether it
    gathers gradients from several paths. Backward runs for real (so the order and the norms are
    the engine's own) with the graph retained and every leaf's `.grad` restored afterwards.
    `gradient` is as for `backward` (needed for a non-scalar root).
    """
    if root._ctx is None:
        return []
    consumers = _walk(root._ctx)
    leaves = {id(p): p for node in consumers for p in node.parents if isinstance(p, Tensor) and p.requires_grad}
    saved = [(leaf, leaf.grad, None if leaf.grad is None else leaf.grad._data.copy()) for leaf in leaves.values()]
    lines = [
        "backward visits a node only after all its consumers have sent their gradient (topological order),",
        "so the gradient it passes on is complete:",
    ]

    def record(node: Context, grad_output: np.ndarray) -> None:
        lines.append(_trace_line(len(lines) - 2, node, grad_output, consumers[node]))

    from .autograd import backward

    try:
        backward(root, gradient, retain_graph=True, trace=record)
    finally:
        for leaf, grad, data in saved:
            if grad is not None:
                grad._data[...] = data
            leaf.grad = grad
    print("\n".join(lines))
    return lines[2:]


# ----- graph lifetime -----------------------------------------------------------------------------
def _saved_arrays(node: Context) -> Iterator[np.ndarray]:
    for value in (*node.saved_tensors, *node.__dict__.values()):
        if isinstance(value, np.ndarray):
            yield value
        elif isinstance(value, (tuple, list)):
            yield from (v for v in value if isinstance(v, np.ndarray))


def graph_stats(root: Tensor) -> dict[str, Any]:
    """What the graph behind root holds for backward.

    Returns `nodes` (op count), `leaves` (tensors requiring grad that it reaches), `saved_bytes` (arrays
    kept for backward, each buffer counted once even when several nodes or views share it), `depth`
    (the longest chain of ops) and `by_op` (name -> {"nodes", "saved_bytes"}), largest first.
    """
    if root._ctx is None:
        return {"nodes": 0, "leaves": int(root.requires_grad), "saved_bytes": 0, "depth": 0, "by_op": {}}
    nodes = _reachable(root._ctx)
    seen: set[int] = set()
    by_op: dict[str, dict[str, int]] = {}
    leaves: set[int] = set()
    for node in nodes:
        entry = by_op.setdefault(node.op, {"nodes": 0, "saved_bytes": 0})
        entry["nodes"] += 1
        for array in _saved_arrays(node):
            base = array
            while isinstance(base.base, np.ndarray):  # views share their base's buffer: count it once
                base = base.base
            if id(base) not in seen:
                seen.add(id(base))
                entry["saved_bytes"] += base.nbytes
        leaves.update(id(p) for p in node.parents if isinstance(p, Tensor) and p.requires_grad)
    return {
        "nodes": len(nodes),
        "leaves": len(leaves),
        "saved_bytes": sum(e["saved_bytes"] for e in by_op.values()),
        "depth": _depth(root._ctx),
        "by_op": dict(sorted(by_op.items(), key=lambda item: -item[1]["saved_bytes"])),
    }


def _reachable(root: Context) -> list[Context]:
    """Every node behind root, freed or not (the engine's own walk refuses freed graphs)."""
    seen, stack = {root}, [root]
    while stack:
        for parent in stack.pop().parents:
            if type(parent) is Context and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return list(seen)


def _depth(root: Context) -> int:
    """The longest chain of ops from root down to a leaf, iteratively (graphs may be 100,000 deep)."""
    depth: dict[Context, int] = {}
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        parents = [p for p in node.parents if type(p) is Context]
        if expanded:
            depth[node] = 1 + max((depth[p] for p in parents), default=0)
        elif node not in depth:
            stack.append((node, True))
            stack.extend((p, False) for p in parents if p not in depth)
    return depth[root]


# ----- anomaly detection --------------------------------------------------------------------------
class AnomalyError(RuntimeError):
    """NaN or inf appeared in forward or backward; the message names the op, its inputs and its source line."""


def creation_site() -> str:
    """`file:line in function: code` of the first caller outside tinygrad_cnn (the user's line)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno} in {frame.f_code.co_name}: {code}"


def _summary(array: Any) -> str:
    """Shape, range and counts of non-finite values of an array (or the repr of a constant)."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiub":
        return repr(array)
    if array.size == 0:
        return f"shape {array.shape}, empty"
    finite = np.isfinite(array)
    text = f"shape {array.shape}"
    if finite.any():
        text += f", range [{array[finite].min():.4g}, {array[finite].max():.4g}]"
    nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    return text + (f", {nan} NaN, {inf} inf" if nan or inf else ", all finite")


def _module_path(scope: tuple) -> str:
    """`features.0 (Conv2d) in Net`, from a node's `ctx.scope`; empty outside any Module."""
    if not scope:
        return ""
    root = scope[0][1]
    if len(scope) == 1:
        return f"the forward of {root} itself"
    name, cls = scope[-1]
    return f"{name} ({cls}) in {root}"


def _input_summaries(node: Context) -> list[str]:
    lines = []
    for position, parent in enumerate(node.parents):
        if type(parent) is Context:
            recorded = parent.__dict__.get("anomaly_output", "output of an op recorded outside detect_anomaly")
            lines.append(f"input {position}: from '{parent.op}', {recorded}")
        elif isinstance(parent, Tensor):
            lines.append(f"input {position}: leaf, {_summary(parent._data)}")
        else:
            lines.append(f"input {position}: constant {_summary(parent)}")
    return lines


def _blame(node: Context, what: str) -> str:
    lines = [what, f"  created at {node.__dict__.get('anomaly_site', '<unknown: recorded outside detect_anomaly>')}"]
    path = _module_path(node.scope)
    if path:
        lines.append(f"  inside module {path}")
    lines += [f"  {line}" for line in _input_summaries(node)]
    return "\n".join(lines)


def _record_node(ctx: Context, output: np.ndarray) -> None:
    """The forward hook: remember where the node was made; raise if its output is not finite."""
    ctx.anomaly_site = creation_site()
    ctx.anomaly_output = _summary(output)
    if output.dtype.kind == "f" and not np.isfinite(output).all():
        raise AnomalyError(_blame(ctx, f"detect_anomaly: forward of '{ctx.op}' produced "
                                       f"non-finite values ({ctx.anomaly_output})"))


def _check_backward(node: Context, grad_output: np.ndarray, input_grads: tuple) -> None:
    """The backward check: the first node whose input gradients are not finite is blamed."""
    if not np.isfinite(grad_output).all():  # only reachable at the root: a later node would be blamed first
        raise AnomalyError(_blame(node, f"detect_anomaly: the gradient given to backward is not finite "
                                        f"({_summary(grad_output)})"))
    for position, grad in enumerate(input_grads):
        if grad is not None and not np.isfinite(grad).all():
            raise AnomalyError(_blame(
                node, f"detect_anomaly: backward of '{node.op}' returned a non-finite gradient for input "
                      f"{position} ({_summary(np.asarray(grad))}) from a finite incoming gradient "
                      f"({_summary(grad_output)})"))


class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 (named as PyTorch's)
    """`with tc.detect_anomaly():` raise `AnomalyError` at the first NaN or inf, in forward or backward.

    Also usable as a decorator, `@tc.detect_anomaly()`.
    Each node made inside records the user's source line that created it (and its nn.Module path),
    so the error names the op, the ranges of its inputs and that line. Ops run slower inside (one
    stack walk and one finiteness check per op); outside, the engine does no extra work.
    """

    def __enter__(self) -> detect_anomaly:
        self._previous = (grad_mode.anomaly, grad_mode.backward_check)
        grad_mode.anomaly = True
        grad_mode.backward_check = _check_backward
        grad_mode.hooks.append(_record_node)
        return self

    def __exit__(self, *exc: object) -> None:
        grad_mode.hooks.remove(_record_node)
        grad_mode.anomaly, grad_mode.backward_check = self._previous

__all__ = ["AnomalyError", "detect_anomaly", "explain_backward", "graph_stats"]
