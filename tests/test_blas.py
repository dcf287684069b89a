"""set_num_threads/get_num_threads: the BLAS's threads, set at run time from any thread (no pool of ours)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F


@pytest.fixture
def restore_threads():
    saved = tc.get_num_threads()
    yield
    tc.set_num_threads(saved)


def _has_blas() -> bool:
    from tinygrad_cnn import blas

    return bool(blas._blas().lib_controllers)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_set_num_threads_rejects_anything_but_a_positive_int(bad, restore_threads):
    before = tc.get_num_threads()
    with pytest.raises(ValueError, match="positive int"):
        tc.set_num_threads(bad)
    assert tc.get_num_threads() == before


@pytest.mark.parametrize("count", [1, 2, 3])
def test_set_num_threads_sets_the_blas_threads(count, restore_threads):
    if not _has_blas():
        pytest.skip("NumPy has no BLAS that threadpoolctl can control")
    from threadpoolctl import threadpool_info

    tc.set_num_threads(count)
    assert tc.get_num_threads() == count
    assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == {count}


def test_set_num_threads_from_another_thread_takes_effect(restore_threads):
    if not _has_blas():
        pytest.skip("NumPy has no BLAS that threadpoolctl can control")
    tc.set_num_threads(1)  # this thread first: threadpoolctl would then ignore every other thread's call
    for count in (2, 1):
        worker = threading.Thread(target=tc.set_num_threads, args=(count,))
        worker.start()
        worker.join()
        assert tc.get_num_threads() == count


def test_set_num_threads_while_another_thread_trains_changes_no_result(restore_threads):
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((4, 8, 12, 12)), rng.standard_normal((8, 8, 3, 3))
    expected = F.conv2d(tc.Tensor(x), tc.Tensor(weight), padding=1).detach().numpy()
    errors, done = [], threading.Event()

    def train():
        try:
            for _ in range(20):
                out = F.conv2d(tc.Tensor(x), tc.Tensor(weight, requires_grad=True), padding=1)
                out.sum().backward()
                np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
        except Exception as error:  # noqa: BLE001 - re-raised in the main thread
            errors.append(error)
        finally:
            done.set()

    worker = threading.Thread(target=train)
    worker.start()
    count = 1
    while not done.is_set():
        tc.set_num_threads(count)
        count = 3 - count
    worker.join()
    assert not errors, errors
