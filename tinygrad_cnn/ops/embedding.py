"""Embedding lookup, as torch.nn.functional.embedding: rows of a weight table picked by integer indices.

The backward scatter-adds each output row's gradient into the row it came from (indices repeat), in one
vectorised bincount pass; the `padding_idx` row gets no gradient, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, random_array, scatter_add
from .registry import Sample, register


def _embedding_samples(rng: np.random.Generator):
    weight = random_array(rng, 5, 3)
    yield Sample((np.array([0, 2, 4, 2]), weight), note="(4,) indices, repeats")
    yield Sample((rng.integers(0, 5, size=(2, 3)), weight), note="(2, 3) indices")
    # The padding row's gradient is zero by design, not the derivative: the samples do not pick it (tests/
    # test_nn_more.py checks the rows that do, against PyTorch).
    yield Sample((np.array([[1, 2, 1], [3, 3, 4]]), weight), {"padding_idx": 0}, note="padding_idx 0")
    yield Sample((np.array(1), weight), {"padding_idx": -2}, note="0-d index, negative padding_idx")


def normalize_padding_idx(padding_idx: int | None, num_embeddings: int, op: str) -> int | None:
    """padding_idx as a row in [0, num_embeddings) (a negative one counts from the end), or a clear ValueError."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{op}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx must be within num_embeddings (in [{-num_embeddings}, "
                         f"{num_embeddings})), got {padding_idx}")
    return int(padding_idx) % num_embeddings


@register("embedding", samples=_embedding_samples)
class Embedding(Function):
    """weight[indices]: (*) int indices and a (num_embeddings, embedding_dim) table -> (*, embedding_dim)."""

    @staticmethod
    def forward(ctx, indices, weight, padding_idx=None):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be an int64 or int32 tensor, got dtype {indices.dtype}; "
                            "pass indices.long()")
        if weight.ndim != 2:
            raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                             f"{weight.shape}")
        rows = weight.shape[0]
        padding_idx = normalize_padding_idx(padding_idx, rows, "embedding")
        if indices.size and (indices.min() < 0 or indices.max() >= rows):
            bad = indices[(indices < 0) | (indices >= rows)]
            raise IndexError(f"embedding: index out of range: indices {np.unique(bad)[:10].tolist()} for a table "
                             f"of {rows} rows (expected 0 <= index < {rows})")
        ctx.indices, ctx.padding_idx, ctx.weight_shape = indices, padding_idx, weight.shape
        return weight[indices]

    @staticmethod
    def backward(ctx, grad_output):
        rows, width = ctx.weight_shape
        # Row r of the table, column c, sits at flat position r * width + c: one bincount adds every repeat.
        flat_index = ctx.indices[..., None] * width + np.arange(width)
        grad_weight = scatter_add((rows, width), flat_index, grad_output)
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return None, grad_weight


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """The rows of `weight` that `input` names, as torch.nn.functional.embedding.

    input: int indices of any shape (*); weight: (num_embeddings, embedding_dim) -> (*, embedding_dim). The
    `padding_idx` row (a negative one counts from the end) gets no gradient.
    """
    expect_tensor("embedding", "input", input)
    expect_tensor("embedding", "weight", weight)
    return Embedding.apply(input, weight, padding_idx=padding_idx)
