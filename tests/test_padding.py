"""F.pad's modes 'reflect', 'replicate' and 'circular' (and 'constant' through the same F.pad): values pinned by
hand, the dims each mode takes, errors, and PyTorch's numbers (forward and backward) where torch is installed."""

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.ops.registry import registry

ROW = np.arange(4.0).reshape(1, 1, 4)


@pytest.mark.parametrize(("mode", "pad", "expected"), [
    ("reflect", (2, 3), [2, 1, 0, 1, 2, 3, 2, 1, 0]),
    ("replicate", (2, 3), [0, 0, 0, 1, 2, 3, 3, 3, 3]),
    ("circular", (2, 3), [2, 3, 0, 1, 2, 3, 0, 1, 2]),
    ("reflect", (-1, 2), [1, 2, 3, 2, 1]),
    ("replicate", (-4, 2), [3, 3]),
    ("circular", (-1, 2), [1, 2, 3, 1, 2]),  # as PyTorch: the input is cropped first, then wrapped
    ("constant", (1, -2), [0, 0, 1]),
])
def test_each_mode_reads_the_input_positions_pytorch_reads(mode, pad, expected):
    np.testing.assert_array_equal(F.pad(Tensor(ROW), pad, mode=mode).detach().numpy().ravel(), expected)


def test_backward_adds_the_gradient_of_every_copy_onto_its_source():
    x = Tensor(ROW, requires_grad=True)
    F.pad(x, (2, 3), mode="reflect").sum().backward()
    np.testing.assert_array_equal(
        x.grad.detach().numpy().ravel(), [2, 3, 3, 1]
    )  # reflect: 0 is read once, 1 and 2 thrice
    x.grad = None
    F.pad(x, (1, 1, 2, 0), mode="replicate").backward(np.ones((1, 3, 6)))
    np.testing.assert_array_equal(x.grad.detach().numpy().ravel(), [6, 3, 3, 6])


def test_padded_dims_and_float32_are_kept():
    x = tc.randn(2, 3, 4, 5)
    assert F.pad(x[0], (1, 2), mode="reflect").shape == (3, 4, 8)
    assert F.pad(x, (1, 2, 3, 0), mode="circular").shape == (2, 3, 7, 8)
    assert F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate").shape == (2, 5, 6, 7)  # unbatched (C, D, H, W)
    assert F.pad(x, (1, 1, 1, 1), mode="replicate").dtype == np.float32
    assert F.pad(x, (1, 1), "constant", 2.5).detach().numpy()[0, 0, 0, 0] == 2.5
    assert F.pad(x, (1, 1), value=None).detach().numpy()[0, 0, 0, 0] == 0.0


@pytest.mark.parametrize(("shape", "pad", "mode", "error", "message"), [
    ((1, 1, 4), (4, 0), "reflect", ValueError, r"less than the corresponding input dimension.*\(4, 0\) for dim 2"),
    ((1, 1, 4), (5, 0), "circular", ValueError, "wrapping around more than once"),
    # PyTorch returns uninitialised memory here (the crop leaves fewer values than the wrap reads): refused.
    ((1, 1, 4), (-4, 2), "circular", ValueError, r"cropped to size 0"),
    ((1, 1, 4), (-2, -2), "reflect", ValueError, "calculated output size 0"),
    ((1, 1, 4), (-3, -2), "circular", ValueError, "empty dimension"),
    ((1, 1, 4), (1, 1, 1, 1, 1, 1), "reflect", NotImplementedError, "padding size 6 is not supported for 3D input"),
    ((4,), (1, 1), "replicate", NotImplementedError, "padding size 2 is not supported for 1D input"),
    ((1, 2, 3, 4), (1, 1), "circular", NotImplementedError, "2 widths for 2D or 3D input"),
    ((1, 1, 4), (1, 1, 1), "reflect", ValueError, "divisible by 2"),
    ((1, 1, 4), (1.5, 1), "reflect", TypeError, "tuple of ints"),
    ((2, 0, 4), (1, 1), "replicate", ValueError, r"non-empty dims except a batch dim.*\(2, 0, 4\)"),
    ((1, 1, 4), (1, 1), "wrap", NotImplementedError, "unrecognised padding mode 'wrap'"),
])
def test_bad_padding_is_refused_with_the_values(shape, pad, mode, error, message):
    with pytest.raises(error, match=message):
        F.pad(tc.zeros(*shape), pad, mode=mode)


def test_value_is_refused_with_a_copying_mode_and_mode_must_be_a_string():
    with pytest.raises(ValueError, match="padding mode 'reflect' doesn't take in value argument"):
        F.pad(tc.zeros(1, 1, 4), (1, 1), mode="reflect", value=1.0)
    assert F.pad(tc.zeros(1, 1, 4), (1, 1), mode="reflect", value=0).shape == (1, 1, 6)
    with pytest.raises(TypeError, match="value="):
        F.pad(tc.zeros(1, 1, 4), (1, 1), 1.5)


# ----- against PyTorch -------------------------------------------------------------------------------
NEGATIVE = [((1, 2, 4), pad, mode) for mode in ("reflect", "replicate", "circular")
            for pad in [(-1, 2), (2, -1), (3, -1), (-3, 3), (-5, 2), (-2, 2), (-3, 1)]
            if not (mode == "circular" and pad in [(-3, 3), (-5, 2)])]  # PyTorch itself fails on those two
CASES = [(s.args[0].shape, s.attrs["pad"], s.attrs["mode"]) for s in
         registry["index_pad"].samples(np.random.default_rng(6))] + NEGATIVE + [
    ((2, 3, 4, 5), (-1, 2, 2, -1), "circular"), ((2, 3, 4, 5), (-1, 2, 2, -1), "reflect"),
    ((0, 3, 4), (2, 1), "reflect"), ((2, 0, 4), (1, 1), "circular")]


@pytest.mark.parametrize(("shape", "pad", "mode"), CASES, ids=str)
def test_pad_matches_pytorch(shape, pad, mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = F.pad(ours, pad, mode=mode), torch.nn.functional.pad(theirs, pad, mode=mode)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    grad_output = rng.standard_normal(out.shape)
    out.backward(grad_output)
    expected.backward(torch.tensor(grad_output))
    np.testing.assert_allclose(ours.grad.detach().numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("shape", "pad", "mode"), [((1, 1, 4), (4, 0), "reflect"), ((1, 1, 4), (5, 0), "circular"),
                                                   ((1, 1, 4), (1, 1, 1, 1, 1, 1), "replicate"),
                                                   ((2, 0, 4), (1, 1), "replicate"), ((1, 1, 4), (-2, -2), "reflect")])
def test_pytorch_refuses_what_we_refuse(shape, pad, mode):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, NotImplementedError)):
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode)
    with pytest.raises((ValueError, NotImplementedError)):
        F.pad(tc.zeros(*shape), pad, mode=mode)


# ----- layers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("layer", "mode"), [(nn.ReflectionPad2d, "reflect"), (nn.ReplicationPad1d, "replicate"),
                                             (nn.CircularPad3d, "circular"), (nn.ZeroPad2d, "constant")])
def test_padding_layers_call_f_pad_with_their_widths(layer, mode):
    n = int(layer.__name__[-2])
    x = tc.randn(2, 3, *(4,) * n)
    widths = (1, 2) * n if mode != "constant" else (1, 0) * n
    np.testing.assert_array_equal(layer(widths)(x).detach().numpy(), F.pad(x, widths, mode=mode).detach().numpy())
    np.testing.assert_array_equal(layer(1)(x).detach().numpy(), F.pad(x, (1,) * 2 * n, mode=mode).detach().numpy())
    assert repr(layer(1)) == f"{layer.__name__}({(1,) * 2 * n})"


def test_constant_pad_layer_fills_with_its_value_and_bad_widths_are_refused():
    layer = nn.ConstantPad1d((1, 2), 3.5)
    assert repr(layer) == "ConstantPad1d(padding=(1, 2), value=3.5)"
    np.testing.assert_array_equal(layer(Tensor(ROW)).detach().numpy().ravel(), [3.5, 0, 1, 2, 3, 3.5, 3.5])
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be an int or 4 ints, got \(1, 2\)"):
        nn.ReflectionPad2d((1, 2))


@pytest.mark.parametrize("name", [f"{kind}Pad{n}d" for kind in ("Reflection", "Replication", "Circular", "Constant",
                                                                 "Zero") for n in (1, 2, 3)])
def test_padding_layers_match_pytorch_layers(name):
    torch = pytest.importorskip("torch")
    n = int(name[-2])
    args = ((1, 2) * n,) + ((0.5,) if name.startswith("Constant") else ())
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(2).standard_normal((2, 2, *(3,) * n))
    np.testing.assert_array_equal(ours(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).numpy())
