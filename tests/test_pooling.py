"""The pooling family in 1, 2 and 3 dims: max/avg pooling with every option, return_indices and max_unpool,
adaptive pooling, and their layers. Plain values pinned without torch; forward, indices and backward compared
with PyTorch in float64 where torch is installed; bad arguments refused with errors naming them."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops import pool

RNG = np.random.default_rng(0)


def ties(*shape):
    """Small integers: many tied maxima, to pin the first-maximum rule."""
    return RNG.integers(-2, 3, size=shape).astype(np.float64)


def normal(*shape):
    return RNG.standard_normal(shape)


# ----- plain values ---------------------------------------------------------------------------------------


def test_avg_pool_divisors_follow_ceil_mode_and_count_include_pad():
    x = Tensor(np.ones((1, 1, 5)))
    # the last window [3, 6) reaches the end of the padded input (5 + 1): 2 of its 3 places hold ones
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, ceil_mode=True).detach().numpy()[0, 0], [2 / 3, 1, 2 / 3])
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).detach().numpy()[0, 0],
                               [1, 1, 1])
    # ceil_mode's last window [4, 6) starts inside the input and passes its end: divided by 1, the part inside
    np.testing.assert_allclose(F.avg_pool1d(x, 2, 2, ceil_mode=True).detach().numpy()[0, 0], [1, 1, 1])
    square = Tensor(np.ones((1, 1, 4, 4)))
    np.testing.assert_allclose(
        F.avg_pool2d(square, 2, divisor_override=3).detach().numpy(), np.full((1, 1, 2, 2), 4 / 3)
    )
    np.testing.assert_allclose(F.avg_pool3d(Tensor(np.ones((1, 2, 2, 2))), 2, padding=1,
                                            count_include_pad=False).detach().numpy(), np.ones((1, 2, 2, 2)))


def test_max_pool_returns_flat_indices_into_each_plane():
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(values.detach().numpy()[0, 0], [[5, 7], [13, 15]])
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.detach().numpy()[0, 0], [[5, 7], [13, 15]])
    tied = Tensor(np.array([[1.0, 3.0, 3.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(
        F.max_pool1d(tied, 3, 1, 1, return_indices=True)[1].detach().numpy(), [[1, 1, 1, 2, 4]]
    )
    cube = Tensor(np.arange(8.0).reshape(1, 2, 2, 2)[..., ::-1].copy())
    np.testing.assert_array_equal(F.max_pool3d(cube, 2, return_indices=True)[1].detach().numpy(), [[[[6]]]])


def test_max_unpool_puts_values_back_at_their_indices_and_gathers_the_gradient():
    x = Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
    indices = Tensor(np.array([[[[0, 3], [9, 14]]]]))
    out = F.max_unpool2d(x, indices, 2)
    expected = np.zeros(16)
    expected[[0, 3, 9, 14]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(out.detach().numpy().ravel(), expected)
    (out * Tensor(np.arange(16.0).reshape(1, 1, 4, 4))).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy().ravel(), [0, 3, 9, 14])
    assert F.max_unpool2d(x, indices, 2, output_size=(5, 5)).shape == (1, 1, 5, 5)


def test_adaptive_avg_pool_uses_pytorchs_overlapping_windows():
    x = Tensor(np.arange(5.0)[None, None])
    # windows [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 3).detach().numpy()[0, 0], [0.5, 2.0, 3.5])
    np.testing.assert_allclose(F.adaptive_max_pool1d(x, 3).detach().numpy()[0, 0], [1, 3, 4])
    # more outputs than inputs: windows repeat
    np.testing.assert_allclose(
        F.adaptive_avg_pool1d(Tensor(np.array([[[1.0, 3.0]]])), 3).detach().numpy()[0, 0], [1, 2, 3]
    )


def test_adaptive_pool_output_sizes_as_int_tuple_or_none():
    x = Tensor(normal(2, 3, 7, 5))
    assert F.adaptive_avg_pool2d(x, 3).shape == (2, 3, 3, 3)
    assert F.adaptive_avg_pool2d(x, (None, 2)).shape == (2, 3, 7, 2)
    assert F.adaptive_max_pool2d(x[0], (4, None)).shape == (3, 4, 5)
    assert nn.AdaptiveAvgPool2d((2, 1))(x).shape == (2, 3, 2, 1)


def test_output_size_one_is_global_pooling():
    data = normal(2, 3, 5, 6)
    x = Tensor(data, requires_grad=True)
    out = F.adaptive_avg_pool2d(x, 1)
    np.testing.assert_allclose(out.detach().numpy(), data.mean(axis=(2, 3), keepdims=True))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.full(data.shape, 1 / 30))
    values, indices = F.adaptive_max_pool2d(Tensor(data), 1, return_indices=True)
    np.testing.assert_array_equal(values.detach().numpy(), data.max(axis=(2, 3), keepdims=True))
    np.testing.assert_array_equal(indices.detach().numpy()[..., 0, 0], data.reshape(2, 3, -1).argmax(-1))


@pytest.mark.parametrize(("function", "shape", "args"), [
    (F.max_pool1d, (2, 3, 9), (3, 2, 1)),
    (F.avg_pool1d, (2, 3, 9), (3, 2, 1)),
    (F.max_pool3d, (2, 2, 5, 4, 6), (2, 1, 1)),
    (F.avg_pool3d, (2, 2, 5, 4, 6), (2, 1, 1)),
    (F.adaptive_avg_pool1d, (2, 3, 9), (4,)),
    (F.adaptive_max_pool2d, (2, 3, 7, 5), ((3, 2),)),
])
def test_unbatched_input_pools_like_a_batch_of_one(function, shape, args):
    x = normal(*shape)
    single, batched = Tensor(x[0], requires_grad=True), Tensor(x[:1], requires_grad=True)
    out = function(single, *args)
    (out * out).sum().backward()
    reference = function(batched, *args)
    (reference * reference).sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), reference.detach().numpy()[0])
    np.testing.assert_array_equal(single.grad.detach().numpy(), batched.grad.detach().numpy()[0])


@pytest.mark.parametrize("function", [F.max_pool3d, F.avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d])
def test_pooling_keeps_float32(function):
    shape = {F.max_pool3d: (2, 2, 4, 4, 4), F.avg_pool1d: (2, 3, 8)}.get(function, (2, 3, 7, 6))
    x = tc.randn(*shape, requires_grad=True)
    out = function(x, 2)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_layers_pass_their_arguments_and_return_indices():
    x = Tensor(normal(1, 2, 6, 6))
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    restored = nn.MaxUnpool2d(2)(values, indices)
    assert restored.shape == x.shape and np.count_nonzero(restored.detach().numpy()) == values.detach().numpy().size
    np.testing.assert_array_equal(nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)(x).detach().numpy(),
                                  F.avg_pool2d(x, 3, 2, 1, True, False).detach().numpy())
    assert nn.AvgPool1d(3).kernel_size == (3,) and nn.MaxUnpool3d(2).stride == (2, 2, 2)


# ----- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    (lambda: F.max_pool1d(Tensor(np.zeros((1, 1, 5))), 0), "kernel_size must be positive"),
    (lambda: F.avg_pool3d(Tensor(np.zeros((1, 1, 5, 5, 5))), 2, padding=2), "at most half"),
    (lambda: F.max_pool1d(Tensor(np.zeros((1, 1, 1, 5))), 2), r"2D \(C, L\) or 3D \(N, C, L\)"),
    (lambda: F.max_pool3d(Tensor(np.zeros((1, 5, 5))), 2), r"4D \(C, D, H, W\) or 5D"),
    (lambda: F.avg_pool3d(Tensor(np.zeros((1, 1, 1, 3, 3))), 2, padding=1), "smaller than kernel_size"),
    (lambda: F.avg_pool1d(Tensor(np.zeros((1, 1, 5))), (2, 2)), "kernel_size must be an int or 1 ints"),
    (lambda: F.avg_pool2d(Tensor(np.zeros((1, 1, 4, 4))), 2, divisor_override=0), "divisor_override"),
    (lambda: F.adaptive_avg_pool2d(Tensor(np.zeros((1, 1, 4, 4))), (2, 2, 2)), "output_size"),
    (lambda: F.adaptive_max_pool2d(Tensor(np.zeros((1, 1, 4, 4))), -1), "output_size must be positive"),
    (lambda: F.adaptive_avg_pool1d(Tensor(np.zeros((1, 1, 1, 4))), 2), "3D"),
    (lambda: F.adaptive_max_pool1d(Tensor(np.zeros((1, 1, 4))), (None,)), "output_size must be an int or 1 ints"),
    (lambda: F.max_unpool2d(Tensor(np.zeros((1, 1, 2, 2))), Tensor(np.zeros((1, 1, 2, 2), np.int64)), 2,
                            output_size=(9, 9)), "output_size"),
    (lambda: F.max_unpool2d(Tensor(np.zeros((1, 1, 2, 2))), Tensor(np.full((1, 1, 2, 2), 16)), 2), "max index: 16"),
    (lambda: F.max_unpool2d(Tensor(np.zeros((1, 1, 2, 2))), Tensor(np.zeros((1, 1, 2, 1), np.int64)), 2),
     "indices must have the input's shape"),
    (lambda: F.max_unpool1d(Tensor(np.zeros((1, 1, 2))), Tensor(np.zeros((1, 1, 2))), 2), "indices must be integers"),
])
def test_bad_arguments_raise_errors_naming_them(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_non_tensor_input_is_refused():
    with pytest.raises(TypeError, match="input"):
        F.avg_pool1d(np.zeros((1, 1, 4)), 2)


# ----- against PyTorch --------------------------------------------------------------------------------------


def _torch():
    return pytest.importorskip("torch")


def _compare(ours, theirs, arrays, *args, **kwargs):
    """Outputs (values and indices) and the float inputs' gradients of ours and torch's on the same arrays."""
    torch = _torch()
    mine = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    reference = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, expected = ours(*mine, *args, **kwargs), theirs(*reference, *args, **kwargs)
    if isinstance(expected, tuple):
        np.testing.assert_array_equal(out[1].detach().numpy(), expected[1].numpy())
        assert out[1].dtype == np.int64
        out, expected = out[0], expected[0]
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    grad = RNG.standard_normal(out.shape)
    out.backward(grad)
    expected.backward(torch.tensor(grad))
    for a, t in zip(mine, reference):
        if t.requires_grad:
            np.testing.assert_allclose(a.grad.detach().numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def _case(name, function, *args, **kwargs):
    return pytest.param(function, args, kwargs, id=name)


CASES = [
    _case("max1d", "max_pool1d", ties(2, 3, 9), 2),
    _case("max1d-padding-indices", "max_pool1d", ties(2, 2, 9), 3, 2, 1, return_indices=True),
    _case("max1d-dilation-ceil", "max_pool1d", ties(1, 2, 10), 2, 2, 1, 2, ceil_mode=True, return_indices=True),
    _case("max1d-unbatched", "max_pool1d", ties(3, 8), 3, 1, return_indices=True),
    _case("max2d-indices", "max_pool2d", ties(2, 3, 6, 7), 2, return_indices=True),
    _case("max2d-overlap-ceil-indices", "max_pool2d", ties(1, 2, 7, 7), 3, 2, 1, ceil_mode=True,
          return_indices=True),
    _case("max2d-dilation-indices", "max_pool2d", ties(1, 2, 9, 8), (2, 3), (1, 2), 1, 2, return_indices=True),
    _case("max2d-unbatched-indices", "max_pool2d", ties(2, 5, 6), 2, 1, return_indices=True),
    _case("max3d", "max_pool3d", ties(2, 2, 4, 5, 6), 2),
    _case("max3d-padding-indices", "max_pool3d", ties(1, 2, 5, 5, 6), (3, 2, 3), (2, 1, 2), (1, 1, 0),
          return_indices=True),
    _case("max3d-ceil-dilation", "max_pool3d", ties(1, 1, 6, 5, 7), 2, 2, 1, (1, 2, 1), ceil_mode=True,
          return_indices=True),
    _case("max3d-unbatched", "max_pool3d", ties(2, 4, 4, 5), 2, 1, return_indices=True),
    _case("avg1d", "avg_pool1d", normal(2, 3, 9), 2),
    _case("avg1d-ceil", "avg_pool1d", normal(2, 2, 8), 3, 2, 1, ceil_mode=True),
    _case("avg1d-ceil-no-pad-count", "avg_pool1d", normal(2, 2, 7), 3, 2, 1, ceil_mode=True, count_include_pad=False),
    _case("avg1d-unbatched", "avg_pool1d", normal(3, 7), 2, 1),
    _case("avg2d-no-pad-count", "avg_pool2d", normal(2, 2, 7, 5), 3, 2, 1, count_include_pad=False),
    _case("avg2d-ceil", "avg_pool2d", normal(1, 2, 8, 7), 3, 2, 1, ceil_mode=True),
    _case("avg2d-ceil-no-pad-count", "avg_pool2d", normal(1, 2, 7, 8), (3, 2), 2, 1, ceil_mode=True,
          count_include_pad=False),
    _case("avg2d-ceil-no-padding", "avg_pool2d", normal(2, 1, 5, 7), 2, ceil_mode=True),
    _case("avg2d-divisor", "avg_pool2d", normal(1, 2, 5, 6), 3, 2, 1, ceil_mode=True, divisor_override=4),
    _case("avg3d", "avg_pool3d", normal(2, 2, 4, 4, 4), 2),
    _case("avg3d-options", "avg_pool3d", normal(1, 2, 5, 6, 7), (3, 2, 3), 2, (1, 0, 1), ceil_mode=True,
          count_include_pad=False),
    _case("avg3d-divisor-unbatched", "avg_pool3d", normal(2, 4, 5, 5), 2, 2, 1, divisor_override=-3),
    _case("adaptive-avg1d-divides", "adaptive_avg_pool1d", normal(2, 3, 8), 4),
    _case("adaptive-avg1d-uneven", "adaptive_avg_pool1d", normal(2, 3, 7), 3),
    _case("adaptive-avg1d-larger", "adaptive_avg_pool1d", normal(2, 3, 3), 7),
    _case("adaptive-avg1d-global", "adaptive_avg_pool1d", normal(2, 3, 7), 1),
    _case("adaptive-avg2d-divides", "adaptive_avg_pool2d", normal(2, 2, 6, 8), (3, 4)),
    _case("adaptive-avg2d-uneven", "adaptive_avg_pool2d", normal(2, 2, 7, 5), (3, 2)),
    _case("adaptive-avg2d-none", "adaptive_avg_pool2d", normal(1, 2, 5, 7), (None, 3)),
    _case("adaptive-avg2d-larger", "adaptive_avg_pool2d", normal(1, 2, 3, 2), (5, 4)),
    _case("adaptive-avg2d-global", "adaptive_avg_pool2d", normal(2, 3, 5, 6), 1),
    _case("adaptive-avg2d-unbatched", "adaptive_avg_pool2d", normal(3, 7, 6), (4, 5)),
    _case("adaptive-avg3d", "adaptive_avg_pool3d", normal(1, 2, 5, 6, 7), (2, 4, 3)),
    _case("adaptive-max1d", "adaptive_max_pool1d", ties(2, 3, 7), 3, return_indices=True),
    _case("adaptive-max1d-larger", "adaptive_max_pool1d", ties(2, 3, 3), 5, return_indices=True),
    _case("adaptive-max2d-divides", "adaptive_max_pool2d", ties(2, 2, 6, 8), (3, 4), return_indices=True),
    _case("adaptive-max2d-uneven", "adaptive_max_pool2d", ties(2, 2, 7, 5), (3, 2), return_indices=True),
    _case("adaptive-max2d-none", "adaptive_max_pool2d", ties(1, 2, 5, 7), (None, 3), return_indices=True),
    _case("adaptive-max2d-larger", "adaptive_max_pool2d", ties(1, 2, 3, 2), (5, 4), return_indices=True),
    _case("adaptive-max2d-global", "adaptive_max_pool2d", ties(2, 3, 5, 6), 1, return_indices=True),
    _case("adaptive-max2d-unbatched", "adaptive_max_pool2d", ties(3, 7, 6), (4, 5)),
    _case("adaptive-max3d", "adaptive_max_pool3d", ties(1, 2, 5, 6, 7), (2, 4, 3), return_indices=True),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_pooling_matches_pytorch_forward_indices_and_backward(name, args, kwargs):
    torch = _torch()
    x, *rest = args
    _compare(getattr(F, name), getattr(torch.nn.functional, name), [x], *rest, **kwargs)


@pytest.mark.parametrize(("n", "shape", "kernel", "stride", "padding", "output_size"), [
    (1, (2, 3, 9), 2, None, 0, None),
    (1, (1, 2, 9), 3, 2, 1, (9,)),
    (2, (2, 3, 6, 7), 2, None, 0, (6, 7)),
    (2, (1, 2, 7, 7), 3, 2, 1, (1, 2, 8, 7)),
    (2, (2, 6, 5), (2, 3), (2, 1), 0, None),
    (3, (1, 2, 4, 5, 6), 2, None, 0, (5, 5, 7)),
])
def test_max_unpool_matches_pytorch_after_max_pool(n, shape, kernel, stride, padding, output_size):
    torch = _torch()
    pool_name, unpool_name = f"max_pool{n}d", f"max_unpool{n}d"
    x = normal(*shape)  # no ties: each index is picked once per window

    def chain(functions, t):
        values, indices = getattr(functions, pool_name)(t, kernel, stride, padding, return_indices=True)
        return getattr(functions, unpool_name)(values * 2, indices, kernel, stride, padding, output_size=output_size)

    _compare(lambda t: chain(F, t), lambda t: chain(torch.nn.functional, t), [x])
    values, indices = F.max_pool2d(Tensor(normal(1, 1, 4, 4)), 2, return_indices=True)
    _compare(lambda v, i: F.max_unpool2d(v, i, 2), lambda v, i: torch.nn.functional.max_unpool2d(v, i, 2),
             [values.detach().numpy(), indices.detach().numpy()])


@st.composite
def avg_configs(draw):
    n = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(n))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(n))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + tuple(draw(st.integers(1, 7)) for _ in range(n))
    ceil_mode, count_include_pad = draw(st.booleans()), draw(st.booleans())
    divisor = draw(st.sampled_from([None, None, 1, 5])) if n > 1 else None
    out = [pool.pool_output_size(*a, 1, ceil_mode) for a in zip(shape[2:], kernel, stride, padding)]
    assume(min(out) >= 1)
    assume(n < 3 or all(size >= k for size, k in zip(shape[2:], kernel)))  # avg_pool3d's own check, pinned below
    return n, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor


@settings(max_examples=60, deadline=None)
@given(avg_configs(), st.integers(0, 2**16))
def test_avg_pool_matches_pytorch_on_drawn_configurations(config, seed):
    torch = _torch()
    n, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor = config
    extra = {} if n == 1 else {"divisor_override": divisor}
    x = np.random.default_rng(seed).standard_normal(shape)
    _compare(getattr(F, f"avg_pool{n}d"), getattr(torch.nn.functional, f"avg_pool{n}d"), [x], kernel, stride,
             padding, ceil_mode, count_include_pad, **extra)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.data())
def test_max_pool_with_ties_matches_pytorch_on_drawn_configurations(n, data):
    torch = _torch()
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(n))
    ceil_mode = data.draw(st.booleans())
    shape = (data.draw(st.integers(1, 2)), 2) + tuple(data.draw(st.integers(1, 6)) for _ in range(n))
    out = [pool.pool_output_size(*a, ceil_mode) for a in zip(shape[2:], kernel, stride, padding, dilation)]
    assume(min(out) >= 1)
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).integers(-2, 3, size=shape).astype(np.float64)
    values = F.max_pool1d if n == 1 else F.max_pool2d if n == 2 else F.max_pool3d
    assume(np.isfinite(values(Tensor(x), kernel, stride, padding, dilation, ceil_mode).detach().numpy()).all())
    _compare(values, getattr(torch.nn.functional, f"max_pool{n}d"), [x], kernel, stride, padding, dilation,
             ceil_mode, True)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.data())
def test_adaptive_pooling_matches_pytorch_on_drawn_sizes(n, data):
    torch = _torch()
    shape = (1, 2) + tuple(data.draw(st.integers(1, 9)) for _ in range(n))
    sizes = st.integers(1, 9) if n == 1 else st.one_of(st.none(), st.integers(1, 9))  # 1-D takes no None
    output_size = tuple(data.draw(sizes) for _ in range(n))
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).integers(-2, 3, size=shape).astype(np.float64)
    for kind, extra in (("avg", {}), ("max", {"return_indices": True})):
        name = f"adaptive_{kind}_pool{n}d"
        _compare(getattr(F, name), getattr(torch.nn.functional, name), [x], output_size, **extra)


@pytest.mark.parametrize("build", [
    lambda m: m.MaxPool1d(3, 2, 1, return_indices=True, ceil_mode=True),
    lambda m: m.MaxPool2d((2, 3), dilation=2),
    lambda m: m.MaxPool3d(2, 1, 1),
    lambda m: m.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda m: m.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=2),
    lambda m: m.AvgPool3d((2, 3, 2), count_include_pad=False),
    lambda m: m.AdaptiveAvgPool1d(4),
    lambda m: m.AdaptiveAvgPool2d((None, 3)),
    lambda m: m.AdaptiveAvgPool3d(1),
    lambda m: m.AdaptiveMaxPool1d(3),
    lambda m: m.AdaptiveMaxPool2d(2, return_indices=True),
    lambda m: m.AdaptiveMaxPool3d((2, None, 3)),
])
def test_layers_match_pytorchs_output_and_repr(build):
    torch = _torch()
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    n = {"1d": 1, "2d": 2, "3d": 3}[type(ours).__name__[-2:]]
    x = ties(2, 3, *(7, 6, 5)[:n])
    _compare(ours, theirs, [x])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_unpool_layers_match_pytorchs_output_and_repr(n):
    torch = _torch()
    ours, theirs = getattr(nn, f"MaxUnpool{n}d")(2), getattr(torch.nn, f"MaxUnpool{n}d")(2)
    assert repr(ours) == repr(theirs)
    values, indices = getattr(F, f"max_pool{n}d")(Tensor(normal(1, 2, *(4, 6, 4)[:n])), 2, return_indices=True)
    _compare(ours, theirs, [values.detach().numpy(), indices.detach().numpy()])


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("max_pool2d", (2,), {"return_indices": True}),
    ("avg_pool1d", (3, 2, 1), {}),
    ("max_pool3d", (2,), {}),
    ("adaptive_avg_pool2d", ((2, 3),), {}),
    ("adaptive_max_pool2d", (1,), {"return_indices": True}),
    ("adaptive_max_pool1d", (3,), {"return_indices": True}),
])
def test_an_empty_batch_pools_to_an_empty_batch_as_pytorch(name, args, kwargs):
    n = int(name[-2])
    _compare(getattr(F, name), getattr(_torch().nn.functional, name), [np.zeros((0, 2) + (5,) * n)], *args,
             **kwargs)
    with pytest.raises(ValueError, match="non-empty"):
        getattr(F, name)(Tensor(np.zeros((2, 0) + (5,) * n)), *args, **kwargs)


def test_max_unpool_of_an_empty_batch_is_empty():
    out = F.max_unpool2d(Tensor(np.zeros((0, 2, 2, 2))), Tensor(np.zeros((0, 2, 2, 2), np.int64)), 2)
    assert out.shape == (0, 2, 4, 4)
