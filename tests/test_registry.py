"""One test for every registered op on every sample: float64 gradcheck against central differences; and every
kernel variant of an op against the op's reference math on every sample that reaches it."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import kernels
from tinygrad_cnn.ops import registry
from tinygrad_cnn.ops.registry import call


def _samples(name):
    return list(registry[name].samples(np.random.default_rng(0)))


def _cases():
    for name in sorted(registry):
        samples = _samples(name)
        if not samples:
            yield pytest.param(name, None, id=f"{name}-NO-SAMPLES")
        for i, sample in enumerate(samples):
            yield pytest.param(name, sample, id=f"{name}-{i}-{sample.note or 'sample'}")


def _tensors(sample, dtype=np.float64):
    return [tc.Tensor(a, requires_grad=flag, dtype=dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            else a for a, flag in zip(sample.args, sample.grad_flags())]


def _gradcheck(name, sample):
    info = registry[name]
    inputs = _tensors(sample)
    assert any(isinstance(t, tc.Tensor) and t.requires_grad for t in inputs), f"{name}: sample checks no input"
    kinks = registry[name].kinks(sample) if registry[name].kinks else None
    assert tc.gradcheck(lambda *xs: call(info, *xs, **sample.attrs), inputs, atol=1e-7, rtol=1e-6, kinks=kinks)


@pytest.mark.parametrize(("name", "sample"), list(_cases()))
def test_registered_op_gradient_matches_finite_differences(name, sample):
    assert sample is not None, f"op {name!r} is registered without sample inputs"
    with kernels.disabled():  # the reference math
        _gradcheck(name, sample)


def _reaches(name, variant, sample):
    """Whether `variant` runs for this sample (its `applies` says yes): found by running the forward under it."""
    with kernels.only(variant) as runs:
        call(registry[name], *_tensors(sample), **sample.attrs)
    return bool(runs)


def _variant_cases():
    """Every (op, variant, sample) where the variant applies: the pairs the registry test compares."""
    for name in sorted(registry):
        for variant in registry[name].variants:
            for i, sample in enumerate(_samples(name)):
                if _reaches(name, variant, sample):
                    yield pytest.param(name, variant, i, sample, id=f"{name}-{variant}-{i}-{sample.note or 'sample'}")


def _forward_and_gradients(name, sample):
    """The op's output and its inputs' gradients for a fixed random output gradient, float64 copies."""
    inputs = _tensors(sample)
    out = call(registry[name], *inputs, **sample.attrs)
    out.backward(np.random.default_rng(1).standard_normal(out.shape))
    return [out.detach().numpy().copy()] + [
        t.grad.detach().numpy().copy() for t in inputs if isinstance(t, tc.Tensor) and t.requires_grad
    ]


@pytest.mark.parametrize(("name", "variant", "index", "sample"), list(_variant_cases()))
def test_every_kernel_variant_equals_its_reference_and_passes_gradcheck(name, variant, index, sample):
    with kernels.disabled():
        expected = _forward_and_gradients(name, sample)
    with kernels.only(variant) as runs:
        actual = _forward_and_gradients(name, sample)
    assert runs, f"{variant} did not run for sample {index} ({sample.note})"
    for got, want in zip(actual, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    with kernels.only(variant):
        _gradcheck(name, sample)


@pytest.mark.parametrize(("name", "variant"), [(name, variant) for name in sorted(registry)
                                               for variant in registry[name].variants])
def test_every_kernel_variant_is_reached_by_a_sample(name, variant):
    reached = []
    for sample in _samples(name):
        with kernels.only(variant) as runs:
            _forward_and_gradients(name, sample)
        reached.append(bool(runs))
    assert any(reached), f"no sample of {name!r} reaches its variant {variant!r}: add one that it applies to"


def test_registry_lists_exactly_the_kernels_variants_of_each_op():
    for name, info in registry.items():
        assert info.variants == kernels.names(name), name
    assert set(kernels.VARIANTS) <= set(registry)


@pytest.mark.parametrize("name", sorted(registry))
def test_registered_op_keeps_float32(name):
    sample = next(iter(registry[name].samples(np.random.default_rng(1))))
    inputs = _tensors(sample, np.float32)
    out = call(registry[name], *inputs, **sample.attrs)
    if name != "cast":
        assert out.dtype == np.float32, f"{name} turned float32 into {out.dtype}"
    out.backward(np.ones(out.shape, np.float32))
    for t in inputs:
        if isinstance(t, tc.Tensor) and t.requires_grad:
            assert t.grad.dtype == t.dtype and t.grad.shape == t.shape


def test_in_place_entries_run_in_place_on_their_first_input():
    entries = [info for info in registry.values() if info.inplace is not None]
    assert {"setitem", "add_", "sub_", "mul_", "div_", "clamp_", "zero_", "fill_", "copy_"} <= {e.name for e in entries}
    for info in entries:
        sample = next(iter(info.samples(np.random.default_rng(2))))
        target, *rest = _tensors(sample)
        target = target.detach() * 1  # a plain tensor: changed in place without recording
        result = info.inplace(target, *rest, **sample.attrs)
        assert (result is None or result is target) and target._version == 1, info.name


def test_every_registered_op_has_a_docstring_and_its_name():
    for name, info in registry.items():
        assert info.function.name == name
        assert info.doc, f"op {name!r} has no docstring"
