"""Sigmoid's tails and the activations' block-by-block passes (the registry-wide tests check every op's gradients)."""

from __future__ import annotations

import numpy as np
import pytest
from test_threads import run_with_threads

import tinygrad_cnn as tc
from tinygrad_cnn.ops import _util


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_exact_in_both_tails_without_warnings(dtype):
    x = np.array([-1000, -100, -30, -1, 0, 1, 30, 100, 1000], dtype=dtype)
    out = tc.tensor(x).sigmoid().data  # pytest turns any RuntimeWarning into an error
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
    return y.data, x.grad.data


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_activations_over_blocks_and_threads_equal_one_pass(activation, monkeypatch):
    x_data = np.random.default_rng(0).uniform(-8, 8, (5, 4, 12)).transpose(2, 1, 0)  # not C-contiguous
    one_pass = value_and_gradient(activation, x_data)
    # Reference values computed with plain NumPy: the blocks must not change what is computed either.
    expected = {"relu": (np.maximum(x_data, 0), (x_data > 0).astype(float)),
                "sigmoid": (1 / (1 + np.exp(-x_data)), np.exp(-x_data) / (1 + np.exp(-x_data)) ** 2),
                "tanh": (np.tanh(x_data), 1 - np.tanh(x_data) ** 2)}[activation]
    for got, want in zip(one_pass, expected):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    monkeypatch.setattr(_util, "CACHE_BLOCK", 7 * 20)  # rows of 20 elements: blocks of 7 rows, the last one short
    blocked = run_with_threads(2, lambda: value_and_gradient(activation, x_data))
    for got, want in zip(blocked, one_pass):
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("chain, blocks", [(True, [(1, 3), (2, 3), (2, 3)]), (False, [(2, 3), (3, 3)])])
def test_blockwise_passes_matching_blocks_of_broadcast_inputs(chain, blocks, monkeypatch):
    # A chain of ufuncs gets blocks of CACHE_BLOCK elements (two rows of 3), one ufunc a block per thread.
    monkeypatch.setattr(_util, "CACHE_BLOCK", 6)
    rows = np.arange(15.0).reshape(5, 3)
    seen = []

    def add(out, a, b):
        seen.append(out.shape)  # list.append is atomic: the blocks may run on two threads
        np.add(a, b, out=out)

    out = run_with_threads(2, lambda: _util.blockwise(add, np.empty((5, 3)), rows, np.array([10.0, 20.0, 30.0]),
                                                      chain=chain))
    np.testing.assert_array_equal(out, rows + [10.0, 20.0, 30.0])
    assert sorted(seen) == blocks
