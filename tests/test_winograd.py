"""The Winograd F(2x2, 3x3) kernel's internals, beyond the registry test's samples: the same linear map as conv's
reference (forward and all three gradients) for any padding, odd sizes, few channels and one image per slice,
in float64 and float32; which convolutions it applies to."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn.kernels import winograd
from tinygrad_cnn.ops import conv
from tinygrad_cnn.ops._windows import make_windows


@contextlib.contextmanager
def winograd_path(enabled: bool):
    """Every 3x3 stride-1 conv on the Winograd kernel, whatever its size (or every conv on the reference)."""
    if not enabled:
        with tc.kernels.disabled():
            yield
        return
    saved = winograd.MIN_CHANNELS, winograd.MIN_OUTPUT_SIZE, winograd.CHUNK_BYTES
    winograd.MIN_CHANNELS = winograd.MIN_OUTPUT_SIZE = 0  # small shapes reach the transforms' corner cases
    winograd.CHUNK_BYTES = 1  # one image per slice: the batch slicing is exercised too
    try:
        with tc.kernels.only("winograd"):
            yield
    finally:
        winograd.MIN_CHANNELS, winograd.MIN_OUTPUT_SIZE, winograd.CHUNK_BYTES = saved


@st.composite
def winograd_convs(draw, max_size: int = 9):
    """A 3x3 stride-1 conv: batch, channels, sizes (odd and even), padding (ints, pairs, 'same', 'valid')."""
    batch, channels, out_channels = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 3),
                             st.tuples(st.integers(0, 3), st.integers(0, 3))))
    low = 3 if padding == "valid" else 1
    height, width = draw(st.integers(low, max_size)), draw(st.integers(low, max_size))
    if isinstance(padding, (int, tuple)):
        pads = (padding, padding) if isinstance(padding, int) else padding
        height, width = max(height, 3 - 2 * pads[0]), max(width, 3 - 2 * pads[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.uniform(-1, 1, (batch, channels, height, width))
    weight = rng.uniform(-1, 1, (out_channels, channels, 3, 3))
    bias = rng.uniform(-1, 1, out_channels) if draw(st.booleans()) else None
    return x, weight, bias, padding


def forward_backward(x, weight, bias, padding, use_winograd: bool, dtype=np.float64):
    """(output, dx, dW, db) of conv2d with a fixed output gradient, on the chosen path."""
    inputs = [tc.Tensor(a.astype(dtype), requires_grad=True) for a in (x, weight) + (() if bias is None else (bias,))]
    with winograd_path(use_winograd):
        out = conv.conv2d(inputs[0], inputs[1], inputs[2] if bias is not None else None, padding=padding)
        grad_output = np.random.default_rng(1).uniform(-1, 1, out.shape).astype(dtype)
        out.backward(tc.Tensor(grad_output))
    return [out.detach().numpy()] + [t.grad.detach().numpy() for t in inputs]


@given(winograd_convs())
def test_float64_matches_the_im2col_path_in_value_and_every_gradient(config):
    ours = forward_backward(*config, use_winograd=True)
    reference = forward_backward(*config, use_winograd=False)
    for name, a, b in zip(("output", "dx", "dW", "db"), ours, reference):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(b).max()), err_msg=name)


@given(winograd_convs())
def test_float32_stays_float32_and_matches_the_im2col_path(config):
    ours = forward_backward(*config, use_winograd=True, dtype=np.float32)
    reference = forward_backward(*config, use_winograd=False, dtype=np.float64)
    for name, a, b in zip(("output", "dx", "dW", "db"), ours, reference):
        assert a.dtype == np.float32, name
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(b).max()), err_msg=name)


@given(winograd_convs(max_size=5))
def test_gradients_match_finite_differences(config):
    x, weight, bias, padding = config
    inputs = [tc.Tensor(a, requires_grad=True) for a in (x, weight) + (() if bias is None else (bias,))]
    with winograd_path(True):
        assert tc.gradcheck(lambda *t: conv.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, padding=padding),
                            inputs, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("needed", [(True, False), (False, True), (True, True)])
def test_any_subset_of_gradients_matches_the_im2col_path(needed):
    rng = np.random.default_rng(0)
    arrays = rng.uniform(-1, 1, (2, 3, 5, 6)), rng.uniform(-1, 1, (4, 3, 3, 3))
    results = []
    for use_winograd in (True, False):
        inputs = [tc.Tensor(a, requires_grad=flag) for a, flag in zip(arrays, needed)]
        with winograd_path(use_winograd):
            conv.conv2d(*inputs, padding="same").sum().backward()
        results.append([None if t.grad is None else t.grad.detach().numpy() for t in inputs])
    for ours, reference, flag in zip(*results, needed):
        assert (ours is None) == (not flag)
        if flag:
            np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


def test_outputs_and_saved_inputs_survive_later_convolutions():
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.uniform(-1, 1, (2, 3, 6, 6)), requires_grad=True)
    weight = tc.Tensor(rng.uniform(-1, 1, (3, 3, 3, 3)), requires_grad=True)
    with winograd_path(True):
        first = conv.conv2d(x, weight, padding=1)
        expected = first.detach().numpy().copy()
        second = conv.conv2d(first, weight, padding=1)
        conv.conv2d(x, weight, padding=1)
        np.testing.assert_array_equal(first.detach().numpy(), expected)
        second.sum().backward()
    grads = x.grad.detach().numpy().copy(), weight.grad.detach().numpy().copy()
    x.grad = weight.grad = None
    with winograd_path(False):
        conv.conv2d(conv.conv2d(x, weight, padding=1), weight, padding=1).sum().backward()
    np.testing.assert_allclose(grads[0], x.grad.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads[1], weight.grad.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel, attrs, groups, expected", [
    ((3, 3), dict(stride=1, padding=1, dilation=1), 1, True),
    ((3, 3), dict(stride=2, padding=1, dilation=1), 1, False),
    ((3, 3), dict(stride=1, padding=2, dilation=2), 1, False),
    ((3, 3), dict(stride=1, padding=1, dilation=1), 2, False),
    ((5, 5), dict(stride=1, padding=2, dilation=1), 1, False),
    ((3,), dict(stride=1, padding=1, dilation=1), 1, False),
])
def test_only_3x3_stride_1_undilated_ungrouped_convs_take_the_path(kernel, attrs, groups, expected):
    windows = make_windows((8,) * len(kernel), kernel, attrs["stride"], attrs["padding"], attrs["dilation"], "conv")
    x, weight = np.ones((1, 4, *(8,) * len(kernel))), np.ones((4, 4 // groups, *kernel))
    with winograd_path(True):
        assert winograd.applies(x, weight, windows, groups) is expected


def test_too_few_channels_keep_the_im2col_path():
    windows = make_windows((28, 28), (3, 3), 1, 1, 1, "conv2d")
    assert not winograd.applies(np.ones((1, 1, 28, 28)), np.ones((32, 1, 3, 3)), windows, 1)
    assert winograd.applies(np.ones((1, 64, 28, 28)), np.ones((64, 64, 3, 3)), windows, 1)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["input", "weight"])
def test_non_finite_inputs_take_the_im2col_path_and_give_its_exact_infs(bad, where):
    # One inf through the transforms would meet itself as inf - inf = NaN; im2col keeps it an inf.
    rng = np.random.default_rng(0)
    x, weight = rng.uniform(-1, 1, (2, 3, 6, 6)), rng.uniform(-1, 1, (4, 3, 3, 3))
    (x if where == "input" else weight)[0, 1, 2, 2] = bad
    windows = make_windows((6, 6), (3, 3), 1, 1, 1, "conv2d")
    with winograd_path(True), np.errstate(invalid="ignore"):  # an inf weight meets the zero padding: inf * 0
        assert not winograd.applies(x, weight, windows, 1)
        out = conv.conv2d(tc.Tensor(x), tc.Tensor(weight), padding=1).detach().numpy()
    with winograd_path(False), np.errstate(invalid="ignore"):
        expected = conv.conv2d(tc.Tensor(x), tc.Tensor(weight), padding=1).detach().numpy()
    np.testing.assert_array_equal(out, expected)
    if where == "input" and np.isinf(bad):
        assert np.isinf(expected).any() and not np.isnan(expected).any()


def test_an_empty_batch_keeps_the_im2col_path_and_gets_a_zero_weight_gradient():
    x = tc.Tensor(np.zeros((0, 3, 6, 6)), requires_grad=True)
    weight = tc.Tensor(np.ones((4, 3, 3, 3)), requires_grad=True)
    with winograd_path(True):
        assert not winograd.applies(
            x.detach().numpy(), weight.detach().numpy(), make_windows((6, 6), (3, 3), 1, 1, 1, "conv2d"), 1
        )
        conv.conv2d(x, weight, padding=1).sum().backward()
    np.testing.assert_array_equal(weight.grad.detach().numpy(), np.zeros((4, 3, 3, 3)))
    assert x.grad.shape == (0, 3, 6, 6)


def test_a_sum_that_overflows_only_costs_the_fast_path():
    x = np.full((1, 8, 12, 12), 3e38, dtype=np.float32)
    windows = make_windows((12, 12), (3, 3), 1, 1, 1, "conv2d")
    with winograd_path(True):
        assert not winograd.applies(x, np.ones((8, 8, 3, 3), np.float32), windows, 1)
        assert winograd.applies(x / 1e30, np.ones((8, 8, 3, 3), np.float32), windows, 1)


def test_weight_transform_adjoint_is_its_transpose():
    # <G w G^T, dU> == <w, G^T dU G>: the weight gradient is the exact adjoint of the weight transform.
    rng = np.random.default_rng(0)
    weight, grad_u = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((16, 2, 3))
    lhs = np.sum(winograd.weight_transform(weight) * grad_u)
    assert lhs == pytest.approx(np.sum(weight * winograd.weight_adjoint(grad_u)), rel=1e-12)
