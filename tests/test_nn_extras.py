"""nn.Identity, F.dropout2d / nn.Dropout2d (channel dropout, PyTorch 2.x semantics) and nn.Unflatten."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn


def test_identity_takes_any_arguments_and_returns_its_input():
    layer = nn.Identity(54, unused_argument=0.1)
    x = tc.randn(2, 3)
    assert layer(x) is x and repr(layer) == "Identity()" and list(layer.parameters()) == []


def test_dropout2d_drops_whole_channels_and_scales_the_rest():
    tc.manual_seed(0)
    x = tc.tensor(np.ones((8, 16, 3, 3)), requires_grad=True)
    out = F.dropout2d(x, p=0.25)
    per_channel = out.detach().numpy().reshape(8, 16, 9)
    assert (per_channel == per_channel[..., :1]).all()  # each channel kept or dropped as one
    assert set(np.unique(per_channel)) <= {0.0, 1 / 0.75}
    assert 0 < (per_channel[..., 0] == 0).sum() < 8 * 16
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), out.detach().numpy())  # the gradient is the same mask


def test_dropout2d_reads_3d_input_as_n_c_l_with_pytorchs_warning():
    tc.manual_seed(1)
    x = tc.ones(4, 6, 5)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d and assuming that channel-wise 1D"):
        out = F.dropout2d(x, p=0.5)
    assert (out.detach().numpy() == out.detach().numpy()[..., :1]).all()  # one draw per (n, c), not per (c, h)
    with pytest.warns(UserWarning, match="Received a 3D input"):  # warned in eval too, as PyTorch
        assert F.dropout2d(x, training=False) is x


def test_dropout2d_other_ranks_warn_or_fail_as_pytorch():
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d, which is deprecated"):
        F.dropout2d(tc.ones(3, 4))
    with pytest.warns(UserWarning, match="Received a 5-D input"):
        F.dropout2d(tc.ones(2, 3, 2, 2, 2))
    with pytest.raises(RuntimeError, match=r"Feature dropout requires at least 2 dimensions.*\(3,\)"):
        F.dropout2d(tc.ones(3))


def test_dropout2d_identity_cases_and_bad_probability():
    x = tc.ones(2, 3, 4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 4-d input warns of nothing
        assert F.dropout2d(x, training=False) is x and F.dropout2d(x, p=0.0) is x
        assert (F.dropout2d(x, p=1.0).detach().numpy() == 0).all()
    with pytest.raises(ValueError, match="has to be between 0 and 1, but got 1.5"):
        F.dropout2d(x, p=1.5)
    with pytest.raises(ValueError, match="has to be between 0 and 1, but got 2"):
        nn.Dropout2d(p=2)
    with pytest.raises(TypeError, match="floating point input in training, got int64"):
        F.dropout2d(tc.tensor(np.ones((2, 3, 2, 2), np.int64)))


def test_dropout2d_inplace_changes_the_input_and_records_the_mask():
    tc.manual_seed(2)
    x = tc.tensor(np.ones((2, 4, 2, 2)), requires_grad=True)
    hidden = x * 2.0
    out = F.dropout2d(hidden, p=0.5, inplace=True)
    assert out is hidden and hidden._version == 1
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), out.detach().numpy())  # d(2 x * mask) / dx = 2 * mask = out


def test_dropout2d_layer_follows_train_and_eval():
    layer = nn.Dropout2d(p=0.5)
    assert repr(layer) == "Dropout2d(p=0.5, inplace=False)"
    x = tc.ones(2, 3, 2, 2)
    assert layer.eval()(x) is x
    tc.manual_seed(3)
    assert set(np.unique(layer.train()(x).detach().numpy())) <= {0.0, 2.0}


def test_unflatten_splits_one_dim():
    x = tc.tensor(np.arange(30.0).reshape(3, 10), requires_grad=True)
    layer = nn.Unflatten(1, (2, 5))
    assert repr(layer) == "Unflatten(dim=1, unflattened_size=(2, 5))"
    out = layer(x)
    assert out.shape == (3, 2, 5)
    np.testing.assert_array_equal(out.detach().numpy(), x.detach().numpy().reshape(3, 2, 5))
    out.sum().backward()
    assert x.grad.shape == (3, 10)
    assert nn.Unflatten(-1, [2, -1])(x).shape == (3, 2, 5)
    assert x.unflatten(0, (1, 3)).shape == (1, 3, 10)


def test_unflatten_refuses_bad_sizes_as_pytorch():
    x = tc.ones(3, 10)
    with pytest.raises(TypeError, match="must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 10)
    with pytest.raises(TypeError, match="found element of type float at pos 0"):
        nn.Unflatten(1, (2.0, 5))
    with pytest.raises(RuntimeError, match=r"sizes \[3, 5\] don't multiply up to the size of dim 1 \(10\)"):
        nn.Unflatten(1, (3, 5))(x)
    with pytest.raises(RuntimeError, match="don't multiply up"):
        x.unflatten(1, (-1, -1))
    with pytest.raises(RuntimeError, match="sizes must be non-empty"):
        x.unflatten(1, ())
    with pytest.raises(IndexError, match="out of range"):
        x.unflatten(5, (2, 5))
