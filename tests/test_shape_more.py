"""flip, roll, repeat, repeat_interleave, split/chunk/unbind, gather, index_select, scatter, scatter_add,
masked_fill(_), tril/triu,
the *_as methods, contiguous, the new_* factories, tc.is_tensor and tc.clone: values and gradients against
PyTorch (float64), the values pinned without it, and the errors of bad input."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc


def _float64(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(-2, 2, size=shape)


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def _check_against_torch(ours, theirs, *arrays: np.ndarray, seed: int = 0) -> None:
    """ours(*tc tensors) and theirs(*torch tensors) agree in values and in the gradients of a weighted sum of
    their outputs (each output a tensor, or a tuple of them as split returns)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    our_inputs = [tc.tensor(a, requires_grad=True) for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    our_outputs, torch_outputs = _as_tuple(ours(*our_inputs)), _as_tuple(theirs(*torch_inputs))
    assert len(our_outputs) == len(torch_outputs)
    our_loss, torch_loss = 0, 0
    for our_out, torch_out in zip(our_outputs, torch_outputs):
        assert our_out.shape == tuple(torch_out.shape)
        assert our_out.dtype == np.float64
        np.testing.assert_array_equal(our_out.detach().numpy(), torch_out.detach().numpy())
        weight = rng.uniform(-1, 1, size=our_out.shape)
        our_loss = our_loss + (our_out * tc.tensor(weight)).sum()
        torch_loss = torch_loss + (torch_out * torch.tensor(weight)).sum()
    our_loss.backward()
    torch_loss.backward()
    for our_input, torch_input in zip(our_inputs, torch_inputs):
        expected = np.zeros(our_input.shape) if torch_input.grad is None else torch_input.grad.numpy()
        np.testing.assert_allclose(our_input.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def _long(values):
    """The same integer index for both libraries: (tc tensor, a function making the torch one)."""
    return tc.tensor(values), lambda torch: torch.tensor(values)


def _torch():
    return pytest.importorskip("torch")


# ----- against PyTorch: values and gradients ------------------------------------------------------
CASES = {
    "flip two dims": (lambda x: x.flip(0, 2), lambda x: x.flip(0, 2), (2, 3, 4)),
    "flip a tuple, negative dim": (lambda x: tc.flip(x, (-1,)), lambda x: x.flip((-1,)), (3, 4)),
    "flip no dims": (lambda x: x.flip([]), lambda x: x.flip([]), (3, 4)),
    "roll per dim": (lambda x: x.roll((1, -3), (0, 1)), lambda x: x.roll((1, -3), (0, 1)), (3, 4)),
    "roll flattened": (lambda x: tc.roll(x, 5), lambda x: x.roll(5), (3, 4)),
    "roll a dim twice": (lambda x: x.roll((2, 4), (1, -1)), lambda x: x.roll((2, 4), (1, -1)), (2, 5)),
    "repeat": (lambda x: x.repeat(2, 3), lambda x: x.repeat(2, 3), (2, 3)),
    "repeat new dims": (lambda x: x.repeat((2, 1, 2)), lambda x: x.repeat((2, 1, 2)), (3,)),
    "repeat zero times": (lambda x: x.repeat(0, 2), lambda x: x.repeat(0, 2), (2, 3)),
    "repeat_interleave flat": (lambda x: tc.repeat_interleave(x, 2), lambda x: x.repeat_interleave(2), (2, 3)),
    "repeat_interleave dim": (lambda x: x.repeat_interleave(3, dim=1), lambda x: x.repeat_interleave(3, dim=1),
                              (2, 3)),
    "split int": (lambda x: x.split(2, 1), lambda x: x.split(2, 1), (3, 5)),
    "split sizes": (lambda x: tc.split(x, [1, 0, 2], dim=0), lambda x: x.split([1, 0, 2], dim=0), (3, 5)),
    "chunk": (lambda x: x.chunk(3, -1), lambda x: x.chunk(3, -1), (2, 7)),
    "chunk fewer pieces": (lambda x: tc.chunk(x, 4), lambda x: x.chunk(4), (5,)),
    "unbind": (lambda x: x.unbind(1), lambda x: x.unbind(1), (2, 3, 2)),
    "unbind top-level": (lambda x: tc.unbind(x), lambda x: x.unbind(), (3, 2)),
    "tril": (lambda x: x.tril(), lambda x: x.tril(), (3, 4)),
    "tril batch, below": (lambda x: tc.tril(x, -1), lambda x: x.tril(-1), (2, 4, 3)),
    "triu above": (lambda x: x.triu(1), lambda x: x.triu(1), (3, 4)),
    "triu batch": (lambda x: tc.triu(x, diagonal=-2), lambda x: x.triu(diagonal=-2), (2, 3, 3)),
    "view_as": (lambda x: x.view_as(tc.zeros(6, 2)), lambda x: x.view_as(x.new_zeros(6, 2)), (3, 4)),
    "reshape_as": (lambda x: x.reshape_as(tc.zeros(2, 6)), lambda x: x.reshape_as(x.new_zeros(2, 6)), (3, 4)),
    "expand_as": (lambda x: x.expand_as(tc.zeros(2, 3, 4)), lambda x: x.expand_as(x.new_zeros(2, 3, 4)), (3, 1)),
    "contiguous of a transpose": (lambda x: x.t().contiguous(), lambda x: x.t().contiguous(), (3, 4)),
    "clone": (lambda x: tc.clone(x), lambda x: x.clone(), (3, 4)),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    ours, theirs, shape = CASES[name]
    _check_against_torch(ours, theirs, _float64(np.random.default_rng(1), *shape))


INDEX_CASES = {
    "gather dim 1, repeated picks": (1, [[0, 3, 3], [1, 1, 0], [2, 0, 1]], (3, 4)),
    "gather dim 0, index smaller": (0, [[2, 0, 1, 1]], (3, 4)),
    "gather last dim of 3-d": (-1, [[[1], [0], [1]]], (2, 3, 2)),
}


@pytest.mark.parametrize("name", INDEX_CASES)
def test_gather_matches_torch(name):
    dim, index, shape = INDEX_CASES[name]
    ours, make = _long(index)
    _check_against_torch(lambda x: x.gather(dim, ours), lambda x: x.gather(dim, make(_torch())),
                         _float64(np.random.default_rng(2), *shape))
    _check_against_torch(lambda x: tc.gather(x, dim, ours), lambda x: _torch().gather(x, dim, make(_torch())),
                         _float64(np.random.default_rng(2), *shape))


@pytest.mark.parametrize("index", [[3, 0, 3], [], 2], ids=["repeated", "empty", "0-d"])
def test_index_select_matches_torch(index):
    torch = pytest.importorskip("torch")
    ours = tc.tensor(index, dtype=tc.int64)
    _check_against_torch(lambda x: x.index_select(1, ours),
                         lambda x: x.index_select(1, torch.tensor(index, dtype=torch.int64)),
                         _float64(np.random.default_rng(3), 3, 4))
    _check_against_torch(lambda x: tc.index_select(x, 0, tc.tensor([1, 1])),
                         lambda x: torch.index_select(x, 0, torch.tensor([1, 1])),
                         _float64(np.random.default_rng(3), 3, 4))


def test_repeat_interleave_with_a_count_per_entry_matches_torch():
    torch = pytest.importorskip("torch")
    _check_against_torch(lambda x: x.repeat_interleave(tc.tensor([1, 0, 3]), dim=1),
                         lambda x: x.repeat_interleave(torch.tensor([1, 0, 3]), dim=1),
                         _float64(np.random.default_rng(4), 2, 3))
    assert tc.repeat_interleave(tc.tensor([1, 2])).tolist() == torch.repeat_interleave(torch.tensor([1, 2])).tolist()


SCATTER_CASES = {
    "dim 1, distinct targets": (1, [[0, 3, 1], [1, 2, 0], [2, 0, 3]], (3, 4), (3, 3)),
    "dim 0, fewer rows than x": (0, [[2, 0, 1, 0]], (3, 4), (1, 4)),
    "empty index": (1, [[], [], []], (3, 4), (3, 0)),
}


@pytest.mark.parametrize("name", SCATTER_CASES)
def test_scatter_matches_torch(name):
    torch = pytest.importorskip("torch")
    dim, index, shape, src_shape = SCATTER_CASES[name]
    rng = np.random.default_rng(7)
    ours, theirs = tc.tensor(index, dtype=tc.int64), torch.tensor(index, dtype=torch.int64)
    arrays = (_float64(rng, *shape), _float64(rng, *src_shape))
    _check_against_torch(lambda x, s: x.scatter(dim, ours, s), lambda x, s: x.scatter(dim, theirs, s), *arrays)
    _check_against_torch(lambda x, s: tc.scatter_add(x, dim, ours, s),
                         lambda x, s: torch.scatter_add(x, dim, theirs, s), *arrays)
    _check_against_torch(lambda x: tc.scatter(x, dim, ours, -1.5), lambda x: torch.scatter(x, dim, theirs, -1.5),
                         arrays[0])


def test_scatter_from_a_src_larger_than_index_reads_its_corner_and_sends_it_the_gradient():
    # PyTorch's values agree, but its backward refuses this case (ScatterBackward0 returns a gradient of index's
    # shape for src), so the gradient is pinned here: src elements outside src[:index.shape] get 0.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x, src = _float64(rng, 3, 4), _float64(rng, 4, 5)
    index = [[2, 0, 1, 0]]
    for name in ("scatter", "scatter_add"):
        ours_x, ours_src = tc.tensor(x, requires_grad=True), tc.tensor(src, requires_grad=True)
        out = getattr(ours_x, name)(0, tc.tensor(index), ours_src)
        expected = getattr(torch.tensor(x), name)(0, torch.tensor(index), torch.tensor(src))
        np.testing.assert_array_equal(out.detach().numpy(), expected.numpy())
        out.sum().backward()
        grad_src = np.zeros((4, 5))
        grad_src[0, :4] = 1.0
        np.testing.assert_array_equal(ours_src.grad.numpy(), grad_src)


def test_scatter_add_adds_up_repeated_targets_as_torch():
    torch = pytest.importorskip("torch")
    index = [[1, 1, 0], [3, 3, 3]]
    _check_against_torch(lambda x, s: x.scatter_add(1, tc.tensor(index), s),
                         lambda x, s: x.scatter_add(1, torch.tensor(index), s),
                         _float64(np.random.default_rng(8), 2, 4), _float64(np.random.default_rng(9), 2, 3))


def test_masked_fill_matches_torch_with_a_number_and_with_a_0d_tensor_value():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = _float64(rng, 3, 4)
    mask = x > 0
    _check_against_torch(lambda a: a.masked_fill(tc.tensor(mask), 1.5),
                         lambda a: a.masked_fill(torch.tensor(mask), 1.5), x)
    # the value gets the gradient of the elements it fills
    _check_against_torch(lambda a, v: tc.masked_fill(a, tc.tensor(mask), v),
                         lambda a, v: torch.masked_fill(a, torch.tensor(mask), v), x, np.array(0.25))
    # the mask broadcasts over rows; x broadcasts to the mask's shape out of place
    row = np.array([True, False, False, True])
    _check_against_torch(lambda a: a.masked_fill(tc.tensor(row), -2.0),
                         lambda a: a.masked_fill(torch.tensor(row), -2.0), x)
    _check_against_torch(lambda a: a.masked_fill(tc.tensor(mask), 0.0),
                         lambda a: a.masked_fill(torch.tensor(mask), 0.0), _float64(rng, 4))


def test_masked_fill_in_place_matches_torch():
    torch = pytest.importorskip("torch")
    x = _float64(np.random.default_rng(6), 3, 4)
    mask = x < 0.5

    def ours(a, v):
        b = a * 1.0
        assert b.masked_fill_(tc.tensor(mask), v) is b
        return b

    def theirs(a, v):
        b = a * 1.0
        b.masked_fill_(torch.tensor(mask), v)
        return b

    _check_against_torch(ours, theirs, x, np.array(-0.5))


# ----- values pinned without PyTorch -------------------------------------------------------------------
def test_values_pinned():
    x = tc.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert x.flip(1).tolist() == [[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]
    assert x.roll(1).tolist() == [[5.0, 0.0, 1.0], [2.0, 3.0, 4.0]]
    assert x.roll(-1, 1).tolist() == [[1.0, 2.0, 0.0], [4.0, 5.0, 3.0]]
    assert x[0].repeat(2).tolist() == [0.0, 1.0, 2.0, 0.0, 1.0, 2.0]
    assert x.repeat_interleave(tc.tensor([1, 2]), dim=0).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0],
                                                                      [3.0, 4.0, 5.0]]
    assert [p.tolist() for p in x.split(2, 1)] == [[[0.0, 1.0], [3.0, 4.0]], [[2.0], [5.0]]]
    assert [p.tolist() for p in tc.arange(5).chunk(4)] == [[0, 1], [2, 3], [4]]
    assert [p.shape for p in tc.zeros(0, 3).split(2)] == [(0, 3)]  # an empty dim: one empty piece
    assert [p.shape for p in tc.zeros(0, 3).chunk(2)] == [(0, 3), (0, 3)]
    assert [p.tolist() for p in x.unbind(1)] == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert x.gather(1, tc.tensor([[0], [2]])).tolist() == [[0.0], [5.0]]
    assert x.index_select(1, tc.tensor([2, 0, 2])).tolist() == [[2.0, 0.0, 2.0], [5.0, 3.0, 5.0]]
    assert x.masked_fill(x > 2, 1.5).tolist() == [[0.0, 1.0, 2.0], [1.5, 1.5, 1.5]]
    assert x.tril().tolist() == [[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]]
    assert x.triu(1).tolist() == [[0.0, 1.0, 2.0], [0.0, 0.0, 5.0]]
    picks = tc.tensor([[2], [0]])
    assert x.scatter(1, picks, tc.tensor([[9.0], [8.0]])).tolist() == [[0.0, 1.0, 9.0], [8.0, 4.0, 5.0]]
    assert x.scatter_add(1, tc.tensor([[2, 2]]), tc.tensor([[1.0, 1.0]])).tolist() == [[0.0, 1.0, 4.0],
                                                                                       [3.0, 4.0, 5.0]]
    assert tc.arange(3).scatter(0, tc.tensor([0]), 2.7).tolist() == [2, 1, 2]  # the value cast, as PyTorch's
    big = 2**60 + 1  # integer sums stay exact (no trip through float64)
    assert tc.tensor([big, 0]).scatter_add(0, tc.tensor([0, 0]), tc.tensor([1, 2])).tolist() == [big + 3, 0]


def test_gradients_pinned():
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.index_select(0, tc.tensor([2, 0, 2])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 2.0]
    y = tc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y.repeat(2, 3).sum().backward()
    assert y.grad.tolist() == [[6.0, 6.0], [6.0, 6.0]]
    value = tc.tensor(0.0, requires_grad=True)
    z = tc.tensor([1.0, -1.0, -2.0], requires_grad=True)
    (z.masked_fill(z < 0, value) * tc.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert z.grad.tolist() == [1.0, 0.0, 0.0]
    assert value.grad.item() == 5.0


def test_results_are_copies_and_split_pieces_are_views():
    x = tc.tensor([[0.0, 1.0], [2.0, 3.0]])
    for result in (x.flip(0), x.roll(1), x.repeat(1, 1), x.tril(), x.masked_fill(x > 5, 0.0),
                   x.gather(0, tc.tensor([[0, 1]])), x.index_select(0, tc.tensor([0]))):
        result.zero_()
    assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    first, _ = x.split(1)
    first.fill_(7.0)
    assert x.tolist() == [[7.0, 7.0], [2.0, 3.0]]  # PyTorch's split pieces are views too


def test_masked_fill_keeps_the_dtype_of_the_input():
    counts = tc.arange(3).masked_fill(tc.tensor([True, False, True]), 1.7)
    assert counts.dtype == np.int64 and counts.tolist() == [1, 1, 1]  # PyTorch truncates too
    halves = tc.zeros(3).masked_fill(tc.tensor([True, False, False]), tc.tensor(2.0, dtype=tc.float64))
    assert halves.dtype == np.float32


def test_masked_fill_in_place_changes_the_tensor_and_its_version():
    x = tc.tensor([1.0, -1.0, 2.0])
    version = x._version
    assert x.masked_fill_(x < 0, 0.0) is x
    assert x.tolist() == [1.0, 0.0, 2.0] and x._version == version + 1


def test_contiguous_and_is_contiguous():
    x = tc.zeros(2, 3)
    assert x.is_contiguous() and x.contiguous() is x
    assert not x.t().is_contiguous() and not x[:1].expand(4, 3).is_contiguous()
    copy = x.t().contiguous()
    assert copy.is_contiguous() and copy.shape == (3, 2)
    expanded = x[:1].expand(4, 3).contiguous()
    expanded.fill_(1.0)  # an expanded view becomes writable once made contiguous, as in PyTorch
    assert x.sum().item() == 0.0


def test_new_factories_follow_the_tensor_dtype():
    x = tc.zeros(2, dtype=tc.float64)
    assert x.new_zeros(2, 3).dtype == np.float64 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_ones(2, dtype=tc.int64).dtype == np.int64 and x.new_ones(2).tolist() == [1.0, 1.0]
    full = x.new_full((2,), 3)
    assert full.dtype == np.float64 and full.tolist() == [3.0, 3.0]
    made = x.new_tensor([1, 2])
    assert made.dtype == np.float64 and made.tolist() == [1.0, 2.0] and not made.requires_grad
    source = tc.tensor([1.0, 2.0], requires_grad=True)
    copied = x.new_tensor(source, requires_grad=True)
    assert copied.is_leaf and copied.requires_grad
    assert not np.shares_memory(copied.detach().numpy(), source.detach().numpy())
    assert x.new_zeros(2, requires_grad=True).requires_grad


def test_new_factories_match_torch_dtypes():
    torch = pytest.importorskip("torch")
    for ours_dtype, torch_dtype in [(tc.float32, torch.float32), (tc.float64, torch.float64),
                                    (tc.int64, torch.int64)]:
        ours, theirs = tc.zeros(1, dtype=ours_dtype), torch.zeros(1, dtype=torch_dtype)
        assert str(ours.new_tensor([1, 2]).dtype) == str(theirs.new_tensor([1, 2]).dtype).removeprefix("torch.")
        assert str(ours.new_full((2,), 1).dtype) == str(theirs.new_full((2,), 1).dtype).removeprefix("torch.")


def test_is_tensor():
    assert tc.is_tensor(tc.zeros(1))
    assert not tc.is_tensor(np.zeros(1)) and not tc.is_tensor([1.0]) and not tc.is_tensor(1.0)


# ----- bad input: the same exception as PyTorch, raised before anything changes -------------------------
# name -> call(lib, x): one bad use, with lib tc or torch and x = arange(6.).reshape(2, 3).
ERRORS = {
    "flip a dim twice": lambda lib, x: x.flip(0, 0),
    "flip out of range": lambda lib, x: x.flip(2),
    "roll shifts without dims": lambda lib, x: x.roll((1, 2)),
    "roll shifts and dims differ": lambda lib, x: x.roll(1, (0, 1)),
    "roll no shifts": lambda lib, x: x.roll([], []),
    "repeat too few sizes": lambda lib, x: x.repeat(2),
    "repeat negative": lambda lib, x: x.repeat(-1, 1),
    "split size 0": lambda lib, x: x.split(0),
    "split sizes don't add up": lambda lib, x: x.split([1, 2]),
    "chunk 0": lambda lib, x: x.chunk(0),
    "unbind out of range": lambda lib, x: x.unbind(2),
    "unbind 0-d": lambda lib, x: lib.tensor(1.0).unbind(),
    "roll a dim of a 0-d tensor": lambda lib, x: lib.tensor(1.0).roll(1, 0),
    "gather negative index": lambda lib, x: x.gather(1, lib.tensor([[-1], [1]])),
    "gather index too large": lambda lib, x: x.gather(1, lib.tensor([[5], [1]])),
    "gather index of other ndim": lambda lib, x: x.gather(1, lib.tensor([0, 1])),
    "gather index too big elsewhere": lambda lib, x: x.gather(1, lib.zeros(3, 1, dtype=lib.int64)),
    "gather float index": lambda lib, x: x.gather(1, lib.zeros(2, 1)),
    "gather list index": lambda lib, x: x.gather(1, [[0]]),
    "index_select 2-d index": lambda lib, x: x.index_select(1, lib.tensor([[0]])),
    "index_select out of range": lambda lib, x: x.index_select(1, lib.tensor([3])),
    "index_select negative": lambda lib, x: x.index_select(1, lib.tensor([-1])),
    "index_select float index": lambda lib, x: x.index_select(1, lib.tensor([1.0])),
    "masked_fill float mask": lambda lib, x: x.masked_fill(x, 1),
    "masked_fill int mask": lambda lib, x: x.masked_fill(lib.tensor([1, 0, 1]), 1),
    "masked_fill 1-d value": lambda lib, x: x.masked_fill(x > 2, lib.tensor([1.0, 2.0, 3.0])),
    "masked_fill mask doesn't broadcast": lambda lib, x: x.masked_fill(lib.tensor([True, False]), 1),
    "masked_fill_ would grow the tensor": lambda lib, x: x[0].masked_fill_(lib.ones(2, 3, dtype=lib.bool), 1),
    "tril of a vector": lambda lib, x: x[0].tril(),
    "triu of a vector": lambda lib, x: x[0].triu(),
    "view_as a list": lambda lib, x: x.view_as([1]),
    "expand_as a list": lambda lib, x: x.expand_as([1]),
    "new_full an int size": lambda lib, x: x.new_full(2, 3),
    "repeat_interleave negative": lambda lib, x: lib.repeat_interleave(x, -1),
    "repeat_interleave counts of another size": lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 2])),
    "repeat_interleave a float": lambda lib, x: lib.repeat_interleave(x, 2.0),
    "scatter index out of range": lambda lib, x: x.scatter(1, lib.tensor([[3], [0]]), x),
    "scatter negative index": lambda lib, x: x.scatter(1, lib.tensor([[-1], [0]]), x),
    "scatter index of other ndim": lambda lib, x: x.scatter(1, lib.tensor([2, 0]), x),
    "scatter src of other dtype": lambda lib, x: x.scatter(1, lib.tensor([[2], [0]]), x.double()),
    "scatter index larger than src": lambda lib, x: x.scatter(1, lib.tensor([[2], [0]]), x[:1]),
    "scatter index larger than self": lambda lib, x: x.scatter(1, lib.zeros(3, 1, dtype=lib.int64), lib.zeros(3, 1)),
    "scatter 0-d src": lambda lib, x: x.scatter(1, lib.tensor([[2], [0]]), lib.tensor(5.0)),
    "scatter list index": lambda lib, x: x.scatter(1, [[2], [0]], x),
    "scatter float index": lambda lib, x: x.scatter(1, lib.zeros(2, 1), x),
    "scatter_add a number": lambda lib, x: x.scatter_add(1, lib.tensor([[2], [0]]), 5.0),
    "scatter_add index out of range": lambda lib, x: x.scatter_add(0, lib.tensor([[2, 0, 0]]), x),
}


def _our_error(call) -> type[BaseException]:
    x = tc.arange(6.0).reshape(2, 3)
    before = x.numpy().copy()
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is compared with PyTorch's below
        call(tc, x)
    np.testing.assert_array_equal(x.numpy(), before)
    return info.type


@pytest.mark.parametrize("name", ERRORS)
def test_bad_input_raises_what_torch_raises(name):
    torch = pytest.importorskip("torch")
    ours = _our_error(ERRORS[name])
    with pytest.raises(Exception) as theirs:  # noqa: PT011
        ERRORS[name](torch, torch.arange(6.0).reshape(2, 3))
    assert issubclass(ours, (TypeError, ValueError, RuntimeError, IndexError))
    assert ours is theirs.type or issubclass(theirs.type, ours), (ours, theirs.type)


def test_bad_input_messages_name_the_offending_values():
    x = tc.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 1 with size 3"):
        x.gather(1, tc.tensor([[5], [1]]))
    with pytest.raises(RuntimeError, match=r"shifts: 2, dims:1"):
        x.roll((1, 2), (0,))
    with pytest.raises(RuntimeError, match=r"split_sizes \[1, 2\] .* sum exactly to 2"):
        x.split([1, 2])
    with pytest.raises(RuntimeError, match="boolean masks, but got mask with dtype float32"):
        x.masked_fill(x, 1)
    with pytest.raises(IndexError, match="supposed to be a vector"):
        x.index_select(0, tc.tensor([[0]]))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tc.tril(x[0])
    with pytest.raises(RuntimeError, match="0-d tensor is not supported"):  # PyTorch accepts it; we refuse, clearly
        tc.tensor(1.0).scatter(0, tc.tensor(0), tc.tensor(2.0))
    with pytest.raises(TypeError, match="argument 'input' must be a Tensor"):
        tc.flip(np.zeros(2), (0,))


def test_masked_fill_in_place_on_a_leaf_that_requires_grad_is_refused_unchanged():
    x = tc.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor"):
        x.masked_fill_(x < 0, 0.0)
    assert x.tolist() == [1.0, -1.0]
