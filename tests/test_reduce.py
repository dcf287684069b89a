"""Reductions with PyTorch's edge cases: 0-d tensors, empty dims, no degrees of freedom, integer dtypes;
and clip with min > max."""

import re
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

REDUCTIONS = ["sum", "mean", "amax", "amin"]


# ----- 0-d tensors: dim 0 and -1 name their one element ---------------------------------------------
@pytest.mark.parametrize("name", [*REDUCTIONS, "var", "std"])
@pytest.mark.parametrize(("dim", "keepdim"), [(0, False), (-1, False), (0, True), ((0,), False)])
def test_reductions_of_a_0d_tensor_take_dim_0_and_minus_1(name, dim, keepdim):
    x = tc.tensor(1.5, dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # var/std: one element leaves no degree of freedom
        out = getattr(x, name)(dim, keepdim)
    assert out.shape == ()
    if name in ("var", "std"):
        assert np.isnan(out.item())
    else:
        assert out.item() == 1.5
        out.backward()
        assert x.grad.item() == 1.0


def test_max_min_argmax_of_a_0d_tensor_with_a_dim():
    x = tc.tensor(-2.0, requires_grad=True)
    values, indices = x.max(0)
    assert (values.item(), indices.item(), indices.dtype) == (-2.0, 0, np.int64)
    assert x.min(-1, keepdim=True).values.shape == () and x.argmax(0).item() == 0 and x.argmin(-1).item() == 0
    values.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("call", [
    lambda x: x.sum(1), lambda x: x.mean(1), lambda x: x.amax(-2), lambda x: x.var(1), lambda x: x.max(1),
    lambda x: x.argmax(1), lambda x: x.sum((0, 1)),
])
def test_0d_reductions_out_of_range_raise_pytorchs_index_error(call):
    with pytest.raises(IndexError, match=re.escape("Dimension out of range (expected to be in range of [-1, 0], "
                                                   "but got")):
        call(tc.tensor(1.5))


def test_0d_reductions_match_pytorch():
    torch = pytest.importorskip("torch")
    for name in REDUCTIONS:
        for dim in (0, -1):
            ours_in, theirs_in = tc.tensor(1.5, dtype=np.float64, requires_grad=True), torch.tensor(
                1.5, dtype=torch.float64, requires_grad=True)
            ours, theirs = getattr(ours_in, name)(dim), getattr(theirs_in, name)(dim)
            assert ours.shape == tuple(theirs.shape) and ours.item() == theirs.item()
            ours.backward()
            theirs.backward()
            assert ours_in.grad.item() == theirs_in.grad.item()
    with pytest.raises(IndexError) as expected:
        torch.tensor(1.5).sum(1)
    with pytest.raises(IndexError, match=re.escape(str(expected.value))):
        tc.tensor(1.5).sum(1)


def test_an_empty_dim_list_reduces_every_dim_as_in_pytorch():
    x = tc.ones(2, 3)
    assert x.sum(dim=()).item() == 6.0 and x.mean(dim=[]).item() == 1.0 and x.amax(dim=()).shape == ()


# ----- empty tensors ------------------------------------------------------------------------------------
def test_mean_over_an_empty_dim_is_nan_quietly_and_sum_is_zero():
    x = tc.zeros(0, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy "Mean of empty slice" nor any other warning
        rows = x.mean(0)
        assert np.isnan(rows.detach().numpy()).all() and rows.shape == (3,)
        assert np.isnan(x.mean().item()) and x.mean(1).shape == (0,)
        assert x.sum(0).detach().numpy().tolist() == [0.0, 0.0, 0.0] and x.sum().item() == 0.0
        rows.sum().backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: x.amax(0), IndexError, "amax(): Expected reduction dim 0 to have non-zero size"),
    (lambda x: x.amin(), RuntimeError, "amin(): Expected reduction dim to be specified for input.numel() == 0"),
    (lambda x: x.max(0), IndexError, "max(): Expected reduction dim 0 to have non-zero size"),
    (lambda x: x.argmin(0), IndexError, "argmin(): Expected reduction dim 0 to have non-zero size"),
    (lambda x: x.argmax(), RuntimeError, "argmax(): Expected reduction dim to be specified"),
])
def test_extrema_over_no_elements_raise_pytorchs_errors(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call(tc.zeros(0, 3))


def test_extrema_along_a_non_empty_dim_of_an_empty_tensor_are_empty():
    x = tc.zeros(0, 3)
    assert x.amax(1).shape == (0,) and x.max(1).values.shape == (0,) and x.argmin(1).shape == (0,)


def test_empty_reductions_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = tc.zeros(0, 3, dtype=np.float64), torch.zeros(0, 3, dtype=torch.float64)
    for name, dim in [("mean", 0), ("mean", None), ("mean", 1), ("sum", 0), ("sum", None), ("amax", 1)]:
        args = () if dim is None else (dim,)
        expected = getattr(theirs, name)(*args).numpy()
        np.testing.assert_array_equal(getattr(ours, name)(*args).detach().numpy(), expected)
    for name, dim in [("amax", 0), ("amax", None), ("argmax", 0)]:
        args = () if dim is None else (dim,)
        with pytest.raises((IndexError, RuntimeError)) as expected:
            getattr(theirs, name)(*args)
        with pytest.raises(type(expected.value)):
            getattr(ours, name)(*args)


# ----- var and std with no degrees of freedom ------------------------------------------------------------
@pytest.mark.parametrize(("data", "kwargs", "expected", "grad"), [
    ([2.0], {}, np.nan, [np.nan]),  # one element, correction 1: 0 / 0
    ([2.0, 3.0], {"dim": 0, "correction": 2}, np.inf, [-np.inf, np.inf]),  # 0.5 / 0
    ([2.0, 2.0], {"correction": 2}, np.nan, [np.nan, np.nan]),
])
def test_var_without_degrees_of_freedom_is_inf_or_nan_with_pytorchs_user_warning(data, kwargs, expected, grad):
    x = Tensor(np.array(data), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            out = x.var(**kwargs)
        np.testing.assert_array_equal(out.item(), expected)
        out.backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), grad)


def test_var_and_std_of_an_empty_tensor_are_nan():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(tc.zeros(0).var().item()) and np.isnan(tc.zeros(0, 2).std(0).detach().numpy()).all()


def test_var_and_std_without_degrees_of_freedom_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [([2.0], "var", {}), ([2.0, 3.0], "var", {"dim": 0, "correction": 2}),
             ([2.0, 2.0], "var", {"correction": 2}), ([2.0, 3.0], "std", {"correction": 2}),
             ([1.0, 4.0, 2.0], "var", {"correction": 3}), ([], "var", {})]
    for data, name, kwargs in cases:
        ours_in = Tensor(np.array(data), requires_grad=True)
        theirs_in = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ours, theirs = getattr(ours_in, name)(**kwargs), getattr(theirs_in, name)(**kwargs)
        np.testing.assert_array_equal(
            ours.detach().numpy(), theirs.detach().numpy(), err_msg=f"{name}{kwargs} of {data}"
        )
        if data and kwargs.get("correction") != 3:  # torch's gradient for n < correction is not a derivative
            ours.backward()
            theirs.backward()
            np.testing.assert_array_equal(
                ours_in.grad.detach().numpy(), theirs_in.grad.numpy(), err_msg=f"{name}{kwargs}"
            )


# ----- integer and bool tensors -------------------------------------------------------------------------
def test_sum_of_integer_and_bool_tensors_is_int64():
    assert tc.tensor([1, 2], dtype=np.int32).sum().dtype == np.int64
    assert tc.tensor([[True, False], [True, True]]).sum(0).detach().numpy().tolist() == [2, 1]
    assert tc.tensor([[True, False], [True, True]]).sum(0).dtype == np.int64
    assert tc.tensor([3, 7], dtype=np.int32).amax().dtype == np.int32


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: x.mean(), "mean(): could not infer output dtype"), (lambda x: x.var(), "var(): std and var need"),
    (lambda x: x.std(0), "var(): std and var need"),
])
def test_mean_and_var_of_an_integer_tensor_raise_and_say_to_convert(call, message):
    with pytest.raises(RuntimeError, match=re.escape(message) + ".*int64.*float()"):
        call(tc.tensor([1, 2]))


def test_integer_reductions_match_pytorch():
    torch = pytest.importorskip("torch")
    for data, dtype in [([1, 2], torch.int32), ([True, False, True], torch.bool), ([3, 4], torch.uint8)]:
        theirs = torch.tensor(data, dtype=dtype)
        ours = tc.tensor(theirs.numpy())
        assert str(ours.sum().dtype) == str(theirs.sum().dtype).removeprefix("torch.")
        assert ours.sum().item() == theirs.sum().item()
    for name in ("mean", "var"):
        with pytest.raises(RuntimeError):
            getattr(torch.tensor([1, 2]), name)()
        with pytest.raises(RuntimeError):
            getattr(tc.tensor([1, 2]), name)()


# ----- clip with min > max --------------------------------------------------------------------------------
def test_clip_with_min_above_max_gives_max_and_no_gradient():
    x = Tensor([-1.0, 1.0, 2.0, 4.0], requires_grad=True)
    out = x.clip(3, 0)
    assert out.detach().numpy().tolist() == [0.0, 0.0, 0.0, 0.0]
    out.sum().backward()
    assert x.grad.detach().numpy().tolist() == [0.0, 0.0, 0.0, 0.0]


def test_clip_with_min_above_max_matches_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 4.0])
    ours_in, theirs_in = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours, theirs = ours_in.clamp(3, 0), theirs_in.clamp(3, 0)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_array_equal(ours_in.grad.detach().numpy(), theirs_in.grad.numpy())
