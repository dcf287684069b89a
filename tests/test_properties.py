"""Property tests: broadcasting binary ops and reductions over Hypothesis-drawn shapes, dims and values."""

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

finite = st.floats(-3, 3, allow_nan=False, width=64)
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@st.composite
def broadcast_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    a = draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=finite))
    b = draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=st.floats(0.5, 3, width=64)))
    return a, b, shapes.result_shape


@given(broadcast_pair(), st.sampled_from(sorted(BINARY)))
def test_binary_ops_broadcast_like_numpy_and_gradcheck(pair, name):
    a, b, result_shape = pair
    op = BINARY[name]
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = op(ta, tb)
    assert out.shape == result_shape
    np.testing.assert_allclose(out.detach().numpy(), op(a, b))
    assert tc.gradcheck(op, [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)], atol=1e-7, rtol=1e-6)


@given(broadcast_pair())
def test_gradient_of_a_broadcast_sum_counts_each_use(pair):
    a, b, result_shape = pair
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta + tb).sum().backward()
    uses_a = int(np.prod(result_shape)) // max(a.size, 1)
    uses_b = int(np.prod(result_shape)) // max(b.size, 1)
    np.testing.assert_allclose(ta.grad.detach().numpy(), np.full(a.shape, float(uses_a)))
    np.testing.assert_allclose(tb.grad.detach().numpy(), np.full(b.shape, float(uses_b)))


@st.composite
def array_and_dims(draw):
    array = draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), elements=finite))
    dims = draw(st.one_of(
        st.none(),
        st.integers(-array.ndim, array.ndim - 1),
        st.lists(st.integers(0, array.ndim - 1), min_size=1, max_size=array.ndim, unique=True).map(tuple),
    ))
    return array, dims, draw(st.booleans())


REDUCTIONS = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}


@given(array_and_dims(), st.sampled_from(sorted(REDUCTIONS)))
def test_reductions_match_numpy_for_any_dims_and_keepdim(case, name):
    array, dims, keepdim = case
    axis = dims if dims is None or isinstance(dims, tuple) else (dims,)
    out = getattr(Tensor(array), name)(dim=dims, keepdim=keepdim)
    np.testing.assert_allclose(out.detach().numpy(), REDUCTIONS[name](array, axis=axis, keepdims=keepdim))


@given(array_and_dims(), st.sampled_from(["sum", "mean", "var"]))
def test_smooth_reductions_gradcheck_for_any_dims(case, name):
    array, dims, keepdim = case
    axes = range(array.ndim) if dims is None else (dims if isinstance(dims, tuple) else (dims,))
    if name == "var" and int(np.prod([array.shape[a] for a in axes])) < 2:
        return  # a single element has no unbiased variance (a clear error, tested in test_tensor)
    x = Tensor(array, requires_grad=True)
    assert tc.gradcheck(lambda t: getattr(t, name)(dim=dims, keepdim=keepdim), [x], atol=1e-7, rtol=1e-6)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                  elements=st.integers(-3, 3).map(float)))
def test_amax_gradient_sums_to_one_however_many_ties(array):
    x = Tensor(array, requires_grad=True)
    x.amax().backward()
    assert np.isclose(x.grad.detach().numpy().sum(), 1.0)
    assert (x.grad.detach().numpy()[array < array.max()] == 0).all()
