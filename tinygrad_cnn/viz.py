"""Pictures of the graph behind a tensor: `draw_graph` (Graphviz) and `print_graph` (text).

Both read the graph through one iterative walk (`_snapshot`) that copies what they show into plain
strings and numbers, so a drawing keeps no tensor or node alive and graphs of any depth are safe.
The graph itself is never changed. Data flows top to bottom: inputs and parameters at the top, the
root (usually the loss) at the bottom; ops made inside an `nn.Module` sit in a cluster per module,
or, with `depth=`, each module below that depth is drawn as a single node.
"""

from __future__ import annotations

import functools
import html
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import graphviz
import numpy as np

from .autograd import Context
from .tensor import Tensor

_INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered to an image. "
    "Install it: Debian/Ubuntu `sudo apt-get install graphviz`, macOS `brew install graphviz`, "
    "conda `conda install -c conda-forge graphviz` (the `graphviz` pip package alone is only the Python "
    "wrapper). Without it, `.source` still gives the DOT text and `.save('graph.dot')` writes it to a file."
)

# Colours: parameters blue, inputs amber, constants grey, ops white, the root green, bad grads red.
_STYLE = {
    "op": dict(shape="box", style="rounded,filled", fillcolor="#ffffff", color="#4b5563"),
    "param": dict(shape="box", style="filled", fillcolor="#dbeafe", color="#1d4ed8"),
    "input": dict(shape="ellipse", style="filled", fillcolor="#fef3c7", color="#b45309"),
    "module": dict(shape="box3d", style="filled", fillcolor="#e0e7ff", color="#4338ca"),
    "const": dict(shape="box", style="filled,dashed", fillcolor="#f3f4f6", color="#9ca3af",
                  fontcolor="#4b5563", fontsize="10", margin="0.05,0.02", height="0.3"),
}
_ROOT_STYLE = dict(fillcolor="#d1fae5", color="#047857", penwidth="2.5")
_BAD = "#dc2626"
_CLUSTER_FILLS = ("#f8fafc", "#eef2ff", "#f0fdf4", "#fdf4ff")
_MAX_INDENT = 32  # text tree levels before the indentation stops growing


class GraphvizNotInstalled(graphviz.ExecutableNotFound):
    """Raised by `Graph.render`/`Graph.pipe` when Graphviz's `dot` is missing; says how to install it."""

    def __init__(self, detail: str = "") -> None:
        # RuntimeError's own __init__: the parent's would format its "failed to execute" message instead
        RuntimeError.__init__(self, _INSTALL_HINT + (f" ({detail})" if detail else ""))


class Graph(graphviz.Digraph):
    """A `graphviz.Digraph` whose `render`/`pipe` explain how to install Graphviz when `dot` is missing.

    It holds only the DOT text: drawing a graph keeps no tensor alive.
    """

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotInstalled(str(error)) from error

    def pipe(self, *args: Any, **kwargs: Any) -> bytes | str:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotInstalled(str(error)) from error


# ----- the snapshot: the graph copied into plain values ------------------------------------------
@dataclass(slots=True)
class _Input:
    key: str
    shape: tuple
    dtype: str
    grad_flows: bool


@dataclass(slots=True)
class _Record:
    """One drawn node: an op, a leaf tensor, a constant argument or a collapsed module, as plain values."""

    key: str
    kind: str  # "op", "param" (leaf that requires grad), "input" (leaf that does not), "const", "module"
    title: str  # op name, "parameter"/"input" for leaves, or the constant's text
    name: str | None = None  # the user's name: from params, or a leaf's Tensor.name
    call: str = ""  # ops: the positional arguments, "·" for tensors, constants written out
    attrs: str = ""
    shape: tuple = ()
    dtype: str = ""
    value: str | None = None  # one-element tensors: the value itself
    grad: str | None = None  # leaves that require grad: the gradient's value or norm, or "None"
    grad_bad: bool = False  # the gradient holds NaN or inf
    grad_square: float = 0.0  # the squared L2 norm of a finite gradient (summed when modules are collapsed)
    scope: tuple = ()
    released: bool = False
    inputs: list[_Input] = field(default_factory=list)


def _param_names(params: Any) -> tuple[dict[int, str], dict[int, tuple[str, Tensor]]]:
    """Names by identity from a dict name -> Tensor, an iterable of (name, tensor) pairs, or a Module:
    `id(leaf) -> name`, and `id(node) -> (name, tensor)` for named tensors that an op made."""
    if params is None:
        return {}, {}
    if callable(getattr(params, "named_parameters", None)):  # a Module: its parameters and buffers
        buffers = params.named_buffers() if callable(getattr(params, "named_buffers", None)) else ()
        pairs = [*params.named_parameters(), *buffers]
    elif isinstance(params, Mapping):
        pairs = list(params.items())
    elif isinstance(params, (list, tuple, Iterator)):  # e.g. model.named_parameters()
        pairs = list(params)
    else:
        raise TypeError(
            f"params must be a dict name -> Tensor (e.g. dict(model.named_parameters())), got "
            f"{type(params).__name__}"
        )
    leaves: dict[int, str] = {}
    made: dict[int, tuple[str, Tensor]] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], Tensor)):
            raise TypeError(f"params must map names to Tensors, got the entry {pair!r:.80}")
        name, tensor = str(pair[0]), pair[1]
        if tensor._ctx is None:
            leaves[id(tensor)] = name
        else:
            made[id(tensor._ctx)] = (name, tensor)
    return leaves, made


@functools.cache
def _dtype_name(dtype: np.dtype) -> str:
    """`str(dtype)`, cached: NumPy's is slow enough to dominate a 100,000-node walk."""
    return str(dtype)


def _format_shape(shape: tuple) -> str:
    """`8×16×14×14`; a 0-d tensor is `scalar`."""
    return "×".join(str(n) for n in shape) if shape else "scalar"


def _format_tensor_type(shape: tuple, dtype: str) -> str:
    """Shape, and the dtype when it is not the default float32."""
    return _format_shape(shape) + ("" if dtype in ("float32", "") else f" {dtype}")


def _format_number(value: Any) -> str:
    """Four significant digits; a float keeps a decimal point (`1.0`, not `1`) to tell it from an int."""
    if not isinstance(value, (float, np.floating)):
        return str(value)
    text = f"{value:.4g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def _format_value(value: Any) -> str:
    """A short text for an attribute or constant: numbers, slices and tuples as written, arrays by shape."""
    if isinstance(value, (np.ndarray, Tensor)):
        data = value._data if isinstance(value, Tensor) else value
        if data.size == 1 and isinstance(value, np.ndarray):
            return _format_number(data.item())
        return f"{'tensor' if isinstance(value, Tensor) else 'array'} " \
            f"{_format_tensor_type(data.shape, _dtype_name(data.dtype))}"
    if isinstance(value, np.generic):
        return _format_number(value.item())
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts if value.step is not None else parts[:2])
    if value is Ellipsis:
        return "..."
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_format_value(v) for v in value[:8]) + (", …" if len(value) > 8 else "")
        text = f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    elif isinstance(value, (bool, int, float, str, type(None))):
        text = repr(value) if isinstance(value, str) else _format_number(value)
    else:
        return type(value).__name__
    return text if len(text) <= 60 else text[:59] + "…"


def _gradient_summary(grad: Any) -> tuple[str, bool, float]:
    """The gradient's value (one element) or L2 norm, whether it holds NaN or inf, its squared norm."""
    if grad is None:
        return "None", False, 0.0
    data = np.asarray(grad._data if isinstance(grad, Tensor) else grad)
    finite = np.isfinite(data)
    if not finite.all():
        nan, inf = int(np.isnan(data).sum()), int(np.isinf(data).sum())
        parts = [f"{nan} NaN" if nan else "", f"{inf} inf" if inf else ""]
        return " ".join(p for p in parts if p), True, 0.0
    # float64 so that squaring large float32 gradients cannot overflow
    norm = float(np.linalg.norm(data.astype(np.float64).ravel()))
    if data.size == 1:
        return _format_number(data.item()), False, norm * norm
    return "norm " + _format_number(norm), False, norm * norm


def _describe_leaf(key: str, tensor: Tensor, names: dict[int, str]) -> _Record:
    kind, title = ("param", "parameter") if tensor.requires_grad else ("input", "input")
    record = _Record(key, kind, title, names.get(id(tensor)) or tensor.name,
                     shape=tensor.shape, dtype=_dtype_name(tensor.dtype))
    if tensor._data.size == 1:
        record.value = _format_number(tensor._data.item())
    if tensor.requires_grad:
        record.grad, record.grad_bad, record.grad_square = _gradient_summary(tensor.grad)
    return record


def _describe_op(key: str, node: Context, made: dict[int, tuple[str, Tensor]]) -> _Record:
    # None and False are the usual defaults (bias=None, keepdim=False): leaving them out keeps labels short
    attrs = ", ".join(f"{k}={_format_value(v)}" for k, v in node.attrs.items()
                      if v is not None and v is not False)
    record = _Record(key, "op", node.op, attrs=attrs, shape=tuple(node.shape), dtype=_dtype_name(node.dtype),
                     scope=tuple(node.scope), released=bool(node.released))
    if id(node) in made:
        record.name, output = made[id(node)]
        if output._data.size == 1:
            record.value = _format_number(output._data.item())
    return record


def _too_many(max_nodes: int, detail: str = "") -> str:
    return (
        f"draw_graph: the graph behind this tensor has more than max_nodes={max_nodes} nodes (ops, leaves "
        f"and constants){detail}; Graphviz would take very long and the picture would not be readable. "
        "Draw each nn.Module as one node with depth=1 (or 2, ...), draw a sub-root (the output of one "
        "layer or block), print it as text with tc.print_graph(root), or pass a larger max_nodes."
    )


def _snapshot(root: Tensor, params: Any, max_nodes: int | None) -> tuple[dict[str, _Record], str]:
    """Every op, leaf and constant behind root as `_Record`s (keys in walk order), and the root's key.

    Iterative depth-first walk; objects are told apart by `id`, safe because the root keeps them all
    alive during the walk, and nothing of them is kept afterwards. Past `max_nodes` it raises at once.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"expected the Tensor whose graph to show, got {type(root).__name__}")
    names, made = _param_names(params)
    records: dict[str, _Record] = {}
    keys: dict[int, str] = {}

    def new_key(prefix: str) -> str:
        if max_nodes is not None and len(records) >= max_nodes:
            raise ValueError(_too_many(max_nodes))
        key = f"{prefix}{len(records)}"
        records[key] = None  # type: ignore[assignment]  # reserved, filled when described
        return key

    start: Context | Tensor = root._ctx if root._ctx is not None else root
    root_key = keys[id(start)] = new_key("op" if type(start) is Context else "leaf")
    stack = [start]
    root_value = _format_number(root._data.item()) if root._data.size == 1 else None
    while stack:
        obj = stack.pop()
        key = keys[id(obj)]
        if isinstance(obj, Tensor):  # else a Context: the stack holds nothing else
            records[key] = _describe_leaf(key, obj, names)
            continue
        record = records[key] = _describe_op(key, obj, made)
        if key == root_key and root_value is not None:
            record.value = root_value
        call = []
        needs = getattr(obj, "needs_input_grad", ())
        for position, parent in enumerate(obj.parents):
            flows = bool(needs[position]) if position < len(needs) else False
            if type(parent) is Context or isinstance(parent, Tensor):
                parent_key = keys.get(id(parent))
                if parent_key is None:
                    parent_key = keys[id(parent)] = new_key("op" if type(parent) is Context else "leaf")
                    stack.append(parent)
                record.inputs.append(_Input(parent_key, tuple(parent.shape), _dtype_name(parent.dtype), flows))
                call.append("·")
            elif isinstance(parent, np.ndarray) and parent.size > 1:
                const_key = new_key("const")
                records[const_key] = _Record(const_key, "const", _format_value(parent), shape=parent.shape,
                                             dtype=_dtype_name(parent.dtype), scope=record.scope)
                record.inputs.append(_Input(const_key, parent.shape, _dtype_name(parent.dtype), False))
                call.append("·")
            else:  # numbers and None are written into the op's call, not drawn as nodes
                call.append(_format_value(parent))
        record.call = ", ".join(call)
    return records, root_key


def _leaf_scopes(records: dict[str, _Record]) -> None:
    """Put each leaf and constant in the deepest module that all its consumers share.

    Parameters and constants belong with the layer that uses them; inputs (data, targets) stay
    outside every module, where the data comes in, unless a name from params puts them in one.
    """
    shared: dict[str, tuple] = {}
    for record in records.values():
        for edge in record.inputs:
            if edge.key in shared:
                common, scope = shared[edge.key], record.scope
                length = 0
                while length < min(len(common), len(scope)) and common[length] == scope[length]:
                    length += 1
                shared[edge.key] = common[:length]
            else:
                shared[edge.key] = record.scope
    for key, scope in shared.items():
        record = records[key]
        if record.kind in ("param", "const"):
            record.scope = scope
        elif record.kind == "input":
            # a non-grad tensor named after a module (a buffer such as `bn.running_mean`) goes with it
            depth = len(scope)
            name = record.name or ""
            while depth and not (scope[depth - 1][0] and name.startswith(scope[depth - 1][0] + ".")):
                depth -= 1
            record.scope = scope[:depth]


def _module_label(scope: tuple) -> str:
    qualname, class_name = scope[-1]
    return f"{qualname}: {class_name}" if qualname else class_name


def _collapse(records: dict[str, _Record], root_key: str, depth: int) -> tuple[dict[str, _Record], str]:
    """Draw each module `depth` levels below the root module as one node, with what it holds inside.

    Ops, parameters and constants inside such a module become one `module` record (op names in order,
    parameter count, combined gradient norm); edges inside it disappear, edges crossing its border
    are kept, one per distinct (tail, shape), on the module's node.
    """
    groups: dict[tuple, _Record] = {}
    group_of: dict[str, str] = {}
    members: dict[str, list[_Record]] = {}
    for key, record in records.items():
        if len(record.scope) > depth:  # only a buffer's name puts an input this deep: it goes too
            scope = record.scope[: depth + 1]
            if scope not in groups:
                group_key = f"module{len(groups)}"
                groups[scope] = _Record(group_key, "module", _module_label(scope), scope=scope[:-1])
                members[group_key] = []
            group = groups[scope]
            group_of[key] = group.key
            members[group.key].append(record)
    collapsed: dict[str, _Record] = {}
    for key, record in records.items():
        if key not in group_of:
            collapsed[key] = record
    for group in groups.values():
        collapsed[group.key] = group
        ops = [r.title for r in reversed(members[group.key]) if r.kind == "op"]  # walk order is root first
        params = [r for r in members[group.key] if r.kind == "param"]
        names = list(dict.fromkeys(ops))
        group.call = " → ".join(names[:5]) + (" → …" if len(names) > 5 else "")
        group.attrs = f"{len(ops)} ops" if len(ops) != 1 else ""
        if params:
            values = sum(int(np.prod(r.shape)) for r in params)
            group.attrs += (", " if group.attrs else "") + _plural(len(params), "parameter") + f" ({values:,} values)"
            group.grad_bad = any(r.grad_bad for r in params)
            group.grad_square = sum(r.grad_square for r in params)
            group.grad = "NaN/inf" if group.grad_bad else (
                "None" if all(r.grad == "None" for r in params) else "norm " + _format_number(group.grad_square**0.5))
        group.released = any(r.released for r in members[group.key])
    for record in list(collapsed.values()):
        sources = members.get(record.key, [record])
        seen: dict[tuple, _Input] = {}
        for member in sources:
            for edge in member.inputs:
                tail = group_of.get(edge.key, edge.key)
                if tail == record.key:
                    continue
                signature = (tail, edge.shape, edge.dtype)
                if signature in seen:
                    seen[signature].grad_flows |= edge.grad_flows
                else:
                    seen[signature] = _Input(tail, edge.shape, edge.dtype, edge.grad_flows)
        record.inputs = list(seen.values())
    if root_key in group_of:  # the root's module shows the root's value and shape
        root, group = records[root_key], collapsed[group_of[root_key]]
        group.shape, group.dtype, group.value = root.shape, root.dtype, root.value
    return collapsed, group_of.get(root_key, root_key)


# ----- draw_graph -----------------------------------------------------------------------------
def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _node_label(record: _Record, is_root: bool, show_grads: bool, show_attrs: bool) -> str:
    small = '<FONT POINT-SIZE="9" COLOR="#4b5563">{}</FONT>'
    lines = []
    if record.kind == "op":
        title = f"<B>{_html(record.title)}</B>"
        if record.name:
            title = f"<B>{_html(record.name)}</B> = {title}"
        lines.append(title + (small.format(_html(f"({record.call})")) if record.call else ""))
        if show_attrs and record.attrs:
            lines.append(small.format(_html(record.attrs)))
    elif record.kind == "const":
        return f"<{_html(record.title)}>"
    elif record.kind == "module":
        lines.append(f"<B>{_html(record.title)}</B>")
        lines.append(small.format(_html(record.call)))
        if record.attrs:
            lines.append(small.format(_html(record.attrs)))
    else:
        lines.append(f"<B>{_html(record.name or record.title)}</B>")
        lines.append(small.format(_html(_format_tensor_type(record.shape, record.dtype))))
    if record.value is not None:
        lines.append(small.format("value " + _html(record.value)))
    if show_grads and record.grad is not None:
        colour = _BAD if record.grad_bad else "#1d4ed8"
        lines.append(f'<FONT POINT-SIZE="9" COLOR="{colour}">grad {_html(record.grad)}</FONT>')
    if is_root:
        lines.append(small.format("root → " + _html(_format_tensor_type(record.shape, record.dtype))))
    return "<" + "<BR/>".join(lines) + ">"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}" if count else ""


def _caption(records: dict[str, _Record]) -> str:
    counts = {kind: 0 for kind in ("op", "param", "input", "const")}
    for record in records.values():
        counts[record.kind] += 1
    values = sum(int(np.prod(r.shape)) for r in records.values() if r.kind == "param")
    parts = [_plural(counts["op"], "op"),
             _plural(counts["param"], "parameter") + f" ({values:,} values)" if counts["param"] else "",
             _plural(counts["input"], "input"), _plural(counts["const"], "constant array")]
    text = " · ".join(part for part in parts if part)
    if any(r.released for r in records.values()):
        text += " · after backward: saved buffers freed (structure kept)"
    return text


def draw_graph(
    root: Tensor,
    params: Any = None,
    show_shapes: bool = True,
    show_grads: bool = False,
    show_attrs: bool = True,
    max_nodes: int = 500,
    *,
    depth: int | None = None,
) -> Graph:
    """Draw the graph behind `root` as a `graphviz.Digraph`: one node per op, leaf and constant array.

    params: a dict name -> Tensor (e.g. `dict(model.named_parameters())`, or the model itself) naming
    leaves by identity; a named non-leaf tensor names the op that made it. Otherwise a leaf shows its
    `Tensor.name`. Parameters (leaves that require grad) are blue boxes, inputs amber ellipses,
    constant arrays grey; the root is green. Edges carry the tensor's shape (and dtype unless float32)
    when `show_shapes`, dashed where no gradient flows. `show_grads` adds each parameter's gradient
    (its value, or its L2 norm) with NaN/inf in red. Ops made inside an `nn.Module` sit in a cluster
    labelled `features.0: Conv2d`, nested as the modules nest. More than `max_nodes` nodes is refused
    with a ValueError before anything is built. `depth=k` draws each module k levels below the root
    module as a single node (its ops, parameter count and gradient norm): `depth=1` gives one node per
    top-level layer, for graphs too big to read op by op. `.render('step', format='svg')` and `.pipe()` need
    Graphviz's `dot`; `.source` and `.save()` do not. Set `graph.graph_attr['rankdir'] = 'LR'` to draw
    left to right.
    """
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive integer, got {max_nodes!r}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0):
        raise ValueError(f"draw_graph: depth must be None or an integer >= 0, got {depth!r}")
    # Collapsing shrinks the graph, so the whole graph is read first; otherwise the walk stops at the limit.
    records, root_key = _snapshot(root, params, int(max_nodes) if depth is None else None)
    _leaf_scopes(records)
    caption = _caption(records)
    if depth is not None:
        records, root_key = _collapse(records, root_key, int(depth))
        modules = sum(r.kind == "module" for r in records.values())
        caption += f" · {_plural(modules, 'module')} drawn as single nodes (depth={depth})" if modules else ""
        if len(records) > max_nodes:
            raise ValueError(_too_many(max_nodes, f" even with depth={depth}"))

    # Declared inputs first, root last (the order the program ran): dot then keeps each op's inputs
    # left to right in argument order more often.
    records = dict(reversed(records.items()))
    graph = Graph(
        name="graph",
        graph_attr=dict(rankdir="TB", fontname="Helvetica", fontsize="10", labelloc="b", labeljust="l",
                        label=caption, nodesep="0.25", ranksep="0.35",
                        ordering="in"),  # an op's inputs left to right in argument order
        node_attr=dict(fontname="Helvetica", fontsize="11", height="0.35", margin="0.12,0.05"),
        edge_attr=dict(fontname="Helvetica", fontsize="9", fontcolor="#374151", color="#4b5563",
                       arrowsize="0.7"),
    )
    # One Digraph per module scope; filled with its nodes, then nested into its parent, deepest first.
    clusters: dict[tuple, Graph] = {(): graph}
    for record in records.values():
        for level in range(1, len(record.scope) + 1):
            scope = record.scope[:level]
            if scope not in clusters:
                clusters[scope] = Graph(name=f"cluster_{len(clusters)}", graph_attr=dict(
                    label=_module_label(scope), labeljust="l", labelloc="t", style="rounded,filled",
                    fillcolor=_CLUSTER_FILLS[(level - 1) % len(_CLUSTER_FILLS)], color="#94a3b8",
                    fontcolor="#334155", fontsize="10", margin="10"))
    for key, record in records.items():
        attrs = dict(_STYLE[record.kind])
        if key == root_key:
            attrs.update(_ROOT_STYLE)
        if show_grads and record.grad_bad:
            attrs.update(color=_BAD, penwidth="2")
        clusters[record.scope].node(key, _node_label(record, key == root_key, show_grads, show_attrs),
                                    **attrs)
    for scope in sorted(clusters, key=len, reverse=True):
        if scope:
            clusters[scope[:-1]].subgraph(clusters[scope])
    computed = ("op", "module")
    for record in records.values():
        # A module's leaves sit one rank above its op; the data edge coming in from another module
        # spans two ranks, so the modules stack top to bottom instead of zig-zagging side by side.
        has_own_leaves = bool(record.scope) and any(
            records[edge.key].kind not in computed and records[edge.key].scope == record.scope
            for edge in record.inputs)
        for edge in record.inputs:
            attrs = {} if edge.grad_flows else dict(style="dashed", color="#9ca3af")
            if show_shapes:
                attrs["label"] = " " + _format_tensor_type(edge.shape, edge.dtype)
            tail = records[edge.key]
            if tail.kind in computed:
                attrs["weight"] = "10"  # keep the data path straight; leaves bend towards it
                if has_own_leaves and tail.scope != record.scope:
                    attrs["minlen"] = "2"
            graph.edge(edge.key, record.key, **attrs)
    return graph


# ----- print_graph ----------------------------------------------------------------------------
def _text_line(record: _Record) -> str:
    if record.kind == "op":
        text = (f"{record.name} = " if record.name else "") + f"{record.title}({record.call})"
        if record.attrs:
            text += f" {record.attrs}"
        text += f" → {_format_tensor_type(record.shape, record.dtype)}"
        if record.scope:
            text += f"   [{_module_label(record.scope)}]"
    elif record.kind == "const":
        text = f"constant {record.title}"
    else:
        text = (f"{record.name}: " if record.name else "") + \
            f"{record.title} {_format_tensor_type(record.shape, record.dtype)}"
    if record.value is not None:
        text += f" value {record.value}"
    if record.grad is not None:
        text += f" grad {record.grad}" + ("  <-- NOT FINITE" if record.grad_bad else "")
    return text


def graph_str(root: Tensor, params: Any = None) -> str:
    """The graph behind `root` as an indented text tree, root first, each op's inputs below it.

    When an op has exactly one op among its inputs, that op continues the same column below the other
    inputs (its leaves), so a chain of layers stays flat; other inputs hang below their op as a tree.
    A node used again is printed once and then referred to by its number (`see [3]`). No Graphviz needed.
    """
    records, root_key = _snapshot(root, params, None)
    consumers: dict[str, int] = {}
    for record in records.values():
        for edge in record.inputs:
            consumers[edge.key] = consumers.get(edge.key, 0) + 1
    numbers: dict[str, int] = {}
    lines = []
    # (key, text before this node's line, prefix its own inputs continue from)
    stack = [(root_key, "", "")]
    while stack:
        key, lead, prefix = stack.pop()
        record = records[key]
        if key in numbers:
            lines.append(f"{lead}see [{numbers[key]}] {record.title}")
            continue
        tag = ""
        if record.kind == "op" and consumers.get(key, 0) > 1:
            numbers[key] = len(numbers) + 1
            tag = f"[{numbers[key]}] "
        lines.append(lead + tag + _text_line(record) + ("   <- root" if key == root_key else ""))
        if len(prefix) > 4 * _MAX_INDENT:  # stop the indentation growing without bound
            prefix = "… " + prefix[-4 * (_MAX_INDENT - 1):]
        inputs = record.inputs
        ops = [edge for edge in inputs if records[edge.key].kind in ("op", "module")]
        if len(ops) == 1:
            # The one op input continues this column below the leaves, so a chain of layers stays flat.
            stack.append((ops[0].key, prefix, prefix))
            inputs = [edge for edge in inputs if edge is not ops[0]]
            for edge in reversed(inputs):
                stack.append((edge.key, prefix + "├── ", prefix + "│   "))
            continue
        for position in range(len(inputs) - 1, -1, -1):
            last = position == len(inputs) - 1
            stack.append((inputs[position].key, prefix + ("└── " if last else "├── "),
                          prefix + ("    " if last else "│   ")))
    return "\n".join(lines)


def print_graph(root: Tensor, params: Any = None, file: TextIO | None = None) -> None:
    """Print the graph behind `root` as an indented text tree (see `graph_str`) to `file` (stdout)."""
    print(graph_str(root, params), file=file if file is not None else sys.stdout)


__all__ = ["Graph", "GraphvizNotInstalled", "draw_graph", "graph_str", "print_graph"]
