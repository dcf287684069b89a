"""nn.init: PyTorch's fan and gain rules, in-place fills, repeatable draws."""

import math

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn
from tinygrad_cnn.nn import init


def test_fans_of_linear_and_conv_weights():
    assert init.calculate_fan_in_and_fan_out(tc.zeros(5, 3)) == (3, 5)
    assert init.calculate_fan_in_and_fan_out(tc.zeros(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match=r"fewer than 2 dims \(shape \(4,\)\)"):
        init.calculate_fan_in_and_fan_out(tc.zeros(4))


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
])
def test_calculate_gain_matches_pytorch_table(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain)


def test_calculate_gain_unknown_nonlinearity_raises():
    with pytest.raises(ValueError, match="'swish'"):
        init.calculate_gain("swish")


def _big(*shape):
    return tc.zeros(*shape, dtype=np.float64)


@pytest.mark.parametrize("fill, expected_std", [
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda t: init.xavier_uniform_(t), math.sqrt(2 / 500)),
    (lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / 500)),
    (lambda t: init.normal_(t, 1.0, 0.5), 0.5),
    (lambda t: init.uniform_(t, -3, 3), math.sqrt(3)),
])
def test_initialisers_draw_with_the_standard_deviation_of_their_rule(fill, expected_std):
    tc.manual_seed(0)
    weight = _big(300, 200)
    assert fill(weight) is weight
    assert weight.detach().numpy().std() == pytest.approx(expected_std, rel=0.02)


def test_uniform_initialisers_stay_inside_their_bound():
    weight = _big(30, 20)
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    assert np.abs(weight.detach().numpy()).max() <= 1 / math.sqrt(20)
    init.xavier_uniform_(weight)
    assert np.abs(weight.detach().numpy()).max() <= math.sqrt(6 / 50)


def test_fills_keep_dtype_bump_version_and_work_on_parameters_that_require_grad():
    weight = nn.Parameter(np.full((2, 3), 7, np.float32))
    version = weight._version
    init.ones_(weight)
    assert weight.dtype == np.float32 and (weight.detach().numpy() == 1).all() and weight._version == version + 1
    init.zeros_(weight)
    assert not weight.detach().numpy().any()
    init.kaiming_normal_(weight)
    assert weight.dtype == np.float32


def test_manual_seed_makes_initialisation_repeatable():
    tc.manual_seed(3)
    first = nn.Linear(4, 3).weight.detach().numpy().copy()
    tc.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.detach().numpy(), first)


def test_bad_mode_raises():
    with pytest.raises(ValueError, match="'fan_avg'"):
        init.kaiming_uniform_(_big(2, 2), mode="fan_avg")
