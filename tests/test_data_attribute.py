"""`Tensor.data` as PyTorch's: a tensor sharing memory that records nothing; `t.data = other` swaps the values."""

import numpy as np
import pytest

import tinygrad_cnn as tc


def _manual_update(lib):
    """The 60-minute blitz's update loop: `f.data.sub_(f.grad.data * learning_rate)`."""
    w = lib.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (w * w).sum().backward()
    for f in [w]:
        f.data.sub_(f.grad.data * 0.1)
    return w, w._version


def test_data_updates_in_place_without_recording_or_moving_the_version():
    w, version = _manual_update(tc)
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6, 2.4])
    assert w.requires_grad and w.is_leaf and version == 0


def test_data_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, ours_version = _manual_update(tc)
    theirs, theirs_version = _manual_update(torch)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-15)
    assert ours_version == theirs_version


def test_data_is_a_tensor_that_shares_memory_and_records_nothing():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    alias = x.data
    assert isinstance(alias, tc.Tensor) and not alias.requires_grad and alias.grad_fn is None
    alias[0] = 5.0
    assert x.detach().numpy()[0] == 5.0 and np.shares_memory(alias.numpy(), x.detach().numpy())


def test_assigning_data_swaps_the_values_and_keeps_the_tensor():
    p = tc.nn.Parameter(tc.zeros(2, 2))
    new = tc.ones(3)
    p.data = new
    assert p.shape == (3,) and p.requires_grad and isinstance(p, tc.nn.Parameter)
    assert np.shares_memory(p.detach().numpy(), new.numpy())
    with pytest.raises(TypeError, match="floating point"):
        p.data = tc.tensor([1, 2])
