"""sign sin cos maximum minimum where one_hot (ops/pointwise.py) without PyTorch; test_pointwise_torch.py compares."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F


def test_sign_sin_cos_values_and_gradients():
    x = tc.tensor(np.array([-2.0, 0.0, 0.5, np.nan]), requires_grad=True)
    s = tc.sign(x)
    np.testing.assert_array_equal(s.detach().numpy(), [-1.0, 0.0, 1.0, 0.0])  # NaN gives 0, as PyTorch's
    s.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [0.0, 0.0, 0.0, 0.0])  # 0 on the jump at 0 too
    x = tc.tensor(np.array([0.0, 1.0, -2.5]), requires_grad=True)
    (x.sin() + x.cos() * 2).sum().backward()
    np.testing.assert_allclose(
        x.grad.detach().numpy(), np.cos(x.detach().numpy()) - 2 * np.sin(x.detach().numpy()), rtol=1e-15
    )
    assert tc.sign(tc.tensor([-3, 0, 4])).tolist() == [-1, 0, 1]
    assert tc.sign(tc.tensor([True, False])).tolist() == [True, False]
    assert tc.sin(tc.tensor([0, 1])).dtype == np.float32  # integers promote to float32, as PyTorch
    out = tc.sin(tc.tensor(np.array([np.inf, -np.inf, np.nan])))  # NaN, without a NumPy warning
    assert np.isnan(out.detach().numpy()).all()


def test_maximum_minimum_split_the_gradient_at_ties():
    a = tc.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = tc.tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    out = tc.maximum(a, b)
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 5.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.detach().numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [0.5, 1.0, 0.0])
    a.grad = b.grad = None
    a.minimum(b).sum().backward()
    np.testing.assert_array_equal(a.grad.detach().numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [0.5, 0.0, 1.0])


def test_maximum_broadcasts_and_sums_the_gradient_back():
    a = tc.tensor(np.array([[0.0], [2.0]]), requires_grad=True)  # (2, 1)
    b = tc.tensor(np.array([1.0, 3.0, -1.0]), requires_grad=True)  # (3,)
    out = tc.maximum(a, b)
    assert out.shape == (2, 3)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.detach().numpy(), [[1.0], [2.0]])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [1.0, 2.0, 0.0])


def test_maximum_with_nan_is_nan_and_both_sides_get_the_gradient():
    a = tc.tensor(np.array([np.nan, 1.0]), requires_grad=True)
    b = tc.tensor(np.array([1.0, np.nan]), requires_grad=True)
    out = tc.maximum(a, b)
    assert np.isnan(out.detach().numpy()).all()
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.detach().numpy(), [1.0, 1.0])  # PyTorch's rule
    np.testing.assert_array_equal(b.grad.detach().numpy(), [1.0, 1.0])


def test_maximum_promotes_dtypes_and_refuses_numbers():
    ints, floats = tc.tensor([1, 5]), tc.tensor(np.array([2.5, 2.5]))
    assert tc.maximum(ints, floats).dtype == np.float64 and tc.maximum(ints, floats).tolist() == [2.5, 5.0]
    assert tc.maximum(ints, tc.tensor([3, 3])).dtype == np.int64
    assert tc.maximum(tc.ones(2), tc.ones(2, dtype=tc.float64)).dtype == np.float64
    with pytest.raises(TypeError, match="maximum\\(\\): argument 'other' must be Tensor, not float"):
        tc.maximum(ints, 2.5)
    with pytest.raises(RuntimeError, match=r"shapes \(2,\), \(3,\) do not broadcast"):
        tc.minimum(ints, tc.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="not supported"):
        tc.maximum(tc.Tensor._make(np.ones(2, np.float16), None), ints)


def test_where_picks_broadcasts_and_routes_the_gradient():
    condition = tc.tensor([[True, False, True]])
    x = tc.tensor(np.array([[1.0], [2.0]]), requires_grad=True)  # (2, 1)
    y = tc.tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)  # (3,)
    out = tc.where(condition, x, y)
    np.testing.assert_array_equal(out.detach().numpy(), [[1.0, 20.0, 1.0], [2.0, 20.0, 2.0]])
    out.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[2.0], [2.0]])
    np.testing.assert_array_equal(y.grad.detach().numpy(), [0.0, 2.0, 0.0])
    x.grad = None
    x.where(tc.tensor([True, False]).reshape(2, 1), 0.0).sum().backward()  # Tensor.where(condition, other)
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[1.0], [0.0]])


def test_where_dtypes_follow_pytorch():
    condition = tc.tensor([True, False])
    assert tc.where(condition, tc.tensor([1, 2]), 2.5).dtype == np.float32  # a Python float with ints: float32
    assert tc.where(condition, 1.0, 0.0).dtype == np.float32
    assert tc.where(condition, 1, 0).dtype == np.int64
    assert tc.where(condition, tc.ones(2), 2.5).dtype == np.float32
    assert tc.where(condition, tc.tensor([1, 2]), tc.tensor(np.array([0.5, 0.5]))).dtype == np.float64


def test_where_with_the_condition_alone_gives_the_indices():
    rows, cols = tc.where(tc.tensor([[True, False], [False, True]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1] and rows.dtype == np.int64


def test_where_refuses_a_non_bool_condition_and_a_missing_side():
    with pytest.raises(RuntimeError, match="expected condition to be a boolean tensor, but got dtype int64"):
        tc.where(tc.tensor([1, 0]), tc.ones(2), tc.zeros(2))
    with pytest.raises(TypeError, match="give both input and other"):
        tc.where(tc.tensor([True]), tc.ones(1))
    with pytest.raises(RuntimeError, match="do not broadcast"):
        tc.where(tc.tensor([True, False]), tc.ones(3), tc.zeros(3))


def test_one_hot_values_shapes_and_errors():
    encoded = F.one_hot(tc.tensor([0, 2, 1]))
    assert encoded.dtype == np.int64 and encoded.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(tc.tensor([[0, 2], [1, 1]]), 5).shape == (2, 2, 5)
    assert F.one_hot(tc.tensor(2)).tolist() == [0, 0, 1]
    assert F.one_hot(tc.tensor(np.zeros(0, np.int64)), 3).shape == (0, 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative, got -1"):
        F.one_hot(tc.tensor([0, -1]))
    with pytest.raises(RuntimeError, match=r"Class values must be smaller than num_classes \(3\), got 3"):
        F.one_hot(tc.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type LongTensor"):
        F.one_hot(tc.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(tc.tensor(np.zeros(0, np.int64)))
    with pytest.raises(ValueError, match="num_classes must be -1"):
        F.one_hot(tc.tensor([0, 1]), -2)
