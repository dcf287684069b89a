"""Shape ops with PyTorch's rules: __getitem__'s result shapes for mixed indices, 0-d tensors, size()."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.movement import torch_index

# ----- __getitem__: integers are basic indexing, as in PyTorch ------------------------------------------
# (index, PyTorch's result shape) for x of shape (2, 3, 4); the first rows are where NumPy differs.
INDEX_SHAPES = [
    ((0, slice(None), [1, 2]), (3, 2)),  # NumPy: (2, 3)
    ((np.array(1), slice(None), np.array([0, 2])), (3, 2)),  # a 0-d integer array is an int too; NumPy: (2, 3)
    ((slice(None), 0, slice(None), None), (2, 4, 1)),
    (([0, 1], slice(None), 0), (2, 3)),
    (([0, 1], 0, [1, 2]), (2,)),
    ((0, [0, 1], [1, 2]), (2,)),
    (([0, 1], None, [1, 2]), (2, 1, 4)),
    ((None, 0, [0, 1]), (1, 2, 4)),
    ((Ellipsis, 0, [0, 1]), (2, 2)),
    ((1, [[0, 1]], [[1], [2]]), (2, 2)),
    ((0, np.array([True, False, True])), (2, 4)),
    ((np.array([True, False]), slice(None), 1), (1, 3)),
    (([0, 1], [1, 2], slice(None)), (2, 4)),
    ((0, True), (1, 3, 4)),
    ((slice(None), True, [0, 1]), (2, 2, 4)),
    ((1, slice(None), []), (3, 0)),
]


@pytest.mark.parametrize(("index", "shape"), INDEX_SHAPES, ids=[str(i) for i, _ in INDEX_SHAPES])
def test_getitem_gives_pytorchs_shape(index, shape):
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x[index].shape == shape


def test_getitem_int_then_array_picks_pytorchs_values_and_adds_repeated_gradients():
    data = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(data, requires_grad=True)
    out = x[0, :, [1, 1, 3]]
    np.testing.assert_array_equal(out.detach().numpy(), data[0][:, [1, 1, 3]])
    out.backward(np.ones((3, 3)))
    expected = np.zeros((2, 3, 4))
    expected[0, :, 1], expected[0, :, 3] = 2.0, 1.0
    np.testing.assert_array_equal(x.grad.detach().numpy(), expected)


def test_getitem_index_list_inside_a_tuple_adds_repeated_gradients():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    x[[0, 0, 2], :].sum().backward()  # a list in a tuple repeats positions just as an array does
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])


def test_torch_index_keeps_numpys_single_step_where_they_agree():
    assert torch_index((0, slice(1, 2)), 3) == ((0, slice(1, 2)),)
    index = (np.array([0, 1]), slice(None), np.array([1, 2]))
    assert torch_index(index, 3) == (index,)
    ints, rest = torch_index((0, slice(None), np.array([1, 2])), 3)
    assert ints == (0, slice(None), slice(None), Ellipsis) and len(rest) == 2


def _torch_part(part, torch):
    return torch.from_numpy(part) if isinstance(part, np.ndarray) else part


@st.composite
def mixed_indices(draw):
    """(shape, index): up to 4 dims, an index mixing ints, slices, None, one Ellipsis, lists, integer arrays
    (all of one shape, so that they broadcast), 0-d integer arrays, bool arrays and bools."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    array_shape = draw(st.sampled_from([(1,), (2,), (3,), (2, 2)]))
    parts, dim, ellipsis = [], 0, False
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "list", "array", "int0d", "mask", "bool"]))
        if kind == "none":
            parts.append(None)
        elif kind == "bool":
            parts.append(draw(st.booleans()))
        elif kind == "ellipsis" and not ellipsis:
            parts.append(Ellipsis)
            ellipsis = True
        elif dim < len(shape):
            n = shape[dim]
            if kind == "int":
                parts.append(draw(st.integers(-n, n - 1)))
            elif kind == "int0d":
                parts.append(np.array(draw(st.integers(-n, n - 1))))
            elif kind == "slice":
                parts.append(slice(draw(st.none() | st.integers(-n, n)), draw(st.none() | st.integers(-n, n)),
                                   draw(st.none() | st.integers(1, 3))))
            elif kind in ("list", "array"):
                values = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(array_shape)),
                                                max_size=int(np.prod(array_shape))))).reshape(array_shape)
                parts.append(values.tolist() if kind == "list" else values)
            elif kind == "mask":
                parts.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
            dim += 1
    return shape, tuple(parts)


@given(mixed_indices(), st.integers(0, 2**31 - 1))
def test_getitem_matches_pytorch_in_shape_values_and_gradient(case, seed):
    torch = pytest.importorskip("torch")
    shape, index = case
    data = np.random.default_rng(seed).standard_normal(shape)
    theirs_in = torch.tensor(data, requires_grad=True)
    try:
        theirs = theirs_in[tuple(_torch_part(p, torch) for p in index)]
    except (IndexError, RuntimeError):  # arrays that do not broadcast together, say
        with pytest.raises(IndexError):
            Tensor(data)[index]
        return
    ours_in = Tensor(data, requires_grad=True)
    ours = ours_in[index]
    assert ours.shape == tuple(theirs.shape), f"index {index} of shape {shape}"
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    grad_output = np.random.default_rng(seed + 1).standard_normal(ours.shape)
    ours.backward(grad_output)
    theirs.backward(torch.from_numpy(grad_output))
    np.testing.assert_allclose(ours_in.grad.detach().numpy(), theirs_in.grad.numpy(), rtol=1e-12, atol=1e-12)


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


# ----- size(), numel(), dim() ---------------------------------------------------------------------
def test_size_is_pytorchs_method():
    x = tc.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and isinstance(x.size(), tuple)
    assert (x.size(0), x.size(2), x.size(-1), x.size(-3)) == (2, 4, 4, 2)
    assert (x.numel(), x.dim(), x.ndim) == (24, 3, 3)
    with pytest.raises(IndexError, match=re.escape("expected to be in range of [-3, 2], but got 3")):
        x.size(3)
    with pytest.raises(IndexError, match="no dimensions"):
        tc.tensor(1.0).size(0)
    assert tc.tensor(1.0).size() == () and tc.tensor(1.0).numel() == 1 and tc.tensor(1.0).dim() == 0


def test_size_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = tc.zeros(2, 3), torch.zeros(2, 3)
    assert ours.size() == tuple(theirs.size()) and ours.numel() == theirs.numel() and ours.dim() == theirs.dim()
    for d in (-2, -1, 0, 1):
        assert ours.size(d) == theirs.size(d)
    for bad in (2, -3):
        with pytest.raises(IndexError):
            theirs.size(bad)
        with pytest.raises(IndexError):
            ours.size(bad)
