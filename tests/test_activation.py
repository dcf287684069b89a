"""Sigmoid's tails and the activations' values (the registry-wide tests check every op's gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_exact_in_both_tails_without_warnings(dtype):
    x = np.array([-1000, -100, -30, -1, 0, 1, 30, 100, 1000], dtype=dtype)
    out = tc.tensor(x).sigmoid().detach().numpy()  # pytest turns any RuntimeWarning into an error
    wide = x.astype(np.longdouble)
    assert out.dtype == dtype
    # Relative to the exact value, except where it lies below the smallest normal number (float32 at x = -100).
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-wide)), rtol=4 * np.finfo(dtype).eps,
                               atol=np.finfo(dtype).tiny)
    assert out[0] == 0 and out[-1] == 1


def value_and_gradient(activation: str, x_data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = tc.tensor(x_data, requires_grad=True)
    y = getattr(x, activation)()
    y.sum().backward()  # a broadcast output gradient
    return y.detach().numpy(), x.grad.detach().numpy()


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_activations_equal_their_plain_numpy_formulas(activation):
    x_data = np.random.default_rng(0).uniform(-8, 8, (5, 4, 12)).transpose(2, 1, 0)  # not C-contiguous
    expected = {"relu": (np.maximum(x_data, 0), (x_data > 0).astype(float)),
                "sigmoid": (1 / (1 + np.exp(-x_data)), np.exp(-x_data) / (1 + np.exp(-x_data)) ** 2),
                "tanh": (np.tanh(x_data), 1 - np.tanh(x_data) ** 2)}[activation]
    for got, want in zip(value_and_gradient(activation, x_data), expected):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("x", [1e4, -1e4, np.inf, -np.inf])
def test_sigmoid_and_its_gradient_at_huge_and_infinite_inputs_warn_nothing(x):
    value, gradient = value_and_gradient("sigmoid", np.array([x]))  # pytest turns any RuntimeWarning into an error
    assert value[0] == (1.0 if x > 0 else 0.0) and gradient[0] == 0.0
