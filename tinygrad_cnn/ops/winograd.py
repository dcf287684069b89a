"""Winograd F(2x2, 3x3) convolution (Lavin & Gray 2015): 3x3, stride 1, dilation 1, one group.

The output is cut into 2x2 tiles; each reads a 4x4 input tile (tiles overlap by 2). With
    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]
a tile is Y = A^T [(G w G^T) * (B^T d B)] A, so the channel sum becomes 16 independent products,
one per position (r, s) of the 4x4 transformed tile:
    forward:     M[rs]  = U[rs] @ V[rs]       (O, C) @ (C, N*T), U = G w G^T, V = B^T d B
    input grad:  dV[rs] = U[rs].T @ dM[rs]    dM = A dY A^T (the adjoint of the output transform)
    weight grad: dU[rs] = dM[rs] @ V[rs].T    then dW = G^T dU G
with T = tiles per image: 16 * O * C * N * T multiplies instead of 9 * O * C * N * Ho * Wo, 2.25x fewer.
It is the same linear map as im2col (the constants are exact in binary), so results agree to rounding.
The input transform and its adjoint are adds and subtracts over strided views of a zero-padded
(C, N, Hp, Wp) copy of the input, one tap of a 1-D transform per view, rows then columns; the output
transform and its adjoint are two small GEMMs each. An odd output size pads the tile grid by one zero
row/column and crops.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import numpy as np

from .. import threads
from . import _gemm
from ._gemm import blocks
from ._util import ceil_div
from ._windows import Windows, scratch

# Both channel counts must reach MIN_CHANNELS and both output sides MIN_OUTPUT_SIZE for conv to take this path
# (tests set them). Below, the GEMMs are too thin, or the junk tile row and column (see "the layout") too large a
# share, for the 2.25x fewer multiplies to pay for the transforms. Measured fwd+bwd float32, 1 BLAS thread,
# Winograd / im2col: 8->16 28x28 0.91, 8->8 28x28 0.80, 6->16 14x14 1.23; 64->64 at 10x10 0.88, 7x7 1.30.
MIN_CHANNELS = 8
MIN_OUTPUT_SIZE = 10
# The batch is transformed and multiplied in slices of about this many bytes of transformed tiles (see `_chunks`):
# on one thread as many images as fit (each slice's transforms and GEMMs then work in cache), on several the fewest
# that reach it, since there each slice also costs two turns of `_transforming`. Measured on 2 cores, fwd+bwd, images
# per slice on two threads: 32->64 28x28 (900 KiB each) 1/2/4: 40.9/35.6/37.2 ms; 64->64 14x14 (256 KiB each)
# 4/8/16: 18.3/20.0/22.2 ms, at batch 32 2/4/8: 12.3/10.7/11.6 ms (on one thread: 59.1 and 33.8 ms at batch 64).
CHUNK_BYTES = 2**20

_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))
_A_T = ((1.0, 1.0, 1.0, 0.0), (0.0, 1.0, -1.0, -1.0))


def applies(x: np.ndarray, weight: np.ndarray, windows: Windows, groups: int) -> bool:
    """Whether conv of x (N, C, *S) with weight (O, C, *K) and this geometry takes the Winograd path.

    Only finite inputs do: the transforms subtract inputs, so one inf would become inf - inf = NaN where im2col
    gives the exact inf. A sum is finite exactly when every term is, except that it may overflow; that sends a
    finite input down the im2col path, which is merely slower.
    """
    if not (windows.kernel == (3, 3) and windows.stride == (1, 1) and windows.dilation == (1, 1) and groups == 1
            and min(weight.shape[:2]) >= MIN_CHANNELS and min(windows.output_size) >= MIN_OUTPUT_SIZE
            and x.shape[0] > 0):  # an empty batch has no slices to sum a weight gradient over
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(x)) and np.isfinite(np.sum(weight)))


def _tiles(windows: Windows) -> tuple[int, int]:
    return tuple(ceil_div(size, 2) for size in windows.output_size)


# ----- the 1-D transforms: `tap(i)` is the i-th input (a view), `out[k]` the k-th output -----------------------
def _input_pass(tap: Callable[[int], np.ndarray], out: np.ndarray) -> None:
    """B^T along one axis: 4 taps -> 4 outputs."""
    np.subtract(tap(0), tap(2), out=out[0])
    np.add(tap(1), tap(2), out=out[1])
    np.subtract(tap(2), tap(1), out=out[2])
    np.subtract(tap(1), tap(3), out=out[3])


def _input_adjoint(tap: Callable[[int], np.ndarray], even: np.ndarray, odd: np.ndarray, shift: int) -> None:
    """B along one axis, overlap-added: 4 tap gradients (..., E) -> `even` and `odd` (..., E + shift),
    where taps 0 and 1 of a tile land in place and taps 2 and 3 `shift` elements later (the next tile)."""
    size = even.shape[-1] - shift
    np.copyto(even[..., :size], tap(0))
    even[..., size:] = 0
    np.subtract(tap(1), tap(2), out=odd[..., :size])
    odd[..., :size] += tap(3)
    odd[..., size:] = 0
    third = np.add(tap(1), tap(2))
    third -= tap(0)
    even[..., shift:] += third
    odd[..., shift:] -= tap(3)


# ----- the weight transform and its adjoint ---------------------------------------------------------------------
def weight_transform(weight: np.ndarray) -> np.ndarray:
    """U = G w G^T: weight (O, C, 3, 3) -> (16, O, C), contiguous."""
    g = np.array(_G, dtype=weight.dtype)
    left = np.tensordot(g, weight, axes=(1, 2))  # (4r, O, C, 3j)
    u = np.tensordot(left, g, axes=(3, 1))  # (4r, O, C, 4s)
    return np.ascontiguousarray(u.transpose(0, 3, 1, 2)).reshape(16, *weight.shape[:2])


def weight_adjoint(grad_u: np.ndarray) -> np.ndarray:
    """dW = G^T dU G: (16, O, C) -> (O, C, 3, 3)."""
    g = np.array(_G, dtype=grad_u.dtype)
    grad_u = grad_u.reshape(4, 4, *grad_u.shape[1:])
    left = np.tensordot(g, grad_u, axes=(0, 0))  # (3i, 4s, O, C)
    return np.tensordot(left, g, axes=(1, 0)).transpose(1, 2, 0, 3)  # (O, C, 3i, 3j)


# ----- the layout ----------------------------------------------------------------------------------------------
# The zero-padded input, (C, N, 2*th + 2, 2*tw + 2), is kept de-interleaved by row and column parity as
# (2, 2, C, N, th + 1, tw + 1), flattened to (4, E + tw + 2) with E = C*N*(th + 1)*(tw + 1) (the tail is slack,
# zero). Tile (a, b) reads its 4x4 tap (i, j) at parity (i % 2, j % 2), position (a + i//2, b + j//2), so over all
# tiles one tap is ONE contiguous slice, shifted by (i//2)*(tw + 1) + j//2: every transform step is a flat add.
# The price: the grid gets one junk tile row and column per image (they read the next image or the slack),
# computed and ignored (their output gradient is zero), so the GEMMs run over N*(th + 1)*(tw + 1) columns.
def _parity_slices(start: int, size: int, parity: int) -> tuple[slice, slice]:
    """Rows (or columns) h of an input of `size` placed at `start` whose padded position start + h has
    `parity`: (the slice of h, the slice of position // 2)."""
    first = (parity - start) % 2
    count = len(range(first, size, 2))
    return slice(first, size, 2), slice((start + first) // 2, (start + first) // 2 + count)


# ----- the input transform and its adjoint ----------------------------------------------------------------------
def input_transform(x: np.ndarray, windows: Windows, out: np.ndarray) -> None:
    """V = B^T d B for every 4x4 input tile d: x (n, C, H, W) -> out (16, C, n*(th + 1)*(tw + 1)).

    `out` may be a view with a row stride of its own (a batch slice of a larger V)."""
    batch, channels, height, width = x.shape
    th, tw = _tiles(windows)
    size = channels * batch * (th + 1) * (tw + 1)
    padded = scratch((4, size + tw + 2), x.dtype)
    padded.fill(0)
    images = padded[:, :size].reshape(2, 2, channels, batch, th + 1, tw + 1)
    source = x.transpose(1, 0, 2, 3)
    (top, _), (left, _) = windows.padding
    for row_parity in (0, 1):
        rows, row_tiles = _parity_slices(top, height, row_parity)
        for column_parity in (0, 1):
            columns, column_tiles = _parity_slices(left, width, column_parity)
            images[row_parity, column_parity, :, :, row_tiles, column_tiles] = source[:, :, rows, columns]
    planes = padded.reshape(2, 2, -1)  # (row parity, column parity, L)
    rows_done = scratch((4, 2, size + 1), x.dtype)  # B^T along rows; (r, column parity, E + 1)
    _input_pass(lambda i: planes[i % 2, :, (i // 2) * (tw + 1):(i // 2) * (tw + 1) + size + 1], rows_done)
    _input_pass(lambda j: rows_done[:, j % 2, j // 2:j // 2 + size].reshape(4, channels, -1),
                out.reshape(4, 4, channels, -1).swapaxes(0, 1))


def input_adjoint(grad_v: np.ndarray, windows: Windows, grad_x: np.ndarray) -> None:
    """dx from dV, the adjoint of `input_transform`: (16, C, n*(th + 1)*(tw + 1)) -> grad_x (n, C, H, W)."""
    th, tw = _tiles(windows)
    batch, channels = grad_x.shape[:2]
    size = grad_v.shape[1] * grad_v.shape[2]
    grad_v = grad_v.reshape(4, 4, size)
    rows_done = scratch((4, 2, size + 1), grad_v.dtype)
    _input_adjoint(lambda j: grad_v[:, j], rows_done[:, 0], rows_done[:, 1], 1)
    padded = scratch((2, 2, size + tw + 2), grad_v.dtype)
    _input_adjoint(lambda i: rows_done[i], padded[0], padded[1], tw + 1)
    images = padded[:, :, :size].reshape(2, 2, channels, batch, th + 1, tw + 1)
    (top, _), (left, _) = windows.padding
    height, width = windows.input_size
    target = grad_x.transpose(1, 0, 2, 3)
    for row_parity in (0, 1):
        rows, row_tiles = _parity_slices(top, height, row_parity)
        for column_parity in (0, 1):
            columns, column_tiles = _parity_slices(left, width, column_parity)
            target[:, :, rows, columns] = images[row_parity, column_parity, :, :, row_tiles, column_tiles]


# ----- the output transform and its adjoint ---------------------------------------------------------------------
# Y = A^T M A is two small GEMMs, A^T along rows, then along columns. Each is one NumPy call that releases the GIL,
# so it runs outside `_transforming`, beside the other thread's work, and it is faster than adding taps (a 2-image
# slice of 32->64 28x28 on one thread: 66 us against 114, the adjoint 84 against 111). Placing the tiles in the
# output, and gathering them from its gradient, are strided copies and take turns.
def output_transform(m: np.ndarray, in_blocks: bool) -> np.ndarray:
    """A^T M A per tile: M (16, O, n*(th + 1)*(tw + 1)) -> the tiles' 2x2 outputs (2, 2, O*n*(th + 1)*(tw + 1))."""
    size = m.shape[1] * m.shape[2]
    a_t = np.array(_A_T, m.dtype)[None]
    rows_done = scratch((2, 4, size), m.dtype)
    _matmul(a_t, m.reshape(1, 4, 4 * size), rows_done.reshape(1, 2, 4 * size), in_blocks)
    return _matmul(a_t, rows_done, scratch((2, 2, size), m.dtype), in_blocks)


def place_output(outputs: np.ndarray, windows: Windows, out: np.ndarray) -> None:
    """The tiles' outputs (2, 2, O*n*(th + 1)*(tw + 1)) into out (n, O, Ho, Wo), junk and cropped ones left out."""
    th, tw = _tiles(windows)
    batch, out_channels, height, width = out.shape
    tiles = outputs.reshape(2, 2, out_channels, batch, th + 1, tw + 1)
    target = out.transpose(1, 0, 2, 3)
    for p in (0, 1):
        for q in (0, 1):
            target[:, :, p::2, q::2] = tiles[p, q, :, :, :len(range(p, height, 2)), :len(range(q, width, 2))]


def gather_grad_output(grad_output: np.ndarray, windows: Windows) -> np.ndarray:
    """The adjoint of `place_output`: dY (n, O, Ho, Wo) -> (2, 2, O*n*(th + 1)*(tw + 1)), zero where no output."""
    th, tw = _tiles(windows)
    batch, out_channels, height, width = grad_output.shape
    grad_outputs = scratch((2, 2, out_channels * batch * (th + 1) * (tw + 1)), grad_output.dtype)
    grad_outputs.fill(0)  # junk tiles and the cropped positions of partial ones get zero gradient
    images = grad_outputs.reshape(2, 2, out_channels, batch, th + 1, tw + 1)
    source = grad_output.transpose(1, 0, 2, 3)
    for p in (0, 1):
        for q in (0, 1):
            images[p, q, :, :, :len(range(p, height, 2)), :len(range(q, width, 2))] = source[:, :, p::2, q::2]
    return grad_outputs


def output_adjoint(grad_outputs: np.ndarray, out_channels: int, in_blocks: bool) -> np.ndarray:
    """dM = A dY A^T per tile, the adjoint of `output_transform`: (2, 2, O*n*(th + 1)*(tw + 1)) ->
    (16, O, n*(th + 1)*(tw + 1))."""
    size, dtype = grad_outputs.shape[2], grad_outputs.dtype
    a = np.array(_A_T, dtype).T[None]
    columns_done = _matmul(a, grad_outputs, scratch((2, 4, size), dtype), in_blocks)  # (p, s, E)
    grad_m = scratch((4, 4, size), dtype)
    _matmul(a, columns_done.reshape(1, 2, 4 * size), grad_m.reshape(1, 4, 4 * size), in_blocks)
    return grad_m.reshape(16, out_channels, size // out_channels)


# ----- the op's two halves, called by ConvNd ----------------------------------------------------------------------
def _tile_slots(windows: Windows) -> int:
    """Tiles per image and channel in the transformed layout, the junk row and column included."""
    th, tw = _tiles(windows)
    return (th + 1) * (tw + 1)


def _chunks(batch: int, channels: int, windows: Windows, itemsize: int) -> list[slice]:
    """Batch slices of near-equal size of about CHUNK_BYTES of transformed tiles (16 * channels * n * tile slots
    values): at most that on one thread, at least on several (see CHUNK_BYTES). Where the batch allows, their
    count is a multiple of the threads, so that each thread gets an equal share."""
    pool = threads.get_num_threads()
    per_image = 16 * channels * _tile_slots(windows) * itemsize
    per_slice = ceil_div(CHUNK_BYTES, per_image) if pool > 1 else max(1, CHUNK_BYTES // per_image)
    count = min(batch, ceil_div(ceil_div(batch, per_slice), pool) * pool)
    return [slice(batch * i // count, batch * (i + 1) // count) for i in range(count)]


def _bytes_written(x: np.ndarray, other_channels: int, windows: Windows) -> int:
    """The size of the transformed tiles of x (N, C, ...) and of its product's (N, other_channels, ...): the
    work `threads.parallel_chunks` weighs (the output alone understates it by the transforms and the GEMM)."""
    return 16 * (x.shape[1] + other_channels) * x.shape[0] * _tile_slots(windows) * x.itemsize


# OpenBLAS runs a GEMM of at most 65536 * 4 multiply-adds on the calling thread alone (GEMM_MULTITHREAD_THRESHOLD
# in its interface/gemm.c) and hands larger ones to its thread server, which two callers at once fight over:
# measured, the 64->64 14x14 conv ran up to 2x slower on two threads than on one. Other BLAS just get smaller GEMMs.
# (OpenBLAS 0.3.31 keeps up to ~10^6 on the calling thread, in its small-matrix kernels, but larger blocks measured
# slower there: 17% more GEMM time at 5.2 * 10^5, and the conv up to 4x slower at 9 * 10^5.)
ONE_THREAD_GEMM = 65536 * 4


# A slice's transforms are dozens of short NumPy calls. Two threads running them at once hand the GIL to each
# other at every call and lose more to waking each other than the second core gives: measured on 2 cores, the four
# transforms of one 32->64 28x28 image took 317 us on one thread and 700 us each on two at once. So the transforms
# hold this lock, and the threads fall into turns: one transforms while the other runs its GEMMs, which release the
# GIL for long (the output transform's GEMMs among them). Placing a slice's output and the next slice's input
# transform share one turn: half the handoffs. (Without the lock, on two threads: 5% slower.)
_transforming = threading.Lock()


def _gemms_in_blocks() -> bool:
    """Whether the slices' GEMMs must be cut to ONE_THREAD_GEMM: slices run on several of our threads at once
    beside a threaded BLAS."""
    return threads.BLAS_THREADS > 1 and threads.get_num_threads() > 1


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray, in_blocks: bool) -> np.ndarray:
    """a (S, M, K) @ b (S, K, N) into out (S, M, N), a's S may be 1: in blocks of at most ONE_THREAD_GEMM
    multiply-adds where that is needed (`in_blocks`: then the BLAS computes each on the calling thread) or pays,
    else in the blocks of `_gemm.matmul`.

    The forward's and the input gradient's products run over long rows of tiles (N > K) and are cut into blocks of
    columns. The weight gradient's (K > N: a sum over all tiles into a small M x N) is always cut into blocks of
    rows: OpenBLAS sees it with A transposed, and takes such a product to its small-matrix kernel only when the
    output has at most 1200 elements (`_gemm.SMALL_OUTPUT`); that kernel was 1.3-1.5x faster here than its
    packed GEMM (32 -> 64 and 64 -> 64 channels, 225-900 tiles). Only where a single row is too long does it fall
    back to blocks of the inner dimension, summed (`_gemm.by_columns` says how blocks are run)."""
    rows, inner = a.shape[1:]
    columns = b.shape[2]
    if columns < inner and inner * columns <= ONE_THREAD_GEMM:
        return _gemm.by_rows(a, b, out, _balanced(rows, ONE_THREAD_GEMM // (inner * columns)))
    if not in_blocks:
        return _gemm.matmul(a, b, out)
    if rows * inner * columns <= ONE_THREAD_GEMM:
        return np.matmul(a, b, out=out)
    if columns >= inner:
        return _gemm.by_columns(a, b, out, max(1, ONE_THREAD_GEMM // (rows * inner)))
    depth = max(1, ONE_THREAD_GEMM // (rows * columns))
    full = inner // depth * depth
    products = scratch((out.shape[0], inner // depth, rows, columns), out.dtype)  # one per block, then summed
    np.sum(np.matmul(blocks(a, 2, depth), blocks(b, 1, depth), out=products), axis=1, out=out)
    if full < inner:
        out += np.matmul(a[:, :, full:], b[:, full:])
    return out


def _balanced(length: int, most: int) -> int:
    """The size of the fewest near-equal blocks of at most `most` that cover `length`."""
    return ceil_div(length, ceil_div(length, most))


def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, windows: Windows,
            keep_input: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """conv2d: x (N, C, H, W), weight (O, C, 3, 3), bias (O,) or None -> (out (N, O, Ho, Wo), V or None).

    V (16, C, N, (th + 1)*(tw + 1)), the transformed input, is returned when `keep_input` (the weight
    gradient needs it). The batch slices are independent and run on tinygrad_cnn's threads, their transforms
    in turns (see `_transforming` and `_matmul`). The bias goes into M at (1, 1), a sixteenth of M, not onto
    the output.
    """
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    slots = _tile_slots(windows)
    u = weight_transform(weight)
    out = scratch((batch, out_channels, *windows.output_size), x.dtype)
    kept = scratch((16, channels, batch, slots), x.dtype) if keep_input else None
    chunks, in_blocks = _chunks(batch, max(channels, out_channels), windows, x.itemsize), _gemms_in_blocks()

    def transformed(chunk: slice) -> np.ndarray:
        n = chunk.stop - chunk.start
        v = scratch((16, channels, n * slots), x.dtype) if kept is None else \
            kept[:, :, chunk].reshape(16, channels, n * slots)
        input_transform(x[chunk], windows, v)
        return v

    def run(first: int, last: int) -> None:
        slices = chunks[first:last]
        with _transforming:
            v = transformed(slices[0])
        for i, chunk in enumerate(slices):
            m = _matmul(u, v, scratch((16, out_channels, v.shape[2]), x.dtype), in_blocks)
            if bias is not None:  # M at (1, 1) reaches each of its tile's 2x2 outputs once (row 1 of A is [1, 1])
                m[5] += bias.reshape(-1, 1)
            outputs = output_transform(m, in_blocks)
            with _transforming:  # this slice's output, then the next slice's input transform
                place_output(outputs, windows, out[chunk])
                if i + 1 < len(slices):
                    v = transformed(slices[i + 1])

    threads.parallel_chunks(run, len(chunks), _bytes_written(x, out_channels, windows))
    return out, kept


def backward(grad_output: np.ndarray, weight: np.ndarray, v: np.ndarray | None, windows: Windows, need_x: bool,
             need_w: bool, need_b: bool) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(dx (N, C, H, W), dW (O, C, 3, 3), db (O,)) from dY (N, O, Ho, Wo); each None where not needed.

    `weight` is needed for dx, `v` (from `forward`) for dW. An inf in dY (a step already lost) may come back as
    NaN where im2col would give inf; NumPy then warns of the invalid value, as it does on the im2col path.
    Each thread sums dW and db over its batch slices, then the threads' sums are added in order: both are
    deterministic, but their last bits depend on the number of threads.
    """
    (batch, out_channels), dtype = grad_output.shape[:2], grad_output.dtype
    if not (need_x or need_w):  # db alone needs no transforms
        return None, None, grad_output.sum(axis=(0, 2, 3)) if need_b else None
    channels = weight.shape[1] if need_x else v.shape[1]
    u_t = weight_transform(weight).transpose(0, 2, 1) if need_x else None
    grad_x = scratch((batch, channels, *windows.input_size), dtype) if need_x else None
    chunks = _chunks(batch, max(channels, out_channels), windows, grad_output.itemsize)
    in_blocks = _gemms_in_blocks()
    shares: dict[int, tuple[np.ndarray | None, np.ndarray | None]] = {}  # a thread's first chunk -> its (dU, db)

    def run(first: int, last: int) -> None:
        grad_u = grad_b = None
        slices = chunks[first:last]
        with _transforming:
            grad_outputs = gather_grad_output(grad_output[slices[0]], windows)
        grad_m = output_adjoint(grad_outputs, out_channels, in_blocks)
        for i, chunk in enumerate(slices):
            if need_b:  # dM at (1, 1) is the sum of its tile's 2x2 output gradients (row 1 of A is [1, 1])
                part_b = grad_m[5].sum(axis=1)
                grad_b = part_b if grad_b is None else np.add(grad_b, part_b, out=grad_b)
            if need_w:
                v_chunk = v[:, :, chunk].reshape(16, channels, -1)
                part = _matmul(grad_m, v_chunk.transpose(0, 2, 1), np.empty((16, out_channels, channels), dtype),
                               in_blocks)
                grad_u = part if grad_u is None else np.add(grad_u, part, out=grad_u)
            if need_x:
                grad_v = _matmul(u_t, grad_m, scratch((16, channels, grad_m.shape[2]), dtype), in_blocks)
            with _transforming:  # this slice's input adjoint, then the next slice's output gradient
                if need_x:
                    input_adjoint(grad_v, windows, grad_x[chunk])
                if i + 1 < len(slices):
                    grad_outputs = gather_grad_output(grad_output[slices[i + 1]], windows)
            if i + 1 < len(slices):
                grad_m = output_adjoint(grad_outputs, out_channels, in_blocks)
        shares[first] = grad_u, grad_b

    threads.parallel_chunks(run, len(chunks), _bytes_written(grad_output, channels, windows))
    in_order = [shares[first] for first in sorted(shares)]
    grad_w = weight_adjoint(functools.reduce(np.add, [u for u, _ in in_order])) if need_w else None
    grad_b = functools.reduce(np.add, [b for _, b in in_order]) if need_b else None
    return grad_x, grad_w, grad_b
