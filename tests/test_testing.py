"""tc.testing: the Taylor test, the Hypothesis strategies, check_op and its reproducer files."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, testing
from tinygrad_cnn.ops import Sample

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True, dtype=np.float64)


class Swish(tc.Function):
    """x * sigmoid(x), with its right backward."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * (s + x * s * (1 - s))


class SwishForgetsAFactor(Swish):
    """Swish whose backward drops the (1 - s) factor."""

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * (s + x * s)


class ScaleUpcasts(tc.Function):
    """x * 2 whose backward multiplies by a float64 array: float32 gradients become float64."""

    @staticmethod
    def forward(ctx, x):
        return x * x.dtype.type(2)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * np.full(grad_output.shape, 2.0)


class SumWrongShape(tc.Function):
    """x.sum() whose backward forgets to broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad_output):
        return np.ones(1, grad_output.dtype) * grad_output


def swish_samples():
    return testing.arrays(shape=testing.shapes(max_dims=2, max_side=3)).map(lambda x: (x,))


# ----- Taylor test ------------------------------------------------------------------------------
def test_taylor_order_is_about_two_for_a_right_gradient():
    result = testing.taylor_test(lambda x, w: (x @ w).tanh().sum(dim=0), [leaf(3, 4), leaf(4, 2, seed=1)])
    assert result.ok and 1.8 < result.order < 2.2 and "about 2" in str(result)


def test_taylor_order_is_about_one_for_a_wrong_gradient():
    result = testing.taylor_test(SwishForgetsAFactor.apply, [leaf(5)])
    assert not result.ok and 0.8 < result.order < 1.2 and "gradient is wrong" in str(result)


def test_taylor_on_a_linear_function_is_exact_at_round_off():
    result = testing.taylor_test(lambda x: x * 3.0 - 1.0, [leaf(4)])
    assert result.exact and result.ok


def test_taylor_moves_module_parameters_and_restores_them():
    layer = tc.nn.Linear(3, 2)
    weight = layer.weight.detach().numpy().copy()
    with pytest.raises(ValueError, match="nothing to check"):
        testing.taylor_test(lambda x: layer(x).tanh(), [tc.ones(2, 3)])  # a plain fn: x alone would move
    assert testing.taylor_test(tc.nn.Sequential(layer, tc.nn.Tanh()), [tc.ones(2, 3)]).ok
    assert np.array_equal(layer.weight.detach().numpy(), weight) and layer.weight.dtype == np.float32


class NanGradient(tc.Function):
    """2 * x with a backward that gives NaN."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * np.nan


def test_taylor_fails_on_a_nan_output_and_names_it():
    constant = Tensor(np.array([1.0, np.nan, 3.0]))
    result = testing.taylor_test(lambda t: t * constant, [leaf(3)])
    assert not result.ok and not result.exact
    assert "failed: fn's output 0 is NaN at (1,)" in str(result)


def test_taylor_fails_on_a_nan_gradient():
    result = testing.taylor_test(NanGradient.apply, [leaf(3)])
    assert not result.ok and "the gradient is nan along u" in str(result)


class NanAwayFromOne(tc.Function):
    """x itself within 1e-6 of 1, NaN further away."""

    @staticmethod
    def forward(ctx, x):
        return np.where(np.abs(x - 1.0) <= 1e-6, x, np.nan)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def test_taylor_fails_when_the_output_turns_nan_along_the_step():
    x = Tensor(np.array([1.0]), requires_grad=True, dtype=np.float64)
    result = testing.taylor_test(NanAwayFromOne.apply, [x], steps=[1e-12, 1e-2])
    assert not result.ok and "NaN or inf at x + h u" in str(result)


# ----- strategies ---------------------------------------------------------------------------------
@settings(max_examples=25)
@given(testing.shapes(min_dims=2, max_dims=3, max_side=4))
def test_shapes_respect_their_bounds(shape):
    assert 2 <= len(shape) <= 3 and all(1 <= n <= 4 for n in shape)


@settings(max_examples=25)
@given(testing.broadcastable_shapes(num_shapes=2))
def test_broadcastable_shapes_broadcast_together(pair):
    shape_a, shape_b = pair
    np.broadcast_shapes(shape_a, shape_b)


@settings(max_examples=25)
@given(testing.arrays(shape=(3, 4), low=-1.0, high=1.0, kinks=(0.0, 0.5), margin=0.05))
def test_arrays_are_finite_bounded_and_away_from_kinks(x):
    assert x.shape == (3, 4) and x.dtype == np.float64 and np.isfinite(x).all()
    assert (np.abs(x) <= 1.0 + 0.1).all()
    assert (np.abs(x) >= 0.05).all() and (np.abs(x - 0.5) >= 0.05).all()


@settings(max_examples=10)
@given(testing.arrays(shape=testing.shapes(max_dims=2), dtype=np.float32))
def test_arrays_can_be_float32(x):
    assert x.dtype == np.float32


@settings(max_examples=10)
@given(testing.pooling_windows(max_side=5))
def test_pooling_windows_have_no_ties_so_max_pool_passes_gradcheck_without_kinks(sample):
    (x,) = sample.args
    assert len(np.unique(x)) == x.size
    assert tc.gradcheck(lambda t: t.max_pool2d(**sample.attrs), [Tensor(x, requires_grad=True)],
                        atol=1e-7, rtol=1e-6)


def test_strategies_reject_bad_arguments():
    with pytest.raises(TypeError, match="float32 or float64"):
        testing.arrays(dtype=np.int64)
    with pytest.raises(ValueError, match="low < high"):
        testing.arrays(low=1.0, high=1.0)


# ----- check_op -----------------------------------------------------------------------------------
def test_check_op_passes_a_right_op_over_hypothesis_samples():
    result = testing.check_op(Swish, swish_samples(), max_examples=10)
    assert result.samples == 10 and "gradcheck" in str(result) and "taylor" in str(result)


def test_check_op_takes_a_registered_name_or_a_list_of_samples():
    assert testing.check_op("relu").samples > 0
    assert testing.check_op(Swish, [(np.array([0.5, -1.0]),), Sample((np.ones((2, 2)),))]).samples == 2


def test_check_op_failure_writes_the_shrunk_sample_and_a_five_line_reproducer(tmp_path):
    with pytest.raises(testing.CheckOpError) as caught:
        testing.check_op(SwishForgetsAFactor, swish_samples(), max_examples=10, out_dir=str(tmp_path))
    message = str(caught.value)
    assert "property 'gradcheck' failed" in message and "mismatch" in message
    npz, script = tmp_path / "swishforgetsafactor_gradcheck.npz", tmp_path / "swishforgetsafactor_gradcheck.py"
    assert npz.exists() and script.exists() and str(script) in message
    assert len(script.read_text().splitlines()) == 5
    (x,), attrs = testing.load_sample(str(npz))
    assert attrs == {} and x.requires_grad and x.numel() <= 2  # shrunk to a tiny input
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.path.dirname(__file__)]))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode != 0 and "CheckOpError" in run.stderr and "property 'gradcheck' failed" in run.stderr


def test_check_op_catches_a_float64_upcast_in_backward(tmp_path):
    with pytest.raises(testing.CheckOpError, match="property 'dtype' failed: float32 inputs gave a float64 gradient"):
        testing.check_op(ScaleUpcasts, [(np.ones(3),)], out_dir=str(tmp_path))


def test_check_op_catches_a_wrong_gradient_shape(tmp_path):
    with pytest.raises(testing.CheckOpError, match=r"property 'backward' failed: .*shape \(1,\) for input 0 of shape"):
        testing.check_op(SumWrongShape, [(np.ones((2, 3)),)], out_dir=str(tmp_path))


def test_check_op_reports_a_backward_that_raises_and_saves_the_sample(tmp_path):
    class Crashes(Swish):
        @staticmethod
        def backward(ctx, grad_output):
            raise IndexError("tap 3 out of range")

    with pytest.raises(testing.CheckOpError, match="property 'backward' failed: Crashes.backward raised IndexError"):
        testing.check_op(Crashes, [(np.ones(2),)], out_dir=str(tmp_path))
    assert (tmp_path / "crashes_backward.npz").exists()


def test_check_op_compares_forward_with_a_reference(tmp_path):
    with pytest.raises(testing.CheckOpError, match="property 'forward' failed: .*differs from the reference"):
        testing.check_op(Swish, [(np.array([1.0, 2.0]),)], reference=np.tanh, out_dir=str(tmp_path))
    testing.check_op(Swish, [(np.array([1.0, 2.0]),)], reference=lambda x: x / (1 + np.exp(-x)))


def test_check_op_uses_declared_kinks_so_relu_at_zero_is_named(tmp_path):
    with pytest.raises(testing.CheckOpError, match="non-differentiable point"):
        testing.check_op("relu", [(np.array([0.0, 1.0]),)], out_dir=str(tmp_path))


def test_load_sample_restores_constants_and_none(tmp_path):
    sample = Sample((np.array([1.0, 2.0]), None, 1.5, np.array([0, 2])), {"dim": 1, "keepdim": True},
                    requires_grad=(True, False, False, False))
    npz, _ = testing.write_failure(Swish, sample, "gradcheck", str(tmp_path))
    args, attrs = testing.load_sample(npz)
    assert isinstance(args[0], Tensor) and args[0].requires_grad and args[1] is None and args[2] == 1.5
    assert args[3].dtype.kind == "i" and attrs == {"dim": 1, "keepdim": True}


def test_bad_check_op_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="Function subclass"):
        testing.check_op(lambda x: x, [(np.ones(2),)])
    with pytest.raises(ValueError, match="no op named"):
        testing.check_op("no_such_op")
    with pytest.raises(ValueError, match="give samples"):
        testing.check_op(Swish)


@settings(max_examples=5)
@given(st.just(None))
def test_check_op_runs_inside_a_users_own_hypothesis_test(_):
    assert testing.check_op(Swish, [(np.array([0.3]),)]).samples == 1


def test_strategies_without_hypothesis_raise_an_import_error_with_the_install_command(monkeypatch):
    for name in [name for name in sys.modules if name.split(".")[0] == "hypothesis"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    for strategy in (testing.shapes, testing.broadcastable_shapes, testing.arrays, testing.pooling_windows):
        with pytest.raises(ImportError, match=r"needs Hypothesis.*pip install hypothesis.*tinygrad_cnn\[test\]"):
            strategy()


def test_the_package_imports_and_taylor_runs_without_hypothesis():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import numpy as np, tinygrad_cnn as tc\n"
            "x = tc.Tensor(np.array([0.5, 1.0]), requires_grad=True, dtype=np.float64)\n"
            "assert tc.testing.taylor_test(lambda t: t.tanh(), [x]).ok\n"
            "assert tc.gradcheck(lambda t: t.tanh(), [x])\n"
            "try:\n    tc.testing.shapes()\nexcept ImportError as error:\n    print(error)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=REPO))
    assert run.returncode == 0, run.stderr
    assert "needs Hypothesis, which is not installed: pip install hypothesis" in run.stdout


def test_custom_op_example_checks_its_ops_and_reports_the_broken_ones(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("custom_op", os.path.join(REPO, "examples", "custom_op.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "check_op(Swish): 15 samples passed" in out and "check_op(DepthwiseConv2d): 15 samples passed" in out
    assert "property 'gradcheck' failed" in results["swish"] and (tmp_path / "swishbroken_gradcheck.py").exists()
    assert 0.8 < results["swish_taylor"] < 1.2
    assert "spatial border (top)" in results["depthwise"] and "input 1 (shape (2, 1, 3, 3), per-element): ok" in out
