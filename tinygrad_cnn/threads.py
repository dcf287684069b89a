"""How many threads tinygrad_cnn's own NumPy work (im2col copies, col2im sums, element-wise ops, Winograd
slices) runs on, and the pool it uses.

NumPy releases the GIL in copies and ufunc loops, so large array moves can run on a few threads at once by
splitting an axis into one chunk per thread. The GEMMs are threaded by NumPy's BLAS itself, whose thread
count is fixed when NumPy is imported (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS);
`set_num_threads` changes only our pool, never the BLAS's. By default the pool has as many threads as the BLAS
(the first of those variables that is set, else the number of CPUs this process may run on) if the BLAS is
OpenBLAS with idle workers that sleep at once after a GEMM (see `_before_numpy`: so it is when tinygrad_cnn is
imported before NumPy), else one: two sets of busy threads on the same cores run slower than one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# Work below this many bytes (of the array written) runs inline: handing chunks to threads costs 30-50 us, and
# unfold/fold of up to ~4 MiB of columns (which stay in cache) measured no faster on 2 threads than on 1 (at
# 57 MiB: about 2x faster). Tests lower it to 0 to force the threaded path.
PARALLEL_MIN_BYTES = 4 * 2**20


def _blas_threads() -> int:
    """The thread count NumPy's BLAS read at import, as far as the environment tells (NumPy has no API for it)."""
    for variable in _BLAS_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _blas_workers_sleep_at_once() -> bool:
    """Whether NumPy's BLAS is OpenBLAS with OPENBLAS_THREAD_TIMEOUT at its minimum (see `_before_numpy`): only then
    do its idle workers leave the cores to our threads right after a threaded GEMM."""
    value = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "").strip()
    if not (value.isdigit() and int(value) <= 4):
        return False
    import numpy as np

    try:
        return "openblas" in np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"].lower()
    except (TypeError, KeyError, AttributeError):  # NumPy < 1.26 cannot say; an unnamed BLAS may spin
        return False


def _default_pool_threads(blas_threads: int, blas_workers_sleep: bool) -> int:
    """As many threads as the BLAS has, but one where the BLAS's idle workers would spin on the cores they need."""
    return blas_threads if blas_workers_sleep else 1


BLAS_THREADS = _blas_threads()
_threads = _default_pool_threads(BLAS_THREADS, _blas_workers_sleep_at_once())
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_in_worker = threading.local()


def get_num_threads() -> int:
    """The number of threads tinygrad_cnn splits its large array work over (not the BLAS's; see the module)."""
    return _threads


def set_num_threads(n: int) -> None:
    """Split tinygrad_cnn's large array work (copies, element-wise ops, Winograd slices) over `n` threads (1: none).

    NumPy's BLAS keeps the thread count it read from the environment at import; set
    OPENBLAS_NUM_THREADS/OMP_NUM_THREADS/MKL_NUM_THREADS before importing NumPy to change that.
    """
    global _threads, _pool
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    with _pool_lock:
        if n != _threads and _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None
        _threads = n


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # One fewer worker than threads: the calling thread runs the first chunk itself.
            _pool = ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="tinygrad_cnn")
        return _pool


def parallel_chunks(work: Callable[[int, int], None], length: int, nbytes: int) -> None:
    """Run work(start, stop) over chunks covering range(length), one chunk per thread.

    `nbytes` is the size of the work (bytes written); below PARALLEL_MIN_BYTES, with one thread, or when
    called from inside a chunk, it is a single inline call work(0, length). Chunks must touch disjoint
    memory; each runs the same code as the inline call on its part, so results are bit-identical.
    """
    threads = chunk_count(length, nbytes)
    if threads == 1:
        work(0, length)
        return
    bounds = [length * i // threads for i in range(threads + 1)]
    futures = [_executor().submit(_run_chunk, work, bounds[i], bounds[i + 1]) for i in range(1, threads)]
    try:
        _run_chunk(work, bounds[0], bounds[1])
    finally:
        for future in futures:
            future.result()  # waits for every chunk; re-raises a chunk's error


def chunk_count(length: int, nbytes: int) -> int:
    """How many chunks `parallel_chunks` splits range(length) into for work of `nbytes`: one per thread, or 1."""
    if nbytes < PARALLEL_MIN_BYTES or getattr(_in_worker, "active", False):
        return 1
    return max(1, min(_threads, length))


def _run_chunk(work: Callable[[int, int], None], start: int, stop: int) -> None:
    _in_worker.active = True
    try:
        work(start, stop)
    finally:
        _in_worker.active = False
