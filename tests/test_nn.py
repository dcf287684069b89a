"""nn: Module registration and state, containers, the call scope, layers against NumPy and torch."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.autograd import grad_mode


class Net(nn.Module):
    def __init__(self, dtype=None):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 3, dtype=dtype), nn.ReLU(), nn.BatchNorm1d(3, dtype=dtype))
        self.head = nn.Linear(3, 2, bias=False, dtype=dtype)
        self.scale = 2.0  # a plain attribute, not registered

    def forward(self, x):
        return self.head(self.features(x)) * self.scale


# ----- registration and walking -------------------------------------------------------------------
def test_attribute_assignment_registers_parameters_modules_and_buffers_in_order():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == [
        "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias", "head.weight"]
    assert [name for name, _ in net.named_buffers()] == [
        "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked"]
    assert [name for name, _ in net.named_children()] == ["features", "head"]
    assert [name for name, _ in net.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "head"]
    assert list(net.children()) == [net.features, net.head]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net.head.bias is None and "scale" not in dict(net.named_parameters())


def test_apply_visits_children_before_parents_and_can_reinitialise():
    net, visited = Net(), []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "BatchNorm1d", "Sequential", "Linear", "Net"]
    net.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert not net.head.weight.detach().numpy().any() and not net.features[0].weight.detach().numpy().any()


def test_shared_parameter_is_listed_once():
    net = nn.Module()
    net.a = nn.Linear(2, 2)
    net.b = nn.Linear(2, 2)
    net.b.weight = net.a.weight
    assert len(list(net.parameters())) == 3


def test_reassigning_and_deleting_attributes_updates_registration():
    net = nn.Module()
    net.layer = nn.Linear(2, 2)
    net.layer = nn.Parameter(np.zeros(2))
    assert [name for name, _ in net.named_parameters()] == ["layer"] and list(net.children()) == []
    del net.layer
    assert list(net.parameters()) == [] and not hasattr(net, "layer")


def test_assigning_a_plain_tensor_to_a_parameter_slot_raises_type_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = Tensor(np.zeros((2, 2)))


def test_assigning_before_super_init_raises_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(RuntimeError, match="super"):
        Broken()


def test_parameter_is_a_tensor_that_requires_grad_by_default():
    p = nn.Parameter(np.ones(3))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert not nn.Parameter(np.ones(3), requires_grad=False).requires_grad


def test_train_and_eval_set_every_submodule():
    net = Net()
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_drops_or_zeroes_gradients():
    net = Net(dtype=np.float64)
    net(tc.randn(5, 4, dtype=np.float64)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_double_converts_parameters_and_float_buffers_in_place_but_not_counters():
    net = Net()
    weight = net.head.weight
    assert net.double() is net
    assert all(p.dtype == np.float64 for p in net.parameters()) and net.head.weight is weight
    assert net.features[2].running_mean.dtype == np.float64
    assert net.features[2].num_batches_tracked.dtype == np.int64
    assert all(p.dtype == np.float32 for p in net.float().parameters())
    with pytest.raises(TypeError, match="int64"):
        net.to(np.int64)


# ----- state dicts --------------------------------------------------------------------------------
def test_state_dict_round_trip_restores_every_value():
    source, target = Net(), Net()
    source.features[2].running_mean.detach().numpy()[:] = [1, 2, 3]
    target.load_state_dict(source.state_dict())
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=name)
    assert list(source.state_dict()) == [
        "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
        "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked", "head.weight"]


def test_load_state_dict_reports_every_problem_at_once_and_changes_nothing():
    net = Net()
    before = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    state = {k: v.detach().numpy().copy() + 1 for k, v in Net().state_dict().items()}
    del state["head.weight"]
    state["extra.bias"] = np.zeros(2)
    state["features.0.weight"] = np.zeros((5, 4))
    with pytest.raises(ValueError) as error:
        net.load_state_dict(state)
    assert isinstance(error.value, RuntimeError)  # PyTorch's type, for code that catches that
    message = str(error.value)
    assert "'head.weight'" in message and "'extra.bias'" in message
    assert "features.0.weight" in message and "(5, 4)" in message and "(3, 4)" in message
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value.detach().numpy(), before[key])


def test_load_state_dict_not_strict_loads_the_matching_keys():
    net = Net()
    missing, unexpected = net.load_state_dict({"head.weight": np.ones((2, 3)), "other": np.ones(1)}, strict=False)
    np.testing.assert_array_equal(net.head.weight.detach().numpy(), np.ones((2, 3), np.float32))
    assert net.head.weight.dtype == np.float32
    assert "features.0.weight" in missing and unexpected == ["other"]


def test_load_state_dict_shape_mismatch_is_an_error_even_when_not_strict():
    with pytest.raises(RuntimeError, match=r"head.weight.*\(3, 2\).*\(2, 3\)"):
        Net().load_state_dict({"head.weight": np.ones((3, 2))}, strict=False)


def test_non_persistent_buffers_are_not_in_state_dict():
    module = nn.Module()
    module.register_buffer("kept", tc.zeros(2))
    module.register_buffer("scratch", tc.zeros(2), persistent=False)
    assert list(module.state_dict()) == ["kept"] and len(list(module.buffers())) == 2


def _values(module):
    """Copies of every state dict value and each tensor's version, to compare after a failed load."""
    return {k: (v.detach().numpy().copy(), v.dtype) for k, v in module.state_dict().items()}, \
        [t._version for t in module._state_targets().values()]


def _assert_same_values(module, before):
    values, versions = before
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(value.detach().numpy(), values[key][0], err_msg=key)
        assert value.dtype == values[key][1]
    assert [t._version for t in module._state_targets().values()] == versions


def test_load_state_dict_returns_the_incompatible_keys_as_a_named_tuple_like_torch():
    net = Net()
    result = net.load_state_dict(net.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == [] and result == ([], [])
    assert repr(result) == "<All keys matched successfully>"
    state = {k: v for k, v in net.state_dict().items() if k != "head.weight"}
    state["other"] = np.ones(1)
    result = net.load_state_dict(state, strict=False)
    assert result._fields == ("missing_keys", "unexpected_keys")
    assert result.missing_keys == ["head.weight"] and result.unexpected_keys == ["other"]
    assert repr(result) == "IncompatibleKeys(missing_keys=['head.weight'], unexpected_keys=['other'])"


@pytest.mark.parametrize("value", [[1.0, 2.0, 3.0], 2.0, None, "abc"])
def test_a_value_that_is_not_a_tensor_or_array_is_refused_naming_the_key(value):
    net = Net()
    state = {k: v.detach().numpy().copy() + 1 for k, v in Net().state_dict().items()}
    state["features.2.weight"] = value
    before = _values(net)
    message = rf"'features.2.weight': expected a Tensor or NumPy array, got {type(value).__name__}"
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(state)
    _assert_same_values(net, before)


def test_non_tensor_values_are_refused_by_torch_too():
    torch = pytest.importorskip("torch", reason="torch is optional: compares load_state_dict with PyTorch")
    module = torch.nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match="expected torch.Tensor"):
        module.load_state_dict({"weight": [[1.0, 2.0]], "bias": torch.zeros(1)})


@pytest.mark.parametrize("missing", ["features.2.running_mean", "features.2.running_var",
                                     "features.2.num_batches_tracked"])
def test_a_missing_buffer_is_an_error_under_strict_and_nothing_is_copied(missing):
    net = Net()
    state = {k: v.detach().numpy().copy() + 1 for k, v in Net().state_dict().items()}
    del state[missing]
    before = _values(net)
    with pytest.raises(RuntimeError, match=rf"missing keys: '{missing}'"):
        net.load_state_dict(state)
    _assert_same_values(net, before)
    assert net.load_state_dict(state, strict=False).missing_keys == [missing]


def test_values_are_cast_to_each_tensors_dtype_as_torch_copy_does():
    net = Net()  # float32 parameters, an int64 counter
    state = {k: v.detach().numpy().astype(np.float64) + 0.1 for k, v in Net().state_dict().items()}
    state["features.2.num_batches_tracked"] = np.array(7, np.int32)
    state["head.weight"] = np.arange(6, dtype=np.int64).reshape(2, 3)
    net.load_state_dict(state)
    assert net.features[0].weight.dtype == np.float32 and net.features[2].num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(
        net.features[0].weight.detach().numpy(), state["features.0.weight"].astype(np.float32)
    )
    np.testing.assert_array_equal(net.head.weight.detach().numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert net.features[2].num_batches_tracked.item() == 7


@pytest.mark.parametrize("key, value, message", [
    ("features.0.weight", np.full((3, 4), 1e300), r"features.0.weight: values of dtype float64 overflow float32"),
    ("features.2.num_batches_tracked", np.array(2.7), r"num_batches_tracked: int64 cannot hold the value 2.7"),
    ("features.2.num_batches_tracked", np.array(np.nan), r"num_batches_tracked: int64 cannot hold the value nan"),
    ("features.2.bias", np.ones(3, np.complex128), r"features.2.bias: value of dtype complex128 is not a real"),
])
def test_a_value_the_cast_would_change_is_refused_and_nothing_is_copied(key, value, message):
    # PyTorch stores these silently (inf, 2, a garbage count, the real part); we refuse them. The bad
    # key comes after others in the model's order, so a copy-as-you-go load would have changed those.
    net = Net()
    state = {k: v.detach().numpy().copy() + 1 for k, v in Net().state_dict().items()}
    state[key] = value
    before = _values(net)
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(state)
    _assert_same_values(net, before)


def test_a_state_dict_that_shares_memory_with_the_model_loads_as_given():
    # Swapping two weights through views of the model's own arrays: every value is read before any is copied.
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False))
    first, second = model[0].weight.detach().numpy().copy(), model[1].weight.detach().numpy().copy()
    state = model.state_dict()
    model.load_state_dict({"0.weight": state["1.weight"], "1.weight": state["0.weight"]})
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), second)
    np.testing.assert_array_equal(model[1].weight.detach().numpy(), first)


# ----- call scope ---------------------------------------------------------------------------------
def test_call_records_the_module_path_on_graph_nodes_and_restores_it():
    net = Net()
    out = net(tc.randn(5, 4))
    assert out.grad_fn.scope == (("", "Net"),)  # the final * scale
    matmul_node = out.grad_fn.parents[0]  # head's linear
    assert matmul_node.scope == (("", "Net"), ("head", "Linear"))
    assert grad_mode.scope == ()


def test_call_scope_names_nested_sequential_members_and_is_restored_after_errors():
    net = Net()
    seen = []

    class Spy(nn.Module):
        def forward(self, x):
            seen.append(grad_mode.scope)
            raise ValueError("boom")

    net.features[1] = Spy()
    with pytest.raises(ValueError, match="boom"):
        net(tc.randn(5, 4))
    assert seen == [(("", "Net"), ("features", "Sequential"), ("features.1", "Spy"))]
    assert grad_mode.scope == ()


def test_module_called_outside_the_tree_uses_its_class_name():
    outer, stray = nn.Sequential(nn.ReLU()), nn.Linear(2, 2)
    seen = []

    class Calls(nn.Module):
        def forward(self, x):
            out = stray(x)
            seen.append(out.grad_fn.scope)
            return out

    outer.append(Calls())
    outer(tc.randn(1, 2))
    assert seen == [(("", "Sequential"), ("1", "Calls"), ("Linear", "Linear"))]


def test_a_deep_copy_records_its_own_module_names():
    import copy

    net = nn.Sequential(nn.Linear(2, 2))
    net(tc.randn(1, 2))
    twin = copy.deepcopy(net)
    assert twin(tc.randn(1, 2)).grad_fn.scope == (("", "Sequential"), ("0", "Linear"))


# ----- repr ---------------------------------------------------------------------------------------
def test_repr_is_nested_like_pytorch():
    assert repr(Net()) == (
        "Net(\n"
        "  (features): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  )\n"
        "  (head): Linear(in_features=3, out_features=2, bias=False)\n"
        ")"
    )


# ----- containers ---------------------------------------------------------------------------------
def test_sequential_indexing_slicing_len_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[-1] is layers[2]
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == layers[1:]
    with pytest.raises(IndexError, match="index 3"):
        seq[3]
    x = tc.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), layers[2](layers[1](layers[0](x))).detach().numpy())


def test_sequential_from_ordered_dict_uses_the_names():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict(conv=nn.Linear(2, 2), act=nn.ReLU()))
    assert [name for name, _ in seq.named_children()] == ["conv", "act"]


def test_module_list_registers_its_members():
    net = nn.Module()
    net.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    net.blocks.append(nn.Linear(2, 1))
    net.blocks.insert(0, nn.ReLU())
    assert len(net.blocks) == 4 and isinstance(net.blocks[0], nn.ReLU)
    assert len(list(net.parameters())) == 6
    assert [n for n, _ in net.named_parameters()][:2] == ["blocks.1.weight", "blocks.1.bias"]


# ----- layers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_computes_x_w_transpose_plus_b_and_keeps_dtype(dtype):
    layer = nn.Linear(3, 2, dtype=dtype)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(dtype)
    out = layer(Tensor(x))
    assert out.dtype == dtype and layer.weight.dtype == dtype
    np.testing.assert_allclose(
        out.detach().numpy(), x @ layer.weight.detach().numpy().T + layer.bias.detach().numpy(), rtol=1e-6
    )


@given(fan_in=st.integers(1, 40), fan_out=st.integers(1, 40))
def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in(fan_in, fan_out):
    layer = nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound


def test_linear_input_of_the_wrong_width_names_the_layer_and_shapes():
    net = nn.Sequential(nn.Linear(64, 10))
    with pytest.raises(ValueError, match=r"0 \(Linear\(in_features=64.*\(\*, 64\).*\(8, 32\)"):
        net(tc.randn(8, 32))


@pytest.mark.parametrize("layer, function", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
])
def test_activation_and_shape_layers_match_numpy(layer, function):
    x = np.random.default_rng(1).normal(size=(2, 3, 2))
    np.testing.assert_allclose(layer(Tensor(x)).detach().numpy(), function(x), rtol=1e-12)


def test_pool_layers_default_stride_to_kernel_size():
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).detach().numpy(), [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).detach().numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_conv_default_init_uses_fan_in_of_channels_per_group_times_kernel():
    conv = nn.Conv2d(4, 6, 3, groups=2)
    assert conv.weight.shape == (6, 2, 3, 3) and conv.weight.dtype == np.float32
    bound = 1 / math.sqrt(2 * 9)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound and np.abs(conv.bias.detach().numpy()).max() <= bound
    assert np.abs(conv.weight.detach().numpy()).max() > bound / 2  # drawn over the whole range, not a narrower one


def test_conv_repr_and_argument_errors():
    assert repr(nn.Conv2d(1, 8, 3, padding="same", bias=False)) == (
        "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, bias=False)")
    assert repr(nn.Conv1d(2, 4, 5, stride=2, padding=1)) == "Conv1d(2, 4, kernel_size=(5,), stride=(2,), padding=(1,))"
    with pytest.raises(ValueError, match=r"in_channels \(3\).*groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="'reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")


def test_a_batch_that_does_not_fit_the_first_conv_names_the_layer_and_shapes():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"0 \(Conv2d\(1, 4.*\(N, C, H, W\) with C=1, got \(2, 3, 8, 8\)"):
        net(tc.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"got \(8, 8\)"):
        net(tc.randn(8, 8))


def test_conv_same_padding_keeps_the_size_and_valid_shrinks_it():
    x = tc.randn(2, 3, 7, 7)
    assert nn.Conv2d(3, 4, 3, padding="same")(x).shape == (2, 4, 7, 7)
    assert nn.Conv2d(3, 4, 3, padding="valid")(x).shape == (2, 4, 5, 5)
    assert nn.Conv2d(3, 4, 3, stride=2, padding="same")(x).shape == (2, 4, 4, 4)
    assert nn.Conv1d(3, 4, 3, padding="same")(tc.randn(2, 3, 9)).shape == (2, 4, 9)


# ----- batch norm ---------------------------------------------------------------------------------
def test_batchnorm_training_normalises_and_updates_running_statistics():
    bn = nn.BatchNorm2d(3, momentum=0.2, dtype=np.float64)
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 3, 2, 2))
    out = bn(Tensor(x)).detach().numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)
    np.testing.assert_allclose(bn.running_mean.detach().numpy(), 0.2 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.detach().numpy(), 0.8 + 0.2 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    expected = (x - bn.running_mean.detach().numpy()[:, None, None]) / np.sqrt(
        bn.running_var.detach().numpy()[:, None, None] + 1e-5
    )
    np.testing.assert_allclose(bn(Tensor(x)).detach().numpy(), expected, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_momentum_none_keeps_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [np.random.default_rng(i).normal(i, 1.0, size=(5, 2)) for i in range(3)]
    for batch in batches:
        bn(Tensor(batch))
    np.testing.assert_allclose(
        bn.running_mean.detach().numpy(), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-12
    )


def test_batchnorm_without_running_stats_or_affine_uses_batch_statistics_in_eval_too():
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False, dtype=np.float64).eval()
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    x = np.random.default_rng(1).normal(size=(6, 2))
    np.testing.assert_allclose(bn(Tensor(x)).detach().numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10)


def test_batchnorm_in_training_with_one_value_per_channel_raises_pytorch_error():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training.*\(1, 4\)"):
        bn(tc.randn(1, 4))
    bn.eval()
    assert bn(tc.randn(1, 4)).shape == (1, 4)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3.*\(N, 3, H, W\), got \(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(tc.randn(2, 4, 5, 5))


# ----- a whole CNN against torch ------------------------------------------------------------------
def _small_cnn(module, backend):
    """Give `module` the same layers from `backend` (our nn or torch.nn), so state dict names agree."""
    module.features = backend.Sequential(
        backend.Conv2d(1, 4, 3, padding=1), backend.BatchNorm2d(4), backend.ReLU(), backend.MaxPool2d(2),
        backend.Conv2d(4, 6, 3, stride=1, padding="same", groups=2), backend.LeakyReLU(0.1),
        backend.AvgPool2d(2),
    )
    module.classifier = backend.Sequential(backend.Flatten(), backend.Linear(6 * 2 * 2, 5), backend.Tanh())


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        _small_cnn(self, nn)

    def forward(self, x):
        return self.classifier(self.features(x))


def test_small_cnn_matches_torch_forward_backward_and_state_dict_names():
    torch = pytest.importorskip("torch", reason="torch is optional: compares a whole CNN with PyTorch")

    class TorchCNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            _small_cnn(self, torch.nn)

        forward = SmallCNN.forward

    torch.manual_seed(0)
    theirs = TorchCNN().double()
    ours = SmallCNN().double()
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    x = np.random.default_rng(0).normal(size=(3, 1, 8, 8))
    for _ in range(2):  # the second pass sees updated running statistics
        out = ours(Tensor(x))
        tout = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    for (name, p), (_, t) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        np.testing.assert_allclose(p.grad.detach().numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    for name, buffer in ours.named_buffers():
        np.testing.assert_allclose(buffer.detach().numpy(), theirs.state_dict()[name].numpy(), rtol=1e-12, err_msg=name)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_dropout_layer_drops_and_rescales_in_training_and_is_identity_in_eval():
    tc.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = tc.ones(400, 50, dtype=np.float64)
    out = layer(x).detach().numpy()
    assert set(np.unique(out).tolist()) == {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.01
    np.testing.assert_array_equal(layer.eval()(x).detach().numpy(), x.detach().numpy())
    with pytest.raises(ValueError, match="1.5"):
        nn.Dropout(1.5)


# ----- losses as modules --------------------------------------------------------------------------
def _log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def test_loss_modules_match_numpy_formulas():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    picked = _log_softmax(logits)[np.arange(5), labels]
    assert nn.CrossEntropyLoss()(Tensor(logits), Tensor(labels)).item() == pytest.approx(-picked.mean())
    assert nn.CrossEntropyLoss(reduction="sum")(Tensor(logits), Tensor(labels)).item() == pytest.approx(-picked.sum())
    assert nn.NLLLoss()(Tensor(_log_softmax(logits)), Tensor(labels)).item() == pytest.approx(-picked.mean())
    p, y = rng.uniform(0.1, 0.9, size=(4, 2)), rng.integers(0, 2, size=(4, 2)).astype(np.float64)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert nn.BCELoss()(Tensor(p), Tensor(y)).item() == pytest.approx(bce.mean())
    z = np.log(p / (1 - p))
    assert nn.BCEWithLogitsLoss()(Tensor(z), Tensor(y)).item() == pytest.approx(bce.mean())
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(Tensor(p), Tensor(y)).detach().numpy(), (p - y) ** 2)


def test_weighted_losses_keep_weights_as_buffers_and_match_torch():
    torch = pytest.importorskip("torch", reason="torch is optional: compares weighted losses with PyTorch")
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(6, 3)), np.array([0, 2, 1, -100, 0, 2])
    weight = np.array([0.2, 1.0, 3.0])
    loss = nn.CrossEntropyLoss(weight, ignore_index=-100, label_smoothing=0.1)
    assert list(loss.state_dict()) == ["weight"]
    expected = torch.nn.CrossEntropyLoss(torch.tensor(weight), ignore_index=-100, label_smoothing=0.1)(
        torch.tensor(logits), torch.tensor(labels))
    assert loss.double()(Tensor(logits), Tensor(labels)).item() == pytest.approx(expected.item(), rel=1e-10)
    z, y = rng.normal(size=(4, 3)), rng.integers(0, 2, size=(4, 3)).astype(np.float64)
    pos_weight = np.array([1.0, 2.0, 0.5])
    ours = nn.BCEWithLogitsLoss(pos_weight=pos_weight).double()(Tensor(z), Tensor(y)).item()
    theirs = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))(torch.tensor(z), torch.tensor(y))
    assert ours == pytest.approx(theirs.item(), rel=1e-10)


def test_loss_module_options_are_checked_at_construction():
    with pytest.raises(ValueError, match="'avg'"):
        nn.MSELoss(reduction="avg")
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"


def test_cross_entropy_labels_out_of_range_raise_naming_them():
    with pytest.raises((ValueError, IndexError), match="5"):
        nn.CrossEntropyLoss()(tc.randn(2, 3), Tensor(np.array([0, 5])))


def test_float32_training_steps_keep_parameters_gradients_and_buffers_float32():
    from tinygrad_cnn import optim

    tc.manual_seed(0)
    model = SmallCNN()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = tc.rand(4, 1, 8, 8), Tensor(np.array([0, 1, 2, 3]))
    for _ in range(2):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
    assert loss.dtype == np.float32
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        expected = np.int64 if name.endswith("num_batches_tracked") else np.float32
        assert tensor.dtype == expected, name
        assert tensor.grad is None or tensor.grad.dtype == np.float32, name
