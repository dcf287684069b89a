"""im2col convolution over the batch in chunks whose columns stay in cache: the reference's math, smaller arrays.

The reference (`ops.conv`) unfolds the whole batch into one cols array (C*K, N*L), saves it for the weight gradient
and folds a second one of the same size in backward. Those arrays are many times a core's cache, so every GEMM
and every copy streams them through memory, and each is a fresh large allocation whose pages must be faulted in.
Here the batch runs in slices of n images whose columns fit in about CHUNK_BYTES:
    forward:     cols = unfold(x[chunk]);  out[chunk] = W @ cols               (Og, Cg*K) @ (Cg*K, n*L) per group
    backward:    cols = unfold(x[chunk]) again;  dW += dY[chunk] @ cols.T;  dx[chunk] = fold(W.T @ dY[chunk])
in the reference's channel-major layout (C, *K, n, *O), so each chunk's product is one GEMM with n*L columns. The
columns are recomputed in backward from x (which the graph holds anyway) rather than saved: an unfold in cache
costs less than keeping, and streaming back, a copy of the input K times over. The chunk buffers are allocated
once per call and freed when it returns; nothing outlives the call.

Rows, where every stride is 1: an output row is then a run of the padded input's row, and so are all the rows of
an image, read as one run of Ho * Wp values when the output row is taken as wide as the padded input (Wp) instead
of Wo. Unfold and fold then copy and add runs of Ho * Wp values instead of Wo, which is what their time goes to
for small images; the price is (Wp - Wo) / Wo more GEMM columns. Their outputs are dropped and their output
gradient is zero, but they read real input values (the next row's), so the row form takes finite inputs and
weights only: then those zeros give exact zeros in both gradients (0 * finite), and an inf or NaN takes the
general form, as exact as the reference. The row form's fold adds whole runs per kernel offset; where it moves
fewer values, the offsets of the last kernel dim are summed inside a GEMM instead (`_RowsInputGradient`).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ..ops._util import ceil_div
from ..ops._windows import Windows

NAME, OP = "im2col_chunks", "conv"

# The columns of one chunk take at most about this many bytes (or one image's, if more): half of a core's L2 on
# current x86 and ARM server cores, so the chunk's unfold, GEMMs and fold run on data still in cache.
CHUNK_BYTES = 2**20


def applies(x: np.ndarray, weight: np.ndarray, windows: Windows, groups: int) -> bool:
    """Every conv with a non-empty batch: a batch of one chunk is the reference's one GEMM per group."""
    return x.shape[0] > 0


def _finite(values: np.ndarray) -> bool:
    """Whether every value is finite (a sum is finite exactly when its terms are, unless it overflows: then a
    finite input takes the general form, which is merely slower)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(values)))


class _Layout:
    """Where one chunk's columns come from and go back to. Positions per image are the output's (*O), or in the
    row form (every stride 1) the output's with the last dim as wide as the padded input: (*O[:-1], Wp)."""

    def __init__(self, x: np.ndarray, weight: np.ndarray, windows: Windows) -> None:
        self.windows, self.channels, self.dtype = windows, x.shape[1], x.dtype
        # A negative trailing padding (a transposed conv's output_padding) is input no window reaches: left in place.
        self.padded_size = tuple(size + lo + max(hi, 0) for size, (lo, hi) in zip(windows.input_size, windows.padding))
        self.rows = all(s == 1 for s in windows.stride) and _finite(x) and _finite(weight)
        self.positions_shape = (*windows.output_size[:-1], self.padded_size[-1]) if self.rows else windows.output_size
        self.positions = int(np.prod(self.positions_shape))
        self.kernel_size = int(np.prod(windows.kernel))
        self.image_values = int(np.prod(self.padded_size))

    def chunked(self, batch: int) -> list[slice]:
        """Batch slices of near-equal size, each at most about CHUNK_BYTES of columns, at least one image."""
        per_image = self.channels * self.kernel_size * self.positions * self.dtype.itemsize
        count = ceil_div(batch, max(1, CHUNK_BYTES // per_image))
        return [slice(batch * i // count, batch * (i + 1) // count) for i in range(count)]

    def padded_buffer(self, images: int) -> np.ndarray:
        """Room for `images` padded images (n, C, *P), zeroed, with a tail of slack that the row form's last run
        reads past the last image (into junk columns)."""
        slack = self.windows.dilation[-1] * (self.windows.kernel[-1] - 1) if self.rows else 0
        return np.zeros(images * self.channels * self.image_values + slack, self.dtype)

    def padded_images(self, buffer: np.ndarray, images: int, channel_major: bool = False) -> np.ndarray:
        shape = (self.channels, images) if channel_major else (images, self.channels)
        return buffer[:images * self.channels * self.image_values].reshape(*shape, *self.padded_size)

    def inside(self) -> tuple[slice, ...]:
        return tuple(slice(lo, lo + size) for (lo, _), size in zip(self.windows.padding, self.windows.input_size))

    def windows_view(self, buffer: np.ndarray, images: int, channel_major: bool = False) -> np.ndarray:
        """The padded images in `buffer` as (C, *K, n, *positions): the input each column reads."""
        windows = self.windows
        padded = self.padded_images(buffer, images, channel_major)
        if not self.rows:
            extent = tuple(d * (k - 1) + 1 for k, d in zip(windows.kernel, windows.dilation))
            dims = len(windows.kernel)
            views = sliding_window_view(padded, extent, axis=tuple(range(2, 2 + dims)),
                                        writeable=channel_major)  # (n, C, *P, *extent)
            views = views[(slice(None), slice(None),
                           *(slice(0, (o - 1) * s + 1, s) for o, s in zip(windows.output_size, windows.stride)),
                           *(slice(None, None, d) for d in windows.dilation))]  # (n, C, *O, *K)
            if channel_major:
                views = views.swapaxes(0, 1)
            return views.transpose(1, *range(2 + dims, 2 + 2 * dims), 0, *range(2, 2 + dims))
        return self.rows_view(buffer, images, channel_major, windows.kernel)

    def rows_view(self, buffer: np.ndarray, images: int, channel_major: bool, kernel: tuple[int, ...]) -> np.ndarray:
        """The row form's windows_view over the leading len(kernel) kernel dims (the others at offset 0)."""
        padded = self.padded_images(buffer, images, channel_major)
        dim_strides = padded.strides[2:]
        image_stride, channel_stride = padded.strides[:2][::-1] if channel_major else padded.strides[:2]
        return as_strided(buffer, (self.channels, *kernel, images, *self.positions_shape),
                          (channel_stride, *(d * s for _, d, s in zip(kernel, self.windows.dilation, dim_strides)),
                           image_stride, *dim_strides), writeable=channel_major)

    def zero_junk(self, columns: np.ndarray) -> None:
        """Set the row form's extra columns (..., last output dim >= Wo) to zero: (..., *positions)."""
        if self.rows:
            columns[..., self.windows.output_size[-1]:] = 0

    def copy_inside(self, padded: np.ndarray, images: int, grad_x: np.ndarray) -> None:
        """The inside of the padded images in `padded` (taken as (C, n, *P)) into grad_x (n, C, *S)."""
        inside = self.padded_images(padded, images, channel_major=True)[(slice(None), slice(None), *self.inside())]
        np.copyto(grad_x.swapaxes(0, 1), inside)

    def outputs(self, product: np.ndarray) -> np.ndarray:
        """The real outputs of (O, n, *positions) as (O, n, *O)."""
        return product[..., :self.windows.output_size[-1]] if self.rows else product


def forward(ctx, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, windows: Windows,
            groups: int) -> np.ndarray:
    """conv: x (N, C, *S), weight (O, C/groups, *K), bias (O,) or None -> (N, O, *O_size). Saves x and weight."""
    batch, out_channels = x.shape[0], weight.shape[0]
    layout = _Layout(x, weight, windows)
    chunks = layout.chunked(batch)
    most = max(chunk.stop - chunk.start for chunk in chunks)
    unfold = _Unfolder(x, layout, most)
    kernels = weight.reshape(groups, out_channels // groups, -1)
    products = np.empty(out_channels * most * layout.positions, x.dtype)  # (G, Og, n * positions) per chunk
    out = np.empty((batch, out_channels, *windows.output_size), x.dtype)
    for chunk in chunks:
        n = chunk.stop - chunk.start
        cols = unfold(chunk).reshape(groups, weight[0].size, n * layout.positions)
        product = products[:out_channels * n * layout.positions].reshape(groups, -1, n * layout.positions)
        np.matmul(kernels, cols, out=product)
        product = layout.outputs(product.reshape(out_channels, n, *layout.positions_shape))
        if bias is not None:
            product += bias.reshape(-1, 1, *(1,) * len(windows.output_size))
        np.copyto(out[chunk].swapaxes(0, 1), product)
    ctx.layout, ctx.groups, ctx.input_shape, ctx.weight_shape = layout, groups, x.shape, weight.shape
    # The arrays themselves: the engine's in-place check knows saved arrays by identity.
    need_x, need_w = ctx.needs_input_grad[:2]
    ctx.save_for_backward(x if need_w else None, weight if need_x else None)
    return out


class _Unfolder:
    """unfold of batch slices into one reused buffer: x (N, C, *S) -> cols (C, *K, n, *positions) for a slice of
    n images. The padded copy of the slice keeps its zero border; only its inside is rewritten per slice."""

    def __init__(self, x: np.ndarray, layout: _Layout, most: int) -> None:
        self.x, self.layout = x, layout
        self.padded = layout.padded_buffer(most)
        self.cols = np.empty(layout.channels * layout.kernel_size * most * layout.positions, x.dtype)

    def __call__(self, chunk: slice) -> np.ndarray:
        layout, n = self.layout, chunk.stop - chunk.start
        layout.padded_images(self.padded, n)[(slice(None), slice(None), *layout.inside())] = self.x[chunk]
        views = layout.windows_view(self.padded, n)
        cols = self.cols[:views.size].reshape(views.shape)
        np.copyto(cols, views)
        return cols


def backward(ctx, grad_output: np.ndarray) -> tuple[np.ndarray | None, ...]:
    """(dx (N, C, *S), dW (O, C/groups, *K), db (O,)) from dY (N, O, *O_size); each None where not needed.
    dW and db are summed over the chunks in order."""
    x, weight = ctx.saved_tensors
    need_x, need_w, need_b = (*ctx.needs_input_grad, False)[:3]  # bias may be left out of apply()
    layout, groups, dtype = ctx.layout, ctx.groups, grad_output.dtype
    windows, (batch, channels), out_channels = layout.windows, ctx.input_shape[:2], ctx.weight_shape[0]
    positions, rows = layout.positions, channels // groups * layout.kernel_size  # rows: Cg*K
    chunks = layout.chunked(batch)
    most = max(chunk.stop - chunk.start for chunk in chunks)
    unfold = _Unfolder(x, layout, most) if need_w else None
    shift = need_x and _shift_output_gradient(layout, out_channels)
    # dY per chunk as (O, n, *positions), after `lead` zeros that the shifted reads of dY start in.
    lead = windows.dilation[-1] * (windows.kernel[-1] - 1) if shift else 0
    grad_rows_buffer = np.zeros(lead + out_channels * most * positions, dtype)
    grad_x = grad_w = grad_b = None
    if need_x:
        grad_x = np.empty(ctx.input_shape, dtype)
        input_gradient = (_RowsInputGradient if shift else _InputGradient)(weight, layout, groups, most)
    if need_w:
        grad_w = np.zeros((groups, out_channels // groups, rows), dtype)
    if need_b:
        grad_b = grad_output.sum(axis=(0, *range(2, grad_output.ndim)))
    for chunk in chunks:
        n = chunk.stop - chunk.start
        grad_rows = grad_rows_buffer[lead:lead + out_channels * n * positions].reshape(
            out_channels, n, *layout.positions_shape)
        np.copyto(layout.outputs(grad_rows), grad_output[chunk].swapaxes(0, 1))
        layout.zero_junk(grad_rows)  # a larger chunk before may have left values there
        if grad_w is not None and unfold is not None:  # need_w
            cols = unfold(chunk).reshape(groups, rows, n * positions)
            grad_w += np.matmul(grad_rows.reshape(groups, -1, n * positions), cols.transpose(0, 2, 1))
        if grad_x is not None:  # need_x
            input_gradient(grad_rows_buffer, n, grad_x[chunk])
    if grad_w is not None:
        grad_w = grad_w.reshape(out_channels, -1, *windows.kernel)
    return (grad_x, grad_w, grad_b)[:len(ctx.needs_input_grad)]


def _shift_output_gradient(layout: _Layout, out_channels: int) -> bool:
    """Whether the row form's input gradient shifts dY (`_RowsInputGradient`) rather than fold dcols: per column
    it writes O*kw shifted values and C*K/kw products, where dcols takes C*K products and about as many adds."""
    kw = layout.windows.kernel[-1]
    per_column = layout.channels * layout.kernel_size
    return layout.rows and out_channels * kw + per_column // kw < 2 * per_column


class _InputGradient:
    """dx of one chunk: dcols = W.T @ dY, then fold, one add per kernel offset (whole runs in the row form)."""

    def __init__(self, weight: np.ndarray, layout: _Layout, groups: int, most: int) -> None:
        out_channels, self.layout, self.groups = weight.shape[0], layout, groups
        self.kernels_t = weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)  # (G, Cg*K, Og)
        self.grad_cols = np.empty(layout.channels * layout.kernel_size * most * layout.positions, weight.dtype)
        self.padded = layout.padded_buffer(most)

    def __call__(self, grad_rows_buffer: np.ndarray, n: int, grad_x: np.ndarray) -> None:
        """grad_rows_buffer: dY of the chunk as (O, n, *positions); grad_x (n, C, *S) is written."""
        layout, windows, columns = self.layout, self.layout.windows, n * self.layout.positions
        grad_rows = grad_rows_buffer[:self.kernels_t.shape[2] * self.groups * columns]
        grad_cols = self.grad_cols[:layout.channels * layout.kernel_size * columns]
        np.matmul(self.kernels_t, grad_rows.reshape(self.groups, -1, columns),
                  out=grad_cols.reshape(self.groups, -1, columns))
        grad_cols = grad_cols.reshape(layout.channels, *windows.kernel, n, *layout.positions_shape)
        self.padded[:layout.channels * n * layout.image_values].fill(0)
        target = layout.windows_view(self.padded, n, channel_major=True)  # (C, *K, n, *positions)
        for k in np.ndindex(*windows.kernel):
            target[(slice(None), *k)] += grad_cols[(slice(None), *k)]
        layout.copy_inside(self.padded, n, grad_x)


class _RowsInputGradient:
    """dx of one chunk in the row form. Summing the last dim's kernel offsets of dcols = W.T @ dY, shifted by j
    along the flat positions, is the same as one GEMM of W with dY shifted kw times (kw copies of the runs of dY,
    better shaped for BLAS than W.T's Og rows): for each c and leading kernel offset k',
        summed[c, k'] = sum over o, j of W[o, c, k', j] * dY[o, positions - j * dilation]
    (zero before the first position: the lead zeros, or the zero gradient of the previous row's extra columns).
    Then one add per offset of the other kernel dims folds `summed` into the padded input."""

    def __init__(self, weight: np.ndarray, layout: _Layout, groups: int, most: int) -> None:
        windows, self.layout, self.groups = layout.windows, layout, groups
        out_channels, kw = weight.shape[0], windows.kernel[-1]
        grouped = weight.reshape(groups, out_channels // groups, *weight.shape[1:])[..., ::-1]  # j reversed
        order = (0, *range(2, 2 + len(windows.kernel)), 1, 2 + len(windows.kernel))  # (G, Cg, *K', Og, kw)
        self.kernels = np.ascontiguousarray(grouped.transpose(order)).reshape(groups, -1, out_channels // groups * kw)
        self.shifted = np.empty(out_channels * kw * most * layout.positions, weight.dtype)
        self.summed = np.empty(layout.channels * layout.kernel_size // kw * most * layout.positions, weight.dtype)
        self.padded = layout.padded_buffer(most)

    def __call__(self, grad_rows_buffer: np.ndarray, n: int, grad_x: np.ndarray) -> None:
        layout, windows = self.layout, self.layout.windows
        columns, kw = n * layout.positions, windows.kernel[-1]
        out_channels = self.kernels.shape[2] // kw * self.groups
        item = grad_rows_buffer.itemsize
        # Row (o, j) of `shifted` starts j * dilation values into the lead zeros before dY[o] (j reversed above).
        view = as_strided(grad_rows_buffer, (out_channels, kw, columns),
                          (columns * item, windows.dilation[-1] * item, item), writeable=False)
        shifted = self.shifted[:view.size].reshape(view.shape)
        np.copyto(shifted, view)
        summed = self.summed[:self.kernels.shape[1] * self.groups * columns].reshape(self.groups, -1, columns)
        np.matmul(self.kernels, shifted.reshape(self.groups, -1, columns), out=summed)
        summed = summed.reshape(layout.channels, *windows.kernel[:-1], n, *layout.positions_shape)
        self.padded[:layout.channels * n * layout.image_values].fill(0)
        target = layout.rows_view(self.padded, n, True, windows.kernel[:-1])  # (C, *K', n, *positions)
        for k in np.ndindex(*windows.kernel[:-1]):
            target[(slice(None), *k)] += summed[(slice(None), *k)]
        layout.copy_inside(self.padded, n, grad_x)
