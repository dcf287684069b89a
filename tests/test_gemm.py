"""ops/_gemm: products above SMALL_GEMM cut into blocks of columns or rows beside a one-thread BLAS, whole beside a
threaded one, always equal to the whole product; the stacked block views write through to their array."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import threads
from tinygrad_cnn.ops import _gemm


@pytest.fixture
def counted_matmul(monkeypatch):
    """The multiply-adds of every GEMM that _gemm hands to np.matmul (one per matrix of a stack)."""
    sizes, real_matmul = [], np.matmul

    def counted(a, b, out=None):
        stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        sizes.extend([a.shape[-2] * a.shape[-1] * b.shape[-1]] * int(np.prod(stack)))
        return real_matmul(a, b, out=out)

    monkeypatch.setattr(_gemm.np, "matmul", counted)
    return sizes


@pytest.mark.parametrize("shape_a, shape_b, blocks", [
    ((2, 3, 4), (2, 4, 37), [3 * 4 * 16] * 4 + [3 * 4 * 5] * 2),  # columns: 2 blocks of 16 and 5 left, per matrix
    ((1, 3, 4), (2, 4, 37), [3 * 4 * 16] * 4 + [3 * 4 * 5] * 2),  # the same with a broadcast
    ((1, 7, 50), (1, 50, 2), [2 * 50 * 2] * 3 + [1 * 50 * 2]),  # rows: no 8 columns fit; 3 blocks of 2, 1 left
    ((1, 3, 50), (1, 50, 60), [3 * 50 * 60]),  # neither 8 columns nor 2 rows fit: whole
    ((1, 3, 4), (1, 4, 8), [3 * 4 * 8]),  # within the limit: whole
], ids=["columns", "broadcast", "rows", "neither", "small"])
def test_products_above_the_limit_run_in_blocks_beside_a_one_thread_blas(shape_a, shape_b, blocks, counted_matmul,
                                                                         monkeypatch):
    monkeypatch.setattr(threads, "BLAS_THREADS", 1)
    monkeypatch.setattr(_gemm, "SMALL_GEMM", 200)  # 16 columns of a 3x4 @ 4xN (a power of two), 2 rows of 50 @ 50x2
    monkeypatch.setattr(_gemm, "MIN_COLUMNS", 8)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    out = np.full(np.broadcast_shapes(shape_a[:1], shape_b[:1]) + (shape_a[1], shape_b[2]), np.nan)
    assert _gemm.matmul(a, b, out) is out
    assert sorted(counted_matmul) == sorted(blocks)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("small_output, blocks", [(4, [2 * 50 * 2] * 3 + [1 * 50 * 2]), (3, [7 * 50 * 2])])
def test_blocks_of_rows_have_at_most_small_output_outputs(small_output, blocks, counted_matmul, monkeypatch):
    monkeypatch.setattr(threads, "BLAS_THREADS", 1)
    monkeypatch.setattr(_gemm, "SMALL_GEMM", 200)
    monkeypatch.setattr(_gemm, "SMALL_OUTPUT", small_output)  # 2 rows of 2 outputs fit in 4, not in 3 (1 row: whole)
    a, b = np.ones((1, 7, 50)), np.ones((1, 50, 2))
    np.testing.assert_array_equal(_gemm.matmul(a, b, np.empty((1, 7, 2))), np.full((1, 7, 2), 50.0))
    assert sorted(counted_matmul) == sorted(blocks)


def test_products_run_whole_beside_a_threaded_blas(counted_matmul, monkeypatch):
    monkeypatch.setattr(threads, "BLAS_THREADS", 2)
    monkeypatch.setattr(_gemm, "SMALL_GEMM", 1)
    a, b = np.ones((1, 3, 4)), np.ones((1, 4, 37))
    _gemm.matmul(a, b, np.empty((1, 3, 37)))
    assert counted_matmul == [3 * 4 * 37]


@pytest.mark.parametrize("axis", [1, 2])
def test_blocks_of_a_transposed_view_write_through(axis):
    base = np.zeros((2, 7, 6))
    array = base.transpose(0, 2, 1)  # (2, 6, 7), not contiguous
    view = _gemm.blocks(array, axis, 3)
    view[...] = 1.0
    covered = np.zeros(array.shape, bool)
    if axis == 2:
        assert view.shape == (2, 2, 6, 3)
        covered[:, :, :6] = True
    else:
        assert view.shape == (2, 2, 3, 7)
        covered[:, :6] = True
    np.testing.assert_array_equal(array, covered.astype(float))


@pytest.mark.parametrize("shape, kernel, groups", [((3, 4, 9, 9), 5, 1), ((2, 4, 8, 30), 3, 2)],
                         ids=["batch-last", "groups"])
def test_conv_with_products_in_blocks_matches_whole_products(shape, kernel, groups, monkeypatch):
    rng = np.random.default_rng(3)
    x_data, w_data = rng.standard_normal(shape), rng.standard_normal((6, shape[1] // groups, kernel, kernel))

    def compute():
        x, weight = tc.tensor(x_data, requires_grad=True), tc.tensor(w_data, requires_grad=True)
        out = F.conv2d(x, weight, groups=groups)
        (out * out).sum().backward()
        return out.data.copy(), x.grad.data.copy(), weight.grad.data.copy()

    monkeypatch.setattr(threads, "BLAS_THREADS", 2)
    expected = compute()
    monkeypatch.setattr(threads, "BLAS_THREADS", 1)
    monkeypatch.setattr(_gemm, "SMALL_GEMM", 4800)  # each product of these convs goes in blocks
    monkeypatch.setattr(_gemm, "MIN_COLUMNS", 4)
    views, real_blocks = [], _gemm.blocks

    def recorded_blocks(array, axis, size):
        views.append(axis)
        return real_blocks(array, axis, size)

    monkeypatch.setattr(_gemm, "blocks", recorded_blocks)
    for ours, reference in zip(compute(), expected):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
    # two views per product in blocks: the forward's and the input gradient's (batch-last only) by columns, the
    # weight gradient's by rows
    assert views == ([2, 2, 1, 1, 2, 2] if groups == 1 else [1, 1, 2, 2])
