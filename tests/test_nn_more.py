"""LayerNorm/GroupNorm, the L1/SmoothL1/Huber/KLDiv losses, Embedding, ModuleDict/ParameterList/get_submodule,
LogSoftmax/Softmin/PReLU: values and gradients against PyTorch (float64), values pinned without it, bad input
refused."""

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn

_rng = np.random.default_rng(0)


def _array(*shape, low=-2.0, high=2.0):
    return _rng.uniform(low, high, size=shape)


def _run(fn, arrays, grad_flags, library):
    """fn's output and the gradients of the inputs flagged, for the upstream gradient 1..n (as float64 arrays);
    `library` is tc or torch."""
    if library is tc:
        inputs = [tc.tensor(a, requires_grad=flag) if isinstance(a, np.ndarray) else a
                  for a, flag in zip(arrays, grad_flags)]
    else:
        inputs = [library.tensor(a, requires_grad=flag) if isinstance(a, np.ndarray) else a
                  for a, flag in zip(arrays, grad_flags)]
    out = fn(*inputs)
    upstream = np.arange(1, out.numel() + 1, dtype=np.float64).reshape(tuple(out.shape)) / out.numel()
    out.backward(library.tensor(upstream))
    grads = [t.grad.detach().numpy() for t, flag in zip(inputs, grad_flags) if flag]
    return out.detach().numpy(), grads


def _same_as_torch(ours, theirs, arrays, grad_flags=None, rtol=1e-10, atol=1e-12):
    torch = pytest.importorskip("torch")
    if grad_flags is None:
        grad_flags = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    out, grads = _run(ours, arrays, grad_flags, tc)
    expected_out, expected_grads = _run(theirs, arrays, grad_flags, torch)
    np.testing.assert_allclose(out, expected_out, rtol=rtol, atol=atol)
    assert len(grads) == len(expected_grads)
    for got, want in zip(grads, expected_grads):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ----- layer_norm and group_norm ----------------------------------------------------------------------------------
def test_layer_norm_gives_zero_mean_unit_variance_rows_then_the_affine():
    x = _array(3, 4, 5) * 3 + 7
    out = F.layer_norm(tc.tensor(x), (4, 5)).numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(1, 2)), 1, rtol=1e-5)  # var / (var + eps)
    weight, bias = _array(5), _array(5)
    affine = F.layer_norm(tc.tensor(x), 5, tc.tensor(weight), tc.tensor(bias), eps=0.0).numpy()
    expected = (x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True) * weight + bias
    np.testing.assert_allclose(affine, expected, rtol=1e-12)


def test_group_norm_normalises_each_group_of_each_sample():
    x = _array(2, 6, 3, 2) + 5
    out = F.group_norm(tc.tensor(x), 3, eps=0.0).numpy().reshape(2, 3, -1)
    np.testing.assert_allclose(out.mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=2), 1, rtol=1e-12)


@pytest.mark.parametrize(("shape", "normalized", "affine"), [
    ((4, 5), (5,), "both"), ((2, 3, 4), (3, 4), "both"), ((2, 3, 2, 3), (3,), "weight"), ((6,), (6,), "none"),
    ((3, 4), (4,), "bias"),
])
def test_layer_norm_matches_torch(shape, normalized, affine):
    torch = pytest.importorskip("torch")
    weight = _array(*normalized) if affine in ("both", "weight") else None
    bias = _array(*normalized) if affine in ("both", "bias") else None
    arrays = [_array(*shape) * 2 + 1, weight, bias]
    _same_as_torch(lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-3),
                   lambda x, w, b: torch.nn.functional.layer_norm(x, normalized, w, b, eps=1e-3), arrays,
                   [True, weight is not None, bias is not None])


@pytest.mark.parametrize(("shape", "groups", "affine"), [
    ((3, 4), 2, True), ((2, 6, 3), 3, True), ((2, 4, 2, 3), 2, True), ((2, 3, 4), 1, False), ((2, 3, 4), 3, True),
    ((1, 4, 2, 2, 2), 4, True),
])
def test_group_norm_matches_torch(shape, groups, affine):
    torch = pytest.importorskip("torch")
    channels = shape[1]
    weight, bias = (_array(channels), _array(channels)) if affine else (None, None)
    _same_as_torch(lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-4),
                   lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b, eps=1e-4),
                   [_array(*shape), weight, bias], [True, affine, affine])


def test_layer_norm_and_group_norm_modules_match_torchs_parameters_and_outputs():
    torch = pytest.importorskip("torch")
    for ours, theirs, shape in [
        (nn.LayerNorm([3, 4], eps=1e-4, dtype="float64"), torch.nn.LayerNorm([3, 4], eps=1e-4, dtype=torch.float64),
         (2, 3, 4)),
        (nn.LayerNorm(4, bias=False, dtype="float64"), torch.nn.LayerNorm(4, bias=False, dtype=torch.float64),
         (2, 4)),
        (nn.LayerNorm(4, elementwise_affine=False), torch.nn.LayerNorm(4, elementwise_affine=False), (2, 4)),
        (nn.GroupNorm(2, 4, dtype="float64"), torch.nn.GroupNorm(2, 4, dtype=torch.float64), (2, 4, 3)),
        (nn.GroupNorm(1, 3, affine=False), torch.nn.GroupNorm(1, 3, affine=False), (2, 3, 2, 2)),
    ]:
        expected = theirs.state_dict()
        assert list(ours.state_dict()) == list(expected)
        for key, value in ours.state_dict().items():
            np.testing.assert_array_equal(value.detach().numpy(), expected[key].numpy())
            assert str(value.dtype) == str(expected[key].dtype).removeprefix("torch.")
        x = _array(*shape).astype(ours.weight.dtype if ours.weight is not None else np.float32)
        np.testing.assert_allclose(ours(tc.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_layer_norm_refuses_bad_shapes_and_arguments():
    x = tc.tensor(_array(2, 3))
    with pytest.raises(ValueError, match=r"normalized_shape=\[4\].*size \[2, 3\]"):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, (2, 2, 3))
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, ())
    with pytest.raises(TypeError, match="normalized_shape"):
        F.layer_norm(x, "3")
    with pytest.raises(ValueError, match=r"weight should have shape \(3,\)"):
        F.layer_norm(x, 3, tc.tensor(_array(4)))
    with pytest.raises(TypeError, match="dtype float32 but the input has float64"):
        F.layer_norm(x, 3, tc.ones(3, dtype=tc.float32))
    with pytest.raises(TypeError, match="float tensor"):
        F.layer_norm(tc.tensor([[1, 2, 3]]), 3)
    with pytest.raises(ValueError, match="eps"):
        F.layer_norm(x, 3, eps=-1.0)
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.layer_norm(_array(2, 3), 3)
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(-1)
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm([])


@pytest.mark.parametrize(("op", "shape"), [("group_norm", (0, 4)), ("group_norm", (2, 4, 0)),
                                           ("group_norm", (0, 4, 3)), ("layer_norm", (0, 4)), ("layer_norm", (2, 0))])
def test_empty_input_gives_an_empty_result_and_gradient(op, shape):
    x = tc.zeros(*shape, dtype=tc.float64, requires_grad=True)
    out = F.group_norm(x, 2) if op == "group_norm" else F.layer_norm(x, shape[-1:])
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == shape


def test_group_norm_refuses_bad_groups_and_shapes():
    x = tc.tensor(_array(2, 6, 3))
    with pytest.raises(ValueError, match=r"channels \(6\) to be divisible by num_groups \(4\)"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match="num_groups must be a positive integer"):
        F.group_norm(x, 0)
    with pytest.raises(ValueError, match="shape"):
        F.group_norm(tc.tensor(_array(6)), 2)
    with pytest.raises(ValueError, match=r"bias should have shape \(6,\)"):
        F.group_norm(x, 2, tc.tensor(_array(6)), tc.tensor(_array(3)))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 6, \*\)"):
        nn.GroupNorm(3, 6)(tc.tensor(_array(2, 4, 3), dtype=tc.float32))


# ----- losses ---------------------------------------------------------------------------------------------------
def test_regression_losses_pinned_values():
    x, y = tc.tensor([0.0, 0.5, 3.0, -2.0]), tc.tensor([0.0, 0.0, 0.0, 0.0])
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(5.5)
    # smooth l1, beta 1: 0, 0.125, 2.5, 1.5
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none").numpy(), [0, 0.125, 2.5, 1.5])
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none", beta=0.0).numpy(), [0, 0.5, 3, 2])
    # huber, delta 2: 0, 0.125, 2 * (3 - 1) = 4, 2 * (2 - 1) = 2
    np.testing.assert_allclose(F.huber_loss(x, y, reduction="none", delta=2.0).numpy(), [0, 0.125, 4, 2])
    assert F.huber_loss(x, y).item() == pytest.approx((0 + 0.125 + 2.5 + 1.5) / 4)


def test_kl_div_pinned_values_and_reductions():
    p = np.array([[0.5, 0.5], [0.25, 0.75]])
    log_q = np.log(np.array([[0.25, 0.75], [0.5, 0.5]]))
    elementwise = p * (np.log(p) - log_q)
    out = F.kl_div(tc.tensor(log_q), tc.tensor(p), reduction="none").numpy()
    np.testing.assert_allclose(out, elementwise, rtol=1e-12)
    assert F.kl_div(tc.tensor(log_q), tc.tensor(p)).item() == pytest.approx(elementwise.sum() / 4)  # numel
    assert F.kl_div(tc.tensor(log_q), tc.tensor(p), reduction="batchmean").item() == pytest.approx(
        elementwise.sum() / 2)
    assert F.kl_div(tc.tensor(log_q), tc.tensor(np.log(p)), reduction="sum", log_target=True).item() == \
        pytest.approx(elementwise.sum())
    zero_target = F.kl_div(tc.tensor([-1.0, -2.0]), tc.tensor([0.0, 1.0]), reduction="none").numpy()
    np.testing.assert_array_equal(zero_target, [0.0, 2.0])  # 0 * log 0 is 0, not NaN


def test_kl_div_mean_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(tc.tensor(_array(2, 3)), tc.tensor(_array(2, 3, low=0.1, high=1)))


_LOSS_CASES = [
    ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}), ("huber_loss", {"delta": 0.3}), ("huber_loss", {"delta": 2.5}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "options"), _LOSS_CASES)
def test_regression_losses_match_torch(name, options, reduction):
    torch = pytest.importorskip("torch")
    x, y = _array(3, 4, low=-3, high=3), _array(3, 4, low=-3, high=3)
    x[0, 0] = y[0, 0]  # a zero difference: the gradient there is PyTorch's (0)
    if "beta" in options or "delta" in options:  # a difference of exactly beta or delta: the branch at the seam
        x[1, 1] = y[1, 1] + options.get("beta", options.get("delta"))
    _same_as_torch(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **options),
                   lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **options), [x, y])


@pytest.mark.parametrize(("name", "options"), _LOSS_CASES)
def test_regression_losses_broadcast_a_target_with_pytorchs_warning(name, options):
    torch = pytest.importorskip("torch")
    x, y = _array(2, 3), _array(3)
    with pytest.warns(UserWarning, match="target size"):
        _same_as_torch(lambda a, b: getattr(F, name)(a, b, **options),
                       lambda a, b: getattr(torch.nn.functional, name)(a, b, **options), [x, y])


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    torch = pytest.importorskip("torch")
    x = np.log(_rng.dirichlet(np.ones(4), size=(2, 3)))
    y = _rng.dirichlet(np.ones(4), size=(2, 3))
    if log_target:
        y = np.log(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's warning for 'mean'
        _same_as_torch(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                       lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
                       [x, y])


def test_kl_div_broadcast_target_matches_torch():
    torch = pytest.importorskip("torch")
    _same_as_torch(lambda a, b: F.kl_div(a, b, reduction="batchmean"),
                   lambda a, b: torch.nn.functional.kl_div(a, b, reduction="batchmean"),
                   [_array(2, 3, 4), _array(3, 4, low=0.1, high=1.0)])


def test_loss_modules_match_torch():
    torch = pytest.importorskip("torch")
    x, y = _array(3, 4), _array(3, 4, low=0.1, high=1.0)
    for ours, theirs in [
        (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum")),
        (nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5)),
        (nn.HuberLoss("none", 0.7), torch.nn.HuberLoss("none", 0.7)),
        (nn.KLDivLoss(reduction="batchmean", log_target=False), torch.nn.KLDivLoss(reduction="batchmean")),
    ]:
        np.testing.assert_allclose(ours(tc.tensor(x), tc.tensor(y)).detach().numpy(),
                                   theirs(torch.tensor(x), torch.tensor(y)).numpy(), rtol=1e-12)


def test_losses_refuse_bad_arguments():
    x, y = tc.tensor(_array(2, 3)), tc.tensor(_array(2, 3))
    with pytest.raises(ValueError, match="negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-0.5)
    with pytest.raises(ValueError, match="non-positive values for delta"):
        F.huber_loss(x, y, delta=0.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.l1_loss(x, y, reduction="batchmean")
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.kl_div(x, y, reduction="avg")
    with pytest.raises(ValueError):
        F.l1_loss(x, tc.tensor(_array(4)))
    with pytest.raises(TypeError, match="float tensor"):
        F.l1_loss(tc.tensor([1, 2]), tc.tensor([1, 2]))
    with pytest.raises(TypeError, match="float tensor"):
        F.kl_div(tc.tensor([1, 2]), tc.tensor([0.5, 0.5]))
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.huber_loss(_array(2), y)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="delta must be positive"):
        nn.HuberLoss(delta=-1.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.L1Loss(reduction="batchmean")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.KLDivLoss(reduction="avg")


# ----- embedding ------------------------------------------------------------------------------------------------
def test_embedding_gathers_rows_and_scatter_adds_their_gradients():
    weight = tc.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    indices = tc.tensor([[0, 2], [2, 2]])
    out = F.embedding(indices, weight)
    np.testing.assert_array_equal(out.detach().numpy(), np.arange(12.0).reshape(4, 3)[[[0, 2], [2, 2]]])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[1] * 3, [0] * 3, [3] * 3, [0] * 3])


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_matches_torch_and_gives_the_padding_row_no_gradient(padding_idx):
    torch = pytest.importorskip("torch")
    indices = np.array([[1, 0, 3], [3, 3, 1]])
    _same_as_torch(lambda w: F.embedding(tc.tensor(indices), w, padding_idx=padding_idx),
                   lambda w: torch.nn.functional.embedding(torch.tensor(indices), w, padding_idx=padding_idx),
                   [_array(4, 3)])


def test_embedding_module_starts_as_torchs_and_refuses_bad_indices():
    torch = pytest.importorskip("torch")
    layer = nn.Embedding(10, 3, padding_idx=-2)
    reference = torch.nn.Embedding(10, 3, padding_idx=-2)
    assert layer.padding_idx == reference.padding_idx == 8
    assert list(layer.state_dict()) == list(reference.state_dict())
    np.testing.assert_array_equal(layer.weight.detach().numpy()[8], 0)
    assert layer.weight.dtype == np.float32 and repr(layer) == repr(reference)
    assert 0.5 < layer.weight.detach().numpy().std() < 1.5  # N(0, 1)
    out = layer(tc.tensor([[8, 1]]))
    assert out.shape == (1, 2, 3)
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[8], 0)
    np.testing.assert_array_equal(layer.weight.grad.numpy()[1], 1)


def test_embedding_refuses_bad_input():
    weight = tc.tensor(_array(4, 3))
    with pytest.raises(IndexError, match=r"indices \[4\].*4 rows"):
        F.embedding(tc.tensor([0, 4]), weight)
    with pytest.raises(IndexError, match=r"\[-1\]"):
        F.embedding(tc.tensor([-1]), weight)
    with pytest.raises(TypeError, match="indices.long"):
        F.embedding(tc.tensor([0.0]), weight)
    with pytest.raises(ValueError, match="2-D"):
        F.embedding(tc.tensor([0]), tc.tensor(_array(4)))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        F.embedding(tc.tensor([0]), weight, padding_idx=4)
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(4, 2, padding_idx=-5)
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        nn.Embedding(4, 0)


# ----- containers and get_submodule ----------------------------------------------------------------------------
def test_module_dict_registers_its_modules_by_key_in_order():
    layers = nn.ModuleDict({"encoder": nn.Linear(2, 3), "act": nn.ReLU()})
    layers["decoder"] = nn.Linear(3, 2)
    assert list(layers) == ["encoder", "act", "decoder"] and len(layers) == 3 and "act" in layers
    assert list(layers.keys()) == ["encoder", "act", "decoder"]
    assert [name for name, _ in layers.named_parameters()] == ["encoder.weight", "encoder.bias", "decoder.weight",
                                                               "decoder.bias"]
    replacement = nn.Tanh()
    layers["act"] = replacement  # replaced in its place
    assert list(layers.items())[1] == ("act", replacement)
    assert layers.pop("encoder") is not None and list(layers) == ["act", "decoder"]
    del layers["act"]
    assert list(layers.values())[0] is layers["decoder"]
    layers.update([("a", nn.ReLU()), ("b", nn.Sigmoid())])
    assert list(layers) == ["decoder", "a", "b"]
    layers.clear()
    assert len(layers) == 0 and list(layers.parameters()) == []


def test_module_dict_refuses_bad_keys_and_values_before_changing_anything():
    layers = nn.ModuleDict({"a": nn.ReLU()})
    with pytest.raises(KeyError, match="has no module 'b'"):
        layers["b"]
    with pytest.raises(TypeError, match="must be an nn.Module"):
        layers["b"] = 3
    with pytest.raises(TypeError, match="keys must be strings"):
        layers.update({1: nn.ReLU()})
    with pytest.raises(KeyError, match="would hide"):
        layers["keys"] = nn.ReLU()
    with pytest.raises(TypeError, match="must be an nn.Module"):
        layers.update([("c", nn.ReLU()), ("d", "relu")])
    with pytest.raises(ValueError, match="pair"):
        layers.update([("c", nn.ReLU(), 1)])
    assert list(layers) == ["a"]


def test_parameter_list_registers_parameters_by_position():
    params = nn.ParameterList([nn.Parameter(tc.zeros(2)), tc.ones(3)])
    assert isinstance(params[1], nn.Parameter) and params[1].requires_grad
    params.append(tc.ones(1))
    params.extend([tc.zeros(2, 2)])
    assert len(params) == 4 and [p.shape for p in params] == [(2,), (3,), (1,), (2, 2)]
    assert [name for name, _ in params.named_parameters()] == ["0", "1", "2", "3"]
    params[-1] = tc.ones(5)
    assert params[3].shape == (5,) and list(params.state_dict()) == ["0", "1", "2", "3"]
    assert [p.shape for p in params[1:3]] == [(3,), (1,)]
    model = nn.Module()
    model.scales = params
    assert len(list(model.parameters())) == 4
    with pytest.raises(TypeError, match="holds Tensors"):
        params.append(3.0)
    with pytest.raises(TypeError, match="holds Tensors"):
        params.extend([tc.ones(1), "x"])
    assert len(params) == 4
    with pytest.raises(IndexError, match="out of range for 4"):
        params[4]


def test_get_submodule_walks_the_dotted_path():
    model = nn.Sequential(nn.Linear(2, 2), nn.ModuleDict({"head": nn.Sequential(nn.ReLU())}))
    assert model.get_submodule("") is model
    assert model.get_submodule("1.head.0") is model[1]["head"][0]
    with pytest.raises(AttributeError, match="has no submodule 'tail'"):
        model.get_submodule("1.tail")
    with pytest.raises(AttributeError, match="'weight': it is an attribute, not an nn.Module"):
        model.get_submodule("0.weight")
    with pytest.raises(TypeError, match="must be a str"):
        model.get_submodule(0)


# ----- LogSoftmax, Softmin, PReLU ---------------------------------------------------------------------------------
def test_log_softmax_and_softmin_modules():
    x = _array(3, 4)
    np.testing.assert_allclose(nn.Softmin(dim=1)(tc.tensor(x)).numpy(),
                               np.exp(-x) / np.exp(-x).sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(tc.tensor(x)).numpy(),
                               x - np.log(np.exp(x).sum(axis=0, keepdims=True)), rtol=1e-12)
    assert repr(nn.Softmin(1)) == "Softmin(dim=1)" and repr(nn.LogSoftmax(0)) == "LogSoftmax(dim=0)"


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_softmin_and_log_softmax_match_torch(dim):
    torch = pytest.importorskip("torch")
    x = _array(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's implicit-dim warning
        _same_as_torch(lambda a: F.softmin(a, dim), lambda a: torch.nn.functional.softmin(a, dim), [x])
        _same_as_torch(lambda a: nn.LogSoftmax(dim)(a), lambda a: torch.nn.LogSoftmax(dim)(a), [x])


@pytest.mark.parametrize(("shape", "slopes"), [((3, 4), 4), ((2, 3, 2, 2), 3), ((2, 3), 1), ((5,), 1), ((), 1)])
def test_prelu_matches_torch_including_at_zero(shape, slopes):
    torch = pytest.importorskip("torch")
    x = _array(*shape)
    if x.size:
        x.reshape(-1)[0] = 0.0
    _same_as_torch(F.prelu, torch.nn.functional.prelu, [x, _rng.uniform(-0.5, 0.5, slopes)])


def test_prelu_module_and_errors():
    torch = pytest.importorskip("torch")
    layer, reference = nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), reference.weight.detach().numpy())
    assert repr(layer) == repr(reference) and layer.weight.dtype == np.float32
    out = layer(tc.tensor([[-1.0, 2.0, -3.0]], dtype=tc.float32))
    np.testing.assert_allclose(out.detach().numpy(), [[-0.1, 2.0, -0.3]], rtol=1e-6)
    with pytest.raises(ValueError, match="found 3 parameters and channel size 4"):
        layer(tc.ones(2, 4))
    with pytest.raises(ValueError, match="scalar or 1-D"):
        F.prelu(tc.ones(2, 3), tc.ones(1, 3))
    with pytest.raises(TypeError, match="dtype float32 but the input has float64"):
        F.prelu(tc.tensor(_array(2, 3)), tc.ones(3, dtype=tc.float32))
    with pytest.raises(ValueError, match="num_parameters must be a positive integer"):
        nn.PReLU(0)
