"""The engine's rules: topological order, accumulation, broadcasting, freeing, grad mode, Function."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_a_100000_op_chain_backpropagates_without_recursion_error():
    x = Tensor(np.array([1.0]), requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    assert x.grad.detach().numpy()[0] == pytest.approx(1.0)


def test_gradients_sum_over_every_use_of_a_tensor():
    x = leaf(3)
    y = x * x + x * 3.0 + x  # d/dx = 2x + 4
    y.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * x.detach().numpy() + 4)


def test_diamond_graph_visits_shared_node_once_with_its_full_gradient():
    x = leaf(2)
    h = x.exp()
    y = (h * 2.0 + h * h).sum()  # d/dx = (2 + 2h) * h
    y.backward()
    h_value = np.exp(x.detach().numpy())
    np.testing.assert_allclose(x.grad.detach().numpy(), (2 + 2 * h_value) * h_value)


@pytest.mark.parametrize(("shape_a", "shape_b"), [((2, 3), (3,)), ((4, 1), (1, 5)), ((2, 1, 3), (4, 1)), ((), (2,))])
def test_broadcasting_is_undone_in_backward_of_every_binary_op(shape_a, shape_b):
    for op in (lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a**b):
        a = Tensor(np.random.default_rng(0).uniform(0.5, 2, shape_a), requires_grad=True, dtype=np.float64)
        b = Tensor(np.random.default_rng(1).uniform(0.5, 2, shape_b), requires_grad=True, dtype=np.float64)
        op(a, b).sum().backward()
        assert a.grad.shape == shape_a and b.grad.shape == shape_b


def test_broadcast_gradient_is_the_sum_over_the_broadcast_axis():
    a = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_allclose(b.grad.detach().numpy(), [4.0, 4.0, 4.0])
    np.testing.assert_allclose(a.grad.detach().numpy(), np.tile([1.0, 2.0, 3.0], (4, 1)))


def test_grad_accumulates_across_backward_calls_until_zeroed():
    x = leaf(3)
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.full(3, 5.0))
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.full(3, 3.0))


def test_leaf_grad_does_not_alias_another_leafs_grad():
    a, b = leaf(3), leaf(3, seed=1)
    (a + b).sum().backward()
    a.grad.detach().numpy()[0] = 100.0
    assert b.grad.detach().numpy()[0] == 1.0


def test_backward_twice_without_retain_graph_raises():
    x = leaf(3)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_second_backward_through_freed_graph_changes_no_gradient():
    x, w = leaf(3), leaf(3, seed=1)
    shared = x * x
    (shared * w).sum().backward()
    before = x.grad.detach().numpy().copy()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (shared + w).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), before)


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 4 * x.detach().numpy())


def test_backward_frees_saved_arrays_but_keeps_structure():
    x = leaf(3)
    y = (x * x).sum()
    node = y.grad_fn.parents[0]
    assert node.saved_tensors
    y.backward()
    assert node.saved_tensors == () and node.released
    assert node.op == "mul" and node.name() == "MulBackward0" and node.shape == (3,)


def test_non_scalar_root_without_gradient_is_a_clear_error():
    x = leaf(2, 3)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        (x * 2.0).backward()
    assert x.grad is None


def test_non_scalar_root_with_gradient_weights_the_output():
    x = leaf(2, 3)
    weights = np.arange(6.0).reshape(2, 3)
    (x * 2.0).backward(weights)
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * weights)


def test_given_gradient_is_neither_changed_nor_aliased_by_leaf_grads():
    a, b = leaf(2, 3), leaf(2, 3, seed=1)
    weights = np.ones((2, 3), np.float32)
    (a + b).backward(weights)
    (a + b).backward(weights)  # accumulates into the stored grads in place
    a.grad.detach().numpy()[0, 0] = 100.0
    np.testing.assert_array_equal(weights, np.ones((2, 3)))
    np.testing.assert_array_equal(b.grad.detach().numpy(), np.full((2, 3), 2.0))


def test_gradient_of_the_wrong_shape_is_refused():
    x = leaf(2, 3)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_of_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0, 2.0]).sum().backward()


def test_backward_on_a_leaf_fills_its_own_grad():
    x = Tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_no_grad_records_nothing_as_context_manager_and_decorator():
    x = leaf(3)
    with tc.no_grad():
        y = x * 2.0
    assert y.grad_fn is None and not y.requires_grad

    @tc.no_grad()
    def double(t):
        return t * 2.0

    assert double(x).grad_fn is None
    assert tc.is_grad_enabled()
    assert (x * 2.0).grad_fn is not None


def test_enable_grad_inside_no_grad_records_again():
    x = leaf(3)
    with tc.no_grad(), tc.enable_grad():
        y = x * 2.0
    assert y.requires_grad


def test_detach_cuts_the_graph():
    x = leaf(3)
    y = (x * 2.0).detach()
    z = (y * x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * x.detach().numpy())
    assert y.grad is None and y.is_leaf


def test_only_inputs_that_need_grad_receive_it():
    x, constant = leaf(3), Tensor(np.ones(3))
    (x * constant).sum().backward()
    assert constant.grad is None and x.grad is not None


def test_inplace_change_of_a_saved_input_is_refused_in_backward():
    x = leaf(3)
    h = x * 2.0
    y = (h * h).sum()
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="'mul': input 0, which it saved for backward, was modified in place"):
        y.backward()


def test_inplace_change_of_a_tensor_no_op_saved_is_allowed_as_in_pytorch():
    x = leaf(3)
    h = x * 2.0
    total = h.sum()  # sum saves nothing, and mul saved x, not h
    h.add_(1.0)
    total.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.full(3, 2.0))


def test_inplace_change_of_a_saved_output_is_refused_in_backward():
    x = leaf(3)
    y = x.sigmoid()  # sigmoid's backward reads its own output
    loss = y.sum()
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="'sigmoid': its output, which it saved"):
        loss.backward()


def test_inplace_change_of_a_leaf_that_requires_grad_is_refused_while_recording():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="no_grad"):
        x.add_(1.0)
    with tc.no_grad():
        x.add_(1.0)


class Cube(tc.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad_output


class Scale(tc.Function):
    @staticmethod
    def forward(ctx, x, factor, *, offset=0.0):
        ctx.factor = factor
        return x * factor + offset

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.factor, None


def test_user_function_backward_runs_and_passes_gradcheck():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, dtype=np.float64)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 3 * x.detach().numpy()**2)
    assert tc.gradcheck(Cube.apply, [Tensor(np.array([0.3, -0.7]), requires_grad=True, dtype=np.float64)])


def test_user_function_takes_constants_and_keyword_attributes():
    x = leaf(3)
    y = Scale.apply(x, 4.0, offset=1.0)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * 4 + 1)
    assert y.grad_fn.attrs == {"offset": 1.0}
    y.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.full(3, 4.0))


class WrongShape(tc.Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad_output):
        return np.ones(7)


class WrongCount(tc.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


def test_user_function_returning_a_gradient_of_the_wrong_shape_is_named():
    x = leaf(3)
    with pytest.raises(RuntimeError, match=r"'wrongshape' returned a gradient of shape \(7,\)"):
        WrongShape.apply(x).backward()


def test_user_function_returning_too_many_gradients_is_named():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="returned 2 gradients for 1 inputs"):
        WrongCount.apply(x).sum().backward()


def test_float32_graph_gives_float32_gradients():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    ((x * 2.5 + 1).exp() / 3).mean().backward()
    assert x.grad.dtype == np.float32


def test_explain_backward_lists_nodes_in_visit_order_and_joins():
    x = leaf(3)
    h = x.exp()
    y = (h * h + h).sum()
    lines = tc.explain_backward(y)
    assert "sum" in lines[0]
    assert any("exp" in line and "3 paths" in line for line in lines)  # h*h uses h twice
    assert lines.index(next(line for line in lines if "exp" in line)) == len(lines) - 1
