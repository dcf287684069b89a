"""sign sin cos maximum minimum where one_hot against PyTorch (values, gradients, dtypes)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch")

VALUES = np.array([-np.inf, -1e300, -1e4, -3.0, -1.0, -1e-300, 0.0, 1e-300, 0.5, 2.0, 1e4, np.inf, np.nan])


@pytest.mark.parametrize("name", ["sign", "sin", "cos"])
def test_unary_values_and_gradients_match_pytorch(name):
    x = np.concatenate([VALUES, np.random.default_rng(0).uniform(-10, 10, 40)])
    t, tt = tc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = getattr(tc, name)(t), getattr(torch, name)(tt)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-15, atol=1e-300, equal_nan=True)
    y.backward(np.ones(y.shape))
    ty.backward(torch.ones_like(ty))
    np.testing.assert_allclose(t.grad.detach().numpy(), tt.grad.numpy(), rtol=1e-15, atol=1e-300, equal_nan=True)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize(("shape_a", "shape_b"), [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,))])
def test_maximum_minimum_match_pytorch_with_ties_nan_and_broadcasting(name, shape_a, shape_b):
    rng = np.random.default_rng(1)
    a = rng.integers(-2, 3, shape_a).astype(float)  # small integers: many ties
    b = rng.integers(-2, 3, shape_b).astype(float)
    if a.ndim:
        a.reshape(-1)[0] = np.nan
    ta, tb = tc.tensor(a, requires_grad=True), tc.tensor(b, requires_grad=True)
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, pout = getattr(tc, name)(ta, tb), getattr(torch, name)(pa, pb)
    np.testing.assert_array_equal(out.detach().numpy(), pout.detach().numpy())
    weights = rng.uniform(-1, 1, out.shape)
    out.backward(weights)
    pout.backward(torch.tensor(weights))
    np.testing.assert_allclose(ta.grad.detach().numpy(), pa.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(tb.grad.detach().numpy(), pb.grad.numpy(), rtol=1e-15)


def test_where_matches_pytorch_values_gradients_and_dtypes():
    rng = np.random.default_rng(2)
    condition = rng.random((2, 3, 4)) < 0.5
    x, y = rng.uniform(-1, 1, (3, 1)), rng.uniform(-1, 1, (4,))
    tx, ty = tc.tensor(x, requires_grad=True), tc.tensor(y, requires_grad=True)
    px, py = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    out, pout = tc.where(tc.tensor(condition), tx, ty), torch.where(torch.tensor(condition), px, py)
    np.testing.assert_array_equal(out.detach().numpy(), pout.detach().numpy())
    weights = rng.uniform(-1, 1, out.shape)
    out.backward(weights)
    pout.backward(torch.tensor(weights))
    np.testing.assert_allclose(tx.grad.detach().numpy(), px.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(ty.grad.detach().numpy(), py.grad.numpy(), rtol=1e-15)
    c, pc = tc.tensor([True, False]), torch.tensor([True, False])
    for ours, theirs in [((tc.tensor([1, 2]), 2.5), (torch.tensor([1, 2]), 2.5)), ((1.0, 0.0), (1.0, 0.0)),
                         ((1, 0), (1, 0)), ((tc.tensor([1, 2]), tc.tensor(np.array([0.5, 0.5]))),
                                            (torch.tensor([1, 2]), torch.tensor([0.5, 0.5], dtype=torch.float64)))]:
        result, expected = tc.where(c, *ours), torch.where(pc, *theirs)
        assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(result.detach().numpy(), expected.numpy())


def test_one_hot_matches_pytorch():
    labels = np.array([[0, 3], [2, 2], [1, 0]])
    for num_classes in (-1, 4, 6):
        ours = F.one_hot(tc.tensor(labels), num_classes)
        theirs = torch.nn.functional.one_hot(torch.tensor(labels), num_classes)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
