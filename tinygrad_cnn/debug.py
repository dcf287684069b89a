"""Looking inside backward: the order nodes are visited, and what a graph holds."""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import Context
from .tensor import Tensor


def print_trace(node: Context, grad_output: np.ndarray) -> None:
    """The `trace` hook of backward: one line per node as it is processed."""
    print(f"{node.name:>16}  out {str(node.shape):<18} |grad| {np.linalg.norm(grad_output):.4g}")


def explain_backward(root: Tensor) -> list[str]:
    """Print and return, in the order backward would visit them, each node with its output shape and
    the number of consumers whose gradients it gathers (several: the paths join there)."""
    from .autograd import _walk

    if root._ctx is None:
        return []
    consumers = _walk(root._ctx)
    remaining, ready, lines = dict(consumers), [root._ctx], []
    while ready:
        node = ready.pop()
        joins = consumers[node]
        lines.append(f"{len(lines):>4}. {node.name:<16} out {str(node.shape):<18}"
                     + (f" gathers gradients from {joins} paths" if joins > 1 else ""))
        for parent in node.parents:
            if type(parent) is Context:
                remaining[parent] -= 1
                if remaining[parent] == 0:
                    ready.append(parent)
    print("\n".join(lines))
    return lines


def graph_stats(root: Tensor) -> dict[str, Any]:
    """Node count and the bytes of arrays saved for backward in the graph behind root."""
    from .autograd import _walk

    if root._ctx is None:
        return {"nodes": 0, "saved_bytes": 0}
    nodes = _walk(root._ctx)
    saved = 0
    for node in nodes:
        arrays = list(node.saved_tensors) + [v for v in node.__dict__.values() if isinstance(v, np.ndarray)]
        saved += sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
    return {"nodes": len(nodes), "saved_bytes": saved}
