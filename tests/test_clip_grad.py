"""nn.utils.clip_grad_norm_ and clip_grad_value_: torch's math, in place on .grad, bad input refused first."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn
from tinygrad_cnn.nn.utils import clip_grad_norm_, clip_grad_value_


def _params(grads, dtype=np.float64):
    params = []
    for grad in grads:
        p = nn.Parameter(np.zeros(np.shape(grad), dtype))
        p.grad = tc.Tensor(np.array(grad, dtype))
        params.append(p)
    return params


def test_import_paths_match_torch():
    import tinygrad_cnn.nn.utils

    assert tinygrad_cnn.nn.utils.clip_grad_norm_ is clip_grad_norm_ is tc.nn.utils.clip_grad_norm_


def test_clip_grad_norm_scales_by_max_norm_over_the_total_norm_and_returns_it():
    params = _params([[3.0, 0.0], [[4.0]]])
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, tc.Tensor) and total.item() == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_array_equal(params[0].grad.detach().numpy(), [3.0 * coef, 0.0])
    np.testing.assert_array_equal(params[1].grad.detach().numpy(), [[4.0 * coef]])


def test_clip_grad_norm_leaves_small_gradients_and_takes_inf_norm_and_one_tensor():
    params = _params([[0.3, -0.4]])
    assert clip_grad_norm_(params, 10.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.detach().numpy(), [0.3, -0.4])
    (p,) = _params([[1.0, -6.0, 2.0]])
    assert clip_grad_norm_(p, 3.0, norm_type="inf").item() == 6.0
    np.testing.assert_allclose(p.grad.detach().numpy(), np.array([1.0, -6.0, 2.0]) * 3 / (6 + 1e-6), rtol=1e-15)


def test_parameters_without_gradients_are_skipped_and_none_gives_zero():
    p = nn.Parameter(np.ones(2))
    assert clip_grad_norm_([p], 1.0).item() == 0.0 and p.grad is None
    clip_grad_value_([p], 1.0)


def test_clip_grad_value_clamps_each_element_in_place():
    params = _params([[-3.0, 0.5, 2.0]], np.float32)
    grad = params[0].grad
    clip_grad_value_(params, 1.0)
    assert params[0].grad is grad and grad.dtype == np.float32
    np.testing.assert_array_equal(grad.detach().numpy(), [-1.0, 0.5, 1.0])


def test_a_nonfinite_norm_raises_when_asked_before_changing_anything():
    params = _params([[np.inf, 1.0], [2.0]])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[1].grad.detach().numpy(), [2.0])
    assert clip_grad_norm_(params, 1.0).item() == np.inf  # scaled by it, as torch: 0 * inf is NaN
    assert params[1].grad.detach().numpy()[0] == 0.0


@pytest.mark.parametrize("call, error, message", [
    (lambda ps: clip_grad_norm_(ps, float("nan")), ValueError, "max_norm=nan"),
    (lambda ps: clip_grad_norm_(ps, -1.0), ValueError, "max_norm=-1.0"),
    (lambda ps: clip_grad_norm_(ps, "1"), TypeError, "max_norm must be a real number"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="fro"), ValueError, "norm_type"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=float("nan")), ValueError, "norm_type=nan"),
    (lambda ps: clip_grad_norm_(ps, 1.0, error_if_nonfinite=1), TypeError, "error_if_nonfinite"),
    (lambda ps: clip_grad_norm_(ps, 1.0, foreach="yes"), TypeError, "foreach"),
    (lambda ps: clip_grad_norm_([*ps, np.ones(2)], 1.0), TypeError, "parameters must be Tensors.*ndarray"),
    (lambda ps: clip_grad_value_(ps, -1.0), ValueError, "clip_value=-1.0"),
    (lambda ps: clip_grad_value_(ps, None), TypeError, "clip_value must be a real number"),
])
def test_bad_arguments_are_refused_and_no_gradient_changes(call, error, message):
    params = _params([[3.0, 4.0]])
    with pytest.raises(error, match=message):
        call(params)
    np.testing.assert_array_equal(params[0].grad.detach().numpy(), [3.0, 4.0])


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (0.5, 1), (2.0, float("inf")), (1.0, 3.5),
                                                 (100.0, 2.0), (0.1, 0), (1.0, "inf")])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, dtype, rtol):
    torch = pytest.importorskip("torch", reason="torch is optional: compares with torch.nn.utils")
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=5).astype(dtype), np.zeros(2, dtype)]
    ours = _params(grads, dtype)
    theirs = [torch.zeros(g.shape, dtype=torch.float64 if dtype == np.float64 else torch.float32,
                          requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads, strict=True):
        t.grad = torch.tensor(g.copy())
    total = clip_grad_norm_(ours, max_norm, norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.dtype == dtype
    np.testing.assert_allclose(total.detach().numpy(), torch_total.numpy(), rtol=rtol)
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.detach().numpy(), t.grad.numpy(), rtol=rtol, atol=rtol * 1e-3)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch", reason="torch is optional: compares with torch.nn.utils")
    grads = [np.random.default_rng(1).normal(size=(4, 3)) * 3]
    ours = _params(grads)
    theirs = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    theirs.grad = torch.tensor(grads[0].copy())
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_([theirs], 1.5)
    np.testing.assert_array_equal(ours[0].grad.detach().numpy(), theirs.grad.numpy())
