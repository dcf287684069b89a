"""One test for every registered op on every sample: float64 gradcheck against central differences."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.ops import registry
from tinygrad_cnn.ops.registry import call


def _cases():
    for name, info in sorted(registry.items()):
        samples = list(info.samples(np.random.default_rng(0)))
        if not samples:
            yield pytest.param(name, None, id=f"{name}-NO-SAMPLES")
        for i, sample in enumerate(samples):
            yield pytest.param(name, sample, id=f"{name}-{i}-{sample.note or 'sample'}")


def _tensors(sample):
    return [tc.Tensor(a, requires_grad=flag, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            else a for a, flag in zip(sample.args, sample.grad_flags())]


@pytest.mark.parametrize(("name", "sample"), list(_cases()))
def test_registered_op_gradient_matches_finite_differences(name, sample):
    assert sample is not None, f"op {name!r} is registered without sample inputs"
    info = registry[name]
    inputs = _tensors(sample)
    assert any(isinstance(t, tc.Tensor) and t.requires_grad for t in inputs), f"{name}: sample checks no input"
    kinks = registry[name].kinks(sample) if registry[name].kinks else None
    assert tc.gradcheck(lambda *xs: call(info, *xs, **sample.attrs), inputs, atol=1e-7, rtol=1e-6, kinks=kinks)


@pytest.mark.parametrize("name", sorted(registry))
def test_registered_op_keeps_float32(name):
    sample = next(iter(registry[name].samples(np.random.default_rng(1))))
    inputs = [tc.Tensor(a, requires_grad=flag, dtype=np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
              else a for a, flag in zip(sample.args, sample.grad_flags())]
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
