"""Devices: tc.device, Tensor.device, device= on factories and layers, .to(...), .cpu(), Module.to(...), the default
device, and the clear error for any device but the CPU."""

import inspect
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn
from tinygrad_cnn.device import DEVICE_TYPES

NOT_HERE = "NumPy on the CPU"


@pytest.fixture
def restore_default_device():
    yield
    tc.set_default_device(None)


# ----- the device type ---------------------------------------------------------------------------------
def test_device_has_type_index_repr_and_str_as_pytorch():
    cpu, cpu0 = tc.device("cpu"), tc.device("cpu:0")
    assert (cpu.type, cpu.index, repr(cpu), str(cpu)) == ("cpu", None, "device(type='cpu')", "cpu")
    assert (cpu0.type, cpu0.index, repr(cpu0), str(cpu0)) == ("cpu", 0, "device(type='cpu', index=0)", "cpu:0")
    assert tc.device("cpu", 0) == cpu0 and tc.device(cpu0) == cpu0 and tc.device("cuda:1").index == 1


def test_device_equality_and_hash_compare_type_and_index():
    assert tc.device("cpu") == tc.device("cpu") and hash(tc.device("cpu")) == hash(tc.device("cpu"))
    assert tc.device("cpu") != tc.device("cpu:0") and tc.device("cpu") != "cpu"
    assert len({tc.device("cpu"), tc.device("cpu"), tc.device("cpu:0")}) == 2


@pytest.mark.parametrize(("spec", "error", "message"), [
    ("gpu", RuntimeError, "Expected one of cpu, cuda.* device type at start of device string: gpu"),
    ("CPU", RuntimeError, "device string: CPU"),
    ("cpu:x", RuntimeError, "Invalid device string: 'cpu:x'"),
    ("cuda:-1", RuntimeError, "Invalid device string"),
    (0, RuntimeError, NOT_HERE),
    (1.5, TypeError, "expected a string or a device"),
])
def test_bad_device_names_are_refused(spec, error, message):
    with pytest.raises(error, match=message):
        tc.device(spec)


def test_negative_index_and_index_given_twice_are_refused():
    with pytest.raises(RuntimeError, match="must not be negative"):
        tc.device("cpu", -1)
    with pytest.raises(RuntimeError, match="must not include an index"):
        tc.device("cpu:0", 0)


def test_another_device_can_be_named_as_tutorials_do():
    assert tc.device("cuda:0").type == "cuda" and str(tc.device("mps")) == "mps"


def test_device_matches_pytorch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as error:
        torch.device("gpu")
    assert f"Expected one of {', '.join(DEVICE_TYPES)} device type" in str(error.value)
    for spec in ("cpu", "cpu:0", "cpu:3", "cuda", "cuda:1", "mps"):
        ours, theirs = tc.device(spec), torch.device(spec)
        assert (repr(ours), str(ours), ours.type, ours.index) == (repr(theirs), str(theirs), theirs.type,
                                                                  theirs.index)
    assert (tc.device("cpu") == tc.device("cpu:0")) == (torch.device("cpu") == torch.device("cpu:0"))


# ----- tensors -------------------------------------------------------------------------------------
def test_tensor_device_is_the_cpu():
    x = tc.randn(2, 3)
    assert x.device == tc.device("cpu") and str(x.device) == "cpu" and not x.is_cuda
    assert (x + 1).device.type == "cpu"
    assert x.cpu() is x


FACTORIES = [
    ("tensor", lambda device: tc.tensor([1.0, 2.0], device=device)),
    ("zeros", lambda device: tc.zeros(2, 3, device=device)),
    ("ones", lambda device: tc.ones(2, device=device)),
    ("full", lambda device: tc.full((2,), 1.5, device=device)),
    ("empty", lambda device: tc.empty(2, device=device)),
    ("randn", lambda device: tc.randn(2, device=device)),
    ("rand", lambda device: tc.rand(2, device=device)),
    ("randint", lambda device: tc.randint(0, 5, (2,), device=device)),
    ("arange", lambda device: tc.arange(4, device=device)),
    ("linspace", lambda device: tc.linspace(0, 1, 3, device=device)),
    ("eye", lambda device: tc.eye(2, device=device)),
    ("zeros_like", lambda device: tc.zeros_like(tc.ones(2), device=device)),
    ("ones_like", lambda device: tc.ones_like(tc.ones(2), device=device)),
    ("empty_like", lambda device: tc.empty_like(tc.ones(2), device=device)),
    ("full_like", lambda device: tc.full_like(tc.ones(2), 3.0, device=device)),
    ("rand_like", lambda device: tc.rand_like(tc.ones(2), device=device)),
    ("randn_like", lambda device: tc.randn_like(tc.ones(2), device=device)),
    ("as_tensor", lambda device: tc.as_tensor(np.ones(2), device=device)),
]


@pytest.mark.parametrize(("name", "make"), FACTORIES, ids=[name for name, _ in FACTORIES])
@pytest.mark.parametrize("device", [None, "cpu", "cpu:0", tc.device("cpu")], ids=str)
def test_factories_accept_the_cpu(name, make, device):
    assert make(device).device == tc.device("cpu")


@pytest.mark.parametrize(("name", "make"), FACTORIES, ids=[name for name, _ in FACTORIES])
@pytest.mark.parametrize("device", ["cuda", "mps", tc.device("cuda:0")], ids=str)
def test_factories_refuse_other_devices_clearly(name, make, device):
    with pytest.raises(RuntimeError, match=f"{name}: device '{device}' is not available: .*{NOT_HERE}"):
        make(device)


def test_random_factory_refusing_a_device_draws_nothing():
    tc.manual_seed(0)
    with pytest.raises(RuntimeError, match=NOT_HERE):
        tc.randn(3, device="cuda")
    first = tc.randn(3)
    tc.manual_seed(0)
    np.testing.assert_array_equal(first.detach().numpy(), tc.randn(3).detach().numpy())


def test_to_a_device_is_never_read_as_a_dtype():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.to(tc.device("cpu")) is x and x.to(device="cpu:0") is x
    assert x.to("cpu", non_blocking=True) is x


def test_to_device_and_dtype_in_pytorchs_forms():
    x = tc.tensor([1.5, 2.0])
    assert x.to("cpu", tc.float64).dtype == np.float64
    assert x.to(tc.device("cpu"), tc.float64, True, False).dtype == np.float64
    assert x.to(device="cpu", dtype=tc.int64).tolist() == [1, 2]
    assert x.to(tc.float64, True).dtype == np.float64
    assert x.to(dtype="float64").dtype == np.float64 and x.to("float64").dtype == np.float64
    assert x.to(tc.zeros(1, dtype=tc.int32)).dtype == np.int32
    assert x.to() is x


def test_to_with_copy_makes_a_new_tensor_that_records():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu", copy=True)
    assert y is not x and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1.0, 1.0])


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps", tc.device("cuda:0"), 0])
def test_to_another_device_is_refused_clearly(device):
    x = tc.ones(2)
    with pytest.raises(RuntimeError, match=NOT_HERE):
        x.to(device)
    with pytest.raises(RuntimeError, match=NOT_HERE):
        x.to(device=device, dtype=tc.float64)


def test_to_refuses_bad_arguments():
    x = tc.ones(2)
    with pytest.raises(TypeError, match="'gpu' names neither a device type .* nor a dtype"):
        x.to("gpu")
    with pytest.raises(TypeError, match="too many positional"):
        x.to(tc.float64, False, False, False)
    with pytest.raises(TypeError, match="multiple values for argument 'dtype'"):
        x.to(tc.float64, dtype=tc.float32)
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(devcie="cpu")
    with pytest.raises(TypeError, match="not supported"):
        x.to("cpu", tc.float16)


def test_cuda_is_refused_clearly():
    with pytest.raises(RuntimeError, match=NOT_HERE):
        tc.ones(2).cuda()
    with pytest.raises(RuntimeError, match=NOT_HERE):
        nn.Linear(2, 2).cuda()


def test_to_matches_pytorch():
    torch = pytest.importorskip("torch")
    data = [1.5, -2.25]
    for args, kwargs in [(("cpu",), {}), (("cpu", torch.float64), {}), ((), {"device": "cpu", "dtype": torch.int64}),
                         ((torch.float64, True), {})]:
        ours_args = tuple(tc.float64 if a is torch.float64 else a for a in args)
        ours_kwargs = {k: tc.int64 if v is torch.int64 else v for k, v in kwargs.items()}
        ours = tc.tensor(data).to(*ours_args, **ours_kwargs)
        theirs = torch.tensor(data).to(*args, **kwargs)
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
        assert str(ours.device) == str(theirs.device)


# ----- modules ---------------------------------------------------------------------------------------
LAYERS = [
    lambda device: nn.Linear(3, 2, device=device),
    lambda device: nn.Conv1d(2, 3, 3, device=device),
    lambda device: nn.Conv2d(2, 3, 3, device=device),
    lambda device: nn.BatchNorm1d(3, device=device),
    lambda device: nn.BatchNorm2d(3, device=device),
]


@pytest.mark.parametrize("make", LAYERS)
def test_layers_take_device_the_cpu(make):
    layer = make("cpu")
    assert all(p.device == tc.device("cpu") for p in layer.parameters())
    assert make(tc.device("cpu")) is not None and make(None) is not None
    with pytest.raises(RuntimeError, match=NOT_HERE):
        make("cuda")


def test_linear_takes_device_before_dtype_as_pytorch():
    assert nn.Linear(2, 3, True, "cpu", tc.float64).weight.dtype == np.float64


def test_module_to_takes_devices_dtypes_and_tensors():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weight = model[0].weight
    assert model.to("cpu") is model and model.to(tc.device("cpu")) is model and model.cpu() is model
    assert weight.dtype == np.float32
    model.to("cpu", tc.float64)
    assert model[0].weight is weight and weight.dtype == np.float64
    model.to(device="cpu", dtype=tc.float32)
    assert weight.dtype == np.float32
    model.to(tc.zeros(1, dtype=tc.float64))
    assert weight.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64


def test_module_to_another_device_changes_nothing():
    model = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=NOT_HERE):
        model.to("cuda", tc.float64)
    assert model.weight.dtype == np.float32
    with pytest.raises(TypeError, match="only floating dtypes"):
        model.to("cpu", tc.int64)


def test_tutorial_device_idioms_run():
    device = "cuda" if tc.cuda.is_available() else "cpu"
    accelerated = tc.accelerator.current_accelerator().type if tc.accelerator.is_available() else "cpu"
    mps = "mps" if tc.backends.mps.is_available() else "cpu"
    assert device == accelerated == mps == "cpu"
    model = nn.Linear(3, 1).to(device)
    x = tc.randn(4, 3).to(device)
    assert model(x).device == tc.device(device)
    assert tc.cuda.device_count() == 0 and tc.cuda.manual_seed_all(0) is None
    tc.backends.cudnn.benchmark = True  # scripts set it; it changes nothing
    tc.backends.cudnn.benchmark = False


# ----- the default device ------------------------------------------------------------------------------
def test_default_device_is_the_cpu_and_can_be_set_to_it(restore_default_device):
    assert tc.get_default_device() == tc.device("cpu")
    tc.set_default_device("cpu:0")
    assert tc.get_default_device() == tc.device("cpu:0")
    assert tc.zeros(2).device == tc.device("cpu")
    tc.set_default_device(None)
    assert tc.get_default_device() == tc.device("cpu")


def test_default_device_refuses_another_and_keeps_the_cpu(restore_default_device):
    with pytest.raises(RuntimeError, match=NOT_HERE):
        tc.set_default_device("cuda")
    assert tc.get_default_device() == tc.device("cpu")


def test_device_module_imports_no_array_library():
    # The design leaves room for a CuPy device: the device type itself knows nothing of NumPy.
    source = inspect.getsource(sys.modules["tinygrad_cnn.device"])
    assert "import numpy" not in source and "np." not in source
