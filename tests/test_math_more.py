"""PyTorch's common math functions (ops/math_functions.py): values, gradients, dtypes and errors, against PyTorch
where it is installed, and pinned by hand where that is easy."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc

VALUES = np.array([-np.inf, -1e300, -1e4, -3.0, -2.5, -1.0, -0.5, -1e-300, 0.0, 1e-300, 0.5, 1.5, 2.0, 2.5, 1e4,
                   np.inf, np.nan])


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _compare(torch, tc_fn, torch_fn, *arrays, rtol=1e-13, seed=0):
    """Runs both on float64 copies of `arrays` (all requiring grad), backward with one random output gradient,
    and compares the values and every input's gradient (NaN equal to NaN)."""
    ours = [tc.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = tc_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=rtol, atol=1e-300, equal_nan=True)
    weights = np.random.default_rng(seed).uniform(0.5, 1.5, out.shape)
    out.backward(weights)
    ref.backward(torch.tensor(weights))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=rtol, atol=1e-300, equal_nan=True)
    return out


# ----- elementwise --------------------------------------------------------------------------------------
UNARY = ["log1p", "expm1", "square", "rsqrt", "reciprocal", "neg", "floor", "ceil", "round", "trunc", "nan_to_num"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_match_pytorch_at_edges(torch, name):
    x = np.concatenate([VALUES, np.random.default_rng(1).uniform(-5, 5, 30)])
    _compare(torch, getattr(tc, name), getattr(torch, name), x)
    _compare(torch, lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32"])
def test_unary_dtypes_match_pytorch(torch, name, dtype):
    x = np.array([0, 1, 3, 7]).astype(dtype)
    if dtype == "bool" and name in ("neg", "floor", "ceil", "round", "trunc"):
        with pytest.raises((RuntimeError, NotImplementedError)):
            getattr(torch, name)(torch.tensor(x))
        with pytest.raises(RuntimeError, match=f"{name}.*bool"):
            getattr(tc, name)(tc.tensor(x))
        return
    ours, theirs = getattr(tc, name)(tc.tensor(x)), getattr(torch, name)(torch.tensor(x))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_rounding_functions_pinned_values_and_zero_gradient():
    x = tc.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.7, -1.7], requires_grad=True)
    assert tc.round(x).tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 2.0, -2.0]  # halves to even
    assert x.floor().tolist() == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 1.0, -2.0]
    assert x.ceil().tolist() == [-2.0, -1.0, -0.0, 1.0, 2.0, 3.0, 2.0, -1.0]
    assert x.trunc().tolist() == [-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, 1.0, -1.0]
    (x.floor() + x.ceil() + x.round() + x.trunc()).sum().backward()
    assert x.grad.tolist() == [0.0] * 8


def test_round_with_decimals_matches_pytorch(torch):
    x = np.random.default_rng(2).uniform(-100, 100, 50)
    for decimals in (-1, 0, 2, 3):
        np.testing.assert_array_equal(tc.round(tc.tensor(x), decimals=decimals).numpy(),
                                      torch.round(torch.tensor(x), decimals=decimals).numpy())
    with pytest.raises(RuntimeError, match="decimals=1 is not implemented for int64"):
        tc.tensor([1, 2]).round(1)


def test_log1p_and_expm1_are_exact_for_tiny_values():
    x = tc.tensor([1e-20, -1e-18], dtype=tc.float64)
    assert x.log1p().tolist() == [1e-20, -1e-18]
    assert x.expm1().tolist() == [1e-20, -1e-18]


def test_rsqrt_and_reciprocal_at_zero():
    x = tc.tensor([0.0, 4.0], dtype=tc.float64, requires_grad=True)
    assert x.rsqrt().tolist() == [np.inf, 0.5]
    x.rsqrt().sum().backward()
    assert x.grad.tolist() == [-np.inf, -0.0625]
    assert tc.reciprocal(tc.tensor([-0.0, 0.0, 2])).tolist() == [-np.inf, np.inf, 0.5]


def test_nan_to_num_replaces_and_stops_the_gradient_there():
    x = tc.tensor([np.nan, np.inf, -np.inf, 1.5], dtype=tc.float64, requires_grad=True)
    assert x.nan_to_num().tolist() == [0.0, np.finfo(np.float64).max, np.finfo(np.float64).min, 1.5]
    assert tc.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0).tolist() == [1.0, 2.0, -2.0, 1.5]
    assert tc.nan_to_num(x.float()).tolist()[1] == np.finfo(np.float32).max
    x.nan_to_num().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0]


def test_nan_to_num_with_arguments_matches_pytorch(torch):
    _compare(torch, lambda t: t.nan_to_num(1.0, 9.0, -9.0), lambda t: t.nan_to_num(1.0, 9.0, -9.0), VALUES)


def test_isnan_isinf_isfinite_match_pytorch_and_record_nothing(torch):
    x = tc.tensor(VALUES, requires_grad=True)
    for name in ("isnan", "isinf", "isfinite"):
        expected = getattr(torch, name)(torch.tensor(VALUES)).numpy()
        for result in (getattr(tc, name)(x), getattr(x, name)()):
            assert result.dtype == tc.bool_ and not result.requires_grad and result.grad_fn is None
            np.testing.assert_array_equal(result.numpy(), expected)
        np.testing.assert_array_equal(getattr(tc, name)(tc.tensor([1, 2])).numpy(),
                                      getattr(torch, name)(torch.tensor([1, 2])).numpy())


def test_isnan_isinf_isfinite_pinned():
    x = tc.tensor([np.nan, np.inf, -np.inf, 0.0])
    assert tc.isnan(x).tolist() == [True, False, False, False]
    assert tc.isinf(x).tolist() == [False, True, True, False]
    assert tc.isfinite(x).tolist() == [False, False, False, True]
    assert tc.isfinite(tc.tensor([1, 2])).tolist() == [True, True]
    with pytest.raises(TypeError, match="isnan.*must be a Tensor"):
        tc.isnan(np.zeros(2))


# ----- reductions ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("dim", "keepdim"), [(0, False), (1, True), (-1, False), ((0, 2), False), ((0, 2), True)])
def test_logsumexp_matches_pytorch(torch, dim, keepdim):
    x = np.random.default_rng(3).uniform(-3, 3, (3, 4, 5))
    _compare(torch, lambda t: tc.logsumexp(t, dim, keepdim), lambda t: torch.logsumexp(t, dim, keepdim), x)


def test_logsumexp_is_stable_and_matches_pytorch_with_infinities(torch):
    x = np.array([[1000.0, 999.0, -5.0], [-1000.0, -1001.0, -999.0], [np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf],
                  [np.nan, 1.0, 0.0], [-np.inf, 0.0, 1.0]])
    out = _compare(torch, lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x)
    assert out[0].item() == pytest.approx(1000 + np.log(1 + np.exp(-1) + np.exp(-1005)))
    empty = tc.tensor(np.zeros((0, 3))).logsumexp(0)
    assert empty.tolist() == [-np.inf] * 3
    assert tc.tensor([1, 2]).logsumexp(0).dtype == tc.float32


@pytest.mark.parametrize(("dim", "keepdim"), [(None, False), (0, False), (1, True), (-1, False)])
def test_prod_matches_pytorch_with_zeros(torch, dim, keepdim):
    x = np.array([[0.0, 1.5, -2.0, 0.5], [0.0, 0.0, 1.2, -0.7], [1.1, -0.9, 0.8, 1.3]])
    if dim is None:
        _compare(torch, lambda t: t.prod(), lambda t: t.prod(), x)
        _compare(torch, lambda t: t.prod(), lambda t: t.prod(), x[2:])
        _compare(torch, lambda t: t.prod(), lambda t: t.prod(), np.array([2.0, 0.0, 3.0]))
    else:
        _compare(torch, lambda t: tc.prod(t, dim, keepdim), lambda t: torch.prod(t, dim, keepdim), x)
        _compare(torch, lambda t: tc.prod(t, dim, keepdim), lambda t: torch.prod(t, dim, keepdim), x.T.copy())


def test_prod_gradient_pinned_for_one_and_two_zeros():
    one_zero = tc.tensor([2.0, 0.0, 3.0], dtype=tc.float64, requires_grad=True)
    one_zero.prod().backward()
    assert one_zero.grad.tolist() == [0.0, 6.0, 0.0]
    two_zeros = tc.tensor([2.0, 0.0, 3.0, 0.0], dtype=tc.float64, requires_grad=True)
    two_zeros.prod().backward()
    assert two_zeros.grad.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_prod_dtypes_edges_and_errors(torch):
    for x in ([1, 2, 3], [True, False], np.array([2, 3], np.int32)):
        ours, theirs = tc.prod(tc.tensor(x)), torch.prod(torch.tensor(x))
        assert ours.item() == theirs.item() and str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert tc.tensor(np.zeros((0, 2))).prod(0).tolist() == [1.0, 1.0]
    _compare(torch, lambda t: t.prod(0), lambda t: t.prod(0), np.array(1.5))
    with pytest.raises(TypeError, match="prod: dim must be an int"):
        tc.tensor([[1.0]]).prod((0, 1))
    with pytest.raises(IndexError, match="prod: Dimension out of range"):
        tc.tensor([1.0]).prod(2)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_matches_pytorch(torch, dim):
    x = np.random.default_rng(4).uniform(-2, 2, (3, 4))
    x[1, 1] = np.inf
    _compare(torch, lambda t: tc.cumsum(t, dim), lambda t: torch.cumsum(t, dim), x)
    _compare(torch, lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x)


def test_cumsum_pinned_dtypes_and_0d(torch):
    assert tc.tensor([1.0, 2.0, 3.0]).cumsum(0).tolist() == [1.0, 3.0, 6.0]
    assert tc.tensor([True, True]).cumsum(0).dtype == tc.int64 == tc.tensor([1, 2], dtype=tc.int32).cumsum(0).dtype
    assert tc.tensor([1, 2]).cumsum(0, dtype=tc.float64).dtype == tc.float64
    _compare(torch, lambda t: t.cumsum(0), lambda t: t.cumsum(0), np.array(2.5))
    with pytest.raises(IndexError, match="cumsum: Dimension out of range"):
        tc.tensor([1.0]).cumsum(1)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(("args", "kwargs"), [((), {}), ((1,), {}), ((0,), {"keepdim": True, "correction": 0}),
                                              ((1, False), {}), ((False,), {}), (((0, 1), True, True), {})])
def test_top_level_var_and_std_match_pytorch(torch, name, args, kwargs):
    x = np.random.default_rng(5).uniform(-2, 2, (3, 4))
    _compare(torch, lambda t: getattr(tc, name)(t, *args, **kwargs),
             lambda t: getattr(torch, name)(t, *args, **kwargs), x)


def test_top_level_var_and_std_pinned():
    assert tc.var(tc.tensor([1.0, 2.0, 3.0])).item() == 1.0
    assert tc.std(tc.tensor([1.0, 3.0]), unbiased=False).item() == 1.0
    with pytest.raises(TypeError, match="give unbiased or correction, not both"):
        tc.var(tc.tensor([1.0, 2.0]), 0, True, correction=0)


# ----- products -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "shape_a", "shape_b"), [("mm", (3, 4), (4, 2)), ("bmm", (2, 3, 4), (2, 4, 5)),
                                                          ("dot", (5,), (5,)), ("outer", (3,), (4,))])
def test_products_match_pytorch(torch, name, shape_a, shape_b):
    rng = np.random.default_rng(6)
    a, b = rng.uniform(-2, 2, shape_a), rng.uniform(-2, 2, shape_b)
    _compare(torch, getattr(tc, name), getattr(torch, name), a, b)
    _compare(torch, lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), a, b)


def test_products_pinned():
    a, b = tc.tensor([[1.0, 2.0], [3.0, 4.0]]), tc.tensor([[5.0], [6.0]])
    assert tc.mm(a, b).tolist() == [[17.0], [39.0]]
    assert tc.dot(tc.tensor([1.0, 2.0]), tc.tensor([3.0, 4.0])).item() == 11.0
    assert tc.outer(tc.tensor([1.0, 2.0]), tc.tensor([3.0, 4.0, 5.0])).tolist() == [[3, 4, 5], [6, 8, 10]]
    assert tc.bmm(a[None], b[None]).tolist() == [[[17.0], [39.0]]]
    assert tc.outer(tc.tensor([1, 2]), tc.tensor([0.5], dtype=tc.float64)).dtype == tc.float64


@pytest.mark.parametrize(("name", "shape_a", "shape_b", "message"), [
    ("mm", (2, 3), (4,), "mat2 must be a matrix"),
    ("mm", (2, 3), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    ("mm", (2, 2, 3), (3, 5), "self must be a matrix"),
    ("bmm", (2, 3), (2, 3, 4), "batch1 must be a 3D tensor"),
    ("bmm", (2, 2, 3), (3, 3, 5), r"batch2 tensor to be: \[2, 3\] but got: \[3, 3\]"),
    ("bmm", (2, 2, 3), (2, 4, 5), r"batch2 tensor to be: \[2, 3\] but got: \[2, 4\]"),
    ("dot", (2, 3), (3,), "1D tensors expected, but got 2D and 1D tensors"),
    ("dot", (3,), (4,), "inconsistent tensor size.*3 and 4 elements"),
    ("outer", (3, 1), (3,), "Expected 1-D argument self, but got 2-D"),
])
def test_products_refuse_shapes_as_pytorch(torch, name, shape_a, shape_b, message):
    with pytest.raises(RuntimeError, match=message):
        getattr(torch, name)(torch.ones(shape_a), torch.ones(shape_b))
    with pytest.raises(RuntimeError, match=message):
        getattr(tc, name)(tc.ones(*shape_a), tc.ones(*shape_b))


def test_products_refuse_mixed_dtypes_and_non_tensors():
    with pytest.raises(RuntimeError, match="dot: expected both vectors to have same dtype"):
        tc.dot(tc.ones(3), tc.ones(3, dtype=tc.float64))
    with pytest.raises(RuntimeError, match="expected operands of one dtype"):
        tc.mm(tc.ones(2, 2), tc.ones(2, 2, dtype=tc.float64))
    with pytest.raises(TypeError, match="mm.*argument 'mat2' must be a Tensor"):
        tc.mm(tc.ones(2, 2), np.ones((2, 2)))


@pytest.mark.parametrize(("equation", "shapes"), [
    ("ij,jk->ik", [(3, 4), (4, 2)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->ji", [(3, 4)]),
    ("ij->i", [(3, 4)]), ("ij->", [(3, 4)]), ("i,j->ij", [(3,), (4,)]), ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ijk,j->ik", [(2, 3, 4), (3,)]), ("ij,jk", [(2, 3), (3, 2)]),
    ("ba,ca", [(2, 3), (4, 3)]), ("i j , j k -> k i", [(2, 3), (3, 4)]), ("ij,kl->ijkl", [(2, 3), (1, 2)]),
    ("ij,j->", [(2, 3), (3,)]),
])
def test_einsum_matches_pytorch(torch, equation, shapes):
    rng = np.random.default_rng(7)
    arrays = [rng.uniform(-2, 2, shape) for shape in shapes]
    _compare(torch, lambda *ts: tc.einsum(equation, *ts), lambda *ts: torch.einsum(equation, *ts), *arrays)
    _compare(torch, lambda *ts: tc.einsum(equation, list(ts)), lambda *ts: torch.einsum(equation, list(ts)), *arrays)


def test_einsum_pinned_and_refusals():
    a = tc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = tc.tensor([10.0, 20.0])
    out = tc.einsum("ij,j->i", a, b)
    assert out.tolist() == [50.0, 110.0]
    out.sum().backward()
    assert a.grad.tolist() == [[10.0, 20.0], [10.0, 20.0]]
    with pytest.raises(NotImplementedError, match="ellipsis"):
        tc.einsum("...ij,jk->...ik", a, a)
    with pytest.raises(NotImplementedError, match="repeated within one operand"):
        tc.einsum("ii->i", a)
    with pytest.raises(ValueError, match="subscript 'j' has size 2 in one operand and 3"):
        tc.einsum("ij,jk->ik", a, tc.ones(3, 2))
    with pytest.raises(ValueError, match="names 2 operands, but 1 were given"):
        tc.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="operand 0 has 2 dims"):
        tc.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="appear in no operand"):
        tc.einsum("ij->z", a)
    with pytest.raises(RuntimeError, match="expected operands of one dtype"):
        tc.einsum("ij,jk->ik", a, tc.ones(2, 2, dtype=tc.float64))
    with pytest.raises(TypeError, match="einsum.*operands\\[1\\].*must be a Tensor"):
        tc.einsum("ij,jk->ik", a, np.ones((2, 2)))


# ----- sorting ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_pytorch_values_indices_and_gradient(torch, dim, descending):
    x = np.random.default_rng(8).permutation(24).reshape(4, 6).astype(np.float64)  # distinct: one right order
    x[1, 2] = np.nan
    ours, theirs = tc.sort(tc.tensor(x), dim, descending), torch.sort(torch.tensor(x), dim=dim, descending=descending)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    assert ours.indices.dtype == tc.int64
    np.testing.assert_array_equal(tc.argsort(tc.tensor(x), dim, descending).numpy(),
                                  torch.argsort(torch.tensor(x), dim=dim, descending=descending).numpy())
    _compare(torch, lambda t: t.sort(dim, descending)[0], lambda t: t.sort(dim, descending)[0], x)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_keeps_ties_in_order_as_pytorch_stable_sort(torch, descending):
    x = np.array([2.0, 1.0, 2.0, 1.0, 3.0, 2.0])
    ours = tc.tensor(x).sort(descending=descending)
    theirs = torch.tensor(x).sort(descending=descending, stable=True)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    _compare(torch, lambda t: t.sort(descending=descending).values,
             lambda t: t.sort(descending=descending, stable=True).values, x)


def test_sort_pinned_and_0d():
    values, indices = tc.tensor([[3.0, 1.0, 2.0]]).sort()
    assert values.tolist() == [[1.0, 2.0, 3.0]] and indices.tolist() == [[1, 2, 0]]
    assert tc.tensor([3, 1, 2]).argsort(descending=True).tolist() == [0, 2, 1]
    x = tc.tensor(2.5, dtype=tc.float64, requires_grad=True)
    result = x.sort()
    assert result.values.item() == 2.5 and result.indices.item() == 0 and result.indices.shape == ()
    result.values.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize(("k", "dim", "largest"), [(2, -1, True), (3, 0, False), (0, 1, True), (6, 1, False)])
def test_topk_matches_pytorch(torch, k, dim, largest):
    x = np.random.default_rng(9).permutation(24).reshape(4, 6).astype(np.float64)
    x[2, 3] = np.nan
    ours = tc.topk(tc.tensor(x), k, dim, largest)
    theirs = torch.topk(torch.tensor(x), k, dim, largest)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    _compare(torch, lambda t: t.topk(k, dim, largest).values, lambda t: t.topk(k, dim, largest).values, x)


def test_topk_pinned_and_errors():
    x = tc.tensor([1.0, 5.0, 3.0, 4.0], dtype=tc.float64, requires_grad=True)
    values, indices = x.topk(2)
    assert values.tolist() == [5.0, 4.0] and indices.tolist() == [1, 3]
    values.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert x.topk(1, largest=False).indices.tolist() == [0]
    with pytest.raises(RuntimeError, match="selected index k out of range: k=5"):
        x.topk(5)
    with pytest.raises(RuntimeError, match="selected index k out of range: k=-1"):
        x.topk(-1)
    with pytest.raises(IndexError, match="topk: Dimension out of range"):
        x.topk(1, dim=1)
    with pytest.raises(TypeError, match="topk: k must be an int"):
        x.topk(1.5)
