"""The vectorised erf and erfc (ops/_special.py) against Python's math.erf/math.erfc."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_cnn.ops._special import erf, erfc


def _points() -> np.ndarray:
    rng = np.random.default_rng(0)
    # every interval of Cody's approximation, its edges, and the far tails
    return np.concatenate([rng.uniform(-6, 6, 20000), rng.uniform(-28, 28, 5000), np.linspace(-0.5, 0.5, 2001),
                           [0.46875, -0.46875, 4.0, -4.0, 26.5, 27.25, 1e-300, -1e-300, 1e-8, 0.0, -0.0]])


def test_erf_matches_math_erf_to_float64_rounding():
    x = _points()
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), expected, rtol=2e-15, atol=0)


def test_erfc_keeps_its_relative_accuracy_in_the_tails():
    x = _points()
    expected = np.array([math.erfc(v) for v in x])
    normal = expected > np.finfo(np.float64).tiny  # below it both are subnormal, with few digits to compare
    np.testing.assert_allclose(erfc(x)[normal], expected[normal], rtol=2e-15, atol=0)
    np.testing.assert_allclose(erfc(x)[~normal], expected[~normal], rtol=0, atol=1e-322)
    # far below 1 - erf's resolution: erfc(10) = 2.088487583762545e-45 (every digit kept)
    assert abs(erfc(np.array([10.0]))[0] / 2.088487583762544757e-45 - 1) < 1e-15


def test_erf_and_erfc_at_infinities_and_nan_without_warnings():
    # pytest turns any RuntimeWarning into an error
    special = np.array([np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324])
    np.testing.assert_array_equal(erf(special), [1.0, -1.0, np.nan, 1.0, -1.0, math.erf(5e-324)])
    np.testing.assert_array_equal(erfc(special), [0.0, 2.0, np.nan, 0.0, 2.0, 1.0])


def test_erf_keeps_shape_and_gives_float64_for_float32_input():
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    out = erf(x)
    assert out.shape == (2, 3, 4) and out.dtype == np.float64
    np.testing.assert_allclose(out, [[[math.erf(float(v)) for v in row] for row in block] for block in x], rtol=2e-15)
    assert erf(np.float64(0.5)).shape == ()
