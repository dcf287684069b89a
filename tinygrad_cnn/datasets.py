"""Small real image datasets, read from local files only (nothing is downloaded).

Both loaders return a `Split` of NumPy arrays: images float32 (N, 1, H, W) scaled to [0, 1] and labels
int64 (N,), ready for `TensorDataset` and `DataLoader`.
"""

from __future__ import annotations

import gzip
import os
from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    """A train/test split: x_* float32 (N, 1, H, W) in [0, 1], y_* int64 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 1797 real 8x8 handwritten digits, split deterministically into train and test.

    The images (pixel values 0..16 in the source) become float32 (N, 1, 8, 8) in [0, 1]. The split is
    a permutation drawn from `seed`, so the same arguments always give the same split; by default
    359 images (a fifth) are held out for testing. Needs scikit-learn (the `examples` extra).
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError("load_digits needs scikit-learn: pip install 'tinygrad_cnn[examples]'") from error
    if not 0 < test_fraction < 1:
        raise ValueError(f"load_digits: test_fraction must be in (0, 1), got {test_fraction!r}")
    digits = sklearn_load_digits()
    images = (digits.images.astype(np.float32) / np.float32(16.0))[:, None, :, :]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    test_size = int(round(len(labels) * test_fraction))
    test, train = order[:test_size], order[test_size:]
    return Split(images[train], labels[train], images[test], labels[test])


# IDX: two zero bytes, a type code, the number of dims, then each dim as a big-endian int32.
_IDX_TYPES: dict[int, type[np.generic] | str] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4",
                                                 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str) -> np.ndarray:
    """One IDX file (gzipped when its name ends in .gz) as an array of its stored shape and type."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"read_idx: cannot read {path!r}: {error}") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path!r} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path!r} is truncated inside its header")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"read_idx: {path!r} should hold {expected} bytes of data for shape {shape}, "
                         f"but holds {len(raw) - header}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(folder: str, stem: str) -> str:
    """The file for `stem` (e.g. 'train-images-idx3-ubyte'), also as 'train-images.idx3-ubyte' or .gz."""
    prefix, kind = stem.rsplit("-", 2)[0], "-".join(stem.rsplit("-", 2)[1:])
    for name in (stem, f"{prefix}.{kind}"):
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.exists(path):
                return path
    raise FileNotFoundError(f"load_mnist: no {stem} (or {stem}.gz) in {folder!r}")


def _images(array: np.ndarray, where: str) -> np.ndarray:
    if array.ndim != 3:
        raise ValueError(f"load_mnist: {where} should be images (N, H, W), got shape {array.shape}")
    return (array.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def load_mnist(path: str | os.PathLike) -> Split:
    """MNIST (or Fashion-MNIST) from local files: a folder with the four standard IDX files
    (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
    each optionally .gz), or an .npz with x_train, y_train, x_test, y_test (Keras's mnist.npz).
    Images become float32 (N, 1, 28, 28) in [0, 1], labels int64."""
    path = os.fspath(path)
    if os.path.isdir(path):
        parts = [read_idx(_find(path, stem)) for stem in (
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
    elif os.path.isfile(path):
        try:
            with np.load(path, allow_pickle=False) as archive:
                parts = [archive[key] for key in ("x_train", "y_train", "x_test", "y_test")]
        except KeyError as error:
            raise ValueError(f"load_mnist: {path!r} needs arrays x_train, y_train, x_test, y_test") from error
        except Exception as error:
            raise ValueError(f"load_mnist: cannot read {path!r} as .npz: {error}") from error
    else:
        raise FileNotFoundError(f"load_mnist: {path!r} is neither a folder of IDX files nor an .npz file")
    x_train, y_train, x_test, y_test = parts
    for images, labels, name in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"load_mnist: {len(images)} {name} images but labels of shape {labels.shape}")
    return Split(_images(x_train, "x_train"), y_train.astype(np.int64),
                 _images(x_test, "x_test"), y_test.astype(np.int64))

__all__ = ["Split", "load_digits", "load_mnist", "read_idx"]
