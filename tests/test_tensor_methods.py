"""PyTorch's Tensor methods beyond the operators: type(), the dtype conversions, add/sub/mul/div/pow with alpha,
t(), norm, all/any, sum/mean with dtype."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.gradcheck import gradcheck


# ----- type and dtype conversions -------------------------------------------------------------------------
@pytest.mark.parametrize(("dtype", "name"), [
    (np.float32, "torch.FloatTensor"), (np.float64, "torch.DoubleTensor"), (np.int64, "torch.LongTensor"),
    (np.int32, "torch.IntTensor"), (np.int16, "torch.ShortTensor"), (np.int8, "torch.CharTensor"),
    (np.uint8, "torch.ByteTensor"), (np.bool_, "torch.BoolTensor"),
])
def test_type_names_the_tensor_type_as_pytorch(dtype, name):
    assert tc.zeros(2, dtype=dtype).type() == name


def test_type_names_match_pytorch():
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"):
        assert tc.zeros(1, dtype=getattr(tc, dtype)).type() == torch.zeros(1, dtype=getattr(torch, dtype)).type()


def test_type_with_a_dtype_or_a_type_name_converts():
    x = tc.tensor([1.5, -2.5])
    assert x.type(tc.int64).tolist() == [1, -2]
    assert x.type("torch.DoubleTensor").dtype == np.float64 and x.type(tc.float32) is x
    with pytest.raises(ValueError, match="invalid type 'torch.cuda.FloatTensor'"):
        x.type("torch.cuda.FloatTensor")


def test_dtype_conversion_methods():
    x = tc.tensor([1.7, -0.0, 2.0])
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and x.int().tolist() == [1, 0, 2]
    assert x.bool().tolist() == [True, False, True] and x.double().dtype == np.float64
    assert x.float() is x and x.double().float().dtype == np.float32


def test_is_floating_point_and_element_size():
    assert tc.ones(1).is_floating_point() and not tc.tensor([1]).is_floating_point()
    sizes = {np.float32: 4, np.float64: 8, np.int64: 8, np.int32: 4, np.uint8: 1, np.bool_: 1}
    for dtype, size in sizes.items():
        assert tc.zeros(1, dtype=dtype).element_size() == size


def test_element_size_matches_pytorch():
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64", "int64", "int32", "int16", "uint8", "bool"):
        assert tc.zeros(1, dtype=getattr(tc, dtype)).element_size() == torch.zeros(1, dtype=getattr(torch,
                                                                                                   dtype)).element_size()


# ----- method forms of the operators ---------------------------------------------------------------------
def test_method_forms_equal_the_operators():
    x, y = tc.tensor([1.0, 2.0, 4.0]), tc.tensor([0.5, -1.0, 2.0])
    for method, expected in [(x.add(y), x + y), (x.sub(y), x - y), (x.mul(y), x * y), (x.div(y), x / y),
                             (x.pow(y), x ** y), (x.pow(2), x ** 2), (x.add(y, alpha=3), x + 3 * y),
                             (x.sub(2, alpha=0.5), x - 1.0), (x.matmul(y), x @ y)]:
        np.testing.assert_array_equal(method.detach().numpy(), expected.detach().numpy())


def test_add_with_alpha_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25, -1.0])
    ours_a, ours_b = tc.tensor(a, requires_grad=True), tc.tensor(b, requires_grad=True)
    theirs_a, theirs_b = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours = ours_a.add(ours_b, alpha=2.5).mul(ours_a).sub(ours_b, alpha=-1).div(ours_b.pow(2))
    theirs = theirs_a.add(theirs_b, alpha=2.5).mul(theirs_a).sub(theirs_b, alpha=-1).div(theirs_b.pow(2))
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_a.grad.detach().numpy(), theirs_a.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_b.grad.detach().numpy(), theirs_b.grad.numpy(), rtol=1e-12)


def test_float_alpha_with_integer_tensors_is_refused():
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number, got alpha=1.5"):
        tc.tensor([1, 2]).add(1, alpha=1.5)
    assert tc.tensor([1, 2]).add(tc.ones(2), alpha=1.5).tolist() == [2.5, 3.5]  # a float result takes it
    assert tc.tensor([1, 2]).add(1, alpha=2).tolist() == [3, 4]


def test_div_rounding_mode_is_refused_not_ignored():
    with pytest.raises(ValueError, match="rounding_mode='floor' is not supported"):
        tc.tensor([5.0]).div(2, rounding_mode="floor")


def test_t_transposes_matrices_and_keeps_vectors():
    m = tc.arange(6).reshape(2, 3)
    assert m.t().shape == (3, 2) and m.t().tolist() == [[0, 3], [1, 4], [2, 5]]
    assert tc.ones(3).t().shape == (3,) and tc.tensor(2.0).t().shape == ()
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"):
        tc.ones(2, 3, 4).t()


def test_dim_is_ndim():
    assert tc.ones(2, 3, 4).dim() == 3


# ----- norm --------------------------------------------------------------------------------------------
def test_norm_values():
    x = tc.tensor([[3.0, -4.0], [0.0, 1.0]])
    assert x[0].norm().item() == 5.0 and x[0].norm(1).item() == 7.0 and x[0].norm(float("inf")).item() == 4.0
    assert x.norm(dim=1).tolist() == [5.0, 1.0] and x.norm(dim=1, keepdim=True).shape == (2, 1)
    assert x.norm(0).item() == 3.0 and x.norm(-float("inf")).item() == 0.0
    assert x.norm(p="fro", dim=(0, 1)).item() == pytest.approx(np.sqrt(26))
    assert x.norm(dtype=tc.float64).dtype == np.float64


NORM_CASES = [("fro", None, False), (2, None, False), (1, 1, False), (float("inf"), 0, True),
              (-float("inf"), 1, False), (3, (0, 2), False), (0.5, -1, True), (-1.5, None, False), (0, 2, False),
              (2, (0, 1), True), ("fro", (1, 2), False)]


@pytest.mark.parametrize(("p", "dim", "keepdim"), NORM_CASES)
def test_norm_and_its_gradient_match_pytorch(p, dim, keepdim):
    torch = pytest.importorskip("torch")
    array = np.random.default_rng(0).uniform(-2, 2, (3, 4, 5))
    ours, theirs = tc.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    ours_norm, theirs_norm = ours.norm(p, dim, keepdim), theirs.norm(p, dim, keepdim)
    np.testing.assert_allclose(ours_norm.detach().numpy(), theirs_norm.detach().numpy(), rtol=1e-12)
    weights = np.random.default_rng(1).standard_normal(ours_norm.shape)
    (ours_norm * tc.tensor(weights)).sum().backward()
    (theirs_norm * torch.tensor(weights)).sum().backward()
    theirs_grad = np.zeros_like(array) if theirs.grad is None else theirs.grad.numpy()  # p=0: PyTorch records none
    np.testing.assert_allclose(ours.grad.detach().numpy(), theirs_grad, rtol=1e-10, atol=1e-12)


def test_norm_gradient_at_zero_is_zero_as_pytorch():
    for p in (2, 3, 1.5, 1):
        x = tc.zeros(2, 3, dtype=tc.float64, requires_grad=True)
        x.norm(p, dim=1).sum().backward()
        np.testing.assert_array_equal(x.grad.detach().numpy(), np.zeros((2, 3)))


def test_norm_passes_gradcheck():
    x = tc.tensor(np.random.default_rng(2).uniform(0.2, 2, (3, 4)) * [1, -1, 1, -1], requires_grad=True)
    assert gradcheck(lambda t: t.norm(), [x]) and gradcheck(lambda t: t.norm(3, dim=0), [x])


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: tc.tensor([1, 2]).norm(), RuntimeError, "expected a floating point tensor as input, got int64"),
    (lambda: tc.ones(2, 2).norm("nuc"), ValueError, "p='nuc' is not supported.*nuclear norm is not implemented"),
    (lambda: tc.ones(2, 2).norm("max"), ValueError, "p='max' is not supported"),
    (lambda: tc.ones(2, 2, 2).norm("fro", dim=(0, 1, 2)), RuntimeError, "at most two dims"),
    (lambda: tc.zeros(0).norm(float("inf")), RuntimeError, "cannot compute the inf norm over no elements"),
    (lambda: tc.zeros(0, 3).norm(-1, dim=0), RuntimeError, "cannot compute the -1.0 norm over no elements"),
    (lambda: tc.ones(2).norm(True), TypeError, "p must be a number or 'fro'"),
])
def test_norm_refuses_what_pytorch_refuses(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_norm_of_no_elements_is_zero_for_p_at_least_0():
    assert tc.zeros(0).norm().item() == 0.0 and tc.zeros(0).norm(0).item() == 0.0


# ----- all, any, sum(dtype) ------------------------------------------------------------------------------
def test_all_and_any():
    x = tc.tensor([[1.0, 0.0], [2.0, 3.0]], requires_grad=True)
    assert not x.all().item() and x.any().item() and x.all().dtype == np.bool_
    assert x.all(dim=1).tolist() == [False, True] and x.any(dim=0, keepdim=True).shape == (1, 2)
    assert x.all().grad_fn is None and not x.all().requires_grad
    assert tc.ones(2, dtype=tc.uint8).all().dtype == np.uint8
    assert tc.zeros(0).all().item() and not tc.zeros(0).any().item()


def test_all_and_any_match_pytorch():
    torch = pytest.importorskip("torch")
    array = np.array([[1.0, 0.0, 2.0], [0.5, 3.0, 1.0]])
    for dim, keepdim in [(None, False), (0, False), (1, True), ((0, 1), False), (-1, False)]:
        for op in ("all", "any"):
            kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
            ours = getattr(tc.tensor(array), op)(**kwargs)
            theirs = getattr(torch.tensor(array), op)(**kwargs)
            np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())


def test_sum_and_mean_take_a_dtype():
    assert tc.tensor([1, 2], dtype=tc.int32).sum(dtype=tc.float64).dtype == np.float64
    assert tc.tensor([1.5, 2.0]).sum(dtype=tc.int64).item() == 3  # converted first, as PyTorch
    mean = tc.tensor([[1, 2], [3, 5]]).mean(1, dtype=tc.float64)
    assert mean.dtype == np.float64 and mean.tolist() == [1.5, 4.0]
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    x.sum(dtype=tc.float64).backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


def _clamp_with_tensor_bounds(lib):
    x, low, high = np.array([-2.0, 0.5, 3.0, 1.0]), np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 2.0, 2.0, 0.5])
    a, m, big = (lib.tensor(v, requires_grad=True) for v in (x, low, high))
    y = a.clamp(min=m, max=big)
    (y * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return [t.detach().numpy() for t in (y, a.grad, m.grad, big.grad)]


def test_clamp_with_tensor_bounds_sends_each_bound_its_gradient():
    y, grad_x, grad_min, grad_max = _clamp_with_tensor_bounds(tc)
    np.testing.assert_array_equal(y, [0.0, 1.0, 2.0, 0.5])  # the last: min > max gives max, as PyTorch
    np.testing.assert_array_equal(grad_x, [0, 0, 0, 0])
    np.testing.assert_array_equal(grad_min, [1, 2, 0, 0])
    np.testing.assert_array_equal(grad_max, [0, 0, 3, 4])


def test_clamp_with_tensor_bounds_matches_pytorch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_clamp_with_tensor_bounds(tc), _clamp_with_tensor_bounds(torch), strict=True):
        np.testing.assert_array_equal(ours, theirs)
