"""How many threads NumPy's BLAS runs its matrix products on: PyTorch's `set_num_threads`/`get_num_threads`.

tinygrad_cnn runs no threads of its own; its parallelism is the BLAS's, in the matrix products. The count is set
at run time through threadpoolctl (the library NumPy and scikit-learn use for this), not through environment
variables, which a BLAS reads only once, when it loads.
"""

from __future__ import annotations

import os
import threading

_controller = None
_lock = threading.Lock()  # the controller is made once, and limits are set one call at a time, from any thread


def _new_lock_after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # one held by another thread at the fork would never be released in the child


os.register_at_fork(after_in_child=_new_lock_after_fork)


def _blas():
    """The threadpoolctl controller of NumPy's BLAS, made on first use (it inspects the loaded libraries)."""
    global _controller
    if _controller is None:
        import numpy as np  # noqa: F401  (loaded first: the controller sees the libraries loaded when it is made)
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def set_num_threads(n: int) -> None:
    """Run NumPy's BLAS (and so tinygrad_cnn's matrix products) on `n` threads, from now on, in this process."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    with _lock:
        blas = _blas()
        for library in blas.lib_controllers:
            # threadpoolctl lets only the first thread that set OpenBLAS's shared pool set it again (others are
            # ignored, silently); this call may come from any thread, and the lock keeps two from racing.
            if hasattr(library, "clear_controlling_thread"):
                library.clear_controlling_thread(force=True)
        blas.limit(limits=n)


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS runs on (1 where NumPy has no threaded BLAS)."""
    with _lock:
        return max((library["num_threads"] for library in _blas().info()), default=1)
