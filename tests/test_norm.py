"""batch_norm (training and evaluation, running statistics pinned by hand) and dropout, the two ops that
behave differently in training."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops import dropout as dropout_ops
from tinygrad_cnn.ops import norm


# ----- batch norm ---------------------------------------------------------------------------------
def test_training_updates_running_stats_with_the_unbiased_variance():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 9.0]]))
    running_mean, running_var = Tensor(np.zeros(2)), Tensor(np.ones(2))
    out = norm.batch_norm(x, running_mean, running_var, training=True, momentum=0.1, eps=0.0)
    # Column means 3 and 5; squared deviations sum to 8 and 26: biased variances 8/3 and 26/3,
    # unbiased 4 and 13.
    np.testing.assert_allclose(running_mean.detach().numpy(), [0.9 * 0 + 0.1 * 3, 0.9 * 0 + 0.1 * 5])
    np.testing.assert_allclose(running_var.detach().numpy(), [0.9 * 1 + 0.1 * 4, 0.9 * 1 + 0.1 * 13])
    np.testing.assert_allclose(out.detach().numpy()[:, 0], np.array([-2.0, 0.0, 2.0]) / np.sqrt(8 / 3))
    np.testing.assert_allclose(out.detach().numpy()[:, 1], np.array([-3.0, -1.0, 4.0]) / np.sqrt(26 / 3))


def test_evaluation_normalises_with_the_running_stats_and_leaves_them_alone():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    running_mean, running_var = Tensor(np.array([1.0, -1.0])), Tensor(np.array([4.0, 9.0]))
    weight, bias = Tensor(np.array([2.0, 3.0])), Tensor(np.array([0.5, -0.5]))
    out = norm.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=0.0)
    np.testing.assert_allclose(out.detach().numpy(), [[0.5, 3 * 3 / 3 - 0.5], [2 * 2 / 2 + 0.5, 3 * 5 / 3 - 0.5]])
    np.testing.assert_array_equal(running_mean.detach().numpy(), [1.0, -1.0])
    np.testing.assert_array_equal(running_var.detach().numpy(), [4.0, 9.0])


def test_training_output_has_zero_mean_and_unit_variance_per_channel_for_nchw():
    x = Tensor(np.random.default_rng(0).normal(3.0, 2.0, size=(4, 3, 5, 5)))
    out = norm.batch_norm(x, None, None, training=True, eps=0.0).detach().numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-12)


def test_float32_with_a_large_mean_keeps_its_precision():
    # Two passes (centre, then square) avoid the cancellation of E[x^2] - E[x]^2 in float32.
    x = np.random.default_rng(1).normal(1000.0, 0.01, size=(64, 2, 4, 4)).astype(np.float32)
    out = norm.batch_norm(Tensor(x), None, None, training=True, eps=0.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.detach().numpy().std(axis=(0, 2, 3)), 1, atol=1e-3)


def _reference_batch_norm(x, weight, bias, eps):
    """The same normalisation from generic ops, for its gradient (any layout (N, C, ...))."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(dim=axes, keepdim=True)
    var = ((x - mean) * (x - mean)).mean(dim=axes, keepdim=True)
    return (x - mean) / (var + eps).sqrt() * weight.reshape(shape) + bias.reshape(shape)


@given(st.sampled_from([(5, 3), (3, 2, 4), (2, 3, 3, 2), (4, 1, 2, 2)]), st.booleans(), st.integers(0, 2**16))
def test_batch_norm_gradient_matches_finite_differences(shape, training, seed):
    rng = np.random.default_rng(seed)
    channels = shape[1]
    x = Tensor(rng.normal(0.5, 2.0, size=shape), requires_grad=True)
    weight = Tensor(rng.uniform(0.5, 2.0, channels), requires_grad=True)
    bias = Tensor(rng.standard_normal(channels), requires_grad=True)
    running_mean, running_var = rng.standard_normal(channels), rng.uniform(0.5, 2.0, channels)
    assert tc.gradcheck(lambda a, w, b: norm.batch_norm(a, Tensor(running_mean), Tensor(running_var), w, b,
                                                        training=training, eps=1e-3), [x, weight, bias],
                        atol=1e-7, rtol=1e-6)


@given(st.sampled_from([(6, 3), (3, 2, 4), (2, 3, 3, 2)]), st.integers(0, 2**16))
def test_closed_form_backward_equals_the_backward_of_generic_ops(shape, seed):
    rng = np.random.default_rng(seed)
    arrays = rng.standard_normal(shape), rng.uniform(0.5, 2, shape[1]), rng.standard_normal(shape[1])
    grad_output = rng.standard_normal(shape)
    fused = [Tensor(a, requires_grad=True) for a in arrays]
    generic = [Tensor(a, requires_grad=True) for a in arrays]
    out = norm.batch_norm(fused[0], None, None, fused[1], fused[2], training=True, eps=1e-5)
    out.backward(grad_output)
    expected = _reference_batch_norm(*generic, 1e-5)
    expected.backward(grad_output)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-12)
    for ours, theirs in zip(fused, generic):
        np.testing.assert_allclose(ours.grad.detach().numpy(), theirs.grad.detach().numpy(), atol=1e-10)


def test_batch_norm_keeps_float32_and_the_running_stats_dtype():
    x = tc.randn(8, 3, 4, 4, requires_grad=True)
    weight, bias = tc.ones(3, requires_grad=True), tc.zeros(3, requires_grad=True)
    running_mean, running_var = tc.zeros(3), tc.ones(3)
    out = norm.batch_norm(x, running_mean, running_var, weight, bias, training=True)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == weight.grad.dtype == np.float32
    assert running_mean.dtype == running_var.dtype == np.float32


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)])
def test_training_with_one_value_per_channel_is_a_value_error(shape):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        norm.batch_norm(Tensor(np.zeros(shape)), None, None, training=True)


def test_bad_batch_norm_arguments_raise_value_errors_naming_them():
    x = Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"running_mean should have shape \(3,\)"):
        norm.batch_norm(x, Tensor(np.zeros(4)), Tensor(np.ones(3)))
    with pytest.raises(ValueError, match="weight"):
        norm.batch_norm(x, None, None, Tensor(np.ones(2)), training=True)
    with pytest.raises(ValueError, match="evaluation mode"):
        norm.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"\(N, C, \.\.\.\)"):
        norm.batch_norm(Tensor(np.zeros(4)), None, None, training=True)


def test_bad_running_stats_leave_them_unchanged():
    running_mean, running_var = Tensor(np.zeros(3)), Tensor(np.ones(3))
    with pytest.raises(ValueError):
        norm.batch_norm(Tensor(np.ones((4, 3))), running_mean, running_var, Tensor(np.ones(5)), training=True)
    np.testing.assert_array_equal(running_mean.detach().numpy(), 0)
    np.testing.assert_array_equal(running_var.detach().numpy(), 1)


# ----- dropout ------------------------------------------------------------------------------------
def test_dropout_zeroes_about_p_and_scales_the_rest():
    tc.manual_seed(0)
    x = tc.ones(200, 100, requires_grad=True)
    out = dropout_ops.dropout(x, 0.3)
    dropped = out.detach().numpy() == 0
    assert abs(dropped.mean() - 0.3) < 0.01
    np.testing.assert_allclose(out.detach().numpy()[~dropped], 1 / 0.7, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), out.detach().numpy())  # the gradient is the mask


def test_dropout_is_repeatable_after_manual_seed():
    x = tc.ones(10, 10)
    tc.manual_seed(3)
    first = dropout_ops.dropout(x, 0.5).detach().numpy()
    tc.manual_seed(3)
    np.testing.assert_array_equal(dropout_ops.dropout(x, 0.5).detach().numpy(), first)


def test_dropout_is_the_identity_in_evaluation_or_with_p_zero_and_zero_with_p_one():
    x = tc.randn(4, 5, requires_grad=True)
    assert dropout_ops.dropout(x, 0.5, training=False) is x
    assert dropout_ops.dropout(x, 0.0) is x
    out = dropout_ops.dropout(x, 1.0)
    out.sum().backward()
    assert not out.detach().numpy().any() and not x.grad.detach().numpy().any()


def test_dropout_keeps_float32_and_float64():
    for dtype in (np.float32, np.float64):
        assert dropout_ops.dropout(tc.randn(3, 3, dtype=dtype), 0.5).dtype == dtype


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True])
def test_dropout_probability_outside_zero_one_is_a_value_error(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout_ops.dropout(tc.ones(2), p)
