"""Datasets and batching at PyTorch's path, `tc.utils.data` (`tc.data` is the same module).

Datasets: `Dataset` (the base), `TensorDataset` (rows of tensors or arrays), `Subset`, `ConcatDataset`,
`random_split`. `DataLoader` cuts a pass over a dataset into batches, collated as PyTorch's `default_collate`
does, either in this process (`num_workers=0`) or in worker processes (`num_workers > 0`) whose batches arrive in
the same order and bit-identical: both run the same `_Fetcher`.

Our one difference from PyTorch's collation: integer batches become int64 (class labels, as the losses expect).
"""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import multiprocessing
import multiprocessing.context
import os
import pickle
import queue
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor, as_dtype, stack

# ----- datasets -----------------------------------------------------------------------------------


class Dataset:
    """A map-style dataset: `dataset[i]` is sample i; subclasses define `__getitem__` and usually `__len__`."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _as_dataset_tensor(value: Any) -> Tensor:
    """A Tensor as it is, an array wrapped without a copy (its dtype checked), anything else through `Tensor()`."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        as_dtype(value.dtype)  # refuses float16, strings, objects
        return Tensor._make(value, None)
    return Tensor(value)


class TensorDataset(Dataset):
    """Samples are the rows of several tensors (or arrays) of equal length: `dataset[i] == (x[i], y[i])`.

    `tensors` holds them as Tensors (an array is wrapped without a copy). A DataLoader with the default
    collation cuts each batch with one fancy index per tensor, with no Python loop over samples.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        self.tensors = tuple(_as_dataset_tensor(t) for t in tensors)
        lengths = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in lengths or len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: Size mismatch between tensors: all need the same first dimension, "
                             f"got shapes {[t.shape for t in self.tensors]}")

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: `subset[i] == dataset[indices[i]]`."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """Samples at several indices at once (what DataLoader calls); passed on to the dataset's own if it has one."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other; `cumulative_sizes[k]` is the length of the first k + 1."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError(f"ConcatDataset: absolute value of index should not exceed dataset length "
                                 f"{len(self)}, got {index}")
            index += len(self)
        dataset_index = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[dataset_index - 1] if dataset_index else 0
        return self.datasets[dataset_index][index - start]


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: _random.Generator | np.random.Generator | None = None) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths, as `torch.utils.data.random_split`.

    `lengths` are counts summing to `len(dataset)`, or fractions summing to 1: each split then gets
    floor(fraction * len) samples and the remainder is dealt one by one from the first split on. The order is
    a permutation drawn from `generator` (a `tc.Generator`; None: `tc.manual_seed`'s generator).
    """
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(len(dataset) * fraction))
        for i in range(len(dataset) - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if sum(lengths) != len(dataset):
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! "
                         f"(lengths {list(lengths)} sum to {sum(lengths)}, the dataset has {len(dataset)})")
    for i, length in enumerate(lengths):
        if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions summing to 1, got "
                             f"{lengths[i]!r} at index {i}")
    indices = _random.numpy_generator(generator).permutation(len(dataset)).tolist()
    return [Subset(dataset, indices[end - length:end])
            for end, length in zip(itertools.accumulate(lengths), lengths)]


# ----- collation ----------------------------------------------------------------------------------

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
_BATCH_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_))


def _batch_tensor(array: np.ndarray) -> Tensor:
    """A fresh batch array as a Tensor: floats keep their dtype, integers become int64 (class labels)."""
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    # A fresh batch needs no copy; Tensor() checks (and refuses) any other dtype, e.g. float16.
    return Tensor._make(array, None) if array.dtype in _BATCH_DTYPES else Tensor(array)


def _stack_arrays(arrays: Sequence[np.ndarray]) -> np.ndarray:
    first = arrays[0].shape
    for i, array in enumerate(arrays):
        if array.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                               f"{list(array.shape)} at entry {i}")
    return np.stack(arrays)


def _is_string_or_object(dtype: np.dtype) -> bool:
    return dtype.kind in "OSUV"


def default_collate(batch: Sequence[Any]) -> Any:
    """Samples into a batch, as PyTorch's `default_collate`: Tensors, arrays and numbers are stacked into one
    Tensor with a new first dimension (Python floats as float64, integers as int64); dicts, named tuples and
    sequences are collated field by field (a tuple gives a list); strings stay a sequence of strings."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):  # keep the graph, as torch.stack does
            return stack(list(batch))
        return _batch_tensor(_stack_arrays([np.asarray(t) for t in batch]))
    if isinstance(elem, np.ndarray):
        if _is_string_or_object(elem.dtype):
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return _batch_tensor(_stack_arrays([np.asarray(a) for a in batch]))
    if isinstance(elem, (np.bool_, np.number)):
        return _batch_tensor(np.array(batch))
    if isinstance(elem, float):
        return _batch_tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):  # bool too; a mix with floats is inferred as torch.tensor does (float32)
        return _batch_tensor(np.asarray(Tensor(list(batch))))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        return _rebuild_mapping(elem, collated)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*batch)]  # strings stay tuples, as in torch
        return fields if isinstance(elem, tuple) else _rebuild_sequence(elem, fields)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """One sample (`batch_size=None`) as PyTorch's `default_convert`: NumPy arrays and scalars become Tensors
    (dtype kept, memory shared), inside dicts and sequences too (a tuple gives a list); the rest is unchanged."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_string_or_object(data.dtype) else _as_dataset_tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return _as_dataset_tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like: Mapping, values: dict) -> Mapping:
    """`values` in a mapping of the same type as `like` where that type allows it (PyTorch's rule), else a dict."""
    try:
        if isinstance(like, MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)  # type: ignore[call-arg]  # the concrete type; a TypeError is caught below
    except TypeError:
        return values


def _rebuild_sequence(like: Sequence, values: list) -> Sequence:
    """`values` in a sequence of the same type as `like` where that type allows it (PyTorch's rule), else a list."""
    try:
        if isinstance(like, MutableSequence):
            clone = copy.copy(like)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(like)(values)  # type: ignore[call-arg]  # the concrete type; a TypeError is caught below
    except TypeError:
        return values


# ----- fetching one batch (the same code in this process and in workers) --------------------------


def _fancy_index_source(dataset: Any) -> tuple[list[np.ndarray], np.ndarray | None] | None:
    """The arrays of a TensorDataset, or of a chain of Subsets of one, that batches can be cut from by fancy
    indexing, with the Subsets' indices composed into one map (None: no Subset). None where a subclass
    overrides `__getitem__` (it must then run per sample) or a tensor requires grad (the batch keeps its graph)."""
    index_map = None
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__ \
            and type(dataset).__getitems__ is Subset.__getitems__:
        indices = np.asarray(dataset.indices, dtype=np.int64)
        index_map = indices if index_map is None else indices[index_map]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset) or type(dataset).__getitem__ is not TensorDataset.__getitem__:
        return None
    if any(t.requires_grad for t in dataset.tensors):
        return None
    return [np.asarray(t) for t in dataset.tensors], index_map


class _Fetcher:
    """Turns one entry of a pass's index plan (a list of indices, or one index without batching) into a batch.

    The main process and every worker fetch with this class, so their batches are bit-identical.
    `current_index` names the sample being read, for the error message when a dataset fails.
    """

    def __init__(self, dataset: Any, collate_fn: Callable, batched: bool) -> None:
        self.dataset, self.collate_fn, self.batched = dataset, collate_fn, batched
        self.fancy_source = _fancy_index_source(dataset) if batched and collate_fn is default_collate else None
        self.current_index: Any = None

    def __call__(self, indices: Any) -> Any:
        if not self.batched:
            self.current_index = indices
            sample = self.dataset[indices]
            self.current_index = None
            return self.collate_fn(sample)
        if self.fancy_source is not None:  # one fancy index per array: what stacking the rows would give
            arrays, index_map = self.fancy_source
            rows = np.asarray(indices, dtype=np.int64)
            if index_map is not None:
                rows = index_map[rows]
            return [_batch_tensor(array[rows]) for array in arrays]
        if callable(getattr(self.dataset, "__getitems__", None)):
            self.current_index = indices
            samples = self.dataset.__getitems__(indices)
        else:
            samples = []
            for index in indices:
                self.current_index = index
                samples.append(self.dataset[index])
        self.current_index = None
        return self.collate_fn(samples)


# ----- the loader ---------------------------------------------------------------------------------


class DataLoader:
    """Batches of a dataset, as `torch.utils.data.DataLoader`.

    `dataset` is anything with `len()` and `dataset[i]`. Each pass draws its order (with `shuffle=True`, a new
    permutation from `generator`, else from the loader's own generator, started from `seed` (our keyword-only
    extra) or, if None, from a seed drawn from `tc.manual_seed`'s generator when the loader is made, so runs
    repeat), cuts it into lists of `batch_size` indices and collates each batch with `collate_fn` (default:
    `default_collate`, which yields a list of Tensors for a TensorDataset). `batch_size=None` yields single
    samples through `default_convert`. `len()` is the number of batches.

    `num_workers > 0` fetches batches in that many worker processes (batch k in worker k % num_workers), at most
    `prefetch_factor * num_workers` ahead of the consumer; they arrive in order, bit-identical to
    `num_workers=0`. Workers use the 'fork' start method where it exists (not on macOS, where forking is
    unsafe), else 'spawn' (which needs a picklable dataset and collate_fn); `multiprocessing_context` chooses
    another. A worker's failure is raised here naming the worker and the sample index; workers stop when a pass
    ends, fails, or its iterator is dropped. Each worker runs tinygrad_cnn on one thread and is seeded with
    `tc.manual_seed(base + worker id)`, the base drawn per pass from a stream of the loader's own (started from
    `seed`, else from a seed drawn once from `generator` or the global generator when the loader is made), so
    random transforms repeat run to run but, as in PyTorch, differ from `num_workers=0`.

    `pin_memory`, `pin_memory_device`, `persistent_workers` and `in_order` are accepted for PyTorch code and
    change nothing here (workers start anew for each pass; batches always arrive in order).
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = False,
                 sampler: Iterable | None = None, batch_sampler: Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: str | multiprocessing.context.BaseContext | None = None,
                 generator: _random.Generator | np.random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True, seed: int | None = None) -> None:
        if not hasattr(dataset, "__getitem__") or not (hasattr(dataset, "__len__") or sampler is not None
                                                        or batch_sampler is not None):
            raise TypeError(f"DataLoader: the dataset must support len() and indexing, got "
                            f"{type(dataset).__name__}")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}")
        if not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; use num_workers=0 to disable "
                             f"multiprocessing (got {num_workers!r})")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError(f"prefetch_factor option should be non-negative, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                             "drop_last")
        if batch_sampler is None and batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"DataLoader: worker_init_fn must be callable, got {type(worker_init_fn).__name__}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        _random.numpy_generator(generator)  # checks its type
        self.context = _multiprocessing_context(multiprocessing_context, num_workers)

        self.dataset, self.sampler, self.batch_sampler = dataset, sampler, batch_sampler
        self.batch_size = None if batch_sampler is not None or batch_size is None else int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last) and batch_sampler is None
        self.num_workers, self.timeout, self.worker_init_fn = int(num_workers), timeout, worker_init_fn
        self.prefetch_factor = (2 if prefetch_factor is None else prefetch_factor) if num_workers else None
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.persistent_workers, self.in_order = persistent_workers, in_order
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self._batched = batch_size is not None or batch_sampler is not None
        self.collate_fn = collate_fn or (default_collate if self._batched else default_convert)
        if seed is None:  # drawn once, from the generator asked for (or the global one), so runs repeat
            seed = int(_random.numpy_generator(generator).integers(2**63))
        self._shuffle_rng = np.random.default_rng(seed)
        self._worker_seed_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])

    def __len__(self) -> int:
        # A sampler without len() makes len(loader) raise TypeError, as in PyTorch.
        if self.batch_sampler is not None:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _index_plan(self) -> list[Any]:
        """This pass's batches as lists of indices (or single indices without batching), in the order to yield."""
        if self.batch_sampler is not None:
            return [list(batch) for batch in self.batch_sampler]
        if self.sampler is not None:
            order = list(self.sampler)
        elif self.shuffle:
            rng = self._shuffle_rng if self.generator is None else _random.numpy_generator(self.generator)
            order = rng.permutation(len(self.dataset)).tolist()
        else:
            order = list(range(len(self.dataset)))
        if self.batch_size is None:
            return order
        plan = [order[start:start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self.drop_last and plan and len(plan[-1]) < self.batch_size:
            plan.pop()
        return plan

    def __iter__(self) -> Iterator[Any]:
        plan = self._index_plan()
        if self.num_workers == 0:
            return map(_Fetcher(self.dataset, self.collate_fn, self._batched), plan)
        return _batches_from_workers(self, plan, base_seed=int(self._worker_seed_rng.integers(2**62)))


def _multiprocessing_context(choice: Any, num_workers: int) -> multiprocessing.context.BaseContext | None:
    """The start method's context for the workers (never the global one, which stays as the user set it)."""
    if choice is not None and num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                         f"but got num_workers={num_workers}")
    if choice is None:
        if num_workers == 0:
            return None
        # fork is PyTorch's default on Linux and needs nothing picklable; macOS's system libraries make it unsafe.
        forkable = "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"
        return multiprocessing.get_context("fork" if forkable else "spawn")
    if isinstance(choice, str):
        methods = multiprocessing.get_all_start_methods()
        if choice not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                             f"but got multiprocessing_context={choice!r}")
        return multiprocessing.get_context(choice)
    if isinstance(choice, multiprocessing.context.BaseContext):
        return choice
    raise TypeError(f"multiprocessing_context option must be a start method's name or a multiprocessing context, "
                    f"got {type(choice).__name__}")


# ----- worker processes ---------------------------------------------------------------------------

_POLL_SECONDS = 0.1  # how often a waiting side checks that the other is still alive
_JOIN_SECONDS = 5.0  # how long a worker may take to finish its batch at shutdown before it is terminated


@dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info()` tells code running in a DataLoader worker."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker, its id, the worker count, its seed and its copy of the dataset; None elsewhere."""
    return _worker_info


@dataclass
class _WorkerFailure:
    """An exception in a worker, sent to the main process to be raised there as the same type."""

    exc_type: type
    message: str

    @classmethod
    def from_exception(cls, error: BaseException, where: str) -> _WorkerFailure:
        exc_type = type(error)
        try:
            pickle.dumps(exc_type)
        except Exception:  # e.g. a class defined inside a function: raise a RuntimeError with its name instead
            exc_type = RuntimeError
        details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        return cls(exc_type, f"Caught {type(error).__name__} {where}.\nOriginal {details}")

    def reraise(self) -> None:
        # KeyError shows its argument's repr: a str whose repr is itself keeps the traceback readable (as PyTorch).
        message = _KeyErrorMessage(self.message) if issubclass(self.exc_type, KeyError) else self.message
        try:
            error = self.exc_type(message)
        except Exception:  # a type that needs other arguments
            error = RuntimeError(self.message)
        raise error


class _KeyErrorMessage(str):
    def __repr__(self) -> str:
        return str(self)


def _use_one_thread_in_worker() -> None:
    # One BLAS thread per worker, as PyTorch's workers do, so that workers do not compete for the cores.
    from .. import blas

    blas.set_num_threads(1)


def _worker_loop(worker_id: int, num_workers: int, seed: int, dataset: Any, collate_fn: Callable, batched: bool,
                 worker_init_fn: Callable | None, index_queue: Any, result_queue: Any, parent_pid: int) -> None:
    """A worker: fetch each (batch number, indices) from `index_queue` and put (batch number, pickled batch or
    _WorkerFailure) on `result_queue`, until it reads None or the main process is gone."""
    global _worker_info
    _use_one_thread_in_worker()
    _random.manual_seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_failure = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as error:
            init_failure = _WorkerFailure.from_exception(error, f"in worker_init_fn of DataLoader worker process "
                                                                f"{worker_id}")
    fetch = _Fetcher(dataset, collate_fn, batched)
    try:
        while True:
            try:
                task = index_queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    return
                continue
            if task is None:
                return
            number, indices = task
            result_queue.put((number, init_failure or _fetch_and_pickle(fetch, indices, worker_id, number)))
    except KeyboardInterrupt:  # Ctrl-C reaches the workers too; the main process reports it
        pass
    finally:
        result_queue.cancel_join_thread()  # what the main process no longer reads need not be flushed


def _fetch_and_pickle(fetch: _Fetcher, indices: Any, worker_id: int, number: int) -> bytes | _WorkerFailure:
    """Batch `number`, pickled here (so that a batch that cannot be pickled fails as itself, not later in the
    queue's feeder thread), or the failure that names where it happened."""
    where = f"in DataLoader worker process {worker_id}"
    try:
        batch = fetch(indices)
    except Exception as error:
        at = "in collate_fn" if fetch.current_index is None else f"at index {fetch.current_index!r}"
        fetch.current_index = None
        return _WorkerFailure.from_exception(error, f"{where} {at} of batch {number}")
    try:
        return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        return _WorkerFailure.from_exception(error, f"{where} while pickling batch {number} to send it")


def _batches_from_workers(loader: DataLoader, plan: list[Any], base_seed: int) -> Iterator[Any]:
    """Yield the batches of `plan` in order, fetched by `loader.num_workers` processes; stop them at the end."""
    # Called only with num_workers > 0: the loader then holds a start method's context (each has Process, which
    # typeshed declares on every concrete context but not on BaseContext) and a prefetch factor.
    context: Any = loader.context
    count = loader.num_workers
    result_queue = context.Queue()
    index_queues, workers = [], []
    try:
        for worker_id in range(count):
            index_queue = context.Queue()
            worker = context.Process(
                target=_worker_loop, daemon=True, name=f"DataLoader worker {worker_id}",
                args=(worker_id, count, base_seed + worker_id, loader.dataset, loader.collate_fn, loader._batched,
                      loader.worker_init_fn, index_queue, result_queue, os.getpid()))
            worker.start()
            index_queues.append(index_queue)
            workers.append(worker)
        ahead = max(1, loader.prefetch_factor * count)  # type: ignore[operator]
        sent = 0
        for _ in range(min(ahead, len(plan))):
            index_queues[sent % count].put((sent, plan[sent]))
            sent += 1
        arrived: dict[int, Any] = {}
        for number in range(len(plan)):
            while number not in arrived:
                received, payload = _receive(result_queue, workers, loader.timeout)
                arrived[received] = payload
            payload = arrived.pop(number)
            if isinstance(payload, _WorkerFailure):
                payload.reraise()
            if sent < len(plan):
                index_queues[sent % count].put((sent, plan[sent]))
                sent += 1
            yield pickle.loads(payload)
    finally:
        _shut_down(workers, index_queues, result_queue)


def _receive(result_queue: Any, workers: list, timeout: float) -> tuple[int, Any]:
    """The next (batch number, payload) from any worker; a RuntimeError if a worker died or `timeout` passed."""
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        wait = _POLL_SECONDS if deadline is None else max(0.0, min(_POLL_SECONDS, deadline - time.monotonic()))
        try:
            return result_queue.get(timeout=wait)
        except queue.Empty:
            pass
        for worker_id, worker in enumerate(workers):
            if not worker.is_alive():
                raise RuntimeError(f"DataLoader worker process {worker_id} (pid {worker.pid}) exited unexpectedly "
                                   f"with exit code {worker.exitcode}")
        if deadline is not None and time.monotonic() >= deadline:
            raise RuntimeError(f"DataLoader timed out after {timeout} seconds")


def _shut_down(workers: list, index_queues: list, result_queue: Any) -> None:
    """Tell every worker to stop, wait for it (terminate it if it does not stop), and close the queues."""
    for index_queue in index_queues:
        index_queue.put(None)
    for worker in workers:
        worker.join(timeout=_JOIN_SECONDS)
        if worker.is_alive():
            worker.terminate()
            worker.join()
    for q in (*index_queues, result_queue):
        q.cancel_join_thread()
        q.close()

__all__ = [
    "ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset", "WorkerInfo", "default_collate",
    "default_convert", "get_worker_info", "random_split",
]
