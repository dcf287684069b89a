"""The one setting that must be made before NumPy loads its BLAS; tinygrad_cnn imports this module first.

After each threaded GEMM, OpenBLAS's idle workers spin on their cores for 2**OPENBLAS_THREAD_TIMEOUT
cycles (2**28 by default, about 0.1 s), a value read once, when NumPy loads. tinygrad_cnn's own threads
(threads.py), working in that time, share the cores with them: on 2 cores the Keras-style training step took
about 150 ms against 130 ms on one thread, and 93 ms with the timeout at its minimum (4: 16 spins, then
sleep). So, unless it is set, it is set to 4 here. Where NumPy was loaded first, this comes too late, and
`threads` keeps its pool at one thread beside a threaded BLAS instead.
"""

from __future__ import annotations

import os
import sys

NUMPY_LOADED_FIRST = "numpy" in sys.modules
if not NUMPY_LOADED_FIRST:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
