"""Factories that PyTorch code uses beyond zeros/ones: linspace, randint, *_like, empty, from_numpy, as_tensor, and
PyTorch's dtype names (tc.float, tc.long...)."""

import numpy as np
import pytest

import tinygrad_cnn as tc


# ----- dtype names -------------------------------------------------------------------------------------
def test_pytorch_dtype_names_exist():
    assert (tc.float, tc.double, tc.long, tc.int, tc.short, tc.bool) == (
        np.float32, np.float64, np.int64, np.int32, np.int16, np.bool_)
    assert (tc.float32, tc.float64, tc.int64, tc.int32, tc.int16, tc.int8, tc.uint8) == (
        np.float32, np.float64, np.int64, np.int32, np.int16, np.int8, np.uint8)
    assert tc.zeros(2, dtype=tc.float).dtype == np.float32 and tc.tensor([1], dtype=tc.long).dtype == np.int64


def test_dtype_names_match_pytorchs():
    torch = pytest.importorskip("torch")
    for name in ("float", "double", "long", "int", "short", "bool", "float32", "float64", "int64", "int32", "int16",
                 "int8", "uint8", "half", "float16"):
        ours, theirs = getattr(tc, name), getattr(torch, name)
        assert str(theirs) == f"torch.{ours.name}", name


@pytest.mark.parametrize("use", [
    lambda: tc.zeros(2, dtype=tc.half),
    lambda: tc.tensor([1.0], dtype=tc.float16),
    lambda: tc.ones(2).to(tc.half),
    lambda: tc.ones(2).half(),
    lambda: tc.ones(2).type(tc.float16),
    lambda: tc.from_numpy(np.ones(2, np.float16)),
])
def test_half_precision_is_refused_clearly(use):
    with pytest.raises(TypeError, match="float16 is not supported"):
        use()


# ----- linspace -------------------------------------------------------------------------------------
def test_linspace_values():
    np.testing.assert_array_equal(tc.linspace(0, 1, 5).detach().numpy(), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert tc.linspace(0, 1, 5).dtype == np.float32 and tc.linspace(0, 1, 5, dtype=tc.float64).dtype == np.float64
    assert tc.linspace(-7, 3, 4, dtype=tc.int64).tolist() == [-7, -3, 0, 3]  # truncated, as PyTorch
    assert tc.linspace(2, 5, 1).tolist() == [2.0] and tc.linspace(0, 1, 0).shape == (0,)
    assert tc.linspace(tc.tensor(0.0), tc.tensor(2.0), 3).tolist() == [0.0, 1.0, 2.0]


def test_linspace_ends_are_exact():
    x = tc.linspace(-np.pi, np.pi, 1001, dtype=tc.float64)
    assert x.detach().numpy()[0] == -np.pi and x.detach().numpy()[-1] == np.pi


def test_linspace_to_infinity_is_nan_quietly_as_pytorch():
    assert np.isnan(tc.linspace(0, float("inf"), 3).detach().numpy()).all() and tc.linspace(
        0, float("inf"), 1
    ).tolist() == [0]


def test_linspace_refuses_bad_steps():
    with pytest.raises(RuntimeError, match="must be non-negative, got -1"):
        tc.linspace(0, 1, -1)
    with pytest.raises(TypeError, match="steps must be an int, got 2.0"):
        tc.linspace(0, 1, 2.0)
    with pytest.raises(TypeError, match="only floating point tensors can require gradients"):
        tc.linspace(0, 1, 3, dtype=tc.int64, requires_grad=True)


@pytest.mark.parametrize(("start", "end", "steps", "dtype"), [
    (0, 1, 5, "float32"), (-3.7, 11.2, 101, "float32"), (-np.pi, np.pi, 2000, "float64"), (0, 10, 4, "int64"),
    (-7, 3, 4, "int64"), (5, -5, 7, "int32"), (1e-3, 1e3, 33, "float64"),
])
def test_linspace_matches_pytorch(start, end, steps, dtype):
    torch = pytest.importorskip("torch")
    ours = tc.linspace(start, end, steps, dtype=getattr(tc, dtype))
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
    assert ours.dtype == theirs.dtype
    if ours.dtype.kind == "f":  # ours rounds the float64 value once; PyTorch's float32 differs by an ulp at most
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=2 * np.finfo(ours.dtype).eps, atol=1e-6)
        assert ours.detach().numpy()[0] == theirs[0] and ours.detach().numpy()[-1] == theirs[-1]
    else:
        np.testing.assert_array_equal(ours.detach().numpy(), theirs)


# ----- randint ---------------------------------------------------------------------------------------
def test_randint_forms_range_and_dtype():
    tc.manual_seed(0)
    for x in (tc.randint(5, (200,)), tc.randint(0, 5, (200,)), tc.randint(high=5, size=(200,)),
              tc.randint(low=0, high=5, size=(200,)), tc.randint(5, size=(200,))):
        assert x.dtype == np.int64 and x.shape == (200,) and set(x.tolist()) == {0, 1, 2, 3, 4}
    assert tc.randint(3, 6, (2, 3)).shape == (2, 3) and set(tc.randint(3, 6, (300,)).tolist()) == {3, 4, 5}
    floats = tc.randint(0, 3, (4,), dtype=tc.float32)
    assert floats.dtype == np.float32 and np.all(floats.detach().numpy() == np.round(floats.detach().numpy()))


def test_randint_is_repeatable_with_a_seed_or_a_generator():
    tc.manual_seed(3)
    first = tc.randint(100, (5,))
    tc.manual_seed(3)
    np.testing.assert_array_equal(tc.randint(100, (5,)).detach().numpy(), first.detach().numpy())
    a = tc.randint(100, (5,), generator=tc.Generator().manual_seed(1))
    b = tc.randint(100, (5,), generator=tc.Generator().manual_seed(1))
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: tc.randint(5, 5, (2,)), RuntimeError, "low to be less than high, but got low=5 >= high=5"),
    (lambda: tc.randint(0, 5, 2), TypeError, "size must be a tuple of ints, got 2"),
    (lambda: tc.randint(5), TypeError, "size must be a tuple"),
    (lambda: tc.randint(0.5, 5, (2,)), TypeError, "low must be an int, got 0.5"),
    (lambda: tc.randint(5, (2,), requires_grad=True), TypeError, "only floating point tensors can require"),
    (lambda: tc.randint(2**40, (2,), dtype=tc.int32), RuntimeError, "out of bounds for int32"),
    (lambda: tc.randint(5, (2,), dtype=tc.bool), RuntimeError, "out of bounds for bool"),
])
def test_randint_refuses_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_randint_refusing_draws_nothing():
    tc.manual_seed(0)
    with pytest.raises(TypeError):
        tc.randint(5, (2,), requires_grad=True)
    first = tc.randint(5, (8,))
    tc.manual_seed(0)
    np.testing.assert_array_equal(tc.randint(5, (8,)).detach().numpy(), first.detach().numpy())


def test_randint_dtype_and_shape_match_pytorch():
    torch = pytest.importorskip("torch")
    for args in [(5, (2, 3)), (-3, 4, (7,))]:
        ours, theirs = tc.randint(*args), torch.randint(*args)
        assert ours.shape == tuple(theirs.shape) and str(theirs.dtype) == f"torch.{ours.dtype}"


# ----- *_like and empty ---------------------------------------------------------------------------------
def test_rand_like_and_randn_like_keep_shape_and_floating_dtype():
    x = tc.zeros(3, 4, dtype=tc.float64)
    for make in (tc.rand_like, tc.randn_like):
        assert make(x).shape == (3, 4) and make(x).dtype == np.float64
        assert make(x, dtype=tc.float32).dtype == np.float32
        assert make(x, requires_grad=True).requires_grad
    assert np.all(
        (tc.rand_like(tc.zeros(1000)).detach().numpy() >= 0) & (tc.rand_like(tc.zeros(1000)).detach().numpy() < 1)
    )
    tc.manual_seed(1)
    first = tc.randn_like(x)
    tc.manual_seed(1)
    np.testing.assert_array_equal(tc.randn_like(x).detach().numpy(), first.detach().numpy())


@pytest.mark.parametrize("make", [tc.rand_like, tc.randn_like])
def test_random_like_refuses_integer_tensors(make):
    with pytest.raises(TypeError, match="need a floating dtype, got int64"):
        make(tc.tensor([1, 2]))


def test_full_like_keeps_dtype_and_truncates_for_integers():
    assert tc.full_like(tc.tensor([1, 2]), 2.7).tolist() == [2, 2]
    y = tc.full_like(tc.ones(2, 3), 2.5, requires_grad=True)
    assert y.shape == (2, 3) and y.dtype == np.float32 and y.requires_grad and np.all(y.detach().numpy() == 2.5)
    assert tc.full_like(tc.ones(2), 1, dtype=tc.int32).dtype == np.int32


def test_full_like_matches_pytorch():
    torch = pytest.importorskip("torch")
    for data, fill in (([1, 2], 2.7), ([1.0, 2.0], -3), ([[True, False]], 1)):
        ours, theirs = tc.full_like(tc.tensor(data), fill), torch.full_like(torch.tensor(data), fill)
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
        assert ours.dtype == theirs.numpy().dtype


def test_empty_and_empty_like_have_the_shape_and_dtype():
    assert tc.empty(2, 3).shape == (2, 3) and tc.empty((4,), dtype=tc.float64).dtype == np.float64
    assert tc.empty_like(tc.ones(2, dtype=tc.int64)).dtype == np.int64
    assert tc.empty(2, requires_grad=True).requires_grad


# ----- from_numpy and as_tensor --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
def test_from_numpy_shares_memory_and_keeps_dtype(dtype):
    array = np.zeros((2, 3), dtype)
    x = tc.from_numpy(array)
    assert x.dtype == dtype and x.shape == (2, 3)
    array[0, 0] = 1
    assert x.detach().numpy()[0, 0] == 1
    x.detach().numpy()[1, 2] = 1
    assert array[1, 2] == 1


def test_from_numpy_tensor_changed_in_place_changes_the_array():
    array = np.ones(3)
    tc.from_numpy(array).mul_(2)
    np.testing.assert_array_equal(array, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(("value", "error", "message"), [
    ([1.0], TypeError, r"expected np.ndarray \(got list\)"),
    (np.ones(2, np.complex64), TypeError, "can't convert np.ndarray of dtype complex64"),
    (np.array(["a"]), TypeError, "can't convert np.ndarray of dtype <U1"),
    (np.array([1], dtype=object), TypeError, "can't convert np.ndarray of dtype object"),
    (np.ones(2, ">f4"), ValueError, "byte order"),
])
def test_from_numpy_refuses_what_it_cannot_hold(value, error, message):
    with pytest.raises(error, match=message):
        tc.from_numpy(value)


def test_from_numpy_matches_pytorch():
    torch = pytest.importorskip("torch")
    for array in (np.arange(6.0).reshape(2, 3), np.arange(4, dtype=np.int32), np.array([True, False])):
        ours, theirs = tc.from_numpy(array), torch.from_numpy(array)
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())


def test_as_tensor_shares_when_it_can():
    array = np.zeros(3)
    shared = tc.as_tensor(array)
    array[0] = 5
    assert shared.detach().numpy()[0] == 5 and shared.dtype == np.float64
    assert tc.as_tensor(array, dtype=tc.float64).detach().numpy() is array
    converted = tc.as_tensor(array, dtype=tc.float32)
    array[1] = 7
    assert converted.dtype == np.float32 and converted.detach().numpy()[1] == 0
    x = tc.ones(2)
    assert tc.as_tensor(x) is x and tc.as_tensor(x, dtype=tc.float32) is x
    assert tc.as_tensor(x, dtype=tc.float64).dtype == np.float64
    assert tc.as_tensor([1, 2]).dtype == np.int64 and tc.as_tensor(3.5).dtype == np.float32


def test_as_tensor_conversion_records_the_gradient():
    x = tc.ones(2, requires_grad=True)
    tc.as_tensor(x, dtype=tc.float64).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1.0, 1.0])


def test_as_tensor_matches_pytorch():
    torch = pytest.importorskip("torch")
    for data in ([1, 2], [1.5, 2.0], 3, np.arange(3.0), [[True], [False]]):
        ours, theirs = tc.as_tensor(data), torch.as_tensor(data)
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
