"""data and datasets: batching, shuffling, dtypes; the digits split; IDX and .npz MNIST readers."""

import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn.data import DataLoader, TensorDataset, random_split
from tinygrad_cnn.datasets import load_mnist, read_idx


def _dataset(n):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int32)
    return TensorDataset(x, y)


@given(n=st.integers(1, 30), batch_size=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans())
def test_batches_cover_the_dataset_once_with_the_promised_sizes(n, batch_size, drop_last, shuffle):
    loader = DataLoader(_dataset(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(y) for _, y in batches]
    assert all(s == batch_size for s in sizes[:-1]) and (not drop_last or sizes[-1:] in ([], [batch_size]))
    labels = np.concatenate([y.detach().numpy() for _, y in batches]) if batches else np.array([], np.int64)
    expected = (n // batch_size) * batch_size if drop_last else n
    assert len(labels) == expected and len(set(labels.tolist())) == expected
    for x, y in batches:  # rows stay paired with their labels
        np.testing.assert_array_equal(x.detach().numpy()[:, 0], 2 * y.detach().numpy())


def test_batches_are_tensors_floats_kept_labels_int64_and_in_order_without_shuffle():
    x, y = next(iter(DataLoader(_dataset(5), batch_size=3)))
    assert isinstance(x, tc.Tensor) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y.detach().numpy(), [0, 1, 2])


def test_shuffle_is_repeatable_by_seed_and_differs_between_epochs():
    orders = []
    for _ in range(2):
        loader = DataLoader(_dataset(20), batch_size=20, shuffle=True, seed=7)
        orders.append(
            [next(iter(loader))[1].detach().numpy().tolist(), next(iter(loader))[1].detach().numpy().tolist()]
        )
    assert orders[0] == orders[1] and orders[0][0] != orders[0][1]
    tc.manual_seed(1)
    first = next(iter(DataLoader(_dataset(20), batch_size=20, shuffle=True)))[1].detach().numpy()
    tc.manual_seed(1)
    np.testing.assert_array_equal(
        next(iter(DataLoader(_dataset(20), batch_size=20, shuffle=True)))[1].detach().numpy(), first
    )


def test_array_datasets_are_batched_by_fancy_indexing_not_per_sample(monkeypatch):
    rows_taken = []
    original = tc.Tensor.__getitem__
    monkeypatch.setattr(tc.Tensor, "__getitem__", lambda self, index: rows_taken.append(index) or original(self, index))
    dataset = TensorDataset(np.zeros((10, 2)), np.arange(10))
    batches = list(DataLoader(dataset, batch_size=4, shuffle=True, seed=0))
    assert len(batches) == 3 and rows_taken == []
    list(DataLoader(random_split(dataset, [0.5, 0.5])[0], batch_size=4))  # a Subset of one too
    assert rows_taken == []


def test_a_tensor_dataset_subclass_that_overrides_getitem_is_read_per_sample():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 2, y

    x, y = next(iter(DataLoader(Doubled(np.ones((5, 2)), np.arange(5)), batch_size=5)))
    np.testing.assert_array_equal(x.numpy(), np.full((5, 2), 2.0))


def test_any_indexable_dataset_is_collated_per_sample():
    class Squares:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.array([i, i * i], np.float64), i

    x, y = next(iter(DataLoader(Squares(), batch_size=4)))
    np.testing.assert_array_equal(x.detach().numpy()[:, 1], [0, 1, 4, 9])
    assert y.dtype == np.int64 and x.dtype == np.float64


def test_single_tensor_dataset_yields_a_list_of_one_tensor_as_torch():
    # PyTorch's default_collate turns the 1-tuple sample into a list: `for (x,) in loader` and `batch[0]`.
    batch = next(iter(DataLoader(TensorDataset(np.zeros((3, 2))), batch_size=2)))
    assert isinstance(batch, list) and len(batch) == 1 and batch[0].shape == (2, 2)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"same first dimension.*\(3, 2\).*\(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size.*0"):
        DataLoader(_dataset(3), batch_size=0)
    with pytest.raises(TypeError, match="int"):
        DataLoader(5)
    with pytest.raises(TypeError, match="float16"):
        next(iter(DataLoader(TensorDataset(np.zeros((2, 2), np.float16)))))


# ----- datasets -----------------------------------------------------------------------------------
def test_load_digits_is_the_real_scikit_learn_set_split_deterministically():
    pytest.importorskip("sklearn", reason="load_digits needs scikit-learn (the examples extra)")
    split = tc.datasets.load_digits()
    assert len(split.x_train) + len(split.x_test) == 1797 and len(split.x_test) == 359
    assert split.x_train.shape[1:] == (1, 8, 8) and split.x_train.dtype == np.float32
    assert split.y_train.dtype == np.int64 and set(split.y_train.tolist()) == set(range(10))
    assert split.x_train.min() == 0 and split.x_train.max() == 1
    again = tc.datasets.load_digits()
    np.testing.assert_array_equal(again.y_test, split.y_test)
    from sklearn.datasets import load_digits

    original = load_digits()
    first = split.x_test[0, 0] * 16
    assert any(np.array_equal(first, image) for image in original.images)


def test_load_digits_without_scikit_learn_names_the_examples_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"scikit-learn.*\[examples\]"):
        tc.datasets.load_digits()


def _write_idx(path, array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as file:
        file.write(data)


def _tiny_mnist(rng):
    return (rng.integers(0, 256, (5, 4, 4), dtype=np.uint8), rng.integers(0, 10, 5, dtype=np.uint8),
            rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), rng.integers(0, 10, 3, dtype=np.uint8))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_mnist_reads_idx_files_plain_or_gzipped(tmp_path, suffix):
    parts = _tiny_mnist(np.random.default_rng(0))
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    for name, array in zip(names, parts, strict=True):
        _write_idx(tmp_path / (name + suffix), array)
    split = load_mnist(tmp_path)
    assert split.x_train.shape == (5, 1, 4, 4) and split.x_train.dtype == np.float32
    np.testing.assert_allclose(split.x_train[:, 0] * 255, parts[0], rtol=1e-6)
    np.testing.assert_array_equal(split.y_test, parts[3])
    assert split.y_test.dtype == np.int64


def test_load_mnist_reads_a_keras_style_npz(tmp_path):
    x_train, y_train, x_test, y_test = _tiny_mnist(np.random.default_rng(1))
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    split = load_mnist(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(split.y_train, y_train)
    assert split.x_test.shape == (3, 1, 4, 4)


def test_read_idx_keeps_wider_types_and_rejects_bad_files(tmp_path):
    values = np.array([[1, -2], [3, 4]], np.int32)
    _write_idx(tmp_path / "ints", values, code=0x0C)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "ints")), values)
    (tmp_path / "junk").write_bytes(b"\x12\x34\x56\x78")
    with pytest.raises(ValueError, match="magic"):
        read_idx(str(tmp_path / "junk"))
    data = (tmp_path / "ints").read_bytes()
    (tmp_path / "short").write_bytes(data[:-3])
    with pytest.raises(ValueError, match="16 bytes"):
        read_idx(str(tmp_path / "short"))


def test_load_mnist_missing_files_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path / "absent.npz")
