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

from collections.abc import Callable

import numpy as np

from ..ops._util import ceil_div
from ..ops._windows import Windows

NAME, OP = "winograd", "conv"

# Both channel counts must reach MIN_CHANNELS and both output sides MIN_OUTPUT_SIZE for conv to take this path.
# Below, the GEMMs are too thin, or the junk tile row and column (see "the layout") too large a share, for the
# 2.25x fewer multiplies to pay for the transforms (BENCHMARKS.md has the figures).
MIN_CHANNELS = 8
MIN_OUTPUT_SIZE = 10
# The batch is transformed and multiplied in slices of at most about this many bytes of transformed tiles, so that
# each slice's transforms and GEMMs work on data that is still in a core's L2 cache.
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


def _tiles(windows: Windows) -> tuple[int, ...]:
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
    padded = np.empty((4, size + tw + 2), x.dtype)
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
    rows_done = np.empty((4, 2, size + 1), x.dtype)  # B^T along rows; (r, column parity, E + 1)
    _input_pass(lambda i: planes[i % 2, :, (i // 2) * (tw + 1):(i // 2) * (tw + 1) + size + 1], rows_done)
    _input_pass(lambda j: rows_done[:, j % 2, j // 2:j // 2 + size].reshape(4, channels, -1),
                out.reshape(4, 4, channels, -1).swapaxes(0, 1))


def input_adjoint(grad_v: np.ndarray, windows: Windows, grad_x: np.ndarray) -> None:
    """dx from dV, the adjoint of `input_transform`: (16, C, n*(th + 1)*(tw + 1)) -> grad_x (n, C, H, W)."""
    th, tw = _tiles(windows)
    batch, channels = grad_x.shape[:2]
    size = grad_v.shape[1] * grad_v.shape[2]
    grad_v = grad_v.reshape(4, 4, size)
    rows_done = np.empty((4, 2, size + 1), grad_v.dtype)
    _input_adjoint(lambda j: grad_v[:, j], rows_done[:, 0], rows_done[:, 1], 1)
    padded = np.empty((2, 2, size + tw + 2), grad_v.dtype)
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
# Y = A^T M A is two small GEMMs, A^T along rows, then along columns: one call each over all tiles, faster than
# adding taps one strided view at a time.
def output_transform(m: np.ndarray) -> np.ndarray:
    """A^T M A per tile: M (16, O, n*(th + 1)*(tw + 1)) -> the tiles' 2x2 outputs (2, 2, O*n*(th + 1)*(tw + 1))."""
    size = m.shape[1] * m.shape[2]
    a_t = np.array(_A_T, m.dtype)
    rows_done = np.matmul(a_t, m.reshape(4, 4 * size)).reshape(2, 4, size)
    return np.matmul(a_t, rows_done)


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
    grad_outputs = np.empty((2, 2, out_channels * batch * (th + 1) * (tw + 1)), grad_output.dtype)
    grad_outputs.fill(0)  # junk tiles and the cropped positions of partial ones get zero gradient
    images = grad_outputs.reshape(2, 2, out_channels, batch, th + 1, tw + 1)
    source = grad_output.transpose(1, 0, 2, 3)
    for p in (0, 1):
        for q in (0, 1):
            images[p, q, :, :, :len(range(p, height, 2)), :len(range(q, width, 2))] = source[:, :, p::2, q::2]
    return grad_outputs


def output_adjoint(grad_outputs: np.ndarray, out_channels: int) -> np.ndarray:
    """dM = A dY A^T per tile, the adjoint of `output_transform`: (2, 2, O*n*(th + 1)*(tw + 1)) ->
    (16, O, n*(th + 1)*(tw + 1))."""
    size = grad_outputs.shape[2]
    a = np.array(_A_T, grad_outputs.dtype).T
    columns_done = np.matmul(a, grad_outputs)  # (p, s, E)
    grad_m = np.matmul(a, columns_done.reshape(2, 4 * size))
    return grad_m.reshape(16, out_channels, size // out_channels)


# ----- the variant's two halves, called by ConvNd ----------------------------------------------------------------
def _tile_slots(windows: Windows) -> int:
    """Tiles per image and channel in the transformed layout, the junk row and column included."""
    th, tw = _tiles(windows)
    return (th + 1) * (tw + 1)


def _chunks(batch: int, channels: int, windows: Windows, itemsize: int) -> list[slice]:
    """Batch slices of near-equal size, each with at most about CHUNK_BYTES of transformed tiles (16 * channels *
    n * tile slots values), at least one image."""
    per_image = 16 * channels * _tile_slots(windows) * itemsize
    count = ceil_div(batch, max(1, CHUNK_BYTES // per_image))
    return [slice(batch * i // count, batch * (i + 1) // count) for i in range(count)]


class _TransformedInput:
    """V of one batch slice at a time, in one buffer reused for every slice of the call: chunk -> (16, C, n*slots)."""

    def __init__(self, x: np.ndarray, windows: Windows, chunks: list[slice]) -> None:
        self.x, self.windows = x, windows
        self.per_image = 16 * x.shape[1] * _tile_slots(windows)
        self.buffer = np.empty(self.per_image * max(chunk.stop - chunk.start for chunk in chunks), x.dtype)

    def __call__(self, chunk: slice) -> np.ndarray:
        n = chunk.stop - chunk.start
        v = self.buffer[:self.per_image * n].reshape(16, self.x.shape[1], -1)
        input_transform(self.x[chunk], self.windows, v)
        return v


def forward(ctx, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, windows: Windows,
            groups: int) -> np.ndarray:
    """conv2d: x (N, C, H, W), weight (O, C, 3, 3), bias (O,) or None -> (N, O, Ho, Wo).

    Saves x, not V: the weight gradient transforms each batch slice again (in cache), which costs less than
    keeping V, 16/9 * (th + 1)*(tw + 1)/(th*tw) times the size of the input, and streaming it back from memory.
    The bias goes into M at (1, 1), a sixteenth of M, not onto the output.
    """
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    need_x, need_w = ctx.needs_input_grad[:2]
    u = weight_transform(weight)
    out = np.empty((batch, out_channels, *windows.output_size), x.dtype)
    chunks = _chunks(batch, max(channels, out_channels), windows, x.itemsize)
    transformed = _TransformedInput(x, windows, chunks)
    for chunk in chunks:
        v = transformed(chunk)
        m = np.matmul(u, v)
        if bias is not None:  # M at (1, 1) reaches each of its tile's 2x2 outputs once (row 1 of A is [1, 1])
            m[5] += bias.reshape(-1, 1)
        place_output(output_transform(m), windows, out[chunk])
    ctx.windows = windows
    # The arrays themselves (not transforms of them): the engine's in-place check knows saved arrays by identity.
    ctx.save_for_backward(x if need_w else None, weight if need_x else None)
    return out


def backward(ctx, grad_output: np.ndarray) -> tuple[np.ndarray | None, ...]:
    """(dx (N, C, H, W), dW (O, C, 3, 3), db (O,)) from dY (N, O, Ho, Wo); each None where not needed.

    An inf in dY (a step already lost) may come back as NaN where im2col would give inf. dW and db are summed
    over the batch slices in order.
    """
    x, weight = ctx.saved_tensors
    windows: Windows = ctx.windows
    need_x, need_w, need_b = (*ctx.needs_input_grad, False)[:3]  # bias may be left out of apply()
    (batch, out_channels), dtype = grad_output.shape[:2], grad_output.dtype
    if not (need_x or need_w):  # db alone needs no transforms
        return None, None, grad_output.sum(axis=(0, 2, 3))
    channels = weight.shape[1] if need_x else x.shape[1]
    u_t = weight_transform(weight).transpose(0, 2, 1) if need_x else None
    grad_x = np.empty((batch, channels, *windows.input_size), dtype) if need_x else None
    grad_u = np.zeros((16, out_channels, channels), dtype) if need_w else None
    grad_b = np.zeros(out_channels, dtype) if need_b else None
    chunks = _chunks(batch, max(channels, out_channels), windows, grad_output.itemsize)
    transformed = _TransformedInput(x, windows, chunks) if need_w else None
    for chunk in chunks:
        grad_m = output_adjoint(gather_grad_output(grad_output[chunk], windows), out_channels)
        if need_b:  # dM at (1, 1) is the sum of its tile's 2x2 output gradients (row 1 of A is [1, 1])
            grad_b += grad_m[5].sum(axis=1)
        if transformed is not None:  # need_w
            grad_u += np.matmul(grad_m, transformed(chunk).transpose(0, 2, 1))
        if need_x:  # u_t and grad_x are arrays where need_x, grad_u where need_w
            input_adjoint(np.matmul(u_t, grad_m), windows, grad_x[chunk])  # type: ignore[arg-type,index]
    return (grad_x, weight_adjoint(grad_u) if need_w else None,  # type: ignore[arg-type]
            grad_b)[:len(ctx.needs_input_grad)]
