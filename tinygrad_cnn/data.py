"""Datasets and batching: TensorDataset over arrays, and a DataLoader that yields batches as Tensors."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import random as _random
from .tensor import Tensor


def _as_array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class TensorDataset:
    """Samples are the rows of several arrays of equal length: `dataset[i] == (x[i], y[i])`.

    Indexing with an array of indices returns whole batches at once (what DataLoader uses).
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.arrays = tuple(_as_array(a) for a in arrays)
        lengths = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: all arrays need the same first dimension, got shapes "
                             f"{[a.shape for a in self.arrays]}")

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


_BATCH_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_))


def _to_tensor(array: Any) -> Tensor:
    """A batch as a Tensor: floats keep their dtype, integers become int64 (class labels)."""
    array = np.asarray(array)
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    # A fresh batch array needs no copy; Tensor() checks (and refuses) any other dtype, e.g. float16.
    return Tensor._make(array, None) if array.dtype in _BATCH_DTYPES else Tensor(array)


class DataLoader:
    """Batches of a dataset as tuples of Tensors (or one Tensor for one-array datasets).

    `dataset` is anything with `len()` and `dataset[i]`; for a TensorDataset (or any dataset with an
    `arrays` attribute) each batch is taken with one fancy index per array, with no Python loop over
    samples. With `shuffle=True` every pass draws a new order from its own generator, seeded by `seed`
    or, if None, from `tc.manual_seed`'s generator, so runs repeat. `len()` is the number of batches.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None) -> None:
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: the dataset must support len() and indexing, got "
                            f"{type(dataset).__name__}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        seed = int(_random.generator().integers(2**63)) if seed is None else seed
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        arrays = getattr(self.dataset, "arrays", None)
        for batch in range(len(self)):
            indices = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            if arrays is not None:
                columns = [a[indices] for a in arrays]
            else:
                columns = _collate([self.dataset[int(i)] for i in indices])
            tensors = tuple(_to_tensor(c) for c in columns)
            yield tensors[0] if len(tensors) == 1 else tensors


def _collate(samples: list[Any]) -> list[np.ndarray]:
    """Stack per-sample items (arrays, numbers or Tensors, or tuples of them) into batch arrays."""
    if isinstance(samples[0], (tuple, list)):
        return [np.stack([_as_array(s[k]) for s in samples]) for k in range(len(samples[0]))]
    return [np.stack([_as_array(s) for s in samples])]
