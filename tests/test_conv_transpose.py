"""Transposed convolution (F.conv_transpose1d/2d/3d, nn.ConvTranspose*) and the 3-d conv (F.conv3d, nn.Conv3d):
values pinned by hand and by the adjoint identity, errors, layers, and PyTorch's numbers where torch is installed."""

import math

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.ops import conv_transpose
from tinygrad_cnn.ops.registry import registry

RNG = np.random.default_rng(0)


def normal(*shape):
    return RNG.standard_normal(shape)


def test_stride_2_places_each_input_times_the_kernel_and_adds_the_overlaps():
    x = Tensor(np.array([[[1.0, 2.0]]]))
    w = Tensor(np.array([[[1.0, 10.0, 100.0]]]))
    out = F.conv_transpose1d(x, w, stride=2)
    np.testing.assert_array_equal(out.detach().numpy(), [[[1.0, 10.0, 102.0, 20.0, 200.0]]])
    cropped = F.conv_transpose1d(x, w, Tensor(np.array([0.5])), stride=2, padding=1, output_padding=1)
    np.testing.assert_array_equal(cropped.detach().numpy(), [[[10.5, 102.5, 20.5, 200.5]]])


@pytest.mark.parametrize("sample", list(registry["conv_transpose"].samples(np.random.default_rng(3))),
                         ids=lambda s: s.note)
def test_conv_transpose_is_the_adjoint_of_the_convolution(sample):
    # <conv_transpose(x), y> == <x, conv(y)> for the conv with the same weight and geometry; that conv's output
    # is longer than x where output_padding >= stride (allowed when < dilation): only its first positions pair up.
    x, w, _ = sample.args
    attrs = sample.attrs
    out = conv_transpose.ConvTransposeNd.apply(Tensor(x), Tensor(w), **attrs)
    y = normal(*out.shape)
    spatial = x.ndim - 2
    conv = (F.conv1d, F.conv2d, F.conv3d)[spatial - 1](Tensor(y), Tensor(w), stride=attrs.get("stride", 1),
                                                       padding=attrs.get("padding", 0),
                                                       dilation=attrs.get("dilation", 1), groups=attrs.get("groups", 1))
    longer = any(o >= s for o, s in zip(np.broadcast_to(attrs.get("output_padding", 0), spatial),
                                          np.broadcast_to(attrs.get("stride", 1), spatial)))
    assert conv.shape == x.shape or longer
    paired = conv.detach().numpy()[(..., *(slice(0, n) for n in x.shape[2:]))]
    np.testing.assert_allclose(np.sum(out.detach().numpy() * y), np.sum(x * paired), rtol=1e-12)


def test_output_keeps_float32_and_output_size_formula():
    x = tc.randn(2, 4, 5, 6)
    w = tc.randn(4, 3, 3, 2)
    out = F.conv_transpose2d(x, w, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2))
    assert out.dtype == np.float32
    assert out.shape == (2, 3, (5 - 1) * 2 - 2 + 2 + 1 + 1, (6 - 1) * 3 + 2 * 1 + 2 + 1)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: F.conv_transpose2d(tc.randn(1, 3, 4, 4), tc.randn(4, 2, 3, 3)), r"input has 3 channels but weight "
                                                                              r"expects 4"),
    (lambda: F.conv_transpose2d(tc.randn(1, 3, 4, 4), tc.randn(3, 2, 3, 3), groups=2), r"in_channels, 3.*groups \(2\)"),
    (lambda: F.conv_transpose2d(tc.randn(1, 2, 4, 4), tc.randn(2, 2, 3, 3), groups=0), "groups must be a positive"),
    (lambda: F.conv_transpose2d(tc.randn(1, 2, 4, 4), tc.randn(2, 2, 3, 3), stride=2, output_padding=2),
     "output_padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose1d(tc.randn(1, 2, 4), tc.randn(2, 2, 3), output_padding=1),
     r"output_padding=\(1,\), stride=\(1,\), dilation=\(1,\)"),
    (lambda: F.conv_transpose2d(tc.randn(2, 4, 4), tc.randn(2, 2, 3, 3)), r"expected a 4-D input.*\(2, 4, 4\)"),
    (lambda: F.conv_transpose3d(tc.randn(1, 2, 3, 3, 3), tc.randn(2, 2, 3, 3)), r"expected a 5-D weight"),
    (lambda: F.conv_transpose2d(tc.randn(1, 2, 4, 4), tc.randn(2, 2, 3, 3, dtype=np.float64)),
     "share one float dtype.*float32.*float64"),
    (lambda: F.conv_transpose2d(tc.randn(1, 2, 4, 4), tc.randn(2, 2, 3, 3), tc.randn(3)), r"bias has shape \(3,\), "
                                                                                           r"expected \(2,\)"),
    (lambda: F.conv_transpose1d(tc.randn(1, 2, 2), tc.randn(2, 2, 3), padding=3), "output size is too small"),
    (lambda: F.conv_transpose1d(tc.randn(1, 2, 2), tc.randn(2, 2, 3), padding=-1), "padding must be non-negative"),
    (lambda: F.conv_transpose1d(tc.randn(1, 2, 2), tc.randn(2, 2, 3), stride=0), "stride must be positive"),
    (lambda: F.conv_transpose2d(tc.randn(1, 2, 4, 4), tc.randn(2, 2, 3, 3), padding="same"), "padding must be an int"),
    (lambda: F.conv3d(tc.randn(2, 4, 4), tc.randn(3, 2, 3, 3, 3)), r"conv3d: expected a 4-D .* or 5-D .* input"),
    (lambda: F.conv3d(tc.randn(1, 2, 4, 4, 4), tc.randn(3, 3, 3, 3, 3)), r"input has 2 channels but weight expects 3"),
])
def test_bad_arguments_are_refused_with_the_offending_values(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_conv3d_gradients_match_finite_differences():
    x, w, b = normal(1, 2, 4, 3, 4), normal(4, 1, 2, 2, 3), normal(4)
    inputs = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    assert tc.gradcheck(lambda *t: F.conv3d(*t, stride=(1, 2, 1), padding=(1, 0, 1), dilation=(2, 1, 1), groups=2),
                        inputs, atol=1e-7, rtol=1e-6)


# ----- layers --------------------------------------------------------------------------------------
def test_conv_transpose_layer_parameters_and_default_init():
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    assert layer.weight.shape == (4, 3, 3, 3) and layer.bias.shape == (6,) and layer.weight.dtype == np.float32
    bound = 1 / math.sqrt(3 * 9)  # PyTorch's fan-in of this weight: its dim 1 (out/groups) times the kernel
    assert np.abs(layer.weight.detach().numpy()).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound
    assert np.abs(layer.weight.detach().numpy()).max() > bound / 2
    assert nn.ConvTranspose1d(2, 3, 4, bias=False, dtype=np.float64).weight.dtype == np.float64
    assert nn.ConvTranspose3d(2, 3, 2).weight.shape == (2, 3, 2, 2, 2)
    assert repr(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, bias=False)) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), bias=False)")


def test_conv_transpose_layer_output_size_picks_the_output_padding():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = tc.randn(1, 2, 4, 5)
    assert layer(x).shape == (1, 3, 7, 9)
    assert layer(x, output_size=(8, 10)).shape == (1, 3, 8, 10)
    assert layer(x, output_size=[1, 3, 8, 9]).shape == (1, 3, 8, 9)
    with pytest.raises(ValueError, match=r"requested an output size of \[9, 9\], but valid sizes range from \[7, 9\] "
                                         r"to \[8, 10\]"):
        layer(x, output_size=(9, 9))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        layer(x, output_size=(8,))


def test_conv_transpose_layer_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"in_channels \(3\).*groups \(2\)"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match='only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding must be an int"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match=r"with C=3, got \(1, 2, 4, 4\)"):
        nn.ConvTranspose2d(3, 4, 3)(tc.randn(1, 2, 4, 4))


def test_conv3d_layer_shapes_and_same_padding():
    layer = nn.Conv3d(2, 4, 3, padding="same", dtype=np.float64)
    assert layer.weight.shape == (4, 2, 3, 3, 3) and layer(tc.randn(1, 2, 4, 5, 3, dtype=np.float64)).shape == (
        1, 4, 4, 5, 3)
    assert nn.Conv3d(2, 4, (1, 2, 3), stride=2)(tc.randn(2, 2, 5, 5, 5)).shape == (2, 4, 3, 2, 2)


def test_new_names_are_exported():
    for name in ("conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        assert name in F.__all__ and callable(getattr(F, name))
    for name in ("Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"):
        assert name in nn.__all__


# ----- against PyTorch -------------------------------------------------------------------------------
def _compare(ours, theirs, arrays, **kwargs):
    """Forward and backward of ours and torch's on the same float64 arrays (None passes through)."""
    torch = pytest.importorskip("torch")
    our_inputs = [None if a is None else Tensor(a, requires_grad=True) for a in arrays]
    torch_inputs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*our_inputs, **kwargs), theirs(*torch_inputs, **kwargs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad_output = normal(*out.shape)
    out.backward(grad_output)
    expected.backward(torch.tensor(grad_output))
    for i, (a, b) in enumerate(zip(our_inputs, torch_inputs)):
        if a is not None:
            np.testing.assert_allclose(
                a.grad.detach().numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"argument {i}"
            )


@pytest.mark.parametrize("sample", list(registry["conv_transpose"].samples(np.random.default_rng(4))),
                         ids=lambda s: s.note)
def test_conv_transpose_matches_pytorch(sample):
    torch = pytest.importorskip("torch")
    spatial = sample.args[0].ndim - 2
    ours = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spatial - 1]
    theirs = (torch.nn.functional.conv_transpose1d, torch.nn.functional.conv_transpose2d,
              torch.nn.functional.conv_transpose3d)[spatial - 1]
    _compare(ours, theirs, sample.args, **sample.attrs)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels, which we test
@pytest.mark.parametrize(("shapes", "attrs"), [
    (((2, 3, 5, 4, 6), (4, 3, 3, 2, 3), (4,)), {}),
    (((1, 4, 6, 5, 7), (6, 2, 2, 3, 3), (6,)), dict(stride=(2, 1, 3), padding=(1, 1, 0), dilation=(1, 2, 1), groups=2)),
    (((1, 2, 5, 6, 4), (3, 2, 3, 2, 3), None), dict(padding="same")),
])
def test_conv3d_matches_pytorch(shapes, attrs):
    torch = pytest.importorskip("torch")
    arrays = [None if shape is None else normal(*shape) for shape in shapes]
    _compare(F.conv3d, torch.nn.functional.conv3d, arrays, **attrs)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_transpose_layers_match_pytorch_layers_with_output_size(n):
    torch = pytest.importorskip("torch")
    ours = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[n - 1](4, 6, 3, stride=2, padding=1,
                                                                            groups=2, dtype=np.float64)
    theirs = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)[n - 1](
        4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64)
    assert tuple(theirs.weight.shape) == ours.weight.shape
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    x = normal(2, 4, *(3,) * n)
    size = (6,) * n
    np.testing.assert_allclose(ours(Tensor(x), output_size=size).detach().numpy(),
                               theirs(torch.tensor(x), output_size=size).detach().numpy(), rtol=1e-10, atol=1e-12)
    assert repr(ours).replace("dtype=torch.float64", "") == repr(theirs)
