"""Losses: values against NumPy formulas, fused backwards gradchecked over drawn shapes and options,
finiteness at extreme inputs, and PyTorch's errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops import loss

REDUCTIONS = ["mean", "sum", "none"]


def log_softmax(x, axis=1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# ----- values ---------------------------------------------------------------------------------------
def test_cross_entropy_worked_example():
    logits = Tensor(np.array([[0.0, 0.0], [2.0, 0.0]]))
    out = loss.cross_entropy(logits, np.array([0, 1]), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [np.log(2), np.log(1 + np.exp(2))])


def test_cross_entropy_with_weight_smoothing_and_ignore_index_follows_pytorchs_formula():
    rng = np.random.default_rng(0)
    x, weight, eps = rng.standard_normal((5, 4)), rng.uniform(0.5, 2, 4), 0.2
    target = np.array([0, 3, -100, 2, 1])
    out = loss.cross_entropy(Tensor(x), target, Tensor(weight), label_smoothing=eps).detach().numpy()
    logp, valid = log_softmax(x), target != -100
    picked = np.where(valid, -weight[target % 4] * logp[np.arange(5), target % 4], 0)
    smooth = np.where(valid, -(weight * logp).sum(axis=1), 0)
    expected = ((1 - eps) * picked.sum() + eps / 4 * smooth.sum()) / weight[target[valid]].sum()
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_cross_entropy_with_probabilities_is_the_expected_negative_log_likelihood():
    rng = np.random.default_rng(1)
    x, probs = rng.standard_normal((3, 4, 2)), rng.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1)
    out = loss.cross_entropy(Tensor(x), Tensor(probs), reduction="none").detach().numpy()
    np.testing.assert_allclose(out, -(probs * log_softmax(x)).sum(axis=1))


def test_nll_loss_picks_the_target_log_probability():
    logp = np.log(np.array([[0.2, 0.8], [0.6, 0.4]]))
    out = loss.nll_loss(Tensor(logp), np.array([1, 0]))
    np.testing.assert_allclose(out.detach().numpy(), -(np.log(0.8) + np.log(0.6)) / 2)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    p = Tensor(np.array([0.0, 1.0, 0.5]), requires_grad=True)
    out = loss.binary_cross_entropy(p, np.array([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [100.0, 100.0, np.log(2)])
    out.sum().backward()
    assert np.isfinite(p.grad.detach().numpy()).all()


def test_binary_cross_entropy_with_logits_equals_bce_of_the_sigmoid():
    rng = np.random.default_rng(2)
    z, y = rng.uniform(-5, 5, (4, 3)), rng.uniform(0, 1, (4, 3))
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(loss.binary_cross_entropy_with_logits(Tensor(z), y).detach().numpy(),
                               loss.binary_cross_entropy(Tensor(p), y).detach().numpy(), rtol=1e-12)
    pos_weight = np.array([1.0, 2.0, 3.0])
    expected = -(pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    np.testing.assert_allclose(
        loss.binary_cross_entropy_with_logits(Tensor(z), y, pos_weight=pos_weight).detach().numpy(),
        expected,
        rtol=1e-12,
    )


def test_mse_loss_reductions():
    x, y = Tensor(np.array([1.0, 2.0, 4.0])), np.array([0.0, 0.0, 0.0])
    assert loss.mse_loss(x, y).item() == pytest.approx(7.0)
    assert loss.mse_loss(x, y, reduction="sum").item() == pytest.approx(21.0)
    np.testing.assert_allclose(loss.mse_loss(x, y, reduction="none").detach().numpy(), [1, 4, 16])


def test_ignored_targets_get_no_gradient_and_leave_the_mean():
    x = Tensor(np.random.default_rng(3).standard_normal((3, 4)), requires_grad=True)
    out = loss.cross_entropy(x, np.array([1, -100, 2]))
    out.backward()
    np.testing.assert_array_equal(x.grad.detach().numpy()[1], 0)
    kept = loss.cross_entropy(Tensor(x.detach().numpy()[[0, 2]]), np.array([1, 2]))
    np.testing.assert_allclose(out.detach().numpy(), kept.detach().numpy())


# ----- gradients ------------------------------------------------------------------------------------
@st.composite
def class_problems(draw):
    batch, classes = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    extra = draw(st.sampled_from([(), (2,), (2, 3)]))
    return batch, classes, extra, draw(st.sampled_from(REDUCTIONS)), draw(st.integers(0, 2**16))


@given(class_problems(), st.sampled_from([0.0, 0.1]), st.booleans())
def test_cross_entropy_with_class_indices_gradient(problem, smoothing, weighted):
    batch, classes, extra, reduction, seed = problem
    rng = np.random.default_rng(seed)
    logits = Tensor(rng.standard_normal((batch, classes, *extra)), requires_grad=True)
    target = rng.integers(0, classes, size=(batch, *extra))
    weight = Tensor(rng.uniform(0.5, 2, classes)) if weighted else None
    assert tc.gradcheck(lambda x: loss.cross_entropy(x, target, weight, reduction=reduction,
                                                     label_smoothing=smoothing), [logits], atol=1e-7, rtol=1e-6)


@given(class_problems(), st.sampled_from([0.0, 0.1]))
def test_cross_entropy_with_probabilities_gradient_to_logits_and_target(problem, smoothing):
    batch, classes, extra, reduction, seed = problem
    rng = np.random.default_rng(seed)
    logits = Tensor(rng.standard_normal((batch, classes, *extra)), requires_grad=True)
    probs = np.moveaxis(rng.dirichlet(np.ones(classes), size=(batch, *extra)), -1, 1)
    target = Tensor(probs, requires_grad=True)
    assert tc.gradcheck(lambda x, t: loss.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
                        [logits, target], atol=1e-7, rtol=1e-6)


@given(class_problems())
def test_nll_loss_gradient(problem):
    batch, classes, extra, reduction, seed = problem
    rng = np.random.default_rng(seed)
    log_probs = Tensor(rng.standard_normal((batch, classes, *extra)), requires_grad=True)
    target = rng.integers(0, classes, size=(batch, *extra))
    assert tc.gradcheck(lambda x: loss.nll_loss(x, target, reduction=reduction), [log_probs], atol=1e-7, rtol=1e-6)


@given(st.sampled_from([(5,), (2, 3), (2, 2, 3)]), st.sampled_from(REDUCTIONS), st.integers(0, 2**16))
def test_binary_losses_and_mse_gradients_to_input_and_target(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    y = Tensor(rng.uniform(0, 1, shape), requires_grad=True)
    p = Tensor(rng.uniform(0.05, 0.95, shape), requires_grad=True)
    z = Tensor(rng.uniform(-4, 4, shape), requires_grad=True)
    weight = rng.uniform(0.5, 2, shape[-1:])
    check = dict(atol=1e-7, rtol=1e-6)
    assert tc.gradcheck(lambda a, b: loss.binary_cross_entropy(a, b, weight, reduction=reduction), [p, y], **check)
    assert tc.gradcheck(lambda a, b: loss.binary_cross_entropy_with_logits(
        a, b, weight, reduction=reduction, pos_weight=weight), [z, y], **check)
    assert tc.gradcheck(lambda a, b: loss.mse_loss(a, b, reduction=reduction), [z, y], **check)


def test_cross_entropy_backward_is_softmax_minus_one_hot():
    x = np.random.default_rng(4).standard_normal((3, 5))
    logits = Tensor(x, requires_grad=True)
    loss.cross_entropy(logits, np.array([4, 0, 2]), reduction="sum").backward()
    expected = np.exp(log_softmax(x))
    expected[[0, 1, 2], [4, 0, 2]] -= 1
    np.testing.assert_allclose(logits.grad.detach().numpy(), expected, atol=1e-14)


# ----- stability and dtypes -------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e4, -1e4, 1e30])
def test_every_loss_is_finite_without_warnings_at_extreme_inputs(scale):
    rng = np.random.default_rng(5)
    logits = rng.choice([-1.0, 1.0], size=(4, 3)) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = []
        for dtype in (np.float32, np.float64):
            x = Tensor(logits, requires_grad=True, dtype=dtype)
            probs = Tensor((logits > 0).astype(dtype), requires_grad=True)
            losses = [
                loss.cross_entropy(x, np.array([0, 1, 2, 0])),
                loss.cross_entropy(x, Tensor(np.full((4, 3), 1 / 3, dtype)), label_smoothing=0.1),
                loss.nll_loss(x.log_softmax(1), np.array([0, 1, 2, 0])),
                loss.binary_cross_entropy_with_logits(x, np.ones((4, 3), dtype)),
                loss.binary_cross_entropy(probs, np.ones((4, 3), dtype)),
                loss.binary_cross_entropy(probs, np.zeros((4, 3), dtype)),
            ]
            if abs(scale) < 1e10:
                losses.append(loss.mse_loss(x, np.zeros((4, 3), dtype)))
            for result in losses:
                result.backward()
            results += losses
            assert np.isfinite(x.grad.detach().numpy()).all() and np.isfinite(probs.grad.detach().numpy()).all()
        for result in results:
            assert np.isfinite(result.detach().numpy()).all(), result


@pytest.mark.parametrize(("name", "options"), [
    ("cross_entropy", {}),
    ("cross_entropy", dict(weight=tc.rand(3) + 0.5, label_smoothing=0.1, reduction="none")),
    ("cross_entropy", dict(label_smoothing=0.1, probabilities=True)),
    ("nll_loss", dict(weight=tc.rand(3) + 0.5)),
    ("binary_cross_entropy", dict(weight=tc.rand(3))),
    ("binary_cross_entropy_with_logits", dict(weight=tc.rand(3), pos_weight=tc.rand(3))),
    ("mse_loss", {}),
])
def test_losses_keep_float32_and_compute_in_it(name, options):
    options = dict(options)
    x = tc.randn(4, 3, requires_grad=True)
    if name == "binary_cross_entropy":
        x = x.sigmoid()
    target = tc.rand(4, 3) if name not in ("cross_entropy", "nll_loss") or options.pop("probabilities", False) \
        else np.array([0, 1, 2, 0])
    seen = []
    hook = tc.ops.registry[name].function.backward

    def spy(ctx, grad_output):
        grads = hook(ctx, grad_output)
        seen.extend(g.dtype for g in (grads if isinstance(grads, tuple) else (grads,)) if g is not None)
        return grads

    function = tc.ops.registry[name].function
    function.backward = staticmethod(spy)
    try:
        out = getattr(loss, name)(x, target, **options)
        out.sum().backward()
    finally:
        function.backward = staticmethod(hook)
    assert out.dtype == np.float32
    assert seen and all(dtype == np.float32 for dtype in seen), seen  # before the engine's cast


# ----- errors ---------------------------------------------------------------------------------------
def test_out_of_range_labels_are_a_value_error_naming_them():
    with pytest.raises(ValueError, match=r"\[3, 7\].*3 classes"):
        loss.cross_entropy(Tensor(np.zeros((4, 3))), np.array([0, 3, 7, 3]))
    with pytest.raises(ValueError, match=r"\[-2\]"):
        loss.nll_loss(Tensor(np.zeros((2, 3))), np.array([-2, 0]))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: loss.cross_entropy(Tensor(np.zeros((4, 3))), np.zeros(3, np.int64)), "target of shape"),
    (lambda: loss.cross_entropy(Tensor(np.zeros((4, 3))), Tensor(np.zeros((4, 2)))), "does not match"),
    (lambda: loss.cross_entropy(Tensor(np.zeros((4, 3))), np.zeros(4, np.int64), Tensor(np.ones(2))), "weight"),
    (lambda: loss.cross_entropy(Tensor(np.zeros((4, 3))), np.zeros(4, np.int64), label_smoothing=1.5),
     "label_smoothing"),
    (lambda: loss.binary_cross_entropy(Tensor(np.full(3, 0.5)), np.ones(4)), "same as the input shape"),
    (lambda: loss.binary_cross_entropy(Tensor(np.full(3, 1.5)), np.ones(3)), "between 0 and 1"),
    (lambda: loss.binary_cross_entropy_with_logits(Tensor(np.zeros((2, 3))), np.ones(3)), "same as the input"),
    (lambda: loss.mse_loss(Tensor(np.zeros(3)), np.zeros(4)), "broadcast"),
    (lambda: loss.mse_loss(Tensor(np.zeros(3)), np.zeros(3), reduction="avg"), "reduction"),
])
def test_bad_loss_arguments_raise_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_float_class_indices_are_a_type_error():
    with pytest.raises(TypeError, match="class indices"):
        loss.nll_loss(Tensor(np.zeros((2, 3))), np.array([0.0, 1.0]))


def test_mse_loss_warns_when_it_broadcasts_the_target():
    with pytest.warns(UserWarning, match="broadcast"):
        out = loss.mse_loss(Tensor(np.zeros((2, 3))), np.ones(3))
    assert out.item() == pytest.approx(1.0)


# ----- all targets ignored, int inputs, float labels ---------------------------------------------------------
ALL_IGNORED = [("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.2}),
               ("cross_entropy", {"weight": Tensor(np.array([1.0, 2.0, 3.0]))}),
               ("cross_entropy", {"weight": Tensor(np.array([1.0, 2.0, 3.0])), "label_smoothing": 0.2}),
               ("nll_loss", {}), ("nll_loss", {"weight": Tensor(np.array([1.0, 2.0, 3.0]))})]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "options"), ALL_IGNORED)
def test_all_ignored_targets_give_pytorchs_loss_and_zero_gradients(name, options, reduction):
    logits = Tensor(np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]), requires_grad=True)
    out = getattr(loss, name)(logits, np.array([-100, -100]), reduction=reduction, **options)
    out.sum().backward()
    expected = {"mean": np.nan, "sum": 0.0, "none": [0.0, 0.0]}[reduction]  # 'mean' divides 0 by a weight sum of 0
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    np.testing.assert_array_equal(logits.grad.detach().numpy(), np.zeros((2, 3)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "options"), ALL_IGNORED)
def test_all_ignored_targets_match_torch(name, options, reduction):
    torch = pytest.importorskip("torch")
    logits = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    ours = Tensor(logits, requires_grad=True)
    out = getattr(loss, name)(ours, np.array([-100, -100]), reduction=reduction, **options)
    out.sum().backward()
    theirs = torch.tensor(logits, requires_grad=True)
    torch_options = {
        k: torch.from_numpy(v.detach().numpy()) if isinstance(v, Tensor) else v for k, v in options.items()
    }
    expected = getattr(torch.nn.functional, name)(theirs, torch.tensor([-100, -100]), reduction=reduction,
                                                  **torch_options)
    expected.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(ours.grad.detach().numpy(), theirs.grad.numpy())


def test_zero_weight_targets_that_are_not_ignored_give_nan_gradients_as_torch():
    torch = pytest.importorskip("torch")
    logits = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    weight = np.array([0.0, 1.0, 1.0])
    ours = Tensor(logits, requires_grad=True)
    loss.cross_entropy(ours, np.array([0, 0]), Tensor(weight)).backward()
    theirs = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(theirs, torch.tensor([0, 0]), torch.from_numpy(weight)).backward()
    np.testing.assert_array_equal(ours.grad.detach().numpy(), theirs.grad.numpy())


def test_sgd_step_after_an_all_ignored_batch_leaves_the_weights_finite():
    model = tc.nn.Linear(3, 4)
    optimizer = tc.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().numpy().copy()
    out = loss.cross_entropy(model(tc.randn(2, 3)), np.array([-100, -100]))
    optimizer.zero_grad()
    out.backward()
    optimizer.step()
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)


def test_ignored_row_with_minus_inf_logits_has_zero_loss():
    """The ignored row gathers class 0 internally; its -inf must not become 0 * -inf = NaN (PyTorch: 0)."""
    logits = Tensor(np.array([[-np.inf, 0.0], [1.0, 2.0]]), requires_grad=True)
    out = loss.cross_entropy(logits, np.array([-100, 1]), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [0.0, np.log1p(np.exp(-1.0))])


def test_mse_loss_promotes_an_int_input_with_a_float_target():
    out = loss.mse_loss(Tensor(np.array([1, 2])), Tensor(np.array([1.5, 2.5], np.float32)))
    assert out.dtype == np.float32 and out.item() == 0.25  # the target is not truncated to ints
    both = loss.mse_loss(Tensor(np.array([True, False])), Tensor(np.array([1.0, 3.0], np.float32)))
    assert both.item() == 4.5
    assert loss.mse_loss(Tensor(np.array([1.0, 2.0])), Tensor(np.array([1.0, 3.0], np.float64))).dtype == np.float64


def test_mse_loss_with_an_int_input_matches_torch():
    torch = pytest.importorskip("torch")
    for x, y in [([1, 2], [1.5, 2.5]), ([1.0, 2.0], [1, 3]), ([True, False], [1.0, 3.0])]:
        ours = loss.mse_loss(tc.tensor(x), tc.tensor(y))
        theirs = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y))
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        assert ours.item() == theirs.item()


def test_mse_loss_of_two_int_tensors_is_a_type_error():
    with pytest.raises(TypeError, match="mse_loss: input or target must be a float tensor"):
        loss.mse_loss(Tensor(np.array([1, 2])), Tensor(np.array([1, 3])))


@pytest.mark.parametrize(("call", "name"), [
    (lambda: loss.cross_entropy(Tensor(np.array([[1, 2]])), np.array([0])), "cross_entropy"),
    (lambda: loss.nll_loss(Tensor(np.array([[1, 2]])), np.array([0])), "nll_loss"),
    (lambda: loss.binary_cross_entropy(Tensor(np.array([1, 0])), np.array([1.0, 0.0])), "binary_cross_entropy"),
    (lambda: loss.binary_cross_entropy_with_logits(Tensor(np.array([True])), np.array([1.0])),
     "binary_cross_entropy_with_logits"),
])
def test_losses_refuse_int_and_bool_inputs_with_a_type_error(call, name):
    with pytest.raises(TypeError, match=rf"{name}: input must be a float tensor, got dtype (int64|bool)"):
        call()


def test_float_labels_to_cross_entropy_are_a_type_error_naming_long():
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"class indices must be int64: pass target\.long\(\)"):
        loss.cross_entropy(logits, Tensor(np.array([0.0, 1.0])))
    with pytest.raises(TypeError, match=r"target\.long\(\)"):
        loss.cross_entropy(Tensor(np.zeros(3)), Tensor(np.array(1.0)))  # unbatched
    with pytest.raises(TypeError, match=r"target\.long\(\)"):
        loss.nll_loss(logits, Tensor(np.array([0.0, 1.0])))
    # class probabilities of the input's shape are valid, batched or not
    assert np.isfinite(loss.cross_entropy(logits, Tensor(np.full((2, 3), 1 / 3))).item())
    assert np.isfinite(loss.cross_entropy(Tensor(np.zeros(3)), Tensor(np.full(3, 1 / 3))).item())


def test_float64_probability_targets_give_a_float64_loss_as_torch():
    out = loss.cross_entropy(Tensor(np.zeros((2, 3), np.float32), requires_grad=True),
                             Tensor(np.full((2, 3), 1 / 3)))
    assert out.dtype == np.float64


@pytest.mark.parametrize(("name", "x", "y"), [
    ("mse_loss", [1e30, -1e30], [-1e30, 1e30]),
    ("mse_loss", [3e38, -3e38], [-3e38, 3e38]),
    ("binary_cross_entropy_with_logits", [3e38, -3e38], [0.0, 1.0]),
    ("cross_entropy", [[3e38, -3e38]], [[0.5, 0.5]]),
])
def test_losses_near_float32s_max_are_quiet_and_match_torch(name, x, y):
    """Finite inputs whose loss overflows: inf, as PyTorch, and no RuntimeWarning (pytest makes them errors)."""
    torch = pytest.importorskip("torch")
    ours_x = tc.tensor(x, requires_grad=True)
    out = getattr(loss, name)(ours_x, tc.tensor(y))
    out.backward()
    theirs_x = torch.tensor(x, requires_grad=True)
    expected = getattr(torch.nn.functional, name)(theirs_x, torch.tensor(y))
    expected.backward()
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(ours_x.grad.detach().numpy(), theirs_x.grad.numpy())
