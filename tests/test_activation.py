"""Sigmoid's tails and its block-by-block passes (the registry-wide tests check every op's gradients)."""

from __future__ import annotations

import numpy as np
import pytest

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


def sigmoid_and_gradient(x_data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = tc.tensor(x_data, requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()  # a broadcast output gradient
    return y.data, x.grad.data


def test_sigmoid_over_several_cache_blocks_equals_one_pass(monkeypatch):
    x_data = np.random.default_rng(0).uniform(-8, 8, (5, 12)).T  # not C-contiguous
    whole = sigmoid_and_gradient(x_data)
    monkeypatch.setattr(_util, "CACHE_BLOCK", 7)  # 60 elements: 9 blocks, the last one short
    for blocked, one_pass in zip(sigmoid_and_gradient(x_data), whole):
        assert blocked.tobytes() == one_pass.tobytes()
