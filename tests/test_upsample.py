"""F.interpolate and nn.Upsample: values pinned by hand, PyTorch's output sizes and source-index rounding, errors,
and PyTorch's numbers (forward and backward) where torch is installed."""

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.ops.registry import registry

SAMPLES = list(registry["interpolate"].samples(np.random.default_rng(5)))


def test_nearest_repeats_and_linear_weighs_neighbours():
    x = Tensor(np.array([[[0.0, 1.0, 2.0]]]))
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).detach().numpy(), [[[0, 0, 1, 1, 2, 2]]])
    np.testing.assert_array_equal(F.interpolate(x, size=4).detach().numpy(), [[[0, 0, 1, 2]]])  # floor(j * 3/4)
    np.testing.assert_array_equal(F.interpolate(x, size=4, mode="nearest-exact").detach().numpy(), [[[0, 1, 1, 2]]])
    # A scale factor is used as given, even where the size stays: floor(j / 1.3) and floor(j / 2.1), as PyTorch.
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=1.3).detach().numpy(), [[[0, 0, 1]]])
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2.1).detach().numpy(), [[[0, 0, 0, 1, 1, 2]]])
    pair = Tensor(np.array([[[0.0, 1.0]]]))
    np.testing.assert_allclose(
        F.interpolate(pair, size=3, mode="linear", align_corners=True).detach().numpy(), [[[0, 0.5, 1]]]
    )
    np.testing.assert_allclose(F.interpolate(pair, size=4, mode="linear").detach().numpy(), [[[0, 0.25, 0.75, 1]]])


def test_output_size_is_the_floor_of_input_times_scale():
    x = tc.randn(1, 2, 5, 7)
    assert F.interpolate(x, scale_factor=1.7).shape == (1, 2, 8, 11)
    assert F.interpolate(x, scale_factor=(0.5, 2.5), mode="bilinear").shape == (1, 2, 2, 17)
    assert F.interpolate(x, size=3).shape == (1, 2, 3, 3)
    assert F.interpolate(tc.randn(2, 1, 2, 3, 4), scale_factor=2, mode="trilinear").shape == (2, 1, 4, 6, 8)


def test_nearest_backward_sums_the_copies_and_keeps_float32():
    x = tc.randn(2, 3, 4, 5, requires_grad=True)
    out = F.interpolate(x, scale_factor=2)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.full(x.shape, 4.0, np.float32))


def test_bilinear_backward_is_the_adjoint_of_the_forward():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 7, 9))
    for align_corners in (False, True):
        t = Tensor(x, requires_grad=True)
        out = F.interpolate(t, size=(7, 9), mode="bilinear", align_corners=align_corners)
        out.backward(y)
        np.testing.assert_allclose(np.sum(out.detach().numpy() * y), np.sum(x * t.grad.detach().numpy()), rtol=1e-12)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(size=4, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (dict(), ValueError, "either size or scale_factor"),
    (dict(size=4, align_corners=True), ValueError, "align_corners option can only be set"),
    (dict(size=4, mode="bilinear"), NotImplementedError, "got 3D input, but bilinear mode needs 4D input"),
    (dict(size=4, mode="trilinear"), NotImplementedError, "trilinear mode needs 5D input"),
    (dict(size=4, mode="bicubic"), NotImplementedError, "mode 'bicubic' is not supported"),
    (dict(size=(4, 4)), ValueError, r"same number of spatial dimensions.*\[6\].*\(4, 4\)"),
    (dict(scale_factor=(2, 2)), ValueError, r"scale_factor must have|same number of spatial dimensions"),
    (dict(size=2.5), TypeError, "size must be an int"),
    (dict(scale_factor="2"), TypeError, "scale_factor must be a number"),
    (dict(scale_factor=float("nan")), ValueError, "scale_factor must be finite"),
    (dict(size=0), ValueError, r"greater than 0.*\(6,\).*\(0,\)"),
    (dict(scale_factor=0.1), ValueError, "greater than 0"),
    (dict(size=4, recompute_scale_factor=True), ValueError, "recompute_scale_factor is not meaningful"),
    (dict(size=4, antialias=True), NotImplementedError, "antialias"),
    (dict(size=4, mode="linear", align_corners="yes"), TypeError, "align_corners must be a bool"),
])
def test_bad_arguments_are_refused_as_pytorch_does(kwargs, error, message):
    with pytest.raises(error, match=message):
        F.interpolate(tc.randn(1, 2, 6), **kwargs)


def test_wrong_input_dims_are_refused():
    with pytest.raises(NotImplementedError, match=r"only 3-D, 4-D and 5-D inputs.*\(2, 6\)"):
        F.interpolate(tc.randn(2, 6), size=3)
    with pytest.raises(NotImplementedError, match="got 4D input, but linear mode needs 3D input"):
        F.interpolate(tc.randn(1, 1, 2, 6), size=3, mode="linear")
    with pytest.raises(TypeError, match="float input"):
        F.interpolate(Tensor(np.arange(6).reshape(1, 1, 6)), size=3)


def test_upsample_layers_call_interpolate_with_their_arguments():
    x = tc.randn(1, 2, 3, 4)
    layer = nn.Upsample(scale_factor=2, mode="bilinear")
    assert repr(layer) == "Upsample(scale_factor=2.0, mode='bilinear')"
    np.testing.assert_array_equal(
        layer(x).detach().numpy(), F.interpolate(x, scale_factor=2.0, mode="bilinear").detach().numpy()
    )
    assert repr(nn.Upsample(size=(5, 6))) == "Upsample(size=(5, 6), mode='nearest')"
    assert nn.Upsample(size=(5, 6))(x).shape == (1, 2, 5, 6)
    np.testing.assert_array_equal(
        nn.UpsamplingBilinear2d(scale_factor=2)(x).detach().numpy(),
        F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True).detach().numpy(),
    )
    np.testing.assert_array_equal(
        nn.UpsamplingNearest2d(size=(6, 8))(x).detach().numpy(), F.interpolate(x, size=(6, 8)).detach().numpy()
    )
    assert "interpolate" in F.__all__
    assert {"Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"} <= set(nn.__all__)


def test_nearest_gradient_is_the_adjoint_of_the_forward_where_the_size_stays_or_doubles():
    # PyTorch's forward reads floor(j / scale) (pinned above), but its backward treats an axis whose size stays
    # or doubles as a copy or j // 2: its gradient there ([1, 2, 3] and [3, 7] here) belongs to another forward.
    # Ours is the adjoint of the forward that was run (the registry's gradcheck confirms it).
    for size, scale, expected in [(3, 1.3, [3, 3, 0]), (2, 2.1, [6, 4])]:
        x = Tensor(np.zeros((1, 1, size)), requires_grad=True)
        out = F.interpolate(x, scale_factor=scale)
        out.backward(np.arange(1.0, out.shape[-1] + 1).reshape(out.shape))
        np.testing.assert_array_equal(x.grad.detach().numpy().ravel(), expected)


def _pytorch_backward_disagrees(sample) -> bool:
    """Whether the sample hits the nearest cases where PyTorch's backward is not the adjoint of its forward."""
    attrs, shape = sample.attrs, sample.args[0].shape[2:]
    if attrs.get("mode", "nearest") != "nearest" or attrs.get("scale_factor") is None:
        return False
    if attrs.get("recompute_scale_factor"):
        return False
    out = F.interpolate(Tensor(np.zeros((1, 1, *shape))), **attrs).shape[2:]
    scales = np.broadcast_to(attrs["scale_factor"], len(shape))
    return any(o in (n, 2 * n) and scale != o / n for n, o, scale in zip(shape, out, scales))


# ----- against PyTorch -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.note)
def test_interpolate_matches_pytorch(sample, dtype):
    torch = pytest.importorskip("torch")
    x = sample.args[0].astype(dtype)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.interpolate(ours, **sample.attrs)
    expected = torch.nn.functional.interpolate(theirs, **sample.attrs)
    tolerance = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-6, atol=1e-6)
    if sample.attrs.get("mode", "nearest").startswith("nearest"):
        tolerance = dict(rtol=0, atol=0)  # copies: the same source positions give the same bits
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    if _pytorch_backward_disagrees(sample):
        return  # see test_nearest_gradient_is_the_adjoint_of_the_forward_where_the_size_stays_or_doubles
    grad_output = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    out.backward(grad_output)
    expected.backward(torch.tensor(grad_output))
    np.testing.assert_allclose(
        ours.grad.detach().numpy(),
        theirs.grad.numpy(),
        rtol=1e-12 if dtype == np.float64 else 1e-5,
        atol=1e-12 if dtype == np.float64 else 1e-5,
    )


SIZES = [1, 2, 3, 5, 7, 10, 13]
SCALES = [0.3, 0.5, 0.7, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0, 1 / 3, 2.1, 1.1, 0.99]


@pytest.mark.parametrize(("mode", "options"), [
    ("nearest", {}), ("nearest-exact", {}), ("linear", {"align_corners": False}), ("linear", {"align_corners": True})])
def test_source_positions_match_pytorch_for_many_sizes_and_scales(mode, options):
    # float32 inputs: PyTorch rounds its source coordinates in float32 here, so the rounding must match.
    torch = pytest.importorskip("torch")
    for n in SIZES:
        x = np.arange(n, dtype=np.float32).reshape(1, 1, n) * 1.25 + 0.5
        calls = [dict(size=m) for m in SIZES] + [dict(scale_factor=s) for s in SCALES if int(n * s) > 0]
        calls += [dict(scale_factor=s, recompute_scale_factor=True) for s in SCALES if int(n * s) > 0]
        for call in calls:
            out = F.interpolate(Tensor(x), mode=mode, **options, **call).detach().numpy()
            expected = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **options, **call).numpy()
            assert out.shape == expected.shape, (n, call)
            np.testing.assert_allclose(out, expected, rtol=2e-7, atol=1e-6, err_msg=f"input {n}, {call}")
            if mode.startswith("nearest"):
                np.testing.assert_array_equal(out, expected, err_msg=f"input {n}, {call}")


def test_upsample_layer_matches_pytorch_layer():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    for args in [dict(scale_factor=2), dict(size=(7, 3), mode="bilinear"),
                 dict(scale_factor=(1.5, 2.0), mode="bilinear", align_corners=True)]:
        ours, theirs = nn.Upsample(**args), torch.nn.Upsample(**args)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(
            ours(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-14
        )
