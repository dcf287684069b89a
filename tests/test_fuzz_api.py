"""A fuzz of the public API: Hypothesis draws shapes (empty and 0-d too), dtypes, values (NaN, inf, float32's
extremes), non-contiguous arrays and bad keyword values, and calls our ops on them.

Every call must either return a result or raise an error of ours (raised from tinygrad_cnn's own code, not
leaked from NumPy); no NumPy RuntimeWarning may escape (pytest turns them into errors). Where torch is
importable, the same call goes to PyTorch: when it succeeds ours must give its shape, dtype and values (NaN
where it has NaN), and when it refuses, ours must refuse too, never return a silent result.
"""

from __future__ import annotations

import os
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the fuzz still checks warnings and the origin of errors
    torch = TF = None

PACKAGE = os.path.dirname(tc.__file__)
OUR_ERRORS = (ValueError, TypeError, RuntimeError, IndexError, NotImplementedError)
DTYPES = [np.float32, np.float64, np.int64, np.bool_]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-30, 3e38, -3e38, 1e30, np.inf, -np.inf, np.nan, 88.0, -104.0, 1e4]


@st.composite
def arrays(draw, dtype=None, shape=None, min_dims=0, max_dims=4, allow_empty=True):
    """An array of a drawn dtype and shape, values finite or not, sometimes a non-contiguous view."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)) if dtype is None else dtype)
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0 if allow_empty else 1,
                                      max_side=4))
    if dtype.kind == "f":
        elements = st.one_of(st.floats(-3.0, 3.0, width=8 * dtype.itemsize),
                             st.sampled_from(SPECIAL).map(lambda v: float(np.asarray(v, dtype))))
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        elements = st.integers(-5, 5)
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    if array.ndim >= 2 and draw(st.booleans()):
        array = np.ascontiguousarray(np.swapaxes(array, 0, 1)).swapaxes(0, 1)  # same values, transposed strides
    return array


def _ours(array):
    return tc.tensor(array) if isinstance(array, np.ndarray) else array


def _theirs(array):
    return torch.from_numpy(np.array(array)) if isinstance(array, np.ndarray) else array


def _call_ours(function, args, kwargs):
    """The result, or the error; an error must come from our own code, with a message."""
    try:
        return function(*[_ours(a) for a in args], **kwargs), None
    except OUR_ERRORS as error:
        origin = traceback.extract_tb(error.__traceback__)[-1].filename
        assert origin.startswith(PACKAGE), (
            f"{type(error).__name__} leaked from {origin} instead of an error of ours: {error}")
        assert str(error), f"{type(error).__name__} without a message"
        return None, error


def _compare(ours, theirs, atol=None):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _compare(a, b, atol)
        return
    expected = theirs.detach().numpy()
    got = ours.detach().numpy()
    assert got.shape == expected.shape, f"shape {got.shape}, PyTorch {expected.shape}"
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, PyTorch {expected.dtype}"
    if got.dtype.kind == "f":
        default_atol = 1e-6 if got.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, expected, rtol=1e-5 if got.dtype == np.float32 else 1e-10,
                                   atol=default_atol if atol is None else max(atol, default_atol), equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def _check(ours_fn, torch_fn, args, kwargs=None, torch_kwargs=None, atol=None):
    kwargs = kwargs or {}
    ours, error = _call_ours(ours_fn, args, kwargs)
    if torch is None or torch_fn is None:
        return
    try:
        theirs = torch_fn(*[_theirs(a) for a in args], **(kwargs if torch_kwargs is None else torch_kwargs))
    except Exception:  # noqa: BLE001 (PyTorch refused: so must we)
        assert error is not None, "PyTorch refuses this call, but ours returned a result"
        return
    if error is not None and isinstance(error, IndexError) and _is_empty(theirs):
        return  # PyTorch skips its bounds check when the result is empty; an out-of-range index is still refused
    assert error is None, f"PyTorch accepts this call, ours raised {type(error).__name__}: {error}"
    _compare(ours, theirs, atol)


def _sum_rounding(*arrays, terms):
    """The rounding a sum of `terms` products of these arrays' elements may carry (float64): where 3e38 and
    -3e38 terms cancel, any two correct summation orders differ by about eps times the largest term."""
    largest = [float(np.max(np.abs(a[np.isfinite(a)]), initial=1.0)) for a in arrays]
    return 4 * np.finfo(np.float64).eps * terms * float(np.prod(largest))


def _is_empty(result):
    return not isinstance(result, (tuple, list)) and result.numel() == 0


BINARY = {
    "add": (lambda a, b: a + b), "sub": (lambda a, b: a - b), "mul": (lambda a, b: a * b),
    "div": (lambda a, b: a / b), "mod": (lambda a, b: a % b), "floordiv": (lambda a, b: a // b),
}


@settings(max_examples=60)
@given(st.sampled_from(sorted(BINARY)), st.data())
def test_binary_arithmetic(name, data):
    a = data.draw(arrays())
    b = data.draw(st.one_of(arrays(), st.sampled_from([2, 0.5, -1.5, True, 3e38])))
    op = BINARY[name]
    _check(op, op, (a, b))


UNARY = {
    "exp": (lambda x: x.exp(), lambda x: x.exp()), "log": (lambda x: x.log(), lambda x: x.log()),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt()), "abs": (lambda x: x.abs(), lambda x: x.abs()),
    "neg": (lambda x: -x, lambda x: -x), "tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()), "relu": (lambda x: x.relu(), lambda x: x.relu()),
}


@settings(max_examples=60)
@given(st.sampled_from(sorted(UNARY)), st.sampled_from([np.float32, np.float64]).flatmap(lambda d: arrays(dtype=d)))
def test_unary_float_ops(name, x):
    ours, theirs = UNARY[name]
    _check(ours, theirs, (x,))


REDUCTIONS = ["sum", "mean", "amax", "amin"]


@settings(max_examples=60)
@given(st.sampled_from(REDUCTIONS), arrays(), st.one_of(st.none(), st.integers(-5, 4)), st.booleans())
def test_reductions(name, x, dim, keepdim):
    kwargs = {"dim": dim, "keepdim": keepdim} if dim is not None else {}
    _check(lambda t: getattr(t, name)(**kwargs), lambda t: getattr(t, name)(**kwargs), (x,))


@settings(max_examples=40)
@given(arrays(dtype=np.float64, min_dims=1), st.integers(-4, 3))
def test_softmax_and_log_softmax(x, dim):
    _check(lambda t: F.softmax(t, dim=dim), lambda t: TF.softmax(t, dim=dim), (x,))
    _check(lambda t: F.log_softmax(t, dim=dim), lambda t: TF.log_softmax(t, dim=dim), (x,))


@settings(max_examples=40)
@given(st.data())
def test_losses(data):
    n, c = data.draw(st.integers(0, 4)), data.draw(st.integers(1, 4))
    logits = data.draw(arrays(dtype=np.float64, shape=(n, c)))
    target = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(-1, c)))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    _check(lambda a, t: F.cross_entropy(a, t, reduction=reduction),
           lambda a, t: TF.cross_entropy(a, t, reduction=reduction), (logits, target))
    y = data.draw(arrays(dtype=np.float64, shape=(n, c)))
    _check(lambda a, b: F.mse_loss(a, b, reduction=reduction),
           lambda a, b: TF.mse_loss(a, b, reduction=reduction), (logits, y))
    _check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
           lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction), (logits, y))


@settings(max_examples=40)
@given(st.data())
def test_conv2d_and_pooling_with_any_arguments(data):
    x = data.draw(arrays(dtype=np.float64, shape=data.draw(hnp.array_shapes(min_dims=3, max_dims=4, min_side=0,
                                                                              max_side=6))))
    channels = x.shape[-3]
    weight = data.draw(arrays(dtype=np.float64, shape=(data.draw(st.integers(1, 3)), max(channels, 1),
                                                       data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))))
    stride = data.draw(st.integers(-1, 3))
    padding = data.draw(st.one_of(st.integers(-1, 2), st.sampled_from(["same", "valid"])))
    # 'same' with a stride > 1 is ours (Keras's padding, output = ceil(input / stride)): PyTorch refuses it.
    keras_same = padding == "same" and stride > 1
    _check(lambda a, w: F.conv2d(a, w, stride=stride, padding=padding),
           None if keras_same else lambda a, w: TF.conv2d(a, w, stride=stride, padding=padding), (x, weight),
           atol=_sum_rounding(x, weight, terms=weight[0].size))
    kernel = data.draw(st.integers(0, 3))
    _check(lambda a: F.max_pool2d(a, kernel, stride=stride if stride > 0 else None),
           lambda a: TF.max_pool2d(a, kernel, stride=stride if stride > 0 else None), (x,))


@settings(max_examples=40)
@given(arrays(min_dims=0), st.data())
def test_shape_ops(x, data):
    shape = data.draw(st.lists(st.integers(-1, 4), max_size=3).map(tuple))
    _check(lambda t: t.reshape(shape), lambda t: t.reshape(shape), (x,))
    dim = data.draw(st.integers(-4, 3))
    _check(lambda t: t.squeeze(dim), lambda t: t.squeeze(dim), (x,))
    _check(lambda t: t.unsqueeze(dim), lambda t: t.unsqueeze(dim), (x,))
    _check(lambda t: t.flatten(), lambda t: t.flatten(), (x,))


@settings(max_examples=40)
@given(arrays(dtype=np.float64, min_dims=1, max_dims=3), st.data())
def test_indexing(x, data):
    index = data.draw(st.one_of(
        st.integers(-5, 4),
        st.slices(5),
        st.tuples(st.integers(-2, 1), st.slices(4)),
        st.lists(st.integers(-3, 3), min_size=0, max_size=3),
    ))
    _check(lambda t: t[index], lambda t: t[index], (x,))


@pytest.mark.parametrize(("call", "argument"), [
    (lambda: F.conv2d(tc.randn(1, 1, 4, 4), tc.randn(1, 1, 3, 3), stride=0), "stride"),
    (lambda: F.max_pool2d(tc.randn(1, 1, 4, 4), 2, padding=3), "padding"),
    (lambda: F.dropout(tc.randn(3), p=1.5), "p"),
    (lambda: F.softmax(tc.randn(3), dim=2), "dim"),
    (lambda: tc.randn(3).sum(dim=5), "dim"),
    (lambda: F.cross_entropy(tc.randn(2, 3), tc.tensor([0.0, 1.0])), "int64"),
    (lambda: tc.nn.Linear(2, 0 - 1), "features"),
    (lambda: tc.zeros(-1), "shape"),
])
def test_bad_keyword_values_raise_errors_of_ours_naming_the_argument(call, argument):
    with pytest.raises(OUR_ERRORS, match=f"(?i){argument}") as caught:
        call()
    assert traceback.extract_tb(caught.value.__traceback__)[-1].filename.startswith(PACKAGE)


INPLACE = {
    "add_": lambda t, o: t.add_(o), "sub_": lambda t, o: t.sub_(o), "mul_": lambda t, o: t.mul_(o),
    "div_": lambda t, o: t.div_(o), "copy_": lambda t, o: t.copy_(o), "iadd": lambda t, o: t.__iadd__(o),
}


def _inplace_result(function):
    """Run an in-place call on a copy, returning the changed tensor (the same object) or raising."""
    def call(t, other):
        target = t.clone() if hasattr(t, "clone") else t
        result = function(target, other)
        assert result is target, "an in-place op must return the tensor it changed"
        return target
    return call


@settings(max_examples=60)
@given(st.sampled_from(sorted(INPLACE)), st.data())
def test_in_place_ops_with_any_dtypes_and_shapes(name, data):
    a = data.draw(arrays(min_dims=1, max_dims=3))
    other = data.draw(st.one_of(arrays(max_dims=3), st.sampled_from([2, 0.5, True, -1.5])))
    function = _inplace_result(INPLACE[name])
    _check(function, function, (a, other))


@settings(max_examples=40)
@given(arrays(dtype=np.float64, min_dims=1, max_dims=3, allow_empty=False), st.data())
def test_setitem_with_masks_slices_and_index_arrays(x, data):
    index = data.draw(st.one_of(
        st.just(x > 0), st.integers(-1, 0), st.slices(x.shape[0]),
        st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=1, max_size=3).map(np.array)))
    value = data.draw(st.one_of(st.floats(-3, 3), st.sampled_from([np.inf, np.nan])))

    def assign(t, v):
        target = t.clone()
        target[index if not isinstance(index, np.ndarray) or index.dtype == bool else index.tolist()] = v
        return target

    _check(assign, assign, (x, value))
