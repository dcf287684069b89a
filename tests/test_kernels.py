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
    assert kernels.names("conv") == ("winograd",)
    assert kernels.names("relu") == ()
