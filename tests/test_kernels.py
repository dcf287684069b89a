"""The kernels layer's switches: `disabled()` runs the references only, in this thread; `only(name)` forces one
variant and counts its runs. (The registry test checks every variant against its reference.)"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import kernels


def _winograd_conv() -> tuple[tc.Tensor, tc.Tensor]:
    rng = np.random.default_rng(0)
    return tc.Tensor(rng.standard_normal((2, 8, 10, 10))), tc.Tensor(rng.standard_normal((8, 8, 3, 3)))


def test_disabled_runs_no_variant_and_only_counts_the_forced_one():
    x, weight = _winograd_conv()
    with kernels.only("winograd") as runs, kernels.disabled():
        F.conv2d(x, weight, padding=1)
    assert runs == {}
    with kernels.only("winograd") as runs:
        F.conv2d(x, weight, padding=1)
        F.conv2d(x, weight, stride=2, padding=1)  # not 3x3 stride 1: the reference
    assert runs == {"winograd": 1}


def test_disabled_holds_in_its_own_thread_only():
    x, weight = _winograd_conv()
    seen = {}

    def other_thread():
        with kernels.only("winograd") as runs:
            F.conv2d(x, weight, padding=1)
        seen.update(runs)

    with kernels.disabled():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert kernels.choose("conv", x.detach().numpy(), weight.detach().numpy(), None, 1) is None
    assert seen == {"winograd": 1}


def test_the_switches_restore_the_previous_state_on_error():
    with pytest.raises(KeyError), kernels.disabled():
        raise KeyError
    assert kernels._state.enabled and kernels._state.only is None


def test_only_an_unknown_variant_is_a_value_error():
    with pytest.raises(ValueError, match="no variant named 'nope'"), kernels.only("nope"):
        pass


def test_names_lists_each_ops_variants():
    assert kernels.names("conv") == ("winograd", "im2col_chunks")
    assert kernels.names("relu") == ()


def test_im2col_chunks_registry_sample_runs_the_batch_in_two_chunks():
    """The registry compares the chunked conv with the reference; one sample must cross a chunk boundary."""
    from tinygrad_cnn.kernels import im2col_chunks
    from tinygrad_cnn.ops import registry
    from tinygrad_cnn.ops._windows import make_windows

    x, weight, _ = next(s for s in registry["conv"].samples(np.random.default_rng(0)) if "2 chunks" in s.note).args
    layout = im2col_chunks._Layout(x, weight, make_windows(x.shape[2:], weight.shape[2:], 1, 6, 1, "conv2d"))
    assert layout.rows and len(layout.chunked(x.shape[0])) == 2


def test_im2col_chunks_takes_inf_and_nan_as_the_reference():
    """The row form's extra columns read input values: an inf or NaN input takes the general form instead, so the
    gradients match the reference's exactly where they are inf or NaN."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 6, 6))
    x[0, 0, 2, 5], x[1, 1, 3, 0] = np.inf, np.nan  # at the edges: some kernel offsets never reach them
    weight = rng.standard_normal((3, 2, 3, 3))
    grad_out = rng.standard_normal((3, 3, 4, 6))
    results = []
    for context in (kernels.disabled, lambda: kernels.only("im2col_chunks")):
        xt, wt = tc.Tensor(x, requires_grad=True), tc.Tensor(weight, requires_grad=True)
        with context():
            out = F.conv2d(xt, wt, padding=(0, 1))
            out.backward(grad_out)
        results.append((out.data, xt.grad.data, wt.grad.data))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize(("note", "shifted"), [("2 chunks", True), ("folds W.T @ dY", False),
                                               ("3d stride 1", True)])
def test_im2col_chunks_registry_samples_reach_both_row_form_input_gradients(note, shifted):
    from tinygrad_cnn.kernels import im2col_chunks
    from tinygrad_cnn.ops import registry
    from tinygrad_cnn.ops._windows import make_windows

    sample = next(s for s in registry["conv"].samples(np.random.default_rng(0)) if note in s.note)
    x, weight, _ = sample.args
    windows = make_windows(x.shape[2:], weight.shape[2:], 1, sample.attrs["padding"], sample.attrs.get("dilation", 1),
                           "conv")
    layout = im2col_chunks._Layout(x, weight, windows)
    assert layout.rows and im2col_chunks._shift_output_gradient(layout, weight.shape[0]) == shifted
