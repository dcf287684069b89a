"""Debugging tools: detect_anomaly's blame, explain_backward and trace, graph_stats, version counters."""

import inspect

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.autograd import grad_mode
from tinygrad_cnn.debug import AnomalyError


def leaf(*values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _line_of(marker):
    """The line number in this file of the source line containing `marker`."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(i for i, line in enumerate(lines, 1) if marker in line and "_line_of" not in line)


# ----- detect_anomaly -------------------------------------------------------------------------------
def test_anomaly_in_forward_names_the_op_the_input_range_and_the_users_line():
    x = leaf(1.0, -1.0, 2.0)
    with pytest.raises(AnomalyError) as caught, tc.detect_anomaly():
        shifted = x - 0.5
        shifted.log()  # forward-nan-here
    message = str(caught.value)
    assert "forward of 'log'" in message and "1 NaN" in message
    assert f"test_debug.py:{_line_of('# forward-nan-here')}" in message and "shifted.log()" in message
    assert "input 0: from 'sub', shape (3,), range [-1.5, 1.5], all finite" in message


def test_anomaly_in_backward_blames_the_first_op_whose_gradient_is_not_finite():
    x = leaf(0.0, 4.0)
    with tc.detect_anomaly():
        root = (x * 1.0).sqrt()  # backward-inf-here
        loss = (root * 2.0).sum()
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert "backward of 'sqrt' returned a non-finite gradient for input 0" in message and "1 inf" in message
    assert f"test_debug.py:{_line_of('# backward-inf-here')}" in message


def test_anomaly_names_the_module_path_and_the_line_in_the_users_forward():
    class Log(nn.Module):
        def forward(self, x):
            return x.log()  # module-nan-here

    model = nn.Sequential(nn.Linear(2, 2), Log())
    with tc.no_grad():
        model[0].weight.fill_(-1.0)
        model[0].bias.fill_(0.0)
    with pytest.raises(AnomalyError) as caught, tc.detect_anomaly():
        model(tc.ones(1, 2))
    message = str(caught.value)
    assert "inside module 1 (Log) in Sequential" in message
    assert f"test_debug.py:{_line_of('# module-nan-here')}" in message


def test_anomaly_mode_is_off_after_the_block_even_when_it_raised():
    with pytest.raises(AnomalyError), tc.detect_anomaly(), tc.detect_anomaly():
        assert grad_mode.anomaly and len(grad_mode.hooks) == 2
        leaf(-1.0).sqrt()
    assert not grad_mode.anomaly and grad_mode.hooks == [] and grad_mode.backward_check is None
    y = leaf(-1.0).sqrt()  # outside, NaN passes silently as in PyTorch
    assert np.isnan(y.detach().numpy()).all()


def test_detect_anomaly_works_as_a_decorator():
    @tc.detect_anomaly()
    def make_nan(x):
        return x.log()

    with pytest.raises(AnomalyError, match="forward of 'log'"):
        make_nan(leaf(-1.0))
    assert not grad_mode.anomaly


def test_anomaly_mode_lets_finite_graphs_run_and_gives_the_same_gradients():
    x = leaf(0.5, 1.5)
    with tc.detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.exp(x.detach().numpy()) * (1 + x.detach().numpy()))


# ----- explain_backward and trace -------------------------------------------------------------------
def test_explain_backward_gives_order_norms_and_joins_and_leaves_gradients_alone(capsys):
    x = leaf(0.1, 0.2, 0.3)
    x.grad = Tensor(np.ones(3))
    h = x.exp()
    y = (h * h + h).sum()
    lines = tc.explain_backward(y)
    assert [line.split()[1] for line in lines] == ["sum", "add", "mul", "exp"]
    assert "|grad| 1 " in lines[0] + " " and "gathers gradients from 3 paths" in lines[3]
    assert float(lines[3].split("|grad|")[1].split()[0]) == pytest.approx(
        np.linalg.norm(2 * np.exp(x.detach().numpy()) + 1), rel=1e-3
    )
    assert "topological order" in capsys.readouterr().out
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.ones(3))
    y.backward()  # the graph was retained
    np.testing.assert_allclose(
        x.grad.detach().numpy(), 1 + (2 * np.exp(x.detach().numpy()) + 1) * np.exp(x.detach().numpy())
    )


def test_backward_trace_prints_each_node_as_it_is_processed(capsys):
    x = leaf(1.0, 2.0)
    h = x * 3.0
    (h * h).sum().backward(trace=True)
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out] == ["sum", "mul", "mul"]
    assert "gathers gradients from 2 paths" in out[2]


# ----- graph_stats ------------------------------------------------------------------------------------
def test_graph_stats_counts_nodes_depth_and_each_saved_buffer_once():
    x = Tensor(np.ones(100), requires_grad=True, dtype=np.float64)
    y = x.exp()
    z = (y * y).sum()  # mul saves y twice, and exp saved the same buffer: 800 bytes in all
    stats = tc.graph_stats(z)
    assert stats["nodes"] == 3 and stats["depth"] == 3 and stats["leaves"] == 1
    assert stats["saved_bytes"] == 800 and sum(op["saved_bytes"] for op in stats["by_op"].values()) == 800
    z.backward()
    assert tc.graph_stats(z)["saved_bytes"] == 0  # freed by backward


# ----- version counters -----------------------------------------------------------------------------
@pytest.mark.parametrize("change", [lambda t: t.add_(1.0), lambda t: t.mul_(2.0), lambda t: t.__setitem__(0, 5.0)],
                         ids=["add_", "mul_", "setitem"])
def test_changing_a_saved_tensor_in_place_makes_backward_refuse(change):
    x = leaf(1.0, 2.0)
    h = x * 2.0
    y = (h * h).sum()  # mul saved h
    change(h)
    with pytest.raises(RuntimeError, match="modified in place.*version is 1, expected 0"):
        y.backward()


def test_changing_a_constant_input_in_place_also_refuses():
    w = Tensor(np.array([1.0, 2.0]))
    x = leaf(3.0, 4.0)
    y = (x * w).sum()
    w.mul_(3.0)
    with pytest.raises(RuntimeError, match="backward through 'mul'"):
        y.backward()
