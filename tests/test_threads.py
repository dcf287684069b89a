"""tc.set_num_threads / get_num_threads and their defaults beside the BLAS's threads, the chunked thread pool, and
that unfold, fold and conv give bit-identical results on several threads (the chunks are independent), and the
Winograd conv nearly so."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_conv import stepwise_fold
from test_winograd import winograd_path

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import threads
from tinygrad_cnn.ops import winograd
from tinygrad_cnn.ops._windows import LAYOUTS, Windows, batch_to_last, cols_shape, fold, make_windows, unfold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def restore_threads():
    count, threshold = tc.get_num_threads(), threads.PARALLEL_MIN_BYTES
    yield
    tc.set_num_threads(count)
    threads.PARALLEL_MIN_BYTES = threshold


def run_with_threads(count: int, compute):
    """compute() with `count` threads and no size threshold (every chunked copy split)."""
    previous, threshold = tc.get_num_threads(), threads.PARALLEL_MIN_BYTES
    tc.set_num_threads(count)
    threads.PARALLEL_MIN_BYTES = 0
    try:
        return compute()
    finally:
        tc.set_num_threads(previous)
        threads.PARALLEL_MIN_BYTES = threshold


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_set_num_threads_rejects_anything_but_a_positive_int(bad, restore_threads):
    before = tc.get_num_threads()
    with pytest.raises(ValueError, match="positive int"):
        tc.set_num_threads(bad)
    assert tc.get_num_threads() == before


def test_set_num_threads_sets_the_count(restore_threads):
    tc.set_num_threads(3)
    assert tc.get_num_threads() == 3
    tc.set_num_threads(1)
    assert tc.get_num_threads() == 1


@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"])
def test_blas_thread_count_follows_the_blas_variables(variable, monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "3")
    assert threads._blas_threads() == 3


def test_blas_thread_count_without_blas_variables_is_the_usable_cpus(monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")  # ignored
    assert threads._blas_threads() == len(threads.os.sched_getaffinity(0))


@pytest.mark.parametrize("count, length", [(2, 7), (3, 10), (4, 2), (3, 1)])
def test_parallel_chunks_cover_the_range_once(count, length):
    seen, lock = [], threading.Lock()

    def work(start, stop):
        with lock:
            seen.append((start, stop, threading.get_ident()))

    run_with_threads(count, lambda: threads.parallel_chunks(work, length, nbytes=1))
    covered = sorted(i for start, stop, _ in seen for i in range(start, stop))
    assert covered == list(range(length))
    assert len(seen) == min(count, length)
    assert len({ident for *_, ident in seen}) >= min(2, len(seen))  # the caller runs one chunk, the pool the rest


def test_parallel_chunks_run_inline_below_the_threshold(restore_threads):
    tc.set_num_threads(2)
    threads.PARALLEL_MIN_BYTES = 100
    calls = []
    threads.parallel_chunks(lambda start, stop: calls.append((start, stop)), 8, nbytes=99)
    assert calls == [(0, 8)]


def test_parallel_chunks_reraise_a_chunk_error():
    def work(start, stop):
        if start > 0:
            raise KeyError("second chunk")

    with pytest.raises(KeyError, match="second chunk"):
        run_with_threads(2, lambda: threads.parallel_chunks(work, 4, nbytes=1))


windows_configs = st.fixed_dictionaries({
    "batch": st.integers(1, 3), "channels": st.integers(1, 3), "size": st.integers(3, 7),
    "kernel": st.integers(1, 3), "stride": st.integers(1, 2), "padding": st.integers(0, 2),
    "dilation": st.integers(1, 2), "layout": st.sampled_from(LAYOUTS), "stepwise_fold": st.booleans(),
})


@given(windows_configs)
def test_unfold_and_fold_are_bit_identical_on_two_threads(config):
    rng = np.random.default_rng(0)
    size, layout, batch, channels = config["size"], config["layout"], config["batch"], config["channels"]
    if (size + 2 * config["padding"]) < config["dilation"] * (config["kernel"] - 1) + 1:
        return
    x = rng.standard_normal((batch, channels, size, size + 1))
    windows = make_windows(x.shape[2:], (config["kernel"],) * 2, config["stride"], config["padding"],
                           config["dilation"], "t")
    cols = rng.standard_normal(cols_shape(layout, batch, channels, windows))

    def compute():
        return (unfold(x, windows, fill=-1.5, layout=layout).copy(),
                fold(cols, windows, batch, channels, layout=layout).copy())

    with stepwise_fold(config["stepwise_fold"]):
        for one, two in zip(run_with_threads(1, compute), run_with_threads(2, compute)):
            assert one.tobytes() == two.tobytes()


def test_batch_to_last_is_bit_identical_on_three_threads():
    x = np.random.default_rng(1).standard_normal((4, 5, 3, 2))
    out = run_with_threads(3, lambda: batch_to_last(x, np.empty((5, 3, 2, 4))))
    np.testing.assert_array_equal(out, np.moveaxis(x, 0, -1))


@pytest.mark.parametrize("size, padding, stride", [(6, 1, 1), (17, 1, 1), (9, 0, 2)])  # 17: batch-first rows
def test_conv2d_forward_and_backward_are_bit_identical_on_two_threads(size, padding, stride):
    rng = np.random.default_rng(2)
    x_data, w_data = rng.standard_normal((3, 2, size, size)), rng.standard_normal((4, 2, 3, 3))
    b_data = rng.standard_normal(4)

    def compute():
        x, weight, bias = (tc.tensor(a, requires_grad=True) for a in (x_data, w_data, b_data))
        out = F.conv2d(x, weight, bias, stride=stride, padding=padding)
        (out * out).sum().backward()
        return out.data.copy(), x.grad.data.copy(), weight.grad.data.copy(), bias.grad.data.copy()

    for one, two in zip(run_with_threads(1, compute), run_with_threads(2, compute)):
        assert one.tobytes() == two.tobytes()


def test_pool_follows_the_blas_threads_only_where_its_idle_workers_sleep():
    assert threads._default_pool_threads(3, blas_workers_sleep=True) == 3
    assert threads._default_pool_threads(3, blas_workers_sleep=False) == 1
    assert threads._default_pool_threads(1, blas_workers_sleep=True) == 1


@pytest.mark.parametrize("timeout, short", [("4", True), ("1", True), ("28", False), (None, False)])
def test_blas_workers_sleep_at_once_only_with_the_minimum_openblas_timeout(timeout, short, monkeypatch):
    if timeout is None:
        monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", timeout)
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    assert threads._blas_workers_sleep_at_once() == (short and "openblas" in blas.lower())


def fresh_process(code: str, **env: str) -> list[str]:
    """The lines `code` prints in a new Python, OPENBLAS_THREAD_TIMEOUT unset unless given."""
    environment = {name: value for name, value in os.environ.items() if name != "OPENBLAS_THREAD_TIMEOUT"}
    done = subprocess.run([sys.executable, "-c", code], env={**environment, "PYTHONPATH": ROOT, **env},
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.split()


SHOW = "import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), tc.get_num_threads())"


def test_imported_before_numpy_it_sets_the_openblas_timeout_unless_set():
    assert fresh_process("import tinygrad_cnn as tc; " + SHOW, OPENBLAS_NUM_THREADS="2") == ["4", "2"]
    assert fresh_process("import tinygrad_cnn as tc; " + SHOW, OPENBLAS_NUM_THREADS="2",
                         OPENBLAS_THREAD_TIMEOUT="28") == ["28", "1"]


def test_imported_after_numpy_it_keeps_one_thread_beside_a_threaded_blas():
    assert fresh_process("import numpy, tinygrad_cnn as tc; " + SHOW, OPENBLAS_NUM_THREADS="2") == ["None", "1"]


@pytest.mark.parametrize("count", [2, 3])
def test_winograd_conv_on_several_threads_matches_one(count, monkeypatch):
    # Batch slices are independent, so output and input gradient are bit-identical; the weight gradient adds
    # one partial sum per thread, so only its rounding may differ.
    rng = np.random.default_rng(3)
    x_data, w_data = rng.standard_normal((5, 3, 8, 7)), rng.standard_normal((4, 3, 3, 3))

    def compute():
        x, weight = tc.tensor(x_data, requires_grad=True), tc.tensor(w_data, requires_grad=True)
        with winograd_path(True):  # one image per slice, so every thread gets some
            out = F.conv2d(x, weight, padding=1)
            (out * out).sum().backward()
        return out.data.copy(), x.grad.data.copy(), weight.grad.data.copy()

    monkeypatch.setattr(threads, "BLAS_THREADS", 1)  # the slices go to the pool only beside a one-thread BLAS
    (out_1, dx_1, dw_1), (out_n, dx_n, dw_n) = run_with_threads(1, compute), run_with_threads(count, compute)
    assert out_1.tobytes() == out_n.tobytes() and dx_1.tobytes() == dx_n.tobytes()
    np.testing.assert_allclose(dw_n, dw_1, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("count, images", [(1, 2), (2, 3)])
def test_winograd_slices_stay_within_chunk_bytes_on_one_thread_and_reach_them_on_several(count, images,
                                                                                         monkeypatch,
                                                                                         restore_threads):
    windows = Windows((14, 14), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)))  # 8x8 tile slots per image
    per_image = 16 * 64 * 8 * 8 * 4  # 64 channels, float32
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 3 * per_image - 1)
    tc.set_num_threads(count)
    slices = winograd._chunks(60, 64, windows, 4)
    assert [chunk.stop - chunk.start for chunk in slices] == [images] * (60 // images)
    assert slices[0].start == 0 and all(a.stop == b.start for a, b in zip(slices, slices[1:]))


def test_winograd_transforms_take_turns_on_several_threads(monkeypatch):
    # Each transform sleeps, which releases the GIL: without winograd's lock the two threads' transforms would
    # overlap there.
    guard, running, most, seen = threading.Lock(), [0], [0], set()

    def taking_turns(transform):
        def run(*args):
            with guard:
                running[0] += 1
                most[0] = max(most[0], running[0])
                seen.add(threading.get_ident())
            time.sleep(0.002)
            try:
                return transform(*args)
            finally:
                with guard:
                    running[0] -= 1
        return run

    for name in ("input_transform", "place_output", "gather_grad_output", "input_adjoint"):
        monkeypatch.setattr(winograd, name, taking_turns(getattr(winograd, name)))
    monkeypatch.setattr(threads, "BLAS_THREADS", 1)
    x = tc.tensor(np.random.default_rng(6).standard_normal((4, 2, 6, 6)), requires_grad=True)
    weight = tc.tensor(np.random.default_rng(7).standard_normal((3, 2, 3, 3)), requires_grad=True)

    def compute():
        with winograd_path(True):  # one image per slice, two slices per thread
            F.conv2d(x, weight, padding=1).sum().backward()

    run_with_threads(2, compute)
    assert len(seen) == 2 and most[0] == 1


@pytest.mark.parametrize("shape_a, shape_b, always", [((16, 5, 6), (16, 6, 23), False),
                                                     ((16, 5, 23), (16, 23, 6), False),
                                                     ((16, 7, 10), (16, 10, 3), True)],
                         ids=["columns", "inner", "rows"])
def test_winograd_gemms_are_cut_in_blocks_beside_a_threaded_blas_or_where_it_pays(shape_a, shape_b, always,
                                                                                  monkeypatch, restore_threads):
    # Blocks of 4 columns, or of 4 along the inner dimension where a row of the weight gradient's product is
    # longer than the limit; where it is not, that product is always cut into rows (4 and 3 of the 7 here).
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    limit = 5 * 6 * 4
    monkeypatch.setattr(winograd, "ONE_THREAD_GEMM", limit)
    gemm_sizes, real_matmul = [], np.matmul

    def counted_matmul(x, y, out=None):
        gemm_sizes.append(x.shape[-2] * x.shape[-1] * y.shape[-1])  # multiply-adds of each GEMM in the stack
        return real_matmul(x, y, out=out)

    monkeypatch.setattr(winograd.np, "matmul", counted_matmul)
    whole = shape_a[1] * shape_a[2] * shape_b[2]
    for blas_threads, our_threads, threaded_blas_beside in [(2, 2, True), (1, 2, False), (2, 1, False)]:
        monkeypatch.setattr(threads, "BLAS_THREADS", blas_threads)
        tc.set_num_threads(our_threads)
        gemm_sizes.clear()
        out = winograd._matmul(a, b, np.empty((16, shape_a[1], shape_b[2])), winograd._gemms_in_blocks())
        if threaded_blas_beside or always:
            assert max(gemm_sizes) <= limit and len(gemm_sizes) == 2
        else:
            assert gemm_sizes == [whole]
        np.testing.assert_allclose(out, real_matmul(a, b), rtol=1e-13, atol=1e-13)


def test_winograd_conv_beside_a_threaded_blas_matches_one_thread(monkeypatch):
    rng = np.random.default_rng(5)
    x_data, w_data = rng.standard_normal((4, 3, 9, 8)), rng.standard_normal((5, 3, 3, 3))

    def compute():
        x, weight = tc.tensor(x_data, requires_grad=True), tc.tensor(w_data, requires_grad=True)
        with winograd_path(True):
            out = F.conv2d(x, weight, padding=1)
            (out * out).sum().backward()
        return out.data.copy(), x.grad.data.copy(), weight.grad.data.copy()

    monkeypatch.setattr(winograd, "ONE_THREAD_GEMM", 16)  # GEMMs of a column or two
    monkeypatch.setattr(threads, "BLAS_THREADS", 1)
    expected = run_with_threads(1, compute)
    monkeypatch.setattr(threads, "BLAS_THREADS", 2)
    for ours, reference in zip(run_with_threads(2, compute), expected):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
