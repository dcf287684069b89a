"""The activations of ops/nonlinear.py without PyTorch: values pinned by hand, gradients on the kinks, the far
tails without warnings, inplace=, the layers, and bad input refused (test_nonlinear_torch.py compares with torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn

ACTIVATIONS = {  # name: (function, attrs)
    "gelu": (F.gelu, {}), "gelu_tanh": (F.gelu, {"approximate": "tanh"}), "silu": (F.silu, {}),
    "mish": (F.mish, {}), "softplus": (F.softplus, {}), "softplus_beta": (F.softplus, {"beta": -2.0, "threshold": 3.0}),
    "elu": (F.elu, {}), "elu_alpha": (F.elu, {"alpha": 0.5}), "selu": (F.selu, {}), "relu6": (F.relu6, {}),
    "hardswish": (F.hardswish, {}), "hardsigmoid": (F.hardsigmoid, {}), "hardtanh": (F.hardtanh, {}),
    "hardtanh_bounds": (F.hardtanh, {"min_val": -0.5, "max_val": 2.0}), "logsigmoid": (F.logsigmoid, {}),
    "softsign": (F.softsign, {}),
}
INPLACE = ["silu", "mish", "elu", "elu_alpha", "selu", "relu6", "hardswish", "hardsigmoid", "hardtanh",
           "hardtanh_bounds"]


def _value_and_grad(function, x, **attrs):
    t = tc.tensor(x, requires_grad=True)
    y = function(t, **attrs)
    y.backward(np.ones(y.shape, y.dtype))
    return y.detach().numpy(), t.grad.detach().numpy()


def test_values_pinned_by_hand():
    x = tc.tensor(np.array([-2.0, 0.0, 1.0]))
    phi = [0.5 * math.erfc(2 / math.sqrt(2)), 0.5, 0.5 * math.erfc(-1 / math.sqrt(2))]
    np.testing.assert_allclose(F.gelu(x).detach().numpy(), [-2 * phi[0], 0, phi[2]], rtol=1e-15)
    np.testing.assert_allclose(F.silu(x).detach().numpy(), [-2 / (1 + math.e**2), 0, 1 / (1 + math.e**-1)], rtol=1e-15)
    np.testing.assert_allclose(
        F.softplus(x).detach().numpy(), [math.log1p(math.e**-2), math.log(2), math.log1p(math.e)], rtol=1e-15
    )
    np.testing.assert_allclose(F.mish(x).detach().numpy(), [-2 * math.tanh(math.log1p(math.e**-2)), 0,
                                                math.tanh(math.log1p(math.e))], rtol=1e-15)
    np.testing.assert_allclose(F.elu(x, alpha=0.5).detach().numpy(), [0.5 * math.expm1(-2), 0, 1], rtol=1e-15)
    np.testing.assert_allclose(F.selu(x).detach().numpy(), [1.0507009873554805 * 1.6732632423543772 * math.expm1(-2), 0,
                                                1.0507009873554805], rtol=1e-15)
    np.testing.assert_allclose(F.relu6(tc.tensor([-1.0, 3.0, 7.0])).detach().numpy(), [0, 3, 6])
    np.testing.assert_allclose(F.hardswish(tc.tensor([-4.0, 1.0, 4.0])).detach().numpy(), [0, 4 / 6, 4])
    np.testing.assert_allclose(F.hardsigmoid(tc.tensor([-4.0, 1.0, 4.0])).detach().numpy(), [0, 4 / 6, 1])
    np.testing.assert_allclose(F.hardtanh(x, -1.5, 0.5).detach().numpy(), [-1.5, 0, 0.5])
    np.testing.assert_allclose(
        F.logsigmoid(x).detach().numpy(), [-math.log1p(math.e**2), -math.log(2), -math.log1p(math.e**-1)], rtol=1e-15
    )
    np.testing.assert_allclose(F.softsign(x).detach().numpy(), [-2 / 3, 0, 0.5], rtol=1e-15)
    u = math.sqrt(2 / math.pi) * (1 + 0.044715)
    np.testing.assert_allclose(F.gelu(tc.tensor(np.array([1.0])), approximate="tanh").detach().numpy(),
                               [0.5 * (1 + math.tanh(u))], rtol=1e-15)


def test_gelu_exact_keeps_its_digits_in_the_left_tail():
    # x * Phi(x) through erfc: at x = -10 the value is -7.6e-23; (1 + erf(x / sqrt 2)) / 2 would give 0
    value, grad = _value_and_grad(F.gelu, np.array([-10.0, -20.0]))
    phi = np.array([0.5 * math.erfc(10 / math.sqrt(2)), 0.5 * math.erfc(20 / math.sqrt(2))])
    density = np.exp(-0.5 * np.array([100.0, 400.0])) / math.sqrt(2 * math.pi)
    # relative to the exact value; the rounding of x / sqrt(2) alone moves erfc there by 2 z**2 eps ~ 4e-14
    np.testing.assert_allclose(value, [-10, -20] * phi, rtol=1e-13)
    np.testing.assert_allclose(grad, phi + [-10, -20] * density, rtol=1e-13)


EXTREMES = [-np.inf, -1e300, -1e30, -1e4, -100.0, -40.0, -20.0, -3.0, -1e-300, 0.0, 1e-300, 3.0, 6.0, 20.0, 40.0,
            1e4, 1e30, 1e300, np.inf, np.nan]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_extreme_inputs_give_no_warning_and_finite_results_for_finite_input(name, dtype):
    function, attrs = ACTIVATIONS[name]
    info = np.finfo(dtype)
    x = np.clip(np.array(EXTREMES), -info.max, info.max).astype(dtype)
    x[0], x[-2] = -np.inf, np.inf
    finite = np.isfinite(x)
    x = np.concatenate([x, [info.max, -info.max, info.tiny, -info.tiny]]).astype(dtype)
    finite = np.concatenate([finite, [True] * 4])
    if name == "selu":  # 1.0507 * x beyond the float maximum: inf is the right answer
        finite &= np.abs(x.astype(np.float64)) <= info.max / 1.0507009873554805
    value, grad = _value_and_grad(function, x, **attrs)  # pytest turns any RuntimeWarning into an error
    assert value.dtype == dtype and grad.dtype == dtype
    assert np.isfinite(value[finite]).all() and np.isfinite(grad[finite]).all(), (value, grad)


def test_tails_reach_their_limits():
    x = np.array([-1e300, 1e300])
    for name in ["gelu", "gelu_tanh", "silu", "mish", "hardswish"]:  # x * (something that goes from 0 to 1)
        function, attrs = ACTIVATIONS[name]
        value, grad = _value_and_grad(function, x, **attrs)
        np.testing.assert_array_equal(value, [0.0, 1e300])
        np.testing.assert_array_equal(grad, [0.0, 1.0])
    value, grad = _value_and_grad(F.softplus, np.array([-1e300, -800.0, 800.0, 1e300]))
    np.testing.assert_array_equal(value, [0.0, 0.0, 800.0, 1e300])
    value, grad = _value_and_grad(F.logsigmoid, np.array([-1e300, -800.0, 800.0]))
    np.testing.assert_array_equal(value, [-1e300, -800.0, 0.0])
    np.testing.assert_array_equal(grad, [1.0, 1.0, 0.0])
    value, grad = _value_and_grad(F.softsign, np.array([-1e300, 1e300]))
    np.testing.assert_array_equal(value, [-1.0, 1.0])


def test_softplus_takes_the_linear_branch_above_the_threshold():
    x = np.array([0.9, 1.1])  # beta * x = 1.8 and 2.2 against threshold 2
    value, grad = _value_and_grad(F.softplus, x, beta=2.0, threshold=2.0)
    np.testing.assert_allclose(value, [math.log1p(math.exp(1.8)) / 2, 1.1], rtol=1e-15)
    np.testing.assert_allclose(grad, [1 / (1 + math.exp(-1.8)), 1.0], rtol=1e-15)


# name, kink points, the gradient there (PyTorch 2's choice), and where to sample around them
KINKS = [
    ("relu6", (0.0, 6.0), (0.0, 0.0)),
    ("hardtanh", (-1.0, 1.0), (0.0, 0.0)),
    ("hardtanh_bounds", (-0.5, 2.0), (0.0, 0.0)),
    ("hardswish", (-3.0, 3.0), (0.0, 1.0)),
    ("hardsigmoid", (-3.0, 3.0), (0.0, 0.0)),
    ("elu_alpha", (0.0,), (0.5,)),
    ("selu", (0.0,), (1.0507009873554805 * 1.6732632423543772,)),
]


@pytest.mark.parametrize(("name", "points", "gradients"), KINKS, ids=[k[0] for k in KINKS])
def test_gradient_on_a_kink_is_pytorchs_one_sided_choice(name, points, gradients):
    function, attrs = ACTIVATIONS[name]
    x = np.array(points + (points[0] - 0.7, points[-1] + 0.6))
    _, grad = _value_and_grad(function, x, **attrs)
    np.testing.assert_allclose(grad[: len(points)], gradients, rtol=1e-15)
    # and it is a valid subgradient: between the left and right derivatives, the rest checked as usual
    t = tc.tensor(x, requires_grad=True)
    kinks = [np.isin(x, points)]
    assert tc.gradcheck(lambda v: function(v, **attrs), [t], atol=1e-7, rtol=1e-6, kinks=kinks, allow_kinks=True)


def test_nan_input_gives_nan_and_the_gradient_of_pytorchs_scalar_kernel():
    nan = np.array([np.nan])
    for name, expected in [("relu6", 1.0), ("hardtanh", 1.0), ("hardswish", 1.0), ("hardsigmoid", 0.0),
                           ("elu", 1.0), ("selu", 1.0507009873554805)]:
        function, attrs = ACTIVATIONS[name]
        value, grad = _value_and_grad(function, nan, **attrs)
        assert np.isnan(value).all()
        np.testing.assert_array_equal(grad, [expected], err_msg=name)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_into_the_input_and_records_the_same_gradient(name):
    function, attrs = ACTIVATIONS[name]
    x_data = np.random.default_rng(0).uniform(-5, 7, (3, 4))
    expected_value, expected_grad = _value_and_grad(function, x_data, **attrs)
    x = tc.tensor(x_data, requires_grad=True)
    hidden = x * 1.0
    result = function(hidden, **attrs, inplace=True)
    assert result is hidden and hidden._version == 1
    np.testing.assert_array_equal(hidden.detach().numpy(), expected_value)
    (hidden * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), expected_grad)


def test_inplace_on_a_leaf_that_requires_grad_is_refused_before_any_change():
    x = tc.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu6(x, inplace=True)
    np.testing.assert_array_equal(x.detach().numpy(), [-1.0, 2.0])
    with tc.no_grad():  # allowed without recording, as in PyTorch
        F.hardtanh(x, inplace=True)
    np.testing.assert_array_equal(x.detach().numpy(), [-1.0, 1.0])


def test_relu6_and_hardtanh_take_integer_tensors_and_the_rest_refuse_them():
    labels = tc.tensor([-3, 2, 9])
    assert F.relu6(labels).tolist() == [0, 2, 6] and F.relu6(labels).dtype == np.int64
    assert F.hardtanh(labels).tolist() == [-1, 1, 1]
    assert F.softsign(labels).dtype == np.float32  # as PyTorch's x / (1 + |x|)
    np.testing.assert_allclose(F.softsign(labels).detach().numpy(), [-0.75, 2 / 3, 0.9], rtol=1e-6)
    for name in ["gelu", "silu", "mish", "softplus", "elu", "selu", "hardswish", "hardsigmoid", "logsigmoid"]:
        function, attrs = ACTIVATIONS[name]
        with pytest.raises(TypeError, match=f"{name.split('_')[0]}: expected a floating point input, got int64"):
            function(labels, **attrs)


def test_bad_arguments_are_refused_with_their_values():
    x = tc.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="beta must be non-zero"):
        F.softplus(x, beta=0)
    with pytest.raises(TypeError, match="threshold must be a real number, got 'big'"):
        F.softplus(x, threshold="big")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val, got min_val=2.0, max_val=1.0"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(TypeError, match="alpha must be a real number, got nan"):
        F.elu(x, alpha=float("nan"))
    with pytest.raises(TypeError, match="input must be a Tensor, got ndarray"):
        F.silu(np.ones(3))
    y = x * 1.0
    with pytest.raises(ValueError, match="min_val cannot be greater"):
        F.hardtanh(y, 2.0, 1.0, inplace=True)
    assert y._version == 0  # refused before anything changed


def test_hardtanh_with_equal_bounds_is_constant():
    value, grad = _value_and_grad(F.hardtanh, np.array([-1.0, 0.3, 2.0]), min_val=0.3, max_val=0.3)
    np.testing.assert_array_equal(value, [0.3, 0.3, 0.3])
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0])


LAYERS = [
    (nn.GELU(), F.gelu, {}, "GELU(approximate='none')"),
    (nn.GELU("tanh"), F.gelu, {"approximate": "tanh"}, "GELU(approximate='tanh')"),
    (nn.SiLU(), F.silu, {}, "SiLU()"), (nn.SiLU(inplace=True), F.silu, {}, "SiLU(inplace=True)"),
    (nn.Mish(), F.mish, {}, "Mish()"),
    (nn.Softplus(beta=2.0, threshold=1.0), F.softplus, {"beta": 2.0, "threshold": 1.0},
     "Softplus(beta=2.0, threshold=1.0)"),
    (nn.ELU(alpha=0.5), F.elu, {"alpha": 0.5}, "ELU(alpha=0.5)"),
    (nn.ELU(inplace=True), F.elu, {}, "ELU(alpha=1.0, inplace=True)"),
    (nn.SELU(), F.selu, {}, "SELU()"), (nn.ReLU6(), F.relu6, {}, "ReLU6()"),
    (nn.ReLU6(inplace=True), F.relu6, {}, "ReLU6(inplace=True)"),
    (nn.Hardswish(), F.hardswish, {}, "Hardswish()"), (nn.Hardsigmoid(), F.hardsigmoid, {}, "Hardsigmoid()"),
    (nn.Hardtanh(), F.hardtanh, {}, "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Hardtanh(-2, 3, True), F.hardtanh, {"min_val": -2, "max_val": 3},
     "Hardtanh(min_val=-2, max_val=3, inplace=True)"),
    (nn.LogSigmoid(), F.logsigmoid, {}, "LogSigmoid()"), (nn.Softsign(), F.softsign, {}, "Softsign()"),
]


@pytest.mark.parametrize(("layer", "function", "attrs", "text"), LAYERS, ids=[entry[3] for entry in LAYERS])
def test_layer_calls_its_function_and_prints_as_pytorch(layer, function, attrs, text):
    assert repr(layer) == text
    x_data = np.random.default_rng(1).uniform(-5, 7, (2, 3))
    x = tc.tensor(x_data, requires_grad=True)
    hidden = x * 1.0  # an inplace layer changes its input: give it a non-leaf
    out = layer(hidden)
    assert (out is hidden) == bool(getattr(layer, "inplace", False))
    np.testing.assert_array_equal(out.detach().numpy(), function(tc.tensor(x_data), **attrs).detach().numpy())
    assert list(layer.parameters()) == []


def test_layers_keep_pytorchs_attributes_and_refuse_bad_arguments_when_built():
    assert (nn.ReLU6().min_val, nn.ReLU6().max_val) == (0.0, 6.0) and isinstance(nn.ReLU6(), nn.Hardtanh)
    assert (nn.Softplus().beta, nn.Softplus().threshold) == (1.0, 20.0)
    assert nn.GELU().approximate == "none" and nn.ELU().alpha == 1.0 and nn.SiLU().inplace is False
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match=r"max_val \(1\) must be greater than or equal to min_val \(2\)"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match="beta must be non-zero"):
        nn.Softplus(beta=0.0)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        nn.ELU(alpha=None)


def test_float32_stays_float32_through_forward_and_backward():
    for name, (function, attrs) in ACTIVATIONS.items():
        x = tc.tensor(np.linspace(-4, 7, 12, dtype=np.float32), requires_grad=True)
        y = function(x, **attrs)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32, name
