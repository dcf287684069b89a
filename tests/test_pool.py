"""Pooling: max_pool2d and avg_pool2d against a loop-by-loop reference, PyTorch's tie and ceil rules,
float64 gradchecks over drawn configurations, and PyTorch's errors."""

import itertools

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops import pool


def reference_max_pool(x, kernel, stride, padding, dilation, ceil_mode, grad_output=None):
    """max_pool2d by explicit loops over windows: the value and, given grad_output, the input gradient
    (each window's gradient to its first maximum in row-major order)."""
    n, c, h, w = x.shape
    out = [pool.pool_output_size(*a, ceil_mode) for a in zip((h, w), kernel, stride, padding, dilation)]
    padded = np.full((n, c, h + 2 * padding[0] + 2 * kernel[0] * dilation[0],
                      w + 2 * padding[1] + 2 * kernel[1] * dilation[1]), -np.inf)
    padded[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    result = np.empty((n, c, *out))
    grad = np.zeros_like(padded)
    for i, j in itertools.product(range(out[0]), range(out[1])):
        rows = i * stride[0] + dilation[0] * np.arange(kernel[0])
        cols = j * stride[1] + dilation[1] * np.arange(kernel[1])
        window = padded[:, :, rows[:, None], cols[None, :]].reshape(n, c, -1)
        first = window.argmax(axis=2)  # np.argmax returns the first maximum
        result[:, :, i, j] = window.max(axis=2)
        if grad_output is not None:
            r, q = rows[first // kernel[1]], cols[first % kernel[1]]
            for b, ch in itertools.product(range(n), range(c)):
                grad[b, ch, r[b, ch], q[b, ch]] += grad_output[b, ch, i, j]
    return result, grad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]


@st.composite
def pool_configs(draw, with_dilation=True, with_ceil=True):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    ceil_mode = draw(st.booleans()) if with_ceil else False
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    out = [pool.pool_output_size(*a, ceil_mode) for a in zip(shape[2:], kernel, stride, padding, dilation)]
    assume(min(out) >= 1)
    return shape, kernel, stride, padding, dilation, ceil_mode


def tie_free(rng, shape):
    """Distinct values, at least 0.05 apart: no tied maximum, so max-pool is differentiable everywhere."""
    return rng.permutation(np.arange(int(np.prod(shape)))).reshape(shape) * 0.05 - 1.0


@given(pool_configs(), st.integers(0, 2**16))
def test_max_pool2d_gradient_matches_finite_differences(config, seed):
    shape, kernel, stride, padding, dilation, ceil_mode = config
    x = Tensor(tie_free(np.random.default_rng(seed), shape), requires_grad=True, dtype=np.float64)
    out = pool.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    assume(np.isfinite(out.detach().numpy()).all())  # a dilated window can fall wholly on padding: -inf, as PyTorch
    assert tc.gradcheck(lambda t: pool.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode), [x],
                        atol=1e-7, rtol=1e-6)


@given(pool_configs(), st.integers(0, 2**16))
def test_max_pool2d_matches_the_loop_reference_with_ties_to_the_first_maximum(config, seed):
    shape, kernel, stride, padding, dilation, ceil_mode = config
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape).astype(np.float64)  # five values: ties everywhere
    tensor = Tensor(x, requires_grad=True)
    out = pool.max_pool2d(tensor, kernel, stride, padding, dilation, ceil_mode)
    grad_output = rng.standard_normal(out.shape)
    out.backward(grad_output)
    expected, expected_grad = reference_max_pool(x, kernel, stride, padding, dilation, ceil_mode, grad_output)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    np.testing.assert_allclose(tensor.grad.detach().numpy(), expected_grad, rtol=0, atol=1e-12)


def test_max_pool2d_sends_a_tied_gradient_to_the_first_maximum_in_row_major_order():
    x = Tensor(np.array([[[[0.0, 1.0], [1.0, 0.0]]]]), requires_grad=True)
    x.max_pool2d(2).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy()[0, 0], [[0, 1], [0, 0]])
    flat = Tensor(np.full((1, 1, 3, 3), 7.0), requires_grad=True)
    pool.max_pool2d(flat, 3, stride=1, padding=1).sum().backward()  # the first element inside each window
    np.testing.assert_array_equal(flat.grad.detach().numpy()[0, 0], [[4, 2, 0], [2, 1, 0], [0, 0, 0]])


def test_max_pool2d_worked_example():
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(pool.max_pool2d(x, 2).detach().numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(pool.max_pool2d(x, 3, stride=1, padding=1).detach().numpy()[0, 0],
                                  [[5, 6, 7, 7], [9, 10, 11, 11], [13, 14, 15, 15], [13, 14, 15, 15]])


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "floor", "ceil"), [
    (5, 2, 2, 0, 2, 3),   # ceil keeps the window that starts at 4, inside the input
    (5, 2, 2, 1, 3, 3),   # ceil would start a window at 6 = 5 + 1, wholly in the right padding: dropped
    (6, 3, 2, 1, 3, 4),
    (4, 2, 2, 0, 2, 2),
])
def test_ceil_mode_output_size_follows_pytorch(size, kernel, stride, padding, floor, ceil):
    x = Tensor(np.zeros((1, 1, size, size)))
    assert pool.max_pool2d(x, kernel, stride, padding).shape[2:] == (floor, floor)
    assert pool.max_pool2d(x, kernel, stride, padding, ceil_mode=True).shape[2:] == (ceil, ceil)


@given(pool_configs(with_dilation=False, with_ceil=False), st.integers(0, 2**16))
def test_avg_pool2d_gradient_matches_finite_differences(config, seed):
    shape, kernel, stride, padding, _, _ = config
    x = Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    assert tc.gradcheck(lambda t: pool.avg_pool2d(t, kernel, stride, padding), [x], atol=1e-7, rtol=1e-6)


@given(pool_configs(with_dilation=False, with_ceil=False), st.integers(0, 2**16))
def test_avg_pool2d_is_the_mean_of_each_zero_padded_window(config, seed):
    shape, kernel, stride, padding, _, _ = config
    x = np.random.default_rng(seed).standard_normal(shape)
    out = pool.avg_pool2d(Tensor(x), kernel, stride, padding).detach().numpy()
    padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    for i, j in itertools.product(range(out.shape[2]), range(out.shape[3])):
        window = padded[:, :, i * stride[0]:i * stride[0] + kernel[0], j * stride[1]:j * stride[1] + kernel[1]]
        np.testing.assert_allclose(out[:, :, i, j], window.mean(axis=(2, 3)), atol=1e-12)


def test_avg_pool2d_counts_the_padding():
    out = pool.avg_pool2d(Tensor(np.ones((1, 1, 2, 2))), 2, stride=1, padding=1)
    np.testing.assert_allclose(out.detach().numpy()[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


@pytest.mark.parametrize("op", [pool.max_pool2d, pool.avg_pool2d])
def test_unbatched_input_pools_like_a_batch_of_one(op):
    x = np.random.default_rng(0).standard_normal((3, 5, 6))
    single, batched = Tensor(x, requires_grad=True), Tensor(x[None], requires_grad=True)
    out = op(single, 3, 2, 1)
    out.sum().backward()
    op(batched, 3, 2, 1).sum().backward()
    assert out.shape == (3, 3, 3)
    np.testing.assert_array_equal(out.detach().numpy(), op(Tensor(x[None]), 3, 2, 1).detach().numpy()[0])
    np.testing.assert_array_equal(single.grad.detach().numpy(), batched.grad.detach().numpy()[0])


@pytest.mark.parametrize("op", [pool.max_pool2d, pool.avg_pool2d])
def test_pooling_keeps_float32(op):
    x = tc.randn(2, 3, 6, 6, requires_grad=True)
    out = op(x, 2)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize(("shape", "kwargs", "message"), [
    ((1, 1, 5, 5), dict(kernel_size=3, padding=2), "at most half"),
    ((1, 1, 5, 5), dict(kernel_size=0), "kernel_size must be positive"),
    ((1, 1, 5, 5), dict(kernel_size=2, stride=0), "stride must be positive"),
    ((1, 1, 5, 5), dict(kernel_size=2, padding=-1), "non-negative"),
    ((5, 5), dict(kernel_size=2), "3D"),
    ((1, 1, 1, 5, 5), dict(kernel_size=2), "4D"),
    ((1, 1, 2, 2), dict(kernel_size=3), "too small"),
    ((1, 1, 4, 4), dict(kernel_size=(2, 2, 2)), "kernel_size"),
])
@pytest.mark.parametrize("op", [pool.max_pool2d, pool.avg_pool2d])
def test_bad_pooling_arguments_raise_value_errors_naming_them(op, shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        op(Tensor(np.zeros(shape)), **kwargs)


def test_max_pool2d_rejects_a_non_positive_dilation():
    with pytest.raises(ValueError, match="dilation must be positive"):
        pool.max_pool2d(Tensor(np.zeros((1, 1, 4, 4))), 2, dilation=0)
