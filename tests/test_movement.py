"""Shape ops with PyTorch's rules: 0-d tensors."""

import re

import pytest

import tinygrad_cnn as tc


# ----- 0-d tensors: dim 0 and -1 name their one element, as in PyTorch ------------------------------------
def test_squeeze_and_unsqueeze_of_a_0d_tensor():
    x = tc.tensor(2.5, requires_grad=True)
    assert x.squeeze(0).shape == () and x.squeeze(-1).shape == () and x.squeeze().shape == ()
    assert x.unsqueeze(0).shape == (1,) and x.unsqueeze(-1).shape == (1,)
    assert x.flatten().shape == (1,) and x.transpose(0, -1).shape == ()
    (x.squeeze(0) * 3).backward()
    assert x.grad.item() == 3.0


@pytest.mark.parametrize("call", [
    lambda x: x.squeeze(1), lambda x: x.unsqueeze(2), lambda x: x.flatten(1), lambda x: x.transpose(0, 1),
])
def test_0d_shape_ops_out_of_range_raise_pytorchs_index_error(call):
    with pytest.raises(IndexError, match=re.escape("Dimension out of range (expected to be in range of [-1, 0]")):
        call(tc.tensor(2.5))


def test_squeeze_of_an_empty_tuple_squeezes_nothing():
    assert tc.zeros(1, 3).squeeze(()).shape == (1, 3)


def test_0d_shape_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = tc.tensor(2.5), torch.tensor(2.5)
    for name, args in [("squeeze", (0,)), ("squeeze", (-1,)), ("unsqueeze", (0,)), ("unsqueeze", (-1,)),
                       ("flatten", ()), ("transpose", (0, -1))]:
        assert getattr(ours, name)(*args).shape == tuple(getattr(theirs, name)(*args).shape), (name, args)
    for call in (lambda x: x.squeeze(1), lambda x: x.unsqueeze(2)):
        with pytest.raises(IndexError) as expected:
            call(theirs)
        with pytest.raises(IndexError, match=re.escape(str(expected.value))):
            call(ours)
