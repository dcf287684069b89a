"""tc.utils.data at PyTorch's path: Dataset, TensorDataset, Subset, ConcatDataset, random_split, default_collate,
default_convert and the DataLoader's options, compared with torch.utils.data where torch is importable.
(The worker processes are tested in test_utils_data_workers.py.)"""

import collections
import importlib
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.utils.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)

Point = collections.namedtuple("Point", ["x", "y"])


def _pairs(n):
    return TensorDataset(np.arange(2 * n, dtype=np.float32).reshape(n, 2), np.arange(n))


def _plain(value):
    """Tensors (ours or torch's) as (dtype name, array), through lists, tuples, dicts and named tuples."""
    if isinstance(value, tc.Tensor) or type(value).__module__.startswith("torch"):
        array = np.asarray(value)
        return str(array.dtype), array.tolist()
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value).__name__, [_plain(v) for v in value]
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_plain(v) for v in value]
    return value


# ----- the module's path --------------------------------------------------------------------------
def test_utils_data_is_at_torchs_path_and_tc_data_is_the_same_module():
    module = importlib.import_module("tinygrad_cnn.utils.data")
    assert tc.utils.data is module and tc.data is module
    assert importlib.import_module("tinygrad_cnn.data") is module
    from tinygrad_cnn.data import DataLoader as OldPath

    assert OldPath is DataLoader and tc.data.TensorDataset is tc.utils.data.TensorDataset


# ----- datasets -----------------------------------------------------------------------------------
def test_tensor_dataset_items_are_tuples_of_tensors_as_torch():
    x, y = np.arange(6.0).reshape(3, 2), np.array([4, 5, 6])
    dataset = TensorDataset(tc.tensor(x), y)
    item = dataset[1]
    assert type(item) is tuple and all(isinstance(t, tc.Tensor) for t in item) and len(dataset) == 3
    np.testing.assert_array_equal(item[0].numpy(), [2.0, 3.0])
    assert item[1].item() == 5
    torch = pytest.importorskip("torch")
    reference = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert _plain(dataset[1]) == _plain(reference[1]) and _plain(dataset[0:2]) == _plain(reference[0:2])


def test_tensor_dataset_keeps_tensors_and_wraps_arrays_without_copying():
    x, y = tc.randn(4, 3), np.arange(4, dtype=np.int32)
    dataset = TensorDataset(x, y)
    assert dataset.tensors[0] is x and np.shares_memory(dataset.tensors[1].numpy(), y)
    assert dataset.tensors[1].dtype == np.int32  # as torch: the dataset keeps dtypes, only batches are int64
    with pytest.raises(TypeError, match="float16"):
        TensorDataset(np.zeros((2, 2), np.float16))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_dataset_base_needs_getitem_and_adding_datasets_concatenates_them():
    class Squares(Dataset):
        def __init__(self, n):
            self.n = n

        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return self.n

    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    joined = Squares(3) + Squares(2)
    assert isinstance(joined, ConcatDataset) and joined.cumulative_sizes == [3, 5] and len(joined) == 5
    assert [joined[i] for i in range(5)] == [0, 1, 4, 0, 1] and joined[-1] == 1 and joined[-5] == 0
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        joined[-6]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_concat_dataset_indexes_as_torch():
    torch = pytest.importorskip("torch")
    parts = [list(range(3)), list(range(10, 12)), list(range(20, 24))]
    ours, reference = ConcatDataset(parts), torch.utils.data.ConcatDataset(parts)
    assert ours.cumulative_sizes == reference.cumulative_sizes
    assert [ours[i] for i in range(-9, 9)] == [reference[i] for i in range(-9, 9)]


def test_subset_picks_samples_in_the_order_of_its_indices():
    dataset = _pairs(6)
    subset = Subset(dataset, [4, 0, 2])
    assert len(subset) == 3 and subset[0][1].item() == 4 and subset[-1][1].item() == 2
    assert [s[1].item() for s in subset.__getitems__([2, 1])] == [2, 0]
    np.testing.assert_array_equal(subset[[0, 1]][1].numpy(), [4, 0])  # a list index goes to the dataset at once
    nested = Subset(subset, [2, 0])
    x, y = next(iter(DataLoader(nested, batch_size=2)))
    np.testing.assert_array_equal(y.numpy(), [2, 4])
    np.testing.assert_array_equal(x.numpy(), [[4, 5], [8, 9]])


# ----- random_split -------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "lengths", "expected"), [
    (10, [3, 7], [3, 7]),
    (10, [0.3, 0.3, 0.4], [3, 3, 4]),
    (11, [0.5, 0.5], [6, 5]),
    (7, [0.1, 0.2, 0.7], [1, 2, 4]),
    (5, [1], [5]),
    (3, [0.25, 0.25, 0.25, 0.25], [1, 1, 1, 0]),
])
def test_random_split_lengths_as_counts_or_fractions(n, lengths, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = random_split(list(range(n)), lengths, generator=tc.Generator().manual_seed(0))
    # As torch, an empty split from fractions is warned about (index 3 here).
    assert [str(w.message) for w in caught] == (["Length of split at index 3 is 0. This might result in an empty "
                                                  "dataset."] if 0 in expected else [])
    assert [len(p) for p in parts] == expected
    assert sorted(i for p in parts for i in p.indices) == list(range(n))  # disjoint, covering
    assert all(isinstance(p, Subset) for p in parts)


@pytest.mark.parametrize(("n", "lengths"), [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                                            (7, [0.1, 0.2, 0.7]), (5, [1]), (101, [0.8, 0.1, 0.1])])
def test_random_split_lengths_match_torch(n, lengths):
    torch = pytest.importorskip("torch")
    ours = random_split(list(range(n)), lengths)
    reference = torch.utils.data.random_split(list(range(n)), lengths)
    assert [len(p) for p in ours] == [len(p) for p in reference]


@pytest.mark.parametrize(("lengths", "message"), [
    ([3, 3], "Sum of input lengths does not equal the length of the input dataset!"),
    ([0.5, 0.6], "Sum of input lengths does not equal the length of the input dataset!"),
    ([1.5, -0.5], "Fraction at index 0 is not between 0 and 1"),
])
def test_random_split_refuses_bad_lengths_with_torchs_messages(lengths, message):
    with pytest.raises(ValueError, match=message.replace("!", "")) as ours:
        random_split(list(range(10)), lengths)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as reference:
        torch.utils.data.random_split(list(range(10)), lengths)
    assert str(ours.value).startswith(str(reference.value))


def test_random_split_refuses_negative_counts_that_torch_would_slice_silently():
    with pytest.raises(ValueError, match=r"non-negative.*-1 at index 0"):
        random_split(list(range(10)), [-1, 11])


def test_random_split_repeats_with_a_seeded_generator_or_manual_seed():
    first = [p.indices for p in random_split(range(20), [0.5, 0.5], generator=tc.Generator().manual_seed(3))]
    again = [p.indices for p in random_split(range(20), [0.5, 0.5], generator=tc.Generator().manual_seed(3))]
    other = [p.indices for p in random_split(range(20), [0.5, 0.5], generator=tc.Generator().manual_seed(4))]
    assert first == again and first != other
    tc.manual_seed(5)
    by_global = [p.indices for p in random_split(range(20), [10, 10])]
    tc.manual_seed(5)
    assert [p.indices for p in random_split(range(20), [10, 10])] == by_global


def test_generator_starts_from_torchs_fixed_seed_and_refuses_bad_seeds():
    generator = tc.Generator()
    assert generator.initial_seed() == 67280421310721
    assert generator.manual_seed(7) is generator and generator.initial_seed() == 7
    with pytest.raises(ValueError, match="non-negative int.*-1"):
        generator.manual_seed(-1)
    with pytest.raises(ValueError, match="CPU"):
        tc.Generator(device="cuda")
    torch = pytest.importorskip("torch")
    assert torch.Generator().initial_seed() == tc.Generator().initial_seed()


# ----- collation ----------------------------------------------------------------------------------
_SAMPLE_BATCHES = {
    "tensors": [np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)],
    "python floats": [1.5, 2.5],
    "python ints": [1, 2],
    "int and float mixed": [1, 2.5],
    "bools": [True, False],
    "numpy scalars": [np.float32(1.5), np.float32(2.5)],
    "numpy bools": [np.bool_(True), np.bool_(False)],
    "strings": ["a", "b"],
    "tuples": [(np.zeros(2), 1), (np.ones(2), 2)],
    "lists": [[1.0, "x"], [2.0, "y"]],
    "dicts": [{"image": np.zeros((2, 2)), "label": 3, "meta": {"id": "a"}},
              {"image": np.ones((2, 2)), "label": 4, "meta": {"id": "b"}}],
    "named tuples": [Point(np.float64(1), 2), Point(np.float64(3), 4)],
}


@pytest.mark.parametrize("name", list(_SAMPLE_BATCHES))
def test_default_collate_gives_torchs_structure_dtypes_and_values(name):
    batch = _SAMPLE_BATCHES[name]
    ours = default_collate([tc.tensor(s) for s in batch] if name == "tensors" else batch)
    torch = pytest.importorskip("torch")
    reference = torch.utils.data.default_collate(
        [torch.from_numpy(s) for s in batch] if name == "tensors" else batch)
    assert _plain(ours) == _plain(reference)


def test_default_collate_values_without_torch():
    floats = default_collate([1.5, 2.5])
    assert floats.dtype == np.float64 and floats.numpy().tolist() == [1.5, 2.5]
    image, label = default_collate([(np.zeros((2, 2), np.float32), 1), (np.ones((2, 2), np.float32), 2)])
    assert image.shape == (2, 2, 2) and image.dtype == np.float32 and label.numpy().tolist() == [1, 2]
    batch = default_collate(_SAMPLE_BATCHES["dicts"])
    assert set(batch) == {"image", "label", "meta"} and batch["meta"] == {"id": ["a", "b"]}
    assert default_collate(_SAMPLE_BATCHES["named tuples"]).y.numpy().tolist() == [2, 4]


def test_default_collate_makes_integer_batches_int64_for_the_losses():
    # Our one difference from torch (which keeps int32): class labels as int64, as the fast path gives them.
    labels = default_collate([np.array(1, np.int32), np.array(2, np.int32)])
    assert labels.dtype == np.int64 and labels.numpy().tolist() == [1, 2]
    assert default_collate([np.uint8(7), np.uint8(8)]).dtype == np.int64


def test_default_collate_keeps_the_graph_of_tensors_that_require_grad():
    a, b = tc.tensor([1.0, 2.0], requires_grad=True), tc.tensor([3.0, 4.0], requires_grad=True)
    default_collate([a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize(("batch", "error", "message"), [
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ([None, None], TypeError, "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "found <U1"),
    ([np.zeros(2), np.zeros(3)], RuntimeError, r"stack expects each tensor to be equal size, but got \[2\] at entry "
                                               r"0 and \[3\] at entry 1"),
])
def test_default_collate_refuses_what_torch_refuses(batch, error, message):
    with pytest.raises(error, match=message):
        default_collate(batch)
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        torch.utils.data.default_collate(batch)


@pytest.mark.parametrize("sample", [
    np.arange(3), np.float32(2.0), 3, "text", (np.zeros(2), 1), [np.ones(2), "x"], {"a": np.zeros(1), "b": 2},
    Point(np.zeros(1), 5),
])
def test_default_convert_gives_torchs_structure(sample):
    ours = default_convert(sample)
    torch = pytest.importorskip("torch")
    assert _plain(ours) == _plain(torch.utils.data.default_convert(sample))


def test_default_convert_without_torch():
    converted = default_convert((np.arange(3, dtype=np.int32), 1.5, "s"))
    assert isinstance(converted, list) and isinstance(converted[0], tc.Tensor) and converted[0].dtype == np.int32
    assert converted[1:] == [1.5, "s"]


# ----- the loader ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9])
@pytest.mark.parametrize("batch_size", [1, 3, 8, None])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_length_and_batch_sizes_match_torch(n, batch_size, drop_last):
    if batch_size is None and drop_last:
        return  # refused, tested below
    dataset = _pairs(n)
    loader = DataLoader(dataset, batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    expected = n if batch_size is None else (n // batch_size if drop_last else -(-n // batch_size))
    assert len(loader) == expected
    torch = pytest.importorskip("torch")
    reference_data = torch.utils.data.TensorDataset(*(torch.from_numpy(t.numpy()) for t in dataset.tensors))
    reference = torch.utils.data.DataLoader(reference_data, batch_size=batch_size, drop_last=drop_last)
    assert len(reference) == len(loader)
    assert [_plain(b) for b in batches] == [_plain(b) for b in reference]


def test_loader_batches_equal_torchs_for_a_python_dataset_of_dicts():
    class Records(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full((2,), i, np.float32), "y": i, "name": f"r{i}", "pair": (float(i), i % 2 == 0)}

    ours = [_plain(b) for b in DataLoader(Records(), batch_size=2)]
    assert ours[-1]["name"] == ("list", ["r4"])
    torch = pytest.importorskip("torch")
    assert ours == [_plain(b) for b in torch.utils.data.DataLoader(Records(), batch_size=2)]


def test_batch_size_none_yields_single_converted_samples():
    samples = list(DataLoader(_pairs(3), batch_size=None))
    assert len(samples) == 3 and isinstance(samples[0], list)  # default_convert turns the tuple into a list
    assert samples[2][1].item() == 2 and samples[2][0].shape == (2,)
    converted = list(DataLoader([np.arange(2), np.arange(2)], batch_size=None))
    assert all(isinstance(t, tc.Tensor) for t in converted)


def test_fancy_index_path_is_bit_identical_to_collating_sample_by_sample():
    x = np.random.default_rng(0).standard_normal((23, 3, 2)).astype(np.float32)
    dataset = TensorDataset(x, np.arange(23, dtype=np.int32), np.arange(23) % 2 == 0)
    fast = list(DataLoader(dataset, batch_size=5, shuffle=True, seed=1))
    slow = list(DataLoader(dataset, batch_size=5, shuffle=True, seed=1, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 5
    for a, b in zip(fast, slow, strict=True):
        assert [(t.dtype, t.shape, t.numpy().tobytes()) for t in a] == [(t.dtype, t.shape, t.numpy().tobytes())
                                                                         for t in b]


def test_custom_collate_fn_gets_the_list_of_samples():
    seen = []
    loader = DataLoader(list(range(5)), batch_size=2, collate_fn=lambda samples: seen.append(samples) or len(seen))
    assert list(loader) == [1, 2, 3] and seen == [[0, 1], [2, 3], [4]]


def test_a_dataset_with_getitems_is_asked_for_whole_batches():
    class Batched(Dataset):
        calls = []

        def __len__(self):
            return 5

        def __getitems__(self, indices):
            Batched.calls.append(indices)
            return [i * 10 for i in indices]

    batches = [b.numpy().tolist() for b in DataLoader(Batched(), batch_size=3)]
    assert batches == [[0, 10, 20], [30, 40]] and Batched.calls == [[0, 1, 2], [3, 4]]


def test_sampler_and_batch_sampler_choose_the_indices():
    loader = DataLoader(list(range(10)), batch_size=2, sampler=[9, 7, 5])
    assert [b.numpy().tolist() for b in loader] == [[9, 7], [5]] and len(loader) == 2
    loader = DataLoader(list(range(10)), batch_sampler=[[1, 2, 3], [0]])
    assert [b.numpy().tolist() for b in loader] == [[1, 2, 3], [0]] and len(loader) == 2


def test_shuffle_with_a_seeded_generator_repeats_and_moves_on_each_pass():
    def orders(generator):
        loader = DataLoader(list(range(30)), batch_size=30, shuffle=True, generator=generator)
        return [next(iter(loader)).numpy().tolist() for _ in range(2)]

    first = orders(tc.Generator().manual_seed(0))
    assert first == orders(tc.Generator().manual_seed(0)) and first[0] != first[1]
    assert sorted(first[0]) == list(range(30)) and first != orders(tc.Generator().manual_seed(1))
    state = tc.random.generator().bit_generator.state
    orders(tc.Generator().manual_seed(0))
    assert tc.random.generator().bit_generator.state == state  # the global generator is left alone


def test_pytorch_only_options_are_accepted():
    loader = DataLoader(_pairs(4), batch_size=2, pin_memory=True, pin_memory_device="", in_order=False)
    assert len(list(loader)) == 2
    assert DataLoader(_pairs(4), num_workers=1, persistent_workers=True).prefetch_factor == 2


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified in multiprocessing"),
    (dict(num_workers=1, prefetch_factor=-1), ValueError, "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0, 1], shuffle=True), ValueError, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), ValueError, "batch_size=None option disables auto-batching"),
    (dict(multiprocessing_context="fork"), ValueError, "multiprocessing_context can only be used with multi-process"),
    (dict(num_workers=1, multiprocessing_context="nope"), ValueError, "valid start method"),
])
def test_bad_loader_options_raise_torchs_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(_pairs(4), **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(error, match=message.split(" option")[0]):
        torch.utils.data.DataLoader(list(range(4)), **kwargs)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(batch_size=0), ValueError, "batch_size.*0"),
    (dict(batch_size=2.0), ValueError, "batch_size.*2.0"),
    (dict(collate_fn=3), TypeError, "collate_fn must be callable"),
    (dict(worker_init_fn="f"), TypeError, "worker_init_fn must be callable"),
    (dict(generator=3), TypeError, "generator must be a tc.Generator"),
    (dict(seed=1, generator=tc.Generator()), ValueError, "seed or generator, not both"),
    (dict(num_workers=1, multiprocessing_context=3), TypeError, "multiprocessing_context"),
])
def test_bad_loader_arguments_name_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(_pairs(4), **kwargs)
