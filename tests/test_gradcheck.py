"""gradcheck: its reports, hints, kink detection, fast mode, float64 promotion and Module parameters.

Each hint is pinned against a deliberately broken op of the kind it is meant to catch.
"""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.gradcheck import GradcheckError, check_gradients


def leaf(*shape, seed=0, scale=1.0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape) * scale, requires_grad=True, dtype=np.float64)


# ----- deliberately broken ops ----------------------------------------------------------------------
class SquareTwiceTooLarge(tc.Function):
    """x*x with backward 4x: the factor of 2 counted twice."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 4 * x * grad_output


class SquareMissingFactor(SquareTwiceTooLarge):
    """x*x with backward x: the factor of 2 missing."""

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return x * grad_output


class SubtractFlipped(tc.Function):
    """a - b with the gradients of a and b swapped in sign."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output, grad_output


class Disconnected(tc.Function):
    """3x with a backward that returns nothing."""

    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @staticmethod
    def backward(ctx, grad_output):
        return None


class ScaleSwappedAxes(tc.Function):
    """x * c for a fixed matrix c, with backward transposed (swapped axes)."""

    @staticmethod
    def forward(ctx, x):
        ctx.scale = np.arange(1.0, x.size + 1).reshape(x.shape)
        return x * ctx.scale

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * ctx.scale).T


def _box3(x, mode="constant"):
    """Sum over each 3x3 neighbourhood of an (N, C, H, W) array, padding 1 in `mode`."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode=mode)
    h, w = x.shape[2:]
    return sum(padded[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3))


class BoxFilterWrongBorder(tc.Function):
    """A 3x3 box filter with zero padding whose backward pads with the edge values: wrong on the border only."""

    @staticmethod
    def forward(ctx, x):
        return _box3(x)

    @staticmethod
    def backward(ctx, grad_output):
        return _box3(grad_output, mode="edge")


class BoxFilter(BoxFilterWrongBorder):
    """The same filter with its right backward (the box is symmetric, so backward is the same filter)."""

    @staticmethod
    def backward(ctx, grad_output):
        return _box3(grad_output)


def _failure(fn, inputs, **kwargs):
    with pytest.raises(GradcheckError) as caught:
        tc.gradcheck(fn, inputs, **kwargs)
    return caught.value


# ----- passing and the basic report -------------------------------------------------------------------
def test_right_gradients_pass_including_a_module_free_conv_like_op():
    assert tc.gradcheck(BoxFilter.apply, [leaf(2, 2, 5, 4)])
    assert tc.gradcheck(lambda a, b: (a * b).exp().sum(dim=1), [leaf(3, 4), leaf(4, seed=1)], atol=1e-7, rtol=1e-6)


def test_failure_names_the_input_the_count_and_the_worst_elements_with_both_values():
    x, y = leaf(3), leaf(2, 3, seed=1)
    error = _failure(lambda a, b: a + SquareTwiceTooLarge.apply(b), [x, y])
    report = error.report.inputs
    assert report[0].ok and not report[1].ok
    assert len(report[1].mismatches) == 6
    worst = report[1].mismatches[0]
    assert worst.abs_error == max(r.abs_error for r in report[1].mismatches)
    assert worst.analytic == pytest.approx(2 * worst.numeric, rel=1e-6)
    text = str(error)
    assert "input 1 (shape (2, 3)" in text and "mismatch at 6 of 6 elements" in text
    assert str(worst.index) in text and f"{worst.analytic:.6g}" in text and f"{worst.numeric:.6g}" in text


def test_raise_exception_false_returns_false_and_check_gradients_gives_the_report():
    assert tc.gradcheck(SquareTwiceTooLarge.apply, [leaf(3)], raise_exception=False) is False
    report = check_gradients(SquareTwiceTooLarge.apply, [leaf(3)])
    assert not report.ok and "gradcheck failed" in str(report)


# ----- hints ------------------------------------------------------------------------------------
def test_hint_for_a_factor_counted_twice():
    hints = _failure(SquareTwiceTooLarge.apply, [leaf(4)]).report.inputs[0].hints
    assert any("analytic = 2 x numeric" in h for h in hints)


def test_hint_for_a_missing_factor_of_two():
    hints = _failure(SquareMissingFactor.apply, [leaf(2, 3)]).report.inputs[0].hints
    assert any("analytic = 1/2 x numeric" in h and "missing" in h for h in hints)


def test_hint_for_a_sign_flip():
    error = _failure(SubtractFlipped.apply, [leaf(3), leaf(3, seed=1)])
    for report in error.report.inputs:
        assert any("sign is flipped" in h for h in report.hints)


def test_hint_for_a_disconnected_backward():
    hints = _failure(Disconnected.apply, [leaf(2, 2)]).report.inputs[0].hints
    assert any("all zero" in h and "does not reach this input" in h for h in hints)


def test_hint_for_a_graph_cut_by_detach():
    hints = _failure(lambda x: x.detach() * 2 + x, [leaf(3)]).report.inputs[0].hints
    assert any("analytic = 1/3 x numeric" in h for h in hints)


def test_hint_for_swapped_axes():
    hints = _failure(ScaleSwappedAxes.apply, [leaf(3, 3)]).report.inputs[0].hints
    assert any("axes permuted as (1, 0)" in h for h in hints)


def test_hint_for_a_wrong_padding_border_names_the_sides():
    report = _failure(BoxFilterWrongBorder.apply, [leaf(2, 1, 5, 6)]).report.inputs[0]
    border = [h for h in report.hints if "spatial border" in h]
    assert border and "within 1 element " in border[0] and "top, bottom, left, right" in border[0]
    assert all(min(r.index[2], 4 - r.index[2], r.index[3], 5 - r.index[3]) == 0 for r in report.mismatches)


def test_no_border_hint_when_errors_reach_the_interior():
    hints = _failure(SquareTwiceTooLarge.apply, [leaf(1, 1, 5, 5)]).report.inputs[0].hints
    assert not any("border" in h for h in hints)


# ----- kinks and ties ---------------------------------------------------------------------------------
def test_relu_at_zero_is_reported_as_a_non_differentiable_point_not_a_mismatch():
    x = Tensor(np.array([0.0, 1.5, -0.7]), requires_grad=True, dtype=np.float64)
    error = _failure(lambda t: t.relu(), [x])
    report = error.report.inputs[0]
    assert not report.mismatches and [r.index for r in report.kinks] == [(0,)]
    kink = report.kinks[0]
    assert kink.analytic == 0 and kink.left == pytest.approx(0) and kink.right != pytest.approx(0)
    assert "non-differentiable point" in str(error) and report.invalid_kinks == 0
    assert tc.gradcheck(lambda t: t.relu(), [x], allow_kinks=True)


@pytest.mark.parametrize(("fn", "kink"), [
    (lambda t: t.leaky_relu(0.1), 0.0),
    (lambda t: t.clip(-0.5, 0.5), 0.5),
    (lambda t: t.clip(-0.5, 0.5), -0.5),
], ids=["leaky_relu", "clip-max", "clip-min"])
def test_every_kind_of_kink_is_found_by_one_sided_differences(fn, kink):
    x = Tensor(np.array([kink, 0.25, -2.0]), requires_grad=True, dtype=np.float64)
    report = _failure(fn, [x]).report.inputs[0]
    assert [r.index for r in report.kinks] == [(0,)] and not report.mismatches and report.invalid_kinks == 0
    assert tc.gradcheck(fn, [x], allow_kinks=True)


def test_abs_at_zero_passes_because_its_subgradient_zero_is_the_central_difference():
    assert tc.gradcheck(lambda t: t.abs(), [Tensor(np.array([0.0, 1.0]), requires_grad=True)])


def test_a_wrong_value_at_a_kink_still_fails_with_allow_kinks():
    class ReluWrongAtZero(tc.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * np.where(x == 0, 5.0, x > 0)

    x = Tensor(np.array([0.0, 1.0]), requires_grad=True, dtype=np.float64)
    error = _failure(ReluWrongAtZero.apply, [x], allow_kinks=True)
    assert error.report.inputs[0].invalid_kinks == 1 and "outside [left, right]" in str(error)


def test_max_ties_sending_the_gradient_to_one_index_are_kinks():
    x = Tensor(np.array([[3.0, 3.0, 1.0], [0.5, 2.0, 2.0]]), requires_grad=True, dtype=np.float64)
    report = _failure(lambda t: t.max(dim=1).values, [x]).report.inputs[0]
    assert {r.index for r in report.kinks} == {(0, 0), (0, 1), (1, 1), (1, 2)} and not report.mismatches
    assert tc.gradcheck(lambda t: t.max(dim=1).values, [x], allow_kinks=True)


def test_max_pool_ties_are_kinks_and_the_declared_mask_labels_them():
    info = tc.ops.registry["max_pool2d"]
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, :2, :2] = 1.0  # a tie in the top-left window
    x[0, 0, 2:, 2:] = [[0.5, -0.5], [0.25, 0.75]]
    sample = tc.ops.Sample((x,), {"kernel_size": 2})
    fn = lambda t: info.function.apply(t, kernel_size=2)  # noqa: E731
    inputs = [Tensor(x, requires_grad=True, dtype=np.float64)]
    report = _failure(fn, inputs, kinks=info.kinks(sample)).report.inputs[0]
    assert not report.mismatches and report.invalid_kinks == 0
    assert {r.index[2:] for r in report.kinks} <= {(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3), (1, 2), (1, 3),
                                                   (2, 0), (2, 1), (3, 0), (3, 1)}
    assert (0, 0) in {r.index[2:] for r in report.kinks}
    assert tc.gradcheck(fn, inputs, allow_kinks=True)


# ----- adaptive and reproducible --------------------------------------------------------------------
def test_large_inputs_use_a_random_direction_and_name_the_seed():
    x = leaf(40, 30)
    report = check_gradients(lambda t: (t * t).sum(dim=0), [x], seed=7)
    assert report.ok and report.inputs[0].mode == "random direction, seed=7" and report.inputs[0].checked == 0
    assert "seed=7" in str(report)
    assert check_gradients(lambda t: t * t, [leaf(3, 3)], fast_mode=True).inputs[0].mode.startswith("random")


def test_fast_mode_failure_is_localised_element_by_element_with_the_hint():
    error = _failure(SquareTwiceTooLarge.apply, [leaf(50, 30)], seed=3)
    report = error.report.inputs[0]
    assert report.directional is not None and report.checked == 1500
    assert any("analytic = 2 x numeric" in h for h in report.hints) and "seed=3" in str(error)


def test_fast_mode_on_a_very_large_input_samples_elements():
    report = _failure(SquareTwiceTooLarge.apply, [leaf(100, 50)], fast_threshold=200).report.inputs[0]
    assert report.sampled and report.checked == 200 and "a random sample" in str(report.render(5))


def test_seed_changes_the_directions_and_fixes_them():
    x = leaf(3, 4)
    first = check_gradients(SquareTwiceTooLarge.apply, [x], seed=1).inputs[0].mismatches[0]
    again = check_gradients(SquareTwiceTooLarge.apply, [x], seed=1).inputs[0].mismatches[0]
    other = check_gradients(SquareTwiceTooLarge.apply, [x], seed=2).inputs[0].mismatches[0]
    assert (first.index, first.analytic) == (again.index, again.analytic)
    assert first.analytic != other.analytic


def test_float32_inputs_are_checked_in_float64_and_left_as_they_were():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    before = x.detach().numpy().copy()
    assert tc.gradcheck(lambda t: (t * t).tanh(), [x], atol=1e-8, rtol=1e-7)
    assert x.dtype == np.float32 and x.grad is None and np.array_equal(x.detach().numpy(), before)


def test_the_step_scales_with_the_magnitude_of_each_element():
    x = Tensor(np.array([3e9, -1e9, 0.5]), requires_grad=True, dtype=np.float64)
    assert tc.gradcheck(lambda t: t * t, [x], atol=1e-7, rtol=1e-6)


def test_a_module_has_every_parameter_checked_and_restored_to_float32():
    nn = tc.nn
    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    x = tc.randn(2, 1, 4, 4, requires_grad=True)
    weights = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
    report = check_gradients(model, [x], atol=1e-7, rtol=1e-6)
    assert report.ok
    assert [r.label for r in report.inputs] == ["input 0", "parameter '0.weight'", "parameter '0.bias'",
                                                "parameter '3.weight'", "parameter '3.bias'"]
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad is None and np.array_equal(p.detach().numpy(), weights[name])


def test_a_whole_small_cnn_is_checked_in_one_call():
    nn = tc.nn
    tc.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3),
                          nn.ReLU(), nn.Flatten(), nn.Linear(4, 3))
    x = tc.randn(2, 1, 6, 6, requires_grad=True)
    report = check_gradients(model, [x], atol=1e-6, rtol=1e-5)
    assert report.ok, str(report)
    assert len(report.inputs) == 7 and all(r.mode == "per-element" for r in report.inputs)


def test_a_module_with_a_broken_layer_names_the_parameter():
    nn = tc.nn

    class Doubled(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(np.array([0.5, -1.0, 2.0]))

        def forward(self, x):
            return SquareTwiceTooLarge.apply(self.weight) * x

    error = _failure(Doubled(), [tc.ones(3)])
    assert "parameter 'weight'" in str(error) and not error.report.inputs[0].ok


def test_batchnorm_running_statistics_are_restored_after_the_check():
    nn = tc.nn
    layer = nn.BatchNorm1d(3)
    mean_before = layer.running_mean.detach().numpy().copy()
    assert tc.gradcheck(layer, [leaf(4, 3)], atol=1e-6, rtol=1e-5)
    assert np.array_equal(layer.running_mean.detach().numpy(), mean_before) and layer.running_mean.dtype == np.float32


# ----- bad input --------------------------------------------------------------------------------
def test_no_input_requiring_grad_is_a_value_error():
    with pytest.raises(ValueError, match="nothing to check"):
        tc.gradcheck(lambda t: t * 2, [Tensor(np.ones(2))])


def test_fn_returning_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="must return a floating Tensor"):
        tc.gradcheck(lambda t: t.detach().numpy(), [leaf(2)])


def test_a_random_fn_is_refused_as_not_deterministic():
    rng = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="not deterministic"):
        tc.gradcheck(lambda t: t * float(rng.uniform()), [leaf(2)])


def test_a_nan_output_is_reported_as_nan_at_its_element_not_as_nondeterminism():
    constant = Tensor(np.array([[1.0, 2.0], [np.nan, 3.0]]))
    with pytest.raises(tc.GradcheckError, match=r"output 0 is NaN at \(1, 0\) \(1 of 4 elements NaN or inf\) "
                                                r"at the given inputs, which are all finite") as caught:
        tc.gradcheck(lambda t: t * constant, [leaf(2, 2)])
    assert "deterministic" not in str(caught.value) and not caught.value.report.ok
    assert not tc.gradcheck(lambda t: t * constant, [leaf(2, 2)], raise_exception=False)


def test_a_nan_output_names_the_input_that_holds_the_nan():
    x = Tensor(np.array([0.5, np.nan, 1.0]), requires_grad=True, dtype=np.float64)
    with pytest.raises(tc.GradcheckError, match=r"output 0 is NaN at \(1,\).*; input 0 holds NaN at \(1,\)"):
        tc.gradcheck(lambda t: t * 2.0, [x])


def test_a_single_tensor_stands_for_one_argument_and_other_inputs_are_type_errors():
    assert tc.gradcheck(lambda t: t.tanh(), leaf(3))
    with pytest.raises(TypeError, match="inputs must be a Tensor or a list"):
        tc.gradcheck(lambda t: t.tanh(), np.ones(3))


def test_bad_tolerances_are_value_errors():
    with pytest.raises(ValueError, match="eps=0"):
        tc.gradcheck(lambda t: t, [leaf(2)], eps=0)
