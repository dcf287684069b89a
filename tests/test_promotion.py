"""Dtype promotion as PyTorch's (one rule, `ops._util.result_type`), matrix products of one dtype, pow's
gradients at 0, clear TypeErrors for lists and unsupported dtypes, and no NumPy RuntimeWarning from the ops."""

import inspect
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn
from tinygrad_cnn.ops import elementwise
from tinygrad_cnn.ops._util import result_type


def _tensor(dtype, shape=(2,)):
    return tc.tensor(np.arange(1, 1 + int(np.prod(shape))).reshape(shape).astype(dtype))


F32, F64, I32, I64, B = np.float32, np.float64, np.int32, np.int64, np.bool_
# (left operand, right operand, PyTorch's result dtype); ("t", dtype) is a vector, ("0d", dtype) a 0-d tensor.
PROMOTIONS = [
    (("t", I64), 0.5, F32),  # a Python float with an int tensor: the default float dtype
    (("t", F32), ("t", I64), F32),  # int with float tensors: the float tensor's dtype
    (("t", I32), ("t", F64), F64),
    (("t", F32), ("t", F64), F64),
    (("0d", F64), ("t", F32), F32),  # a 0-d tensor does not widen a vector of its category
    (("0d", F64), ("t", I32), F64),  # ... but sets the dtype where its category is higher
    (("0d", I64), ("t", I32), I32),
    (0.5, ("t", F32), F32),
    (2, ("t", F32), F32),
    (2, ("t", I32), I32),
    (("t", I32), ("t", I64), I64),
    (("t", B), ("t", I64), I64),
    (("t", B), 0.5, F32),
    (("t", B), 1, I64),
    (("t", I32), True, I32),
    (("t", B), ("t", B), B),
    (("0d", F32), ("t", B), F32),
    (np.float64(0.5), ("t", F32), F32),  # a NumPy scalar counts as a Python scalar
]


def _ours(spec):
    if isinstance(spec, tuple):
        kind, dtype = spec
        return _tensor(dtype) if kind == "t" else tc.tensor(np.array(3, dtype))
    return spec


def _torch(torch, spec):
    if isinstance(spec, tuple):
        kind, dtype = spec
        array = _ours(spec).detach().numpy()
        return torch.from_numpy(array.copy())
    return spec.item() if isinstance(spec, np.generic) else spec


@pytest.mark.parametrize(("left", "right", "expected"), PROMOTIONS, ids=[str(p) for p in range(len(PROMOTIONS))])
def test_binary_ops_promote_as_pytorch(left, right, expected):
    a, b = _ours(left), _ours(right)
    with_bool = any(np.asarray(x.detach().numpy() if isinstance(x, tc.Tensor) else x).dtype == B for x in (a, b))
    symbols = [operator.add, operator.mul] if with_bool else [operator.add, operator.mul, operator.sub]  # no bool -
    for op in symbols:
        assert op(a, b).dtype == expected, (op, left, right)
        assert op(b, a).dtype == expected, (op, right, left)


@pytest.mark.parametrize(("left", "right", "expected"), PROMOTIONS, ids=[str(p) for p in range(len(PROMOTIONS))])
def test_binary_ops_promote_like_torch(left, right, expected):
    torch = pytest.importorskip("torch")
    for op in [operator.add, operator.mul, operator.truediv]:
        ours = op(_ours(left), _ours(right))
        theirs = op(_torch(torch, left), _torch(torch, right))
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.").replace("long", "int64")
        np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-6)


def test_subtracting_or_negating_a_bool_tensor_is_refused_as_pytorch():
    mask = tc.tensor([True, False])
    for call in (lambda: mask - 1, lambda: 1.5 - mask, lambda: _tensor(F32) - mask, lambda: -mask):
        with pytest.raises(RuntimeError, match="bool tensor is not supported"):
            call()
    np.testing.assert_array_equal((~mask).numpy(), [False, True])


def test_true_division_of_integers_gives_float32():
    assert (_tensor(I64) / _tensor(I64)).dtype == F32
    assert (_tensor(I32) / 2).dtype == F32
    assert (_tensor(B) / _tensor(B)).dtype == F32
    np.testing.assert_array_equal((_tensor(I64) / 2).detach().numpy(), np.array([0.5, 1.0], F32))


def test_pow_promotes_as_pytorch():
    assert (_tensor(I64) ** 0.5).dtype == F32
    assert (_tensor(I64) ** 2).dtype == I64
    assert (2.0 ** _tensor(I64)).dtype == F32
    assert (_tensor(F32) ** _tensor(F64)).dtype == F64


@pytest.mark.parametrize("method", ["exp", "log", "sqrt"])
@pytest.mark.parametrize("dtype", [I64, I32, B])
def test_float_ops_on_int_and_bool_give_float32(method, dtype):
    x = _tensor(dtype)
    out = getattr(x, method)()
    assert out.dtype == F32
    np.testing.assert_allclose(
        out.detach().numpy(), getattr(np, method)(x.detach().numpy().astype(np.float64)), rtol=1e-6
    )


def test_clip_of_an_int_tensor_with_a_float_bound_is_float32():
    assert _tensor(I64).clip(min=1.5).dtype == F32
    assert _tensor(I64).clip(min=1).dtype == I64
    np.testing.assert_array_equal(_tensor(I64).clip(min=1.5).detach().numpy(), np.array([1.5, 2.0], F32))


def test_result_type_holds_for_function_apply_on_arrays():
    """Promotion happens in forward, so a direct `apply` (as a user's code or the registry does) gets it too."""
    assert elementwise.Add.apply(np.ones(2, np.int64), 0.5).dtype == F32
    assert elementwise.Mul.apply(np.ones(2, F32), np.ones(2, np.int64)).dtype == F32
    assert elementwise.Div.apply(np.ones(2, np.int64), np.ones(2, np.int64)).dtype == F32
    assert elementwise.Add.apply(np.array(1.0), np.ones(2, F32)).dtype == F32


def test_result_type_pins_the_rule():
    assert result_type("op", np.ones(2, I64), 0.5) == F32
    assert result_type("op", np.ones(2, F32), np.ones(2, F64)) == F64
    assert result_type("op", np.array(1.0), np.ones(2, F32)) == F32
    assert result_type("op", np.ones(2, B), 2) == I64
    assert result_type("op", np.ones(2, F32), None, 3) == F32


@pytest.mark.parametrize("bad", [np.array([1, 2], dtype=object), np.ones(2, np.float16), np.ones(2, np.complex64),
                                 np.ones(2, np.longdouble)])
def test_unsupported_operand_dtypes_raise_a_type_error_naming_op_and_dtype(bad):
    x = _tensor(F32)
    for op, name in [(operator.add, "add"), (operator.mul, "mul"), (operator.truediv, "div"), (operator.pow, "pow")]:
        with pytest.raises(TypeError, match=rf"{name}: operands of dtype {bad.dtype}"):
            op(x, bad)


def test_complex_python_scalar_is_refused():
    with pytest.raises(TypeError, match="complex"):
        _tensor(F32) * 1j


def test_gradients_flow_back_in_each_inputs_own_dtype():
    a = tc.tensor(np.array([1.0, 2.0], F32), requires_grad=True)
    b = tc.tensor(np.array([3.0, 4.0], F64), requires_grad=True)
    out = a * b
    assert out.dtype == F64
    out.sum().backward()
    assert a.grad.dtype == F32 and b.grad.dtype == F64
    np.testing.assert_array_equal(a.grad.detach().numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [1.0, 2.0])


# ----- matrix products take one dtype --------------------------------------------------------------
def test_linear_with_mismatched_float_dtypes_raises_like_torch():
    layer = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match="input float64, weight float32"):
        layer(tc.tensor(np.ones((1, 2), F64)))
    with pytest.raises(RuntimeError, match="one dtype"):
        F.linear(tc.ones(1, 2), tc.ones(1, 2), tc.tensor(np.ones(1, F64)))
    assert layer(tc.ones(1, 2)).dtype == F32


def test_matmul_with_mismatched_dtypes_raises_like_torch():
    with pytest.raises(RuntimeError, match="matmul: expected operands of one dtype"):
        tc.ones(2, 3) @ tc.tensor(np.ones((3, 2), F64))
    assert (tc.tensor(np.ones((2, 3), I64)) @ tc.tensor(np.ones((3, 2), I64))).dtype == I64


def test_linear_and_matmul_mismatch_raise_where_torch_does():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.Linear(2, 1)(torch.ones(1, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)


# ----- pow's gradients at 0 --------------------------------------------------------------------------
POW_POINTS = [  # (base, exponent): the grads PyTorch defines by the function's limit, and a few around them
    (0.0, 0.0), (0.0, 1.0), (0.0, 2.0), (0.0, 0.5), (0.0, -1.0), (0.0, -0.5), (2.0, 0.0), (-2.0, 0.0),
    (-2.0, 2.0), (-2.0, 3.0), (-2.0, -1.0), (-2.0, 0.5), (1.5, 2.5),
]


def _pow_grads(base, exponent):
    a = tc.tensor(np.array(base), requires_grad=True)
    b = tc.tensor(np.array(exponent), requires_grad=True)
    (a ** b).backward()
    return a.grad.item(), b.grad.item()


def test_pow_gradients_at_zero_are_pytorchs_limits():
    assert _pow_grads(0.0, 0.0) == (0.0, 0.0)  # x**y at (0, 0)
    assert _pow_grads(0.0, 2.0) == (0.0, 0.0)  # d/dy 0**y for y > 0
    assert _pow_grads(0.0, 1.0) == (1.0, 0.0)
    assert _pow_grads(2.0, 0.0) == (0.0, pytest.approx(np.log(2.0)))
    assert _pow_grads(-2.0, 3.0)[0] == 12.0  # negative base, integer exponent
    assert np.isnan(_pow_grads(-2.0, 3.0)[1])  # log of a negative base: NaN, as PyTorch
    assert _pow_grads(0.0, -1.0)[1] == -np.inf


def test_pow_gradients_at_scalar_zero_exponent_and_base():
    x = tc.tensor(np.array([0.0, -1.0, 2.0]), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [0.0, 0.0, 0.0])
    y = tc.tensor(np.array([0.0, 0.5, 2.0]), requires_grad=True)
    (0.0 ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.detach().numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(("base", "exponent"), POW_POINTS)
def test_pow_gradients_match_torch(base, exponent):
    torch = pytest.importorskip("torch")
    a = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
    (a ** b).backward()
    np.testing.assert_allclose(_pow_grads(base, exponent), (a.grad.item(), b.grad.item()), rtol=1e-12)
    # and with a Python scalar on either side
    x = tc.tensor(np.array([base]), requires_grad=True)
    (x ** exponent).sum().backward()
    t = torch.tensor([base], dtype=torch.float64, requires_grad=True)
    (t ** exponent).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), t.grad.numpy(), rtol=1e-12)
    y = tc.tensor(np.array([exponent]), requires_grad=True)
    (base ** y).sum().backward()
    u = torch.tensor([exponent], dtype=torch.float64, requires_grad=True)
    (base ** u).sum().backward()
    np.testing.assert_allclose(y.grad.detach().numpy(), u.grad.numpy(), rtol=1e-12)


# ----- lists are not Tensors ----------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "op"), [
    (lambda: F.relu([1.0, 2.0]), "relu"),
    (lambda: F.sigmoid([1.0]), "sigmoid"),
    (lambda: F.softmax([1.0, 2.0], 0), "softmax"),
    (lambda: F.linear([[1.0, 2.0]], tc.ones(1, 2)), "linear"),
    (lambda: nn.Linear(2, 1)([[1.0, 2.0]]), "linear"),
    (lambda: nn.ReLU()([1.0]), "relu"),
    (lambda: F.cross_entropy([[1.0, 2.0]], tc.tensor([0])), "cross_entropy"),
    (lambda: F.mse_loss([1.0], tc.tensor([1.0])), "mse_loss"),
])
def test_a_list_to_a_functional_op_or_layer_is_a_type_error_naming_tensor(call, op):
    with pytest.raises(TypeError, match=rf"(?i){op}\(\): argument 'input' must be a Tensor, not list"):
        call()


# ----- no RuntimeWarning at any input; inf and NaN where PyTorch has them ----------------------------------------
EXTREMES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-30, -1e-38, 1e-45, 1e19, -1e19, 1e30, -1e30, 3e38, -3e38,
            np.inf, -np.inf, np.nan]
values = st.lists(st.sampled_from(EXTREMES), min_size=4, max_size=4)


# name -> (ours and torch's call as f(lib, x, y), with lib the module of losses and softmax: F or torch's F)
OPS = {
    "add": lambda lib, x, y: x + y, "sub": lambda lib, x, y: x - y, "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / y, "pow": lambda lib, x, y: x ** y, "neg": lambda lib, x, y: -x,
    "mul_scalar": lambda lib, x, y: x * 2.0, "div_scalar": lambda lib, x, y: x / 1e-30,
    "exp": lambda lib, x, y: x.exp(), "log": lambda lib, x, y: x.log(), "sqrt": lambda lib, x, y: x.sqrt(),
    "abs": lambda lib, x, y: x.abs(), "clip": lambda lib, x, y: x.clip(-1.0, 1e30),
    "softmax": lambda lib, x, y: lib.softmax(x.reshape(2, 2), dim=1),
    "log_softmax": lambda lib, x, y: lib.log_softmax(x.reshape(2, 2), dim=1),
    "mse_loss": lambda lib, x, y: lib.mse_loss(x, y, reduction="sum"),
    "bce_with_logits": lambda lib, x, y: lib.binary_cross_entropy_with_logits(x, y.clip(0.0, 1.0),
                                                                               reduction="none"),
    "cross_entropy": lambda lib, x, y: lib.cross_entropy(x.reshape(2, 2), lib_labels(lib), reduction="none"),
    "nll_loss": lambda lib, x, y: lib.nll_loss(x.reshape(2, 2), lib_labels(lib), reduction="none"),
}


def lib_labels(lib):
    return tc.tensor([0, 1]) if lib is F else __import__("torch").tensor([0, 1])


def _run(lib, make, name, x, y):
    """The op's output and the gradients of both inputs for an all-ones output gradient, as arrays."""
    a, b = make(x, requires_grad=True), make(y, requires_grad=True)
    out = OPS[name](lib, a, b)
    if not out.requires_grad:
        return out, None, None
    out.backward(make(np.ones(out.shape, np.float32)) if lib is F else make(np.ones(out.shape, np.float32)))
    return out, a.grad, b.grad


def _same(ours, theirs, what):
    """Equal NaN positions and infinities, close finite values."""
    ours = np.asarray(ours, np.float64)
    theirs = np.asarray(theirs, np.float64)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"NaN positions of {what}")
    finite = np.isfinite(theirs)
    np.testing.assert_array_equal(np.where(finite, 0, ours), np.where(finite, 0, theirs), err_msg=f"infs of {what}")
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=2e-5, atol=1e-37, err_msg=what)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(OPS)), x=values, y=values)
def test_ops_raise_no_runtime_warning_at_any_input(name, x, y):
    """pytest turns a RuntimeWarning into an error: forward and backward stay quiet at inf, NaN, 3e38..."""
    x, y = np.array(x, np.float32), np.array(y, np.float32)
    _run(F, lambda v, requires_grad=False: tc.tensor(v, requires_grad=requires_grad), name, x, y)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(OPS)), x=values, y=values)
def test_ops_at_extreme_inputs_match_torch(name, x, y):
    torch = pytest.importorskip("torch")
    x, y = np.array(x, np.float32), np.array(y, np.float32)
    ours = _run(F, lambda v, requires_grad=False: tc.tensor(v, requires_grad=requires_grad), name, x, y)
    theirs = _run(torch.nn.functional, lambda v, requires_grad=False: torch.tensor(v, requires_grad=requires_grad),
                  name, x, y)
    for label, mine, reference in zip(["output", "grad x", "grad y"], ours, theirs):
        if reference is None:
            assert mine is None or not np.any(mine.detach().numpy()), f"{name}: {label} where torch has none"
        else:
            _same(mine.detach().numpy(), reference.detach().numpy(), f"{name} {label} at x={x}, y={y}")


@pytest.mark.parametrize("name", sorted(tc.nn.functional.__all__))
def test_every_functional_op_refuses_a_list_naming_the_tensor_it_expects(name):
    function = getattr(tc.nn.functional, name)
    parameters = list(inspect.signature(function).parameters.values())[1:]
    tensors = {"weight", "target", "indices", "running_mean", "running_var", "other"}
    args = [tc.ones(1, 1, 3, 3) if p.name in tensors else 2 for p in parameters
            if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    with pytest.raises(TypeError, match="Tensor"):
        function(np.zeros((1, 1, 4, 4)).tolist(), *args)


@pytest.mark.parametrize("layer", [tc.nn.Linear(16, 2), tc.nn.Conv2d(1, 1, 3), tc.nn.BatchNorm2d(1), tc.nn.Flatten(),
                                   tc.nn.MaxPool2d(2), tc.nn.ReLU(), tc.nn.Sequential(tc.nn.Flatten())],
                         ids=lambda layer: type(layer).__name__)
def test_a_layer_refuses_a_list_or_an_array_naming_the_tensor_it_expects(layer):
    for value in (np.zeros((1, 1, 4, 4)).tolist(), np.zeros((1, 1, 4, 4), np.float32)):
        with pytest.raises(TypeError, match=f"{type(layer).__name__}.*must be a Tensor"):
            layer(value)


FLOAT_FUNCTIONS = {"sigmoid": lambda x: 1 / (1 + np.exp(-x)), "tanh": np.tanh, "exp": np.exp, "sqrt": np.sqrt,
                   "log": np.log}


@pytest.mark.parametrize("name", sorted(FLOAT_FUNCTIONS))
def test_float_functions_of_integer_tensors_give_float32_as_pytorch(name):
    out = getattr(tc.tensor([1, 2]), name)()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), FLOAT_FUNCTIONS[name](np.array([1.0, 2.0])), rtol=1e-6)


def test_cat_and_stack_promote_as_pytorch_and_softmax_refuses_integers():
    assert tc.cat([tc.ones(2), tc.tensor([1, 2])]).dtype == np.float32
    assert tc.stack([tc.ones(2, dtype="float64"), tc.ones(2)]).dtype == np.float64
    for name in ("softmax", "log_softmax"):
        with pytest.raises(TypeError, match=rf"{name}: expected a floating point tensor"):
            getattr(tc.tensor([1, 2]), name)(0)


def _remainder_and_floor_division(lib):
    a = lib.tensor([5.0, -3.0, 7.5], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([2.0, 2.0, -2.0], dtype=lib.float64, requires_grad=True)
    (a % b).sum().backward()
    ints = lib.tensor([5, -3, 7])
    return [(a % b).detach().numpy(), a.grad.numpy(), b.grad.numpy(), (ints // 2).numpy(), (ints % -2).numpy(),
            (ints // 0.5).numpy()]


def test_remainder_has_the_sign_of_the_divisor_and_pytorchs_gradients():
    values, grad_a, grad_b, floor, remainder, float_floor = _remainder_and_floor_division(tc)
    np.testing.assert_array_equal(values, [1.0, 1.0, -0.5])
    np.testing.assert_array_equal(grad_a, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(grad_b, [-2.0, 2.0, 4.0])  # -floor(a / b)
    np.testing.assert_array_equal(floor, [2, -2, 3])
    np.testing.assert_array_equal(remainder, [-1, -1, -1])
    assert float_floor.dtype == np.float32
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_remainder_and_floor_division(tc), _remainder_and_floor_division(torch), strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


def test_floor_division_refuses_a_backward_and_integer_division_by_zero_as_pytorch():
    x = tc.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative of floor_divide"):
        (x // 2).sum().backward()
    for call in (lambda: tc.tensor([1, 2]) // 0, lambda: tc.tensor([1, 2]) % tc.tensor([1, 0])):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            call()
    with pytest.raises(TypeError, match="bool"):
        tc.tensor([True]) % tc.tensor([True])
