"""DataLoader(num_workers > 0): batches made in worker processes arrive in order, bit-identical to num_workers=0;
a worker's failure is raised here naming the worker and the index; workers stop at the end of a pass, when its
iterator is dropped, and after a failure."""

import gc
import multiprocessing
import os

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.utils import data as data_module
from tinygrad_cnn.utils.data import DataLoader, Dataset, TensorDataset, default_collate, get_worker_info

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="these tests use the fork start method's speed")


class Augmented(Dataset):
    """A dataset with Python-level transforms: flips, scaling, a dict sample with a string."""

    def __init__(self, n):
        self.images = np.random.default_rng(0).standard_normal((n, 1, 4, 4)).astype(np.float32)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i][:, :, ::-1] if i % 2 else self.images[i]
        return {"image": tc.tensor(image * 0.5 + 1), "label": i % 3, "name": f"sample{i}", "weight": i / 7}


class Failing(Dataset):
    def __init__(self, bad_index, how="raise"):
        self.bad_index, self.how = bad_index, how

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.bad_index:
            if self.how == "exit":
                os._exit(3)
            raise ValueError(f"cannot read sample {i}")
        return np.float32(i)


def _pairs_by_sum(samples):
    """A custom collate_fn: (sum of the images, the labels as a list, their names joined)."""
    return (tc.tensor(np.sum([np.asarray(s["image"]) for s in samples], axis=0)),
            [s["label"] for s in samples], "+".join(s["name"] for s in samples))


def _fingerprint(value):
    """Every Tensor's dtype, shape and bytes, with the container types, to compare batches exactly."""
    if isinstance(value, tc.Tensor):
        array = value.numpy()
        return "Tensor", str(array.dtype), array.shape, array.tobytes()
    if isinstance(value, dict):
        return "dict", [(key, _fingerprint(v)) for key, v in value.items()]
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_fingerprint(v) for v in value]
    return type(value).__name__, value


def _epochs(loader, count=2):
    return [[_fingerprint(batch) for batch in loader] for _ in range(count)]


@pytest.mark.parametrize(("make_dataset", "make_options"), [
    (lambda: TensorDataset(np.random.default_rng(1).standard_normal((37, 3)), np.arange(37, dtype=np.int32)),
     lambda: dict(batch_size=4, shuffle=True, seed=11)),
    (lambda: TensorDataset(np.arange(20.0).reshape(10, 2)), lambda: dict(batch_size=3, drop_last=True)),
    (lambda: Augmented(23), lambda: dict(batch_size=5, shuffle=True, seed=3)),
    (lambda: Augmented(23), lambda: dict(batch_size=4, shuffle=True, seed=3, collate_fn=_pairs_by_sum)),
    (lambda: Augmented(9), lambda: dict(batch_size=None, shuffle=True, seed=5)),
    (lambda: Augmented(11), lambda: dict(batch_size=2, shuffle=True, generator=tc.Generator().manual_seed(8))),
])
@pytest.mark.parametrize("num_workers", [1, 3])
def test_worker_batches_are_bit_identical_and_in_order(make_dataset, make_options, num_workers):
    in_process = _epochs(DataLoader(make_dataset(), **make_options()))
    from_workers = _epochs(DataLoader(make_dataset(), num_workers=num_workers, prefetch_factor=1, **make_options()))
    assert from_workers == in_process and in_process[0] != [] and multiprocessing.active_children() == []
    if make_options().get("shuffle"):
        assert in_process[0] != in_process[1]  # a new order each pass, in step with the workers


def test_spawned_workers_give_the_same_batches():
    dataset = TensorDataset(np.random.default_rng(2).standard_normal((10, 2)).astype(np.float32), np.arange(10))
    in_process = _epochs(DataLoader(dataset, batch_size=3, shuffle=True, seed=4), count=1)
    spawned = DataLoader(dataset, batch_size=3, shuffle=True, seed=4, num_workers=2, multiprocessing_context="spawn")
    assert _epochs(spawned, count=1) == in_process


def test_batch_k_is_made_by_worker_k_mod_num_workers_each_seeded_and_initialised():
    class WhoMadeMe(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            info = get_worker_info()
            return info.id, info.num_workers, int(os.environ.get("TC_TEST_INIT", "-1")), float(tc.rand(1).item())

    def init(worker_id):
        os.environ["TC_TEST_INIT"] = str(worker_id)  # in the worker's own environment

    assert get_worker_info() is None
    loader = DataLoader(WhoMadeMe(), batch_size=2, num_workers=3, worker_init_fn=init, seed=0)
    batches = list(loader)
    assert [b[0].numpy().tolist() for b in batches] == [[0, 0], [1, 1], [2, 2], [0, 0]]
    assert all(b[1].numpy().tolist() == [3, 3] for b in batches)
    assert [b[2].numpy().tolist() for b in batches] == [[0, 0], [1, 1], [2, 2], [0, 0]]
    draws = [x for b in batches for x in b[3].numpy().tolist()]
    assert len(set(draws)) == 8  # each worker has a seed of its own
    assert "TC_TEST_INIT" not in os.environ


def test_a_worker_exception_is_raised_here_naming_the_worker_and_the_index():
    loader = DataLoader(Failing(bad_index=5), batch_size=2, num_workers=2)
    batches = []
    with pytest.raises(ValueError, match=r"(?s)worker process 0 at index 5 of batch 2.*cannot read sample 5"):
        for batch in loader:
            batches.append(batch.numpy().tolist())
    assert batches == [[0.0, 1.0], [2.0, 3.0]]  # the batches before the failing one arrived, in order
    assert multiprocessing.active_children() == []


def test_a_failure_in_collate_fn_or_worker_init_fn_is_named():
    def bad_collate(samples):
        raise KeyError("no such field")

    with pytest.raises(KeyError, match="(?s)^Caught KeyError in DataLoader worker process 0 in collate_fn of batch 0.*"
                                       "no such field"):
        list(DataLoader(list(range(6)), batch_size=3, num_workers=2, collate_fn=bad_collate))

    def bad_init(worker_id):
        raise OSError("no disk")

    with pytest.raises(OSError, match="(?s)worker_init_fn of DataLoader worker process 0.*no disk"):
        list(DataLoader(list(range(6)), batch_size=3, num_workers=2, worker_init_fn=bad_init))
    assert multiprocessing.active_children() == []


def test_an_exception_type_that_cannot_be_pickled_arrives_as_runtime_error_with_its_name():
    class LocalError(Exception):
        pass

    class Raises(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            raise LocalError("local")

    with pytest.raises(RuntimeError, match="Caught LocalError in DataLoader worker process 0 at index 0"):
        list(DataLoader(Raises(), num_workers=1))


def test_a_worker_that_dies_is_reported_and_the_others_stop():
    with pytest.raises(RuntimeError, match=r"worker process 1 \(pid \d+\) exited unexpectedly with exit code 3"):
        list(DataLoader(Failing(bad_index=3, how="exit"), batch_size=2, num_workers=2))
    assert multiprocessing.active_children() == []


def test_workers_stop_when_the_iterator_or_the_loader_is_dropped_mid_pass():
    loader = DataLoader(TensorDataset(np.zeros((40, 2))), batch_size=2, num_workers=2)
    iterator = iter(loader)
    next(iterator)
    assert len(multiprocessing.active_children()) == 2
    del iterator, loader
    gc.collect()
    assert multiprocessing.active_children() == []


def test_a_worker_that_takes_too_long_times_out(monkeypatch):
    monkeypatch.setattr(data_module, "_JOIN_SECONDS", 0.1)  # then the stuck worker is terminated at once

    class Stuck(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            multiprocessing.Event().wait()  # never set

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Stuck(), num_workers=1, timeout=0.2))
    assert multiprocessing.active_children() == []


def test_batches_that_cannot_be_pickled_fail_as_their_batch():
    with pytest.raises(Exception, match="worker process 0 while pickling batch 0"):
        list(DataLoader(list(range(2)), batch_size=2, num_workers=1, collate_fn=lambda s: (lambda: s)))


def test_the_global_start_method_is_left_alone():
    before = multiprocessing.get_start_method(allow_none=True)
    list(DataLoader(list(range(4)), batch_size=2, num_workers=1, collate_fn=default_collate))
    assert multiprocessing.get_start_method(allow_none=True) == before
