"""In-place ops with autograd, `.numpy()`/`.detach()` sharing, and per-thread grad mode, as PyTorch.

Each in-graph case runs one script in both frameworks (where torch is importable) and compares the result
and every gradient; the values are pinned without torch too.
"""

import threading

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn

RNG = np.random.default_rng(0)
T = RNG.standard_normal((4, 3))
W = RNG.standard_normal(3)


def _setitem_mask(lib, t, w):
    u = t * 2
    u[u < 0] = 0.0
    return (u * u).sum()


def _setitem_rows_from_tensor(lib, t, w):
    u = t * 1
    u[1:3] = w  # broadcast over two rows
    return (u * t).sum()


def _setitem_index_array(lib, t, w):
    u = t * 1
    u[lib.tensor([3, 0])] = w * 3
    return (u * u).sum()


def _arithmetic(lib, t, w):
    u = t * 1
    u.mul_(3)
    u.add_(w, alpha=2)
    u.sub_(t)
    u.div_(w + 3)
    u += w
    u -= 1.5
    u *= t
    u /= 2
    return (u * u).sum()


def _clamp(lib, t, w):
    u = t * 1
    u.clamp_(-0.5, 0.5)
    return (u * w).sum()


def _fill_zero_copy(lib, t, w):
    u, v, z = t * 1, t * 1, t * 1
    u.fill_(w[0])
    v.zero_()
    z.copy_(w)
    return (u * t).sum() + (v * t).sum() + (z * t).sum()


def _into_plain_tensor(lib, t, w):
    x = lib.zeros(4, 3, dtype=t.dtype)
    x[2] = w
    return (x * t).sum()


SCRIPTS = [_setitem_mask, _setitem_rows_from_tensor, _setitem_index_array, _arithmetic, _clamp, _fill_zero_copy,
           _into_plain_tensor]


def _run(lib, script):
    t = lib.tensor(T, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)
    loss = script(lib, t, w)
    loss.backward()
    return [None if x is None else x.detach().numpy() for x in (loss, t.grad, w.grad)]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.__name__.strip("_"))
def test_in_place_ops_in_the_graph_match_pytorch(script):
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_run(tc, script), _run(torch, script), strict=True):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_masked_assignment_sends_no_gradient_to_overwritten_elements():
    t = tc.tensor([1.0, -1.0, 2.0, -3.0], requires_grad=True)
    u = t * 2
    u[u < 0] = 0.0
    u.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [2, 0, 2, 0])


@pytest.mark.parametrize(("change", "expected"), [
    (lambda u: u.mul_(3), 3.0), (lambda u: u.zero_(), 0.0), (lambda u: u.fill_(5.0), 0.0),
    (lambda u: u.copy_(tc.ones(3)), 0.0), (lambda u: u.add_(1.0), 1.0), (lambda u: u.div_(4.0), 0.25),
])
def test_in_place_op_gradients_are_pytorchs(change, expected):
    t = tc.randn(3, dtype="float64", requires_grad=True)
    u = t * 1
    change(u)
    u.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.full(3, expected))


def test_manual_sgd_under_no_grad_updates_the_same_parameters():
    model = nn.Linear(2, 1)
    before = {name: (p, p.detach().numpy().copy(), p._version) for name, p in model.named_parameters()}
    model(tc.randn(3, 2)).sum().backward()
    with tc.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for name, p in model.named_parameters():
        same, old, version = before[name]
        assert p is same and p.requires_grad and p.grad is not None and p._version == version + 1
        np.testing.assert_allclose(p.detach().numpy(), old - 0.1 * p.grad.numpy(), rtol=1e-6)


def test_in_place_keeps_identity_and_grad_and_moves_the_version():
    x = tc.ones(3)
    x.grad = tc.zeros(3)
    grad, version = x.grad, x._version
    y = x
    y += 1
    y *= tc.full((3,), 2.0)
    y[0] = 7.0
    assert y is x and x.grad is grad and x._version == version + 3
    np.testing.assert_array_equal(x.numpy(), [7, 4, 4])


@pytest.mark.parametrize("change", [
    lambda p: p.add_(1.0), lambda p: p.mul_(2.0), lambda p: p.zero_(), lambda p: p.fill_(1.0),
    lambda p: p.copy_(tc.ones(3)), lambda p: p.clamp_(0, 1), lambda p: p.__setitem__(0, 1.0),
    lambda p: p.__iadd__(1.0),
])
def test_in_place_on_a_leaf_that_requires_grad_raises_with_grad_on_and_nothing_changes(change):
    p = tc.tensor([0.5, -0.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        change(p)
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, -0.5, 2.0])
    assert p._version == 0 and p.is_leaf


def test_in_place_on_a_leaf_is_refused_by_pytorch_too():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        torch.ones(3, requires_grad=True).add_(1.0)


def test_backward_through_an_op_that_saved_the_old_value_raises():
    t = tc.randn(3, dtype="float64", requires_grad=True)
    u = t * 1
    c = u * u  # saves u
    u.mul_(2)
    with pytest.raises(RuntimeError, match="modified in place"):
        c.sum().backward()


def test_in_place_refuses_a_result_type_it_cannot_hold_before_changing_anything():
    x = tc.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.div_(2)
    with pytest.raises(RuntimeError, match="cannot broadcast"):
        tc.ones(3).add_(tc.ones(2, 3))
    with pytest.raises(RuntimeError, match="copy_"):
        tc.ones(3).copy_(tc.ones(2))
    np.testing.assert_array_equal(x.numpy(), [1, 2, 3])
    assert x._version == 0


def _slices_changed_in_place(lib):
    """`y[0] += b` and the like: in-place ops on slices of a tensor in the graph, written back into it."""
    a = lib.tensor(T, requires_grad=True)
    b = lib.tensor(W, requires_grad=True)
    y = a * 1
    y[0] += b
    y[1].mul_(2)
    y[:, 2] *= 3.0
    row = y[2]
    row.add_(b)
    (y * y).sum().backward()
    return [t.detach().numpy() for t in (y, a.grad, b.grad, row)]


def test_in_place_ops_on_slices_write_back_into_the_base_with_its_gradient():
    y, grad_a, grad_b, row = _slices_changed_in_place(tc)
    expected = T.copy()
    expected[0] += W
    expected[1] *= 2
    expected[:, 2] *= 3.0
    expected[2] += W
    np.testing.assert_allclose(y, expected)
    np.testing.assert_array_equal(row, y[2])
    torch = pytest.importorskip("torch")
    for ours, theirs in zip((y, grad_a, grad_b, row), _slices_changed_in_place(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_changing_a_slice_of_a_leaf_that_requires_grad_is_refused_and_a_reshaped_view_too():
    p = tc.randn(4, 3, dtype="float64", requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p[0].mul_(2)
    u = p * 1
    with pytest.raises(RuntimeError, match="view"):
        u.reshape(12).zero_()


def test_a_view_taken_before_its_base_was_rewritten_in_the_graph_is_refused():
    t = tc.randn(4, 3, dtype="float64", requires_grad=True)
    u = t * 1
    view = u.reshape(12)
    u.mul_(3)
    with pytest.raises(RuntimeError, match="view"):
        (view * view).sum()
    again = u.reshape(12)  # taken after the change: fine, and its gradient includes the * 3
    (again * 1).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.full((4, 3), 3.0))


def test_a_stale_view_is_still_read_without_recording():
    t = tc.randn(4, 3, dtype="float64", requires_grad=True)
    u = t * 1
    view = u.reshape(12)
    u.mul_(3)
    with tc.no_grad():  # values only: the view sees the change, as in PyTorch, and no history is needed
        np.testing.assert_array_equal((view * 1).numpy(), u.detach().numpy().reshape(12))


def test_views_share_memory_and_version_with_their_base():
    x = tc.zeros(2, 3)
    row = x[1]
    with tc.no_grad():
        x.add_(1.0)
    np.testing.assert_array_equal(row.numpy(), [1, 1, 1])
    assert row._version == x._version == 1


def test_numpy_on_a_tensor_that_requires_grad_raises_and_names_detach():
    a = tc.randn(3, requires_grad=True)
    b = a * 2
    for t in (a, b):
        with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
            t.numpy()
    assert b.detach().numpy().shape == (3,)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        np.asarray(b)  # NumPy's own conversion is refused the same way, as PyTorch's __array__
    np.testing.assert_array_equal(np.asarray(b.detach()), b.detach().numpy())


def test_detach_shares_memory_and_the_version_counter():
    a = tc.randn(3, requires_grad=True)
    b = a * 2
    c = b * b
    detached = b.detach()
    detached.zero_()
    np.testing.assert_array_equal(b.detach().numpy(), 0)
    with pytest.raises(RuntimeError, match="modified in place"):
        c.sum().backward()


def _in_thread(function):
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 (re-raised in the calling thread)
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, done = threading.Event(), threading.Event()

    def evaluate():
        with tc.no_grad():
            inside.set()
            done.wait(10)
            return tc.is_grad_enabled()

    thread, outcome = _in_thread(evaluate)
    assert inside.wait(10)
    x = tc.randn(3, requires_grad=True)
    y = (x * 2).sum()
    recorded = tc.is_grad_enabled()
    done.set()
    thread.join(10)
    assert recorded and y.requires_grad and outcome == {"value": False}
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


def test_set_grad_enabled_works_at_once_and_as_a_block_in_this_thread_only():
    tc.set_grad_enabled(False)
    try:
        assert not tc.is_grad_enabled()
        thread, outcome = _in_thread(tc.is_grad_enabled)
        thread.join(10)
        assert outcome == {"value": True}
    finally:
        tc.set_grad_enabled(True)
    with tc.set_grad_enabled(False):
        assert not (tc.randn(2, requires_grad=True) * 2).requires_grad
    assert tc.is_grad_enabled()


def test_the_module_scope_of_one_thread_is_not_recorded_by_another():
    inside, done = threading.Event(), threading.Event()

    class Waits(nn.Module):
        def forward(self, x):
            inside.set()
            done.wait(10)
            return x * 2

    thread, _ = _in_thread(lambda: Waits()(tc.randn(2, requires_grad=True)))
    assert inside.wait(10)
    y = tc.randn(2, requires_grad=True) * 3
    done.set()
    thread.join(10)
    assert y.grad_fn.scope == ()


def test_anomaly_mode_of_one_thread_does_not_reach_another():
    inside, done = threading.Event(), threading.Event()

    def checked():
        with tc.detect_anomaly():
            inside.set()
            done.wait(10)

    thread, _ = _in_thread(checked)
    assert inside.wait(10)
    x = tc.tensor([0.0], requires_grad=True)
    y = x.log()  # -inf: detect_anomaly would raise in its own thread
    done.set()
    thread.join(10)
    assert np.isneginf(y.detach().numpy()).all()


def test_a_custom_function_that_forgot_save_for_backward_names_the_op():
    class Square(tc.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output

    y = Square.apply(tc.randn(3, requires_grad=True)).sum()
    with pytest.raises(RuntimeError, match=r"'square'.*saved_tensors is empty.*save_for_backward"):
        y.backward()


@pytest.mark.parametrize("layer", ["relu", "leaky_relu", "dropout"])
def test_inplace_activation_writes_into_its_input_with_pytorchs_gradient(layer):
    def run(lib):
        lib.manual_seed(0)
        t = lib.tensor(T, requires_grad=True)
        u = t * 1
        functional = lib.nn.functional
        call = {"relu": lambda: functional.relu(u, inplace=True),
                "leaky_relu": lambda: functional.leaky_relu(u, 0.2, inplace=True),
                "dropout": lambda: functional.dropout(u, 0.0, inplace=True)}[layer]
        out = call()
        (out * t).sum().backward()
        return out is u, u.detach().numpy(), t.grad.numpy()

    same, values, grad = run(tc)
    assert same
    torch = pytest.importorskip("torch")
    torch_same, torch_values, torch_grad = run(torch)
    assert torch_same
    np.testing.assert_allclose(values, torch_values, rtol=1e-12)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-12)


def test_relu_layer_in_place_changes_its_input_and_says_so():
    layer = nn.ReLU(inplace=True)
    x = tc.tensor([-1.0, 2.0])
    assert layer(x) is x and x.tolist() == [0.0, 2.0] and repr(layer) == "ReLU(inplace=True)"
