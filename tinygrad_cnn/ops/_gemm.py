"""Matrix products cut into the blocks that OpenBLAS computes fastest, and the stacked views that hold them.

OpenBLAS (0.3.31 with its SkylakeX kernels, which it also picks on Zen 4) computes a GEMM of at most SMALL_GEMM
multiply-adds with its small-matrix kernels, which work on the operands in place, and a larger one with its packed
GEMM, which copies them into panels first. For the thin products of convolutions the packed GEMM was 1.3-2x slower
on one thread: (16 x 150) @ (150 x 6400) took 437 us whole and 304 in blocks of 256 columns, a weight gradient's
(150 x 6400) @ (6400 x 16) 460 us whole and 305 in blocks of 8 rows, (32 x 50176) @ (50176 x 9) 1256 and 677 (in
blocks of 2 rows). Float64 gains less (841 -> 705 us, 971 -> 688). Other BLAS get blocks of up to 10^6 multiply-adds
each, few enough that the calls cost little.
"""

from __future__ import annotations

import numpy as np

from .. import threads

SMALL_GEMM = 10**6
# Narrower blocks of columns measured slower than the whole product: (64 x 288) @ (288 x 12544) in blocks of 48
# columns took 7.7 ms against 6.1 whole. Blocks of rows pay from 2 rows on, and only at powers of two
# ((150 x 6400) @ (6400 x 16): 8 rows 305 us, 9 rows 345; 1 row 738, slower than whole). With B transposed, as in
# a weight gradient, OpenBLAS takes a block to its small-matrix kernel only if the block's output has at most
# SMALL_OUTPUT elements (sgemm_small_kernel_permit): (64 x 400) @ (400 x 120) in blocks of 16 rows took 174 us
# against 93 whole.
MIN_COLUMNS = 64
MIN_ROWS = 2
SMALL_OUTPUT = 1200


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """a (S, M, K) @ b (S, K, N) into out (S, M, N); S may be 1 on either side.

    Beside a one-thread BLAS a product of more than SMALL_GEMM multiply-adds runs as blocks of columns that each
    stay within it, else of rows (a power of two of them, with at most SMALL_OUTPUT outputs): all full blocks in one
    np.matmul over stacked views, the rest in a second. Beside a threaded BLAS it runs whole, spread over the
    BLAS's threads."""
    rows, inner = a.shape[1:]
    columns = b.shape[2]
    if threads.BLAS_THREADS > 1 or rows * inner * columns <= SMALL_GEMM:
        return np.matmul(a, b, out=out)
    width = _power_of_two_at_most(SMALL_GEMM // (rows * inner))
    if width >= MIN_COLUMNS:
        return by_columns(a, b, out, width)
    height = _power_of_two_at_most(min(SMALL_GEMM // (inner * columns), SMALL_OUTPUT // columns))
    if MIN_ROWS <= height < rows:
        return by_rows(a, b, out, height)
    return np.matmul(a, b, out=out)


def by_columns(a: np.ndarray, b: np.ndarray, out: np.ndarray, width: int) -> np.ndarray:
    """a (S, M, K) @ b (S, K, N) into out (S, M, N) in blocks of `width` columns: the full ones in one np.matmul
    over stacked views (one GIL release, not one per block), the rest in a second."""
    full = b.shape[2] // width * width
    np.matmul(a[:, None], blocks(b, 2, width), out=blocks(out, 2, width))
    if full < b.shape[2]:
        np.matmul(a, b[:, :, full:], out=out[:, :, full:])
    return out


def by_rows(a: np.ndarray, b: np.ndarray, out: np.ndarray, height: int) -> np.ndarray:
    """a (S, M, K) @ b (S, K, N) into out (S, M, N) in blocks of `height` rows, as `by_columns`."""
    full = a.shape[1] // height * height
    np.matmul(blocks(a, 1, height), b[:, None], out=blocks(out, 1, height))
    if full < a.shape[1]:
        np.matmul(a[:, full:], b, out=out[:, full:])
    return out


def _power_of_two_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1) if n > 0 else 0


def blocks(array: np.ndarray, axis: int, size: int) -> np.ndarray:
    """A view of the whole blocks of `size` along `axis` (1 or 2) of an (S, P, Q) array, stacked on a new axis 1:
    (S, blocks, P, size) for axis 2, (S, blocks, size, Q) for axis 1. Strided, so it never copies (a write
    through it reaches `array`), whatever the array's strides."""
    count = array.shape[axis] // size
    stride_s, stride_p, stride_q = array.strides
    if axis == 2:
        return np.lib.stride_tricks.as_strided(array, (array.shape[0], count, array.shape[1], size),
                                               (stride_s, size * stride_q, stride_p, stride_q))
    return np.lib.stride_tricks.as_strided(array, (array.shape[0], count, size, array.shape[2]),
                                           (stride_s, size * stride_p, stride_p, stride_q))
