"""Tensor: construction and dtype rules, factories, attributes, repr, operators, shape ops, errors."""

import re

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor


# ----- dtypes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "dtype"), [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1, 2], [3, 4]], np.int64), (3, np.int64), (True, np.bool_),
    (np.zeros(2, np.float64), np.float64), (np.zeros(2, np.float32), np.float32), (np.zeros(2, np.int32), np.int32),
    (np.float64(2.0), np.float64),
])
def test_dtype_rules_follow_pytorch(data, dtype):
    assert Tensor(data).dtype == dtype
    assert tc.tensor(data).dtype == dtype


def test_dtype_argument_takes_numpy_types_names_and_our_constants():
    for dtype in (np.float64, "float64", tc.float64, np.dtype("float64")):
        assert Tensor([1, 2], dtype=dtype).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float16, np.complex64, "object", "not-a-dtype"])
def test_unsupported_dtype_is_a_type_error(dtype):
    with pytest.raises(TypeError):
        Tensor([1.0], dtype=dtype)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating point tensors can require gradients, this one is int64"):
        Tensor([1, 2], requires_grad=True)


def test_tensor_copies_the_array_it_is_given():
    array = np.zeros(3, np.float32)
    t = Tensor(array)
    t.detach().numpy()[0] = 1.0
    assert array[0] == 0.0


def test_conversions_float_double_to():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.double().dtype == np.float64 and x.float() is x
    assert x.to("float64").dtype == np.float64
    y = x.double()
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.detach().numpy(), [2.0, 4.0])


def test_python_scalars_do_not_upcast_float32():
    x = Tensor(np.ones(3, np.float32))
    for y in (x + 1.5, 2.5 * x, x / 3.0, x**2.0, 1.0 - x, np.float64(2.0) * x):
        assert y.dtype == np.float32


def test_float32_with_float64_promotes_as_pytorch():
    assert (Tensor(np.ones(2, np.float32)) + Tensor(np.ones(2, np.float64))).dtype == np.float64


# ----- factories ---------------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [tc.zeros, tc.ones, tc.randn, tc.rand])
def test_factories_take_shape_as_varargs_or_tuple(factory):
    assert factory(2, 3).shape == (2, 3) == factory((2, 3)).shape
    assert factory(2, 3).dtype == np.float32
    assert factory(2, dtype=np.float64).dtype == np.float64
    assert factory(2, requires_grad=True).requires_grad


def test_full_eye_arange_like():
    assert tc.full((2, 2), 7.0).detach().numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    np.testing.assert_array_equal(tc.eye(3).detach().numpy(), np.eye(3))
    assert tc.arange(5).dtype == np.int64 and tc.arange(0, 1, 0.25).dtype == np.float32
    assert tc.arange(2, 8, 2).detach().numpy().tolist() == [2, 4, 6]
    x = tc.randn(2, 3, dtype=np.float64)
    assert tc.zeros_like(x).dtype == np.float64 and tc.ones_like(x).detach().numpy().sum() == 6


def test_manual_seed_makes_random_factories_repeatable():
    tc.manual_seed(7)
    a = tc.randn(4).detach().numpy().copy()
    tc.manual_seed(7)
    np.testing.assert_array_equal(a, tc.randn(4).detach().numpy())


def test_negative_shape_is_refused():
    with pytest.raises(ValueError, match="non-negative"):
        tc.zeros(2, -1)


# ----- attributes and repr ----------------------------------------------------------------------------
def test_attributes():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert (x.shape, x.ndim, len(x), x.numel(), x.dim()) == ((2, 3), 2, 2, 6, 2)
    assert (x.size(), x.size(0), x.size(1), x.size(-1), x.size(-2)) == ((2, 3), 2, 3, 3, 2)
    assert x.numpy() is x.detach().numpy()
    assert Tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match="one-element"):
        x.item()


def test_repr_shows_values_shape_and_the_op_that_made_it():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    text = repr(x * 2.0)
    assert "8." in text and "shape=(2, 2)" in text and "grad_fn=<MulBackward0>" in text
    assert "dtype=float64" in repr(Tensor(np.zeros(2)))


# ----- operators ----------------------------------------------------------------------------------
def test_reflected_operators_with_scalars_and_arrays():
    x = Tensor([1.0, 2.0, 4.0], requires_grad=True)
    array = np.array([1.0, 1.0, 1.0], np.float32)
    np.testing.assert_allclose((2.0 - x).detach().numpy(), [1.0, 0.0, -2.0])
    np.testing.assert_allclose((8.0 / x).detach().numpy(), [8.0, 4.0, 2.0])
    np.testing.assert_allclose((2.0**x).detach().numpy(), [2.0, 4.0, 16.0])
    np.testing.assert_allclose((array + x).detach().numpy(), [2.0, 3.0, 5.0])
    assert isinstance(array * x, Tensor)
    (2.0 - x).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), [-1.0, -1.0, -1.0])


def test_comparisons_give_bool_tensors_without_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and mask.detach().numpy().tolist() == [False, True, True]
    assert (x == Tensor([1.0, 0.0, 3.0])).detach().numpy().tolist() == [True, False, True]
    assert mask.grad_fn is None


def test_division_by_zero_is_inf_without_warning():
    y = Tensor([1.0, -1.0]) / 0.0
    assert np.isinf(y.detach().numpy()).all()
    assert np.isneginf(Tensor([0.0]).log().detach().numpy()).all()


def test_matmul_shapes_that_do_not_fit_name_both():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        tc.randn(2, 3) @ tc.randn(4, 5)


@pytest.mark.parametrize(("shape_a", "shape_b", "expected"), [
    ((3, 4), (4, 5), (3, 5)), ((2, 3, 4), (4, 5), (2, 3, 5)), ((4,), (4, 5), (5,)), ((3, 4), (4,), (3,)),
    ((4,), (4,), ()), ((7, 1, 3, 4), (5, 4, 2), (7, 5, 3, 2)),
])
def test_matmul_follows_numpy_shapes(shape_a, shape_b, expected):
    a, b = tc.randn(*shape_a, requires_grad=True), tc.randn(*shape_b, requires_grad=True)
    out = a @ b
    assert out.shape == expected
    out.sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b


def test_incompatible_broadcast_is_refused():
    with pytest.raises(ValueError):
        tc.randn(2, 3) + tc.randn(4)


# ----- reductions -------------------------------------------------------------------------------------
def test_axis_is_an_alias_of_dim():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(x.sum(axis=1).detach().numpy(), x.sum(dim=1).detach().numpy())
    with pytest.raises(TypeError, match="not both"):
        x.sum(dim=0, axis=1)


def test_invalid_dim_is_named():
    with pytest.raises(IndexError, match=re.escape("sum: Dimension out of range (expected to be in range of "
                                                   "[-2, 1], but got 2)")):
        tc.randn(2, 3).sum(dim=2)
    with pytest.raises(ValueError, match="twice"):
        tc.randn(2, 3).sum(dim=(0, -2))


def test_var_is_unbiased_by_default_and_takes_correction():
    data = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]])
    x = Tensor(data)
    np.testing.assert_allclose(x.var().item(), data.var(ddof=1))
    np.testing.assert_allclose(x.var(dim=1, correction=0).detach().numpy(), data.var(axis=1))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(Tensor([1.0]).var().item())  # PyTorch's NaN, no longer an error


def test_max_with_dim_returns_values_and_indices_and_sends_gradient_to_the_index():
    x = Tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    result = x.max(dim=1)
    assert result.values.detach().numpy().tolist() == [5.0, 7.0] and result.indices.detach().numpy().tolist() == [1, 0]
    assert indices.dtype == np.int64
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[0, 1, 0], [1, 0, 0]])


def test_max_without_dim_splits_the_gradient_among_ties():
    x = Tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[0, 0.5], [0.5, 0]])


def test_amin_and_argmin():
    x = Tensor([[3.0, -1.0], [-4.0, 2.0]])
    assert x.amin().item() == -4.0 and x.amin(dim=1).detach().numpy().tolist() == [-1.0, -4.0]
    assert x.argmin().item() == 2 and x.argmax(dim=0).detach().numpy().tolist() == [0, 1]


# ----- shape ops --------------------------------------------------------------------------------------
def test_shape_ops():
    x = tc.randn(2, 3, 4)
    assert x.reshape(6, -1).shape == (6, 4) and x.view((4, 6)).shape == (4, 6)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.transpose(0, 2).shape == (4, 3, 2)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert tc.randn(1, 3, 1).squeeze().shape == (3,) and tc.randn(1, 3, 1).squeeze(0).shape == (3, 1)
    assert tc.randn(3, 4).T.shape == (4, 3)
    assert tc.randn(3, 1).expand(3, 5).shape == (3, 5)


def test_reshape_to_the_wrong_size_names_both_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 elements\) into \(4, 2\)"):
        tc.randn(2, 3).reshape(4, 2)


def test_permute_that_is_not_a_permutation_is_refused():
    with pytest.raises(ValueError, match="not a permutation"):
        tc.randn(2, 3).permute(0, 0)


def test_getitem_with_repeated_integer_indices_adds_their_gradients():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 2, 2, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1.0, 0.0, 3.0])


def test_getitem_with_integer_tensor_and_bool_mask():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x[Tensor([1, 0])].shape == (2, 3)
    picked = x[x > 2.5]
    assert picked.detach().numpy().tolist() == [3.0, 4.0, 5.0]
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[0, 0, 0], [1, 1, 1]])


def test_getitem_out_of_range_is_named():
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        tc.randn(2, 3)[5]


def test_cat_and_stack_split_gradients_back():
    a, b = tc.randn(2, 3, requires_grad=True), tc.randn(1, 3, requires_grad=True)
    joined = tc.cat([a, b], dim=0)
    assert joined.shape == (3, 3)
    (joined * Tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3))).sum().backward()
    np.testing.assert_array_equal(b.grad.detach().numpy(), [[6.0, 7.0, 8.0]])
    assert tc.stack([a, a], dim=1).shape == (2, 2, 3)


def test_cat_of_mismatched_shapes_names_them():
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(2, 4\)"):
        tc.cat([tc.randn(2, 3), tc.randn(2, 4)], dim=0)


def test_pad_uses_pytorch_order_last_dim_first():
    from tinygrad_cnn.ops.movement import pad

    x = tc.ones(1, 2, 3)
    assert pad(x, (1, 2)).shape == (1, 2, 6)
    assert pad(x, (0, 0, 1, 0), value=-1.0).detach().numpy()[0, 0].tolist() == [-1.0, -1.0, -1.0]
    with pytest.raises(ValueError, match="even number"):
        pad(x, (1,))
