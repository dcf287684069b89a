"""conv1d / conv2d: values against a direct-summation reference, gradients against finite differences,
the worked examples, the 'same' rule, bad input, and (optionally) PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.ops import conv
from tinygrad_cnn.ops._windows import make_windows


# ----- an independent reference: explicit padding, then a sum over kernel offsets per output position ----------
def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """Keras/TF 'same': output ceil(size / stride), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def reference_conv(x, weight, bias, stride, padding, dilation, groups):
    """Direct summation, slow on purpose: out[n, o, p] = sum_{c, k} x_pad[n, c, p*s + k*d] * w[o, c, k] + b[o]."""
    spatial = x.ndim - 2
    kernel = weight.shape[2:]
    if padding == "same":
        pads = [same_padding(n, k, s, d) for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation)]
    elif padding == "valid":
        pads = [(0, 0)] * spatial
    else:
        pads = [(p, p) for p in padding]
    x_pad = np.pad(x, [(0, 0), (0, 0), *pads])
    out_size = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(x_pad.shape[2:], kernel, stride, dilation)]
    out_channels, group_in = weight.shape[0], weight.shape[1]
    group_out = out_channels // groups
    out = np.zeros((x.shape[0], out_channels, *out_size))
    for position in itertools.product(*(range(n) for n in out_size)):
        for offset in itertools.product(*(range(k) for k in kernel)):
            where = tuple(p * s + k * d for p, k, s, d in zip(position, offset, stride, dilation))
            for o in range(out_channels):
                g = o // group_out
                patch = x_pad[(slice(None), slice(g * group_in, (g + 1) * group_in), *where)]  # (N, Cg)
                out[(slice(None), o, *position)] += patch @ weight[(o, slice(None), *offset)]
    if bias is not None:
        out += bias.reshape(-1, *(1,) * spatial)
    return out


@st.composite
def configurations(draw, max_size: int = 6):
    """A random convolution: rank, batch, groups, channels, kernel, stride, dilation, padding, sizes."""
    spatial = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 2))
    group_in, group_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    padding = draw(st.one_of(st.sampled_from(["same", "valid"]), st.tuples(*[st.integers(0, 2)] * spatial)))
    sizes = []
    for k, d, i in zip(kernel, dilation, range(spatial)):
        pad = 2 * padding[i] if isinstance(padding, tuple) else 0
        extent = d * (k - 1) + 1
        sizes.append(draw(st.integers(max(1, extent - pad), max(extent - pad, 1) + max_size - 2)))
    batch = draw(st.integers(1, 2))
    with_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (batch, groups * group_in, *sizes))
    weight = rng.uniform(-1, 1, (groups * group_out, group_in, *kernel))
    bias = rng.uniform(-1, 1, groups * group_out) if with_bias else None
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def run(x, weight, bias, **attrs):
    function = conv.conv2d if x.ndim == 4 else conv.conv1d
    return function(x, weight, bias, **attrs)


@given(configurations())
def test_forward_matches_direct_summation(config):
    x, weight, bias, attrs = config
    with tc.kernels.disabled():
        out = run(tc.Tensor(x), tc.Tensor(weight), None if bias is None else tc.Tensor(bias), **attrs)
    np.testing.assert_allclose(out.detach().numpy(), reference_conv(x, weight, bias, **attrs), rtol=1e-12, atol=1e-12)


@given(configurations(max_size=5))
def test_gradients_match_finite_differences(config):
    x, weight, bias, attrs = config
    inputs = [tc.Tensor(a, requires_grad=True) for a in (x, weight) + (() if bias is None else (bias,))]
    with tc.kernels.disabled():
        assert tc.gradcheck(lambda *t: run(t[0], t[1], t[2] if len(t) > 2 else None, **attrs), inputs,
                            atol=1e-7, rtol=1e-6)


@given(st.integers(1, 9), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_same_padding_gives_ceil_of_input_over_stride(size, kernel, stride, dilation):
    x = tc.Tensor(np.ones((1, 1, size, size + 1)))
    out = conv.conv2d(x, tc.Tensor(np.ones((1, 1, kernel, kernel))), stride=stride, padding="same",
                      dilation=dilation)
    assert out.shape == (1, 1, -(-size // stride), -(-(size + 1) // stride))


@given(st.integers(3, 12), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2))
def test_output_size_follows_the_formula(size, kernel, stride, padding, dilation):
    if size + 2 * padding < dilation * (kernel - 1) + 1:
        return
    out = conv.conv1d(tc.Tensor(np.ones((1, 1, size))), tc.Tensor(np.ones((1, 1, kernel))), stride=stride,
                      padding=padding, dilation=dilation)
    assert out.shape[-1] == (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def test_same_padding_puts_the_odd_pixel_at_the_bottom_right():
    # A 2x2 kernel with 'same' pads one pixel, after: the last output sees the zero padding.
    x = np.arange(1.0, 5.0).reshape(1, 1, 1, 4)
    out = conv.conv2d(tc.Tensor(x), tc.Tensor(np.ones((1, 1, 1, 2))), padding="same")
    np.testing.assert_array_equal(out.detach().numpy().ravel(), [3.0, 5.0, 7.0, 4.0])


# ----- the worked examples ------------------------------------------------------------------------------------
def test_5x5_input_with_3x3_kernel_gives_3x3_map():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    out = conv.conv2d(tc.Tensor(x), tc.Tensor(np.ones((1, 1, 3, 3))))
    assert out.shape == (1, 1, 3, 3)
    assert out.detach().numpy()[0, 0, 0, 0] == x[0, 0, :3, :3].sum()


def test_vertical_edge_kernel_gives_minus_60():
    image = np.array([[10.0, 20, 30], [15, 25, 35], [20, 30, 40]]).reshape(1, 1, 3, 3)
    kernel = np.array([[1.0, 0, -1]] * 3).reshape(1, 1, 3, 3)
    out = conv.conv2d(tc.Tensor(image), tc.Tensor(kernel))
    assert out.shape == (1, 1, 1, 1)
    assert out.item() == -60.0


# ----- plumbing: dtype, methods, F, which gradients are computed -------------------------------------------------
def test_float32_stays_float32_forward_and_backward():
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.standard_normal((2, 4, 7, 6), dtype=np.float32), requires_grad=True)
    w = tc.Tensor(rng.standard_normal((6, 2, 3, 3), dtype=np.float32), requires_grad=True)
    b = tc.Tensor(rng.standard_normal(6, dtype=np.float32), requires_grad=True)
    out = conv.conv2d(x, w, b, stride=2, padding="same", groups=2)
    out.sum().backward()
    assert out.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_method_functional_and_module_give_the_same_result():
    rng = np.random.default_rng(1)
    x, w = tc.Tensor(rng.standard_normal((2, 3, 6, 6))), tc.Tensor(rng.standard_normal((4, 3, 3, 3)))
    expected = conv.conv2d(x, w, None, 2, 1).detach().numpy()
    np.testing.assert_array_equal(x.conv2d(w, None, 2, 1).detach().numpy(), expected)
    np.testing.assert_array_equal(F.conv2d(x, w, stride=2, padding=1).detach().numpy(), expected)
    x1, w1 = tc.Tensor(rng.standard_normal((2, 3, 8))), tc.Tensor(rng.standard_normal((4, 3, 3)))
    np.testing.assert_array_equal(
        x1.conv1d(w1, padding=1).detach().numpy(), F.conv1d(x1, w1, padding=1).detach().numpy()
    )


def test_only_the_gradients_that_are_needed_are_returned():
    rng = np.random.default_rng(2)
    x = tc.Tensor(rng.standard_normal((2, 3, 5, 5)))
    w = tc.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    conv.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None
    # d(sum)/dw[o, c, i, j] is the sum of the input over the positions that weight touches.
    x_pad = np.pad(x.detach().numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.array([[[x_pad[:, c, i:i + 5, j:j + 5].sum() for j in range(3)] for i in range(3)]
                         for c in range(3)])
    np.testing.assert_allclose(w.grad.detach().numpy(), np.broadcast_to(expected, (4, 3, 3, 3)), rtol=1e-12)


@pytest.mark.parametrize("needed", ["x", "b", "xb", "wb"])
def test_any_subset_of_gradients_matches_the_full_backward(needed):
    rng = np.random.default_rng(6)
    arrays = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    grad = rng.standard_normal((2, 6, 3, 5))
    full = [tc.Tensor(a, requires_grad=True) for a in arrays]
    conv.conv2d(*full, stride=(2, 1), padding="same", groups=2).backward(grad)
    part = [tc.Tensor(a, requires_grad=name in needed) for a, name in zip(arrays, "xwb")]
    conv.conv2d(*part, stride=(2, 1), padding="same", groups=2).backward(grad)
    for whole, some, name in zip(full, part, "xwb"):
        if name in needed:
            np.testing.assert_allclose(some.grad.detach().numpy(), whole.grad.detach().numpy(), rtol=1e-12, atol=1e-12)
        else:
            assert some.grad is None


def test_an_empty_batch_gives_empty_outputs_and_zero_gradients():
    x = tc.Tensor(np.zeros((0, 3, 5, 5)), requires_grad=True)
    w, b = tc.Tensor(np.ones((2, 3, 3, 3)), requires_grad=True), tc.Tensor(np.ones(2), requires_grad=True)
    out = conv.conv2d(x, w, b, padding=1)
    out.sum().backward()
    assert out.shape == (0, 2, 5, 5) and x.grad.shape == (0, 3, 5, 5)
    assert not w.grad.detach().numpy().any() and not b.grad.detach().numpy().any()


def test_no_grad_records_nothing():
    x, w = tc.Tensor(np.ones((1, 1, 4, 4)), requires_grad=True), tc.Tensor(np.ones((1, 1, 3, 3)))
    with tc.no_grad():
        out = conv.conv2d(x, w)
    assert not out.requires_grad


# ----- im2col and its adjoint ---------------------------------------------------------------------------------
@given(configurations())
def test_fold_is_the_adjoint_of_unfold(config):
    x, weight, _, attrs = config
    windows = make_windows(x.shape[2:], weight.shape[2:], attrs["stride"], attrs["padding"], attrs["dilation"], "t")
    cols = conv.unfold(x, windows)
    other = np.random.default_rng(0).standard_normal(cols.shape)
    assert np.isclose(np.vdot(cols, other), np.vdot(x, conv.fold(other, windows, x.shape)), rtol=1e-10, atol=1e-10)


def test_unfold_puts_zeros_where_windows_reach_the_padding():
    windows = make_windows((3,), (3,), 1, 1, 1, "t")
    cols = conv.unfold(np.array([[[1.0, 2.0, 3.0]]]), windows)  # (C, K, N, O)
    np.testing.assert_array_equal(cols[0, :, 0], [[0, 1, 2], [1, 2, 3], [2, 3, 0]])


def test_outputs_and_saved_columns_survive_later_convolutions():
    rng = np.random.default_rng(4)
    w = tc.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    xs = [tc.Tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True) for _ in range(3)]
    outs = [conv.conv2d(x, w, padding=1) for x in xs]
    for x, out in zip(xs, outs):
        np.testing.assert_allclose(
            out.detach().numpy(),
            reference_conv(x.detach().numpy(), w.detach().numpy(), None, (1, 1), (1, 1), (1, 1), 1),
        )
    total = outs[0].sum() + outs[1].sum() + outs[2].sum()
    total.backward(retain_graph=True)
    first = w.grad.detach().numpy().copy(), [x.grad.detach().numpy().copy() for x in xs]
    w.grad = None
    for x in xs:
        x.grad = None
    total.backward()  # a second pass reads every saved column again
    np.testing.assert_allclose(w.grad.detach().numpy(), first[0])
    for x, grad in zip(xs, first[1]):
        np.testing.assert_allclose(x.grad.detach().numpy(), grad)


# ----- bad input ----------------------------------------------------------------------------------------------
def _ones(*shape):
    return tc.Tensor(np.ones(shape))


def test_an_unbatched_sample_is_convolved_as_a_batch_of_one():
    x, weight = _ones(2, 5, 5), _ones(3, 2, 3, 3)
    np.testing.assert_array_equal(conv.conv2d(x, weight).numpy(), conv.conv2d(x.unsqueeze(0), weight)[0].numpy())


@pytest.mark.parametrize(("call", "message"), [
    (lambda: conv.conv2d(_ones(5, 5), _ones(1, 1, 3, 3)), r"expected a 3-D .* or 4-D .* input, got shape \(5, 5\)"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(1, 1, 3)), r"expected a 4-D weight"),
    (lambda: conv.conv1d(_ones(1, 1, 5, 5), _ones(1, 1, 3)), r"conv1d: expected a 2-D .* or 3-D .* input"),
    (lambda: conv.conv2d(_ones(1, 3, 5, 5), _ones(8, 4, 3, 3)),
     r"input has 3 channels but weight expects 4 \(weight shape \(8, 4, 3, 3\), groups=1\)"),
    (lambda: conv.conv2d(_ones(1, 4, 5, 5), _ones(3, 2, 3, 3), groups=2), r"divisible by groups \(2\)"),
    (lambda: conv.conv2d(_ones(1, 4, 5, 5), _ones(4, 4, 3, 3), groups=0), r"groups must be a positive int"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(1, 1, 3, 3), stride=0), r"stride must be positive, got 0x0"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(1, 1, 3, 3), dilation=(1, -1)), r"dilation must be positive"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(1, 1, 0, 3)), r"kernel size must be positive, got 0x3"),
    (lambda: conv.conv2d(_ones(1, 1, 4, 4), _ones(1, 1, 5, 5)),
     r"input of size 4x4 \(padded 4x4\) is smaller than the kernel size 5x5"),
    (lambda: conv.conv1d(_ones(1, 1, 4), _ones(1, 1, 3), dilation=3),
     r"input of size 4 \(padded 4\) is smaller than the kernel size 3 \(dilated 7\)"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(2, 1, 3, 3), _ones(3)), r"bias has shape \(3,\), expected \(2,\)"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(1, 1, 3, 3), padding="full"), r"padding must be .* got 'full'"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(1, 1, 3, 3), padding=-1), r"padding must be non-negative"),
    (lambda: conv.conv2d(_ones(1, 1, 5, 5), _ones(1, 1, 3, 3), stride=(1, 2, 3)), r"stride must be an int or 2"),
])
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_mixed_dtypes_are_a_type_error():
    x = tc.Tensor(np.ones((1, 1, 5, 5), np.float32))
    with pytest.raises(TypeError, match="input float32, weight float64"):
        conv.conv2d(x, _ones(1, 1, 3, 3))


# ----- PyTorch, when it is installed --------------------------------------------------------------------------
@given(configurations())
def test_forward_and_backward_match_pytorch(config):
    torch = pytest.importorskip("torch", reason="optional: compares with PyTorch when it is installed")
    x, weight, bias, attrs = config
    tensors = [tc.Tensor(a, requires_grad=True) for a in (x, weight) + (() if bias is None else (bias,))]
    out = run(tensors[0], tensors[1], tensors[2] if bias is not None else None, **attrs)
    grad = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(grad)

    torch_tensors = [torch.tensor(a, requires_grad=True) for a in (x, weight) + (() if bias is None else (bias,))]
    torch_x = torch_tensors[0]
    padding = attrs["padding"]
    if padding == "same":  # torch's 'same' allows stride 1 only: pad explicitly, Keras's split
        pads = [same_padding(n, k, s, d) for n, k, s, d in
                zip(x.shape[2:], weight.shape[2:], attrs["stride"], attrs["dilation"])]
        torch_x = torch.nn.functional.pad(torch_x, [p for pair in reversed(pads) for p in pair])
        padding = 0
    function = torch.nn.functional.conv2d if x.ndim == 4 else torch.nn.functional.conv1d
    torch_out = function(torch_x, torch_tensors[1], torch_tensors[2] if bias is not None else None,
                         attrs["stride"], padding, attrs["dilation"], attrs["groups"])
    torch_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out.detach().numpy(), torch_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(tensors, torch_tensors):
        np.testing.assert_allclose(ours.grad.detach().numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
