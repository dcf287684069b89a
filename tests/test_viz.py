"""draw_graph and print_graph: the DOT source read back structurally, real SVGs, and what they keep alive."""

from __future__ import annotations

import gc
import importlib
import re
import shutil
import weakref
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd import grad_mode
from tinygrad_cnn.viz import GraphvizNotInstalled, graph_str

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed (CI installs it)")


# ----- a small reader of the DOT that graphviz writes: one statement per line ---------------------
@dataclass
class Dot:
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> attributes
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)  # cluster name -> label
    parent_cluster: dict[str, str | None] = field(default_factory=dict)  # cluster -> enclosing cluster
    node_cluster: dict[str, str | None] = field(default_factory=dict)  # node -> innermost cluster

    def nodes_of(self, prefix: str) -> list[str]:
        return [name for name in self.nodes if name.startswith(prefix)]

    def label_text(self, name: str) -> str:
        """A node's label with the HTML markup taken out."""
        return re.sub(r"<[^<>]*>", " ", self.nodes[name]["label"]).replace("&amp;", "&")

    def inputs_of(self, name: str) -> list[str]:
        return [tail for tail, head, _ in self.edges if head == name]

    def cluster_path(self, node: str) -> list[str]:
        """The labels of the clusters around a node, outermost first."""
        path, cluster = [], self.node_cluster[node]
        while cluster is not None:
            path.append(self.clusters[cluster])
            cluster = self.parent_cluster[cluster]
        return path[::-1]


ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|<.*?>(?= \w+=|\]$)|[^\s\]]+)')


def attributes(text: str) -> dict[str, str]:
    return {key: value.strip('"') if value.startswith('"') else value.removeprefix("<").removesuffix(">")
            for key, value in ATTRIBUTE.findall(text)}


def parse(source: str) -> Dot:
    dot, stack = Dot(), []
    for line in source.splitlines():
        line = line.strip()
        if match := re.match(r"subgraph (\w+) \{$", line):
            dot.clusters[match[1]] = ""
            dot.parent_cluster[match[1]] = stack[-1] if stack else None
            stack.append(match[1])
        elif line == "}":
            if stack:
                stack.pop()
        elif line.startswith("graph [") and stack:
            dot.clusters[stack[-1]] = attributes(line[len("graph "):])["label"]
        elif match := re.match(r"(\w+) -> (\w+)(?: \[(.*)\])?$", line):
            dot.edges.append((match[1], match[2], attributes(f"[{match[3] or ''}]")))
        elif (match := re.match(r"(\w+) \[(.*)\]$", line)) and match[1] not in ("graph", "node", "edge"):
            dot.nodes[match[1]] = attributes(f"[{match[2]}]")
            dot.node_cluster[match[1]] = stack[-1] if stack else None
    return dot


def draw(root, **kwargs) -> Dot:
    return parse(tc.draw_graph(root, **kwargs).source)


def leaf(*shape, name=None, seed=0, dtype=np.float64):
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return Tensor(data, requires_grad=True, name=name)


def micrograd_expression():
    a = Tensor(np.float64(2.0), requires_grad=True, name="a")
    b = Tensor(np.float64(-3.0), requires_grad=True, name="b")
    c = Tensor(np.float64(10.0), requires_grad=True, name="c")
    return a, b, c, a * b + c


# ----- structure -------------------------------------------------------------------------------
def test_a_times_b_plus_c_is_two_ops_three_leaves_and_four_edges():
    a, b, c, out = micrograd_expression()
    dot = draw(out)
    assert len(dot.nodes_of("op")) == 2 and len(dot.nodes_of("leaf")) == 3 and len(dot.nodes) == 5
    assert len(dot.edges) == 4
    by_label = {dot.label_text(n).split()[0]: n for n in dot.nodes}
    assert sorted(dot.inputs_of(by_label["mul"])) == sorted([by_label["a"], by_label["b"]])
    assert sorted(dot.inputs_of(by_label["add"])) == sorted([by_label["mul"], by_label["c"]])


def test_a_tensor_used_twice_is_one_node_with_two_edges():
    x = leaf(3)
    dot = draw(x * x)
    assert len(dot.nodes) == 2
    assert [(tail, head) for tail, head, _ in dot.edges] == [("leaf1", "op0")] * 2


def test_op_labels_carry_the_registered_name_and_attributes():
    x = leaf(2, 3, 4)
    dot = draw(x.sum(dim=1, keepdim=True).permute(2, 0, 1))
    labels = {n: dot.label_text(n) for n in dot.nodes_of("op")}
    assert any("sum" in t and "dim=1" in t and "keepdim=True" in t for t in labels.values())
    assert any("permute" in t and "dims=(2, 0, 1)" in t for t in labels.values())
    without = draw(x.sum(dim=1, keepdim=True), show_attrs=False)
    assert "dim=1" not in without.label_text("op0")


def test_edges_carry_shapes_and_the_dtype_only_when_not_float32():
    x32, w32 = leaf(4, 5, dtype=np.float32), leaf(5, 3, seed=1, dtype=np.float32)
    labels = {edge[2]["label"].strip() for edge in draw(x32 @ w32).edges}
    assert labels == {"4×5", "5×3"}
    x64 = leaf(4, 5)
    assert {edge[2]["label"].strip() for edge in draw(x64.sum(dim=0)).edges} == {"4×5 float64"}
    assert all("label" not in edge[2] for edge in draw(x64.sum(dim=0), show_shapes=False).edges)


def test_leaves_are_named_from_params_by_identity_then_by_their_own_name():
    w = leaf(3, name="own_name")
    v = leaf(3, seed=1, name="v")
    twin = leaf(3, seed=2)  # same values' shape, not in params: stays unnamed
    dot = draw((w * v + twin).sum(), params={"model.weight": w})
    texts = [dot.label_text(n) for n in dot.nodes_of("leaf")]
    assert any("model.weight" in t for t in texts) and not any("own_name" in t for t in texts)
    assert any(t.split()[0] == "v" for t in texts)
    assert any(t.split()[0] == "parameter" for t in texts)
    assert draw((w * 2.0).sum(), params=[("from_pairs", w)]).label_text("leaf2").split()[0] == "from_pairs"


def test_a_named_intermediate_names_the_op_that_made_it_with_its_value():
    a, b, c, _ = micrograd_expression()
    d = a * b
    dot = draw(d + c, params={"d": d})
    (mul,) = [n for n in dot.nodes_of("op") if "mul" in dot.label_text(n)]
    assert dot.label_text(mul).split()[:3] == ["d", "=", "mul"] and "-6.0" in dot.label_text(mul)


def test_parameters_inputs_and_constants_differ_in_shape_and_colour():
    w = leaf(3, 4, name="w")
    x = Tensor(np.ones((2, 3)))
    mask = np.array([[True, False, True, False]] * 2)
    dot = draw(((x @ w) * mask).sum())
    (param,) = [n for n in dot.nodes_of("leaf") if dot.label_text(n).startswith(" w")]
    (data,) = [n for n in dot.nodes_of("leaf") if n != param]
    (const,) = dot.nodes_of("const")
    looks = [(dot.nodes[n]["shape"], dot.nodes[n]["fillcolor"]) for n in (param, data, const, "op1")]
    for i in range(len(looks)):
        for j in range(i + 1, len(looks)):
            assert looks[i][0] != looks[j][0] or looks[i][1] != looks[j][1]
        assert looks[i][1] != looks[(i + 1) % len(looks)][1]
    assert "2×4 bool" in dot.label_text(const)
    # gradient flows to w but not to x or the mask: their edges are dashed
    styles = {tail: attrs.get("style", "solid") for tail, _, attrs in dot.edges}
    assert styles[param] == "solid" and styles[data] == "dashed" and styles[const] == "dashed"


def test_numbers_and_none_are_written_into_the_op_call_not_drawn():
    x = leaf(3)
    dot = draw(2.5 - x)
    assert len(dot.nodes) == 2 and "sub" in dot.label_text("op0") and "(2.5, ·)" in dot.label_text("op0")


def test_the_root_is_marked_and_shows_its_value_and_shape():
    x = leaf(3)
    dot = draw((x * 3.0).mean())
    others = [n for n in dot.nodes if n != "op0"]
    assert "root" in dot.label_text("op0") and not any("root" in dot.label_text(n) for n in others)
    assert dot.nodes["op0"]["fillcolor"] != dot.nodes["op1"]["fillcolor"]
    assert f"{float(np.mean(x.detach().numpy() * 3.0)):.4g}" in dot.label_text("op0")


def test_a_leaf_root_is_one_marked_node():
    dot = draw(leaf(2, 2, name="alone"))
    assert list(dot.nodes) == ["leaf0"] and not dot.edges and "root" in dot.label_text("leaf0")


# ----- gradients --------------------------------------------------------------------------------
def test_show_grads_gives_each_parameter_its_gradient_norm_after_backward():
    w = leaf(3, 4, name="w")
    x = Tensor(np.random.default_rng(5).standard_normal((2, 3)))
    loss = ((x @ w) ** 2).sum()
    before = draw(loss, show_grads=True, params={"w": w})
    (node,) = [n for n in before.nodes if before.label_text(n).startswith(" w")]
    assert "grad None" in before.label_text(node)
    loss.backward(retain_graph=True)
    text = draw(loss, show_grads=True, params={"w": w}).label_text(node)
    assert f"grad norm {np.linalg.norm(w.grad.detach().numpy()):.4g}" in text
    assert "grad" not in draw(loss, params={"w": w}).label_text(node)


def test_one_element_leaves_show_value_and_gradient_as_micrograd_does():
    a, b, c, out = micrograd_expression()
    out.backward()
    dot = draw(out, show_grads=True)
    texts = {dot.label_text(n).split()[0]: dot.label_text(n) for n in dot.nodes_of("leaf")}
    assert "value 2.0" in texts["a"] and "grad -3.0" in texts["a"]  # d(ab+c)/da = b
    assert "value -3.0" in texts["b"] and "grad 2.0" in texts["b"]
    assert "grad 1.0" in texts["c"]


def test_nan_and_inf_gradients_are_flagged_in_red():
    x = leaf(3, name="x")
    y = leaf(3, seed=1, name="y")
    (x * np.array([np.inf, 1.0, 1.0]) + y).sum().backward()
    dot = draw((x * 1.0 + y).sum(), show_grads=True)
    (bad,) = [n for n in dot.nodes_of("leaf") if dot.label_text(n).split()[0] == "x"]
    (good,) = [n for n in dot.nodes_of("leaf") if dot.label_text(n).split()[0] == "y"]
    assert "1 inf" in dot.label_text(bad) and dot.nodes[bad]["color"] == "#dc2626"
    assert "#dc2626" in dot.nodes[bad]["label"] and "#dc2626" not in dot.nodes[good]["label"]
    x.grad.detach().numpy()[1] = np.nan
    assert "1 NaN 1 inf" in draw((x * 1.0).sum(), show_grads=True).label_text("leaf2")


# ----- before and after backward ------------------------------------------------------------------
def test_a_graph_after_backward_draws_the_same_structure_and_says_buffers_were_freed():
    w, x = leaf(3, 4, name="w"), Tensor(np.ones((2, 3)))
    loss = (x @ w).relu().sum()
    before = tc.draw_graph(loss).source
    loss.backward()
    after = tc.draw_graph(loss).source
    assert parse(after).edges == parse(before).edges and parse(after).nodes.keys() == parse(before).nodes.keys()
    assert "freed" in after and "freed" not in before


def test_a_retained_graph_draws_between_backwards_and_backward_still_works():
    w = leaf(3, name="w")
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    first = tc.draw_graph(loss, show_grads=True).source
    loss.backward()
    second = tc.draw_graph(loss, show_grads=True).source
    np.testing.assert_allclose(w.grad.detach().numpy(), 4 * w.detach().numpy())
    assert "freed" not in first and "freed" in second
    assert (
        f"{np.linalg.norm(2 * w.detach().numpy()):.4g}" in first
        and f"{np.linalg.norm(4 * w.detach().numpy()):.4g}" in second
    )


@given(st.lists(st.tuples(st.sampled_from(["add", "mul", "tanh", "scale"]), st.integers(0, 100)),
                min_size=1, max_size=12))
def test_node_and_edge_counts_match_the_ops_applied(program):
    """A random chain over three leaves, each op taking the previous result and maybe an earlier value:
    one node per op and per distinct leaf used, one edge per tensor input."""
    leaves = [leaf(2, 3, seed=i, name=f"l{i}") for i in range(3)]
    values, edges = [leaves[0]], 0
    used = {id(leaves[0])}
    for op, pick in program:
        other = (values + leaves)[pick % (len(values) + 3)]
        if op in ("add", "mul"):
            values.append(values[-1] + other if op == "add" else values[-1] * other)
            edges += 2
            used.update(id(t) for t in leaves if t is other)
        else:
            values.append(values[-1].tanh() if op == "tanh" else values[-1] * 2.0)
            edges += 1
    dot = draw(values[-1])
    assert len(dot.nodes_of("op")) == len(program)
    assert len(dot.nodes_of("leaf")) == len(used)
    assert len(dot.edges) == edges


# ----- module clusters ----------------------------------------------------------------------------
def test_ops_inside_modules_sit_in_nested_clusters_labelled_with_qualified_names():
    x, w, b = Tensor(np.ones((2, 3))), leaf(3, 4, name="features.0.weight"), leaf(4, name="head.bias")
    previous = grad_mode.scope
    try:
        grad_mode.scope = (("", "Net"), ("features", "Sequential"), ("features.0", "Linear"))
        hidden = x @ w
        grad_mode.scope = (("", "Net"), ("features", "Sequential"), ("features.1", "ReLU"))
        hidden = hidden.relu()
        grad_mode.scope = (("", "Net"), ("head", "Add"))
        out = hidden + b
    finally:
        grad_mode.scope = previous
    dot = draw(out.sum())
    assert sorted(dot.clusters.values()) == sorted(
        ["Net", "features: Sequential", "features.0: Linear", "features.1: ReLU", "head: Add"])
    op = {dot.label_text(n).split()[0].split("(")[0]: n for n in dot.nodes_of("op")}
    assert dot.cluster_path(op["matmul"]) == ["Net", "features: Sequential", "features.0: Linear"]
    assert dot.cluster_path(op["relu"]) == ["Net", "features: Sequential", "features.1: ReLU"]
    assert dot.cluster_path(op["add"]) == ["Net", "head: Add"]
    assert dot.cluster_path(op["sum"]) == []
    # parameters sit with the op that uses them; the input stays outside, where the data comes in
    named = {dot.label_text(n).split()[0]: n for n in dot.nodes_of("leaf")}
    assert dot.cluster_path(named["features.0.weight"])[-1] == "features.0: Linear"
    assert dot.cluster_path(named["head.bias"])[-1] == "head: Add"
    assert dot.cluster_path(named["input"]) == []
    # the data edge into a module holding its own parameters spans two ranks, so modules stack vertically
    edge = {(tail, head): attrs for tail, head, attrs in dot.edges}
    assert edge[(op["relu"], op["add"])].get("minlen") == "2"
    assert "minlen" not in edge[(op["matmul"], op["relu"])]


def small_model_and_loss():
    """Linear-ReLU-Linear on a (4, 5) batch, and the mean of its output."""
    nn = tc.nn
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    x = Tensor(np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32))
    return model, model(x).mean()


def test_a_small_nn_model_is_clustered_by_module_and_named_from_named_parameters():
    model, loss = small_model_and_loss()
    dot = draw(loss, params=dict(model.named_parameters()))
    assert {"0: Linear", "1: ReLU", "2: Linear"} <= set(dot.clusters.values())
    names = {dot.label_text(n).split()[0]: n for n in dot.nodes_of("leaf")}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= set(names)
    assert dot.cluster_path(names["2.weight"])[-1] == "2: Linear"
    assert draw(loss, params=model).nodes == dot.nodes  # the model itself names the same way


def test_depth_draws_each_layer_as_one_node_with_its_parameters_and_gradient_norm():
    model, loss = small_model_and_loss()
    loss.backward()
    dot = draw(loss, params=model, depth=1, show_grads=True)
    modules = {dot.label_text(n).split()[0] + " " + dot.label_text(n).split()[1]: n for n in dot.nodes_of("module")}
    assert set(modules) == {"0: Linear", "1: ReLU", "2: Linear"}
    assert not dot.nodes_of("leaf") or [dot.label_text(n).split()[0] for n in dot.nodes_of("leaf")] == ["input"]
    chain = [(tail, head) for tail, head, _ in dot.edges]
    assert (modules["0: Linear"], modules["1: ReLU"]) in chain and (modules["1: ReLU"], modules["2: Linear"]) in chain
    assert len(dot.edges) == 4  # input -> 0 -> 1 -> 2 -> mean
    first = dot.label_text(modules["0: Linear"])
    weight, bias = model[0].weight.grad.detach().numpy(), model[0].bias.grad.detach().numpy()
    norm = np.sqrt(np.sum(weight.astype(np.float64) ** 2) + np.sum(bias.astype(np.float64) ** 2))
    assert "2 parameters (48 values)" in first and f"grad norm {norm:.4g}" in first
    whole = draw(loss, params=model, depth=0)
    assert len(whole.nodes_of("module")) == 1 and "Sequential" in whole.label_text(whole.nodes_of("module")[0])


def test_depth_keeps_a_graph_under_max_nodes_that_op_by_op_is_refused():
    x = leaf(3, name="x")
    previous = grad_mode.scope
    try:
        grad_mode.scope = (("", "Net"), ("blocks", "Sequential"))
        y = x
        for _ in range(50):
            y = y.tanh()
    finally:
        grad_mode.scope = previous
    with pytest.raises(ValueError, match="depth=1"):
        tc.draw_graph(y.sum(), max_nodes=20)
    dot = draw(y.sum(), max_nodes=20, depth=1)
    # x is used only inside the module, so it is drawn inside the module's node
    (module,) = dot.nodes_of("module")
    assert len(dot.nodes) == 2 and "50 ops, 1 parameter (3 values)" in dot.label_text(module)
    with pytest.raises(ValueError, match="even with depth=0"):
        tc.draw_graph(y.sum(), max_nodes=1, depth=0)


# ----- limits, lifetimes, errors -------------------------------------------------------------------
@pytest.fixture(scope="module")
def chain_100000():
    x = Tensor(np.array([1.0]), requires_grad=True, name="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    return y


def test_draw_graph_refuses_past_max_nodes_with_advice(chain_100000):
    with pytest.raises(ValueError, match=r"more than max_nodes=500.*sub-root.*print_graph"):
        tc.draw_graph(chain_100000)
    x = leaf(3)
    y = x.exp().exp()
    with pytest.raises(ValueError, match="max_nodes=2"):
        tc.draw_graph(y, max_nodes=2)
    assert len(draw(y, max_nodes=3).nodes) == 3


def test_print_graph_of_a_100000_op_chain_has_no_recursion_error(chain_100000, capsys):
    tc.print_graph(chain_100000)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 100_001
    assert lines[0].startswith("mul(·, 1.0)") and "root" in lines[0]
    assert lines[-1].startswith("└── x: parameter 1 float64")


def test_drawing_keeps_no_tensor_or_node_alive():
    def build():
        w = leaf(3, 4, name="w")
        x = Tensor(np.ones((2, 3)))
        loss = (x @ w).relu().sum()
        loss.backward(retain_graph=True)
        graph = tc.draw_graph(loss, params={"w": w}, show_grads=True)
        text = graph_str(loss, params={"w": w})
        return graph, text, [weakref.ref(t) for t in (w, x, loss, loss.grad_fn, w.grad)]

    graph, text, refs = build()
    gc.collect()
    assert all(ref() is None for ref in refs)
    assert "matmul" in graph.source and "matmul" in text


def test_bad_arguments_raise_clear_errors():
    x = leaf(3)
    with pytest.raises(TypeError, match="Tensor.*ndarray"):
        tc.draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="max_nodes.*0"):
        tc.draw_graph(x.exp(), max_nodes=0)
    with pytest.raises(TypeError, match="params.*str"):
        tc.draw_graph(x.exp(), params="w")
    with pytest.raises(ValueError, match="depth.*-1"):
        tc.draw_graph(x.exp(), depth=-1)
    with pytest.raises(TypeError, match="names to Tensors"):
        tc.draw_graph(x.exp(), params={"w": np.ones(3)})


# ----- text ----------------------------------------------------------------------------------------
def test_print_graph_indents_inputs_under_their_op_and_refers_back_to_shared_nodes(capsys):
    a, b, c, _ = micrograd_expression()
    shared = a * b
    tc.print_graph(shared * shared + c, params={"ab": shared})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("add(·, ·) → scalar float64 value 46.0") and lines[0].endswith("<- root")
    assert lines[1] == "├── c: parameter scalar float64 value 10.0 grad None"
    assert lines[2].startswith("mul(·, ·)")  # add's only op input continues the column
    assert lines[3].startswith("├── [1] ab = mul(·, ·) → scalar float64 value -6.0")
    assert lines[4] == "│   ├── a: parameter scalar float64 value 2.0 grad None"
    assert lines[5] == "│   └── b: parameter scalar float64 value -3.0 grad None"
    assert lines[6] == "└── see [1] mul" and len(lines) == 7


def test_print_graph_keeps_a_chain_of_layers_flat():
    y = leaf(2)
    for i in range(50):
        y = (y * leaf(2, seed=i + 1, name=f"w{i}")).tanh()
    lines = graph_str(y).splitlines()
    assert [line for line in lines if line.startswith(("mul", "tanh"))] == [
        line for line in lines if "mul" in line or "tanh" in line]
    assert len(lines) == 50 * 3 + 1 and lines[2] == "├── w49: parameter 2 float64 grad None"


def test_print_graph_stops_indenting_past_32_levels():
    y = leaf(2)
    for _ in range(100):
        y = y + y.tanh()  # two op inputs per level: a tree that nests once per level
    lines = graph_str(y).splitlines()
    assert max(len(line) for line in lines) < 4 * 32 + 60
    assert sum("add(" in line for line in lines) == 100  # each printed once, later as "see [k] add"
    assert any(line.startswith("… ") for line in lines)


# ----- rendering --------------------------------------------------------------------------------------
@needs_dot
def test_svg_rendered_by_dot_has_every_node_edge_and_cluster(tmp_path):
    x, w = Tensor(np.ones((2, 3))), leaf(3, 4, name="features.0.weight")
    previous = grad_mode.scope
    try:
        grad_mode.scope = (("", "Net"), ("features.0", "Linear"))
        out = (x @ w).relu()
    finally:
        grad_mode.scope = previous
    loss = out.sum()
    loss.backward()
    graph = tc.draw_graph(loss, show_grads=True)
    path = graph.render(str(tmp_path / "step"), format="svg")
    assert path.endswith("step.svg")
    root = ET.parse(path).getroot()
    groups = {cls: [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == cls]
              for cls in ("node", "edge", "cluster")}
    dot = parse(graph.source)
    assert len(groups["node"]) == len(dot.nodes) == 5
    assert len(groups["edge"]) == len(dot.edges) == 4
    assert len(groups["cluster"]) == 2
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "features.0: Linear" in text and "matmul" in text and "features.0.weight" in text
    assert ET.fromstring(graph.pipe(format="svg")).tag.endswith("svg")


def test_without_dot_render_explains_how_to_install_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    graph = tc.draw_graph(leaf(3).exp())
    for action in (lambda: graph.render(str(tmp_path / "g"), format="svg"), lambda: graph.pipe(format="svg")):
        with pytest.raises(GraphvizNotInstalled, match=r"apt-get install graphviz.*brew.*conda.*\.source") as info:
            action()
        assert isinstance(info.value, graphviz.ExecutableNotFound)
    assert graph.source.startswith("digraph")
    graph.save(str(tmp_path / "g.dot"))
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


# ----- the example ----------------------------------------------------------------------------------
def test_visualize_graph_example_writes_both_pictures(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn", reason="part (b) trains on the digits from scikit-learn (the examples extra)")
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "examples"))
    example = importlib.import_module("visualize_graph")
    expression, step = example.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "grad 6.0" in out  # dL/da = b * f = (-3)(-2), printed by print_graph
    if not HAS_DOT:
        assert expression.suffix == step.suffix == ".dot" and "apt-get install graphviz" in out
        return
    assert expression.suffix == step.suffix == ".svg"
    svg_text = " ".join(t.text or "" for t in ET.parse(step).getroot().iter("{http://www.w3.org/2000/svg}text"))
    assert "0: Conv2d" in svg_text and "0.weight" in svg_text and "grad norm" in svg_text
    assert "images" in svg_text and "cross_entropy" in svg_text
