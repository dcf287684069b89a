"""Top-level functions mirroring Tensor methods (tc.sum, tc.max, tc.matmul...), `out=`, allclose and equal."""

import numpy as np
import pytest

import tinygrad_cnn as tc

X = np.array([[0.5, -1.25, 2.0], [3.0, 0.25, -0.75]])
POSITIVE = np.abs(X) + 0.5

# (name, arguments after the tensor, the method call it mirrors)
MIRRORS = [
    ("flatten", (), lambda x: x.flatten()), ("sum", (1,), lambda x: x.sum(1)), ("mean", (), lambda x: x.mean()),
    ("max", (), lambda x: x.max()), ("min", (), lambda x: x.min()), ("argmax", (1,), lambda x: x.argmax(1)),
    ("argmin", (), lambda x: x.argmin()), ("exp", (), lambda x: x.exp()), ("abs", (), lambda x: x.abs()),
    ("clamp", (-1, 1), lambda x: x.clamp(-1, 1)), ("clip", (0,), lambda x: x.clamp(0)),
    ("reshape", ((3, 2),), lambda x: x.reshape(3, 2)), ("transpose", (0, 1), lambda x: x.transpose(0, 1)),
    ("permute", ((1, 0),), lambda x: x.permute(1, 0)), ("squeeze", (), lambda x: x.squeeze()),
    ("unsqueeze", (1,), lambda x: x.unsqueeze(1)), ("softmax", (1,), lambda x: x.softmax(1)),
    ("log_softmax", (0,), lambda x: x.log_softmax(0)), ("relu", (), lambda x: x.relu()),
    ("sigmoid", (), lambda x: x.sigmoid()), ("tanh", (), lambda x: x.tanh()), ("t", (), lambda x: x.t()),
    ("norm", (), lambda x: x.norm()), ("all", (), lambda x: x.all()), ("any", (1,), lambda x: x.any(1)),
    ("add", (2.0,), lambda x: x + 2.0), ("sub", (2.0,), lambda x: x - 2.0), ("mul", (3.0,), lambda x: x * 3.0),
    ("div", (4.0,), lambda x: x / 4.0), ("pow", (2,), lambda x: x ** 2),
    ("matmul", (tc.tensor(X.T),), lambda x: x @ tc.tensor(X.T)),
]


@pytest.mark.parametrize(("name", "args", "method"), MIRRORS, ids=[m[0] for m in MIRRORS])
def test_top_level_function_mirrors_the_method(name, args, method):
    x = tc.tensor(X)
    np.testing.assert_array_equal(getattr(tc, name)(x, *args).detach().numpy(), method(x).detach().numpy())


@pytest.mark.parametrize(("name", "args", "method"), MIRRORS, ids=[m[0] for m in MIRRORS])
def test_top_level_function_matches_pytorch(name, args, method):
    torch = pytest.importorskip("torch")
    torch_args = tuple(torch.tensor(a.detach().numpy()) if isinstance(a, tc.Tensor) else a for a in args)
    ours = getattr(tc, name)(tc.tensor(X), *args)
    theirs = getattr(torch, name)(torch.tensor(X), *torch_args)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-12)


def test_log_and_sqrt_mirror_the_methods():
    x = tc.tensor(POSITIVE)
    np.testing.assert_array_equal(tc.log(x).detach().numpy(), x.log().detach().numpy())
    np.testing.assert_array_equal(tc.sqrt(x).detach().numpy(), x.sqrt().detach().numpy())


def test_numel_allclose_equal():
    x = tc.ones(2, 3)
    assert tc.numel(x) == 6
    assert tc.allclose(x, x + 1e-9) and not tc.allclose(x, x + 1e-3)
    assert tc.allclose(tc.tensor([1.0, 1.0]), tc.tensor([1.0]))  # broadcast, as PyTorch
    assert tc.allclose(tc.tensor([float("nan")]), tc.tensor([float("nan")]), equal_nan=True)
    assert tc.equal(x, tc.ones(2, 3)) and not tc.equal(x, tc.ones(3, 2)) and not tc.equal(x, tc.ones(6))
    assert tc.equal(tc.tensor([1]), tc.tensor([1.0])) and not tc.equal(tc.tensor([np.nan]), tc.tensor([np.nan]))


def test_allclose_refuses_mixed_dtypes_as_pytorch():
    with pytest.raises(RuntimeError, match="float32 did not match float64"):
        tc.allclose(tc.ones(1), tc.ones(1, dtype=tc.float64))
    with pytest.raises(TypeError, match="argument 'other' must be a Tensor"):
        tc.allclose(tc.ones(1), 1.0)


def test_allclose_and_equal_match_pytorch():
    torch = pytest.importorskip("torch")
    pairs = [([1.0, 2.0], [1.0, 2.0 + 1e-7]), ([1.0, 2.0], [1.0, 2.1]), ([1.0, 2.0], [1.0]), ([1, 2], [1, 2])]
    for a, b in pairs:
        assert tc.allclose(tc.tensor(a), tc.tensor(b)) == torch.allclose(torch.tensor(a), torch.tensor(b))
        assert tc.equal(tc.tensor(a), tc.tensor(b)) == torch.equal(torch.tensor(a), torch.tensor(b))


def test_functions_take_a_number_first_where_pytorch_does():
    x = tc.tensor([1.0, 2.0])
    assert tc.add(2, x).tolist() == [3.0, 4.0] and tc.sub(1, x, alpha=2).tolist() == [-1.0, -3.0]
    assert tc.mul(2, x).tolist() == [2.0, 4.0] and tc.pow(2, x).tolist() == [2.0, 4.0]
    assert tc.div(1, x).tolist() == [1.0, 0.5]


@pytest.mark.parametrize("call", [lambda: tc.exp([1.0]), lambda: tc.sum(np.ones(2)), lambda: tc.add([1.0], 2),
                                  lambda: tc.matmul(tc.ones(2, 2), [[1.0, 0.0], [0.0, 1.0]])])
def test_functions_refuse_non_tensors(call):
    with pytest.raises(TypeError, match="must be a Tensor"):
        call()


# ----- max and min ---------------------------------------------------------------------------------------
def test_max_and_min_with_a_dim_give_values_and_indices():
    x = tc.tensor(X)
    values, indices = tc.max(x, 1)
    assert values.tolist() == [2.0, 3.0] and indices.tolist() == [2, 0]
    result = tc.min(x, dim=0, keepdim=True)
    assert result.values.tolist() == [[0.5, -1.25, -0.75]] and result.indices.tolist() == [[0, 0, 1]]
    assert tc.max(x).item() == 3.0


def test_max_of_two_tensors_is_elementwise_with_broadcasting_and_promotion():
    a, b = tc.tensor([[1.0, 5.0, -2.0]]), tc.tensor([[3], [0]])
    assert tc.max(a, b).tolist() == [[3.0, 5.0, 3.0], [1.0, 5.0, 0.0]] and tc.max(a, b).dtype == np.float32
    assert tc.min(a, b).tolist() == [[1.0, 3.0, -2.0], [0.0, 0.0, -2.0]]


def test_max_of_two_tensors_gradient_matches_pytorch_with_ties():
    torch = pytest.importorskip("torch")
    a, b = np.array([[1.0, 2.0, -3.0], [0.5, 0.5, 4.0]]), np.array([2.0, 2.0, -1.0])
    for ours_op, theirs_op in ((tc.max, torch.max), (tc.min, torch.min)):
        ours_a, ours_b = tc.tensor(a, requires_grad=True), tc.tensor(b, requires_grad=True)
        theirs_a, theirs_b = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        ours, theirs = ours_op(ours_a, ours_b), theirs_op(theirs_a, theirs_b)
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
        weights = np.arange(1.0, 7.0).reshape(2, 3)
        (ours * tc.tensor(weights)).sum().backward()
        (theirs * torch.tensor(weights)).sum().backward()
        np.testing.assert_array_equal(ours_a.grad.detach().numpy(), theirs_a.grad.numpy())
        np.testing.assert_array_equal(ours_b.grad.detach().numpy(), theirs_b.grad.numpy())


def test_max_with_a_dim_refuses_out():
    with pytest.raises(TypeError, match="out= is supported only for max\\(input, other\\)"):
        tc.max(tc.ones(2, 2), 1, out=tc.zeros(2))


# ----- out= ----------------------------------------------------------------------------------------------
def test_out_receives_the_result_in_place():
    x, out = tc.tensor([[1.0, 2.0], [3.0, 4.0]]), tc.zeros(2, 2)
    version = out._version
    result = tc.matmul(x, x.T, out=out)
    assert result is out and out._version == version + 1
    np.testing.assert_array_equal(out.detach().numpy(), (x @ x.T).detach().numpy())
    for call, expected in [(lambda o: tc.add(x, 1, alpha=2, out=o), x + 2), (lambda o: tc.mul(x, x, out=o), x * x),
                           (lambda o: tc.exp(x, out=o), x.exp()), (lambda o: tc.clamp(x, 2, 3, out=o), x.clamp(2, 3)),
                           (lambda o: tc.max(x, x.T, out=o), tc.max(x, x.T))]:
        np.testing.assert_array_equal(call(out).detach().numpy(), expected.detach().numpy())


def test_out_views_and_aliases_see_the_result():
    base = tc.zeros(4)
    view = base[::2]
    tc.add(tc.ones(2), 1, out=view)
    assert base.tolist() == [2.0, 0.0, 2.0, 0.0]
    x = tc.tensor([1.0, 2.0])
    tc.mul(x, x, out=x)
    assert x.tolist() == [1.0, 4.0]


def test_out_is_cast_where_pytorch_casts_and_refused_where_it_refuses():
    out = tc.zeros(2)
    tc.add(tc.tensor([1, 2]), tc.tensor([3, 4]), out=out)
    assert out.tolist() == [4.0, 6.0] and out.dtype == np.float32
    integers = tc.zeros(2, dtype=tc.int64)
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired output type int64"):
        tc.add(tc.ones(2), 1, out=integers)
    assert integers.tolist() == [0, 0]


def test_out_of_another_shape_is_refused_unless_empty():
    out = tc.zeros(3)
    with pytest.raises(RuntimeError, match="out has shape \\(3,\\) but the result has shape \\(2,\\)"):
        tc.add(tc.ones(2), 1, out=out)
    assert out.tolist() == [0.0, 0.0, 0.0]
    empty = tc.zeros(0)
    assert tc.add(tc.ones(2), 1, out=empty) is empty and empty.tolist() == [2.0, 2.0]


def test_out_is_refused_while_recording_gradients_as_pytorch():
    x, out = tc.ones(2, requires_grad=True), tc.zeros(2)
    with pytest.raises(RuntimeError, match="add\\(\\): functions with out=... arguments don't support automatic"):
        tc.add(x, 1, out=out)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        tc.add(tc.ones(2), 1, out=tc.zeros(2, requires_grad=True))
    assert out.tolist() == [0.0, 0.0]
    with tc.no_grad():
        tc.add(x, 1, out=out)
    assert out.tolist() == [2.0, 2.0] and not out.requires_grad


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not ndarray"):
        tc.exp(tc.ones(2), out=np.zeros(2))


def test_out_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name, args in [("add", (2.0,)), ("sub", (X,)), ("mul", (X,)), ("div", (2.0,)), ("pow", (2,)), ("exp", ()),
                       ("sqrt", ()), ("abs", ()), ("tanh", ()), ("sigmoid", ()), ("clamp", (-1.0, 1.0))]:
        ours_args = tuple(tc.tensor(a) if isinstance(a, np.ndarray) else a for a in args)
        torch_args = tuple(torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args)
        ours_out, theirs_out = tc.zeros(2, 3, dtype=tc.float64), torch.zeros(2, 3, dtype=torch.float64)
        getattr(tc, name)(tc.tensor(POSITIVE), *ours_args, out=ours_out)
        getattr(torch, name)(torch.tensor(POSITIVE), *torch_args, out=theirs_out)
        np.testing.assert_allclose(ours_out.detach().numpy(), theirs_out.numpy(), rtol=1e-12, err_msg=name)


def test_tensor_tutorial_snippet_runs():
    """From PyTorch's "Tensors" tutorial: arithmetic three ways, with out=."""
    tensor = tc.ones(4, 4)
    tensor[:, 1] = 0
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = tc.rand_like(y1)
    tc.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = tc.rand_like(tensor)
    tc.mul(tensor, tensor, out=z3)
    assert tc.equal(y1, y2) and tc.equal(y1, y3) and tc.equal(z1, z2) and tc.equal(z1, z3)
    agg = tensor.sum()
    assert agg.item() == 12.0 and isinstance(agg.item(), float)
