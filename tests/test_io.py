"""io: save/load round trips of nested state, exact paths, atomic writes, refused and damaged files."""

import os
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim


def test_nested_structure_round_trips_with_types_kept(tmp_path):
    path = tmp_path / "state.ckpt"
    obj = {
        "weights": {"a": tc.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))},
        "array": np.array([1, 2], np.int64),
        "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 1], "name": None}],
        3: "int key",
        "inf": float("inf"),
        "scalar": np.float32(1.5),
    }
    tc.save(obj, path)
    loaded = tc.load(path)
    assert isinstance(loaded["weights"]["a"], tc.Tensor) and loaded["weights"]["a"].dtype == np.float32
    np.testing.assert_array_equal(loaded["weights"]["a"].data, obj["weights"]["a"].data)
    assert isinstance(loaded["array"], np.ndarray) and loaded["array"].dtype == np.int64
    assert loaded["groups"] == obj["groups"] and isinstance(loaded["groups"][0]["betas"], tuple)
    assert loaded[3] == "int key" and loaded["inf"] == float("inf")
    assert loaded["scalar"] == np.float32(1.5) and loaded["scalar"].dtype == np.float32


_leaves = st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.bool_]),
               hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)),
    st.integers(-2**62, 2**62), st.floats(allow_nan=False), st.text(max_size=5), st.booleans(), st.none(),
)
_trees = st.recursive(_leaves, lambda children: st.one_of(
    st.lists(children, max_size=3), st.tuples(children, children),
    st.dictionaries(st.one_of(st.text(max_size=4), st.integers(-5, 5)), children, max_size=3)), max_leaves=8)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@given(tree=_trees)
def test_any_nesting_of_arrays_and_plain_values_round_trips_exactly(tree, tmp_path_factory):
    path = tmp_path_factory.mktemp("io") / "tree.ckpt"
    tc.save(tree, path)
    assert _same(tree, tc.load(path))


def test_save_writes_exactly_the_given_path_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "model"
    tc.save({"x": np.zeros(2)}, str(path))
    assert os.listdir(tmp_path) == ["model"]


def test_model_state_dict_round_trips_into_a_fresh_model(tmp_path):
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tc.save(model.state_dict(), tmp_path / "model.npz")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(tc.load(tmp_path / "model.npz"))
    x = tc.randn(5, 3)
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_optimizer_state_round_trips_through_a_file(tmp_path):
    p = nn.Parameter(np.ones((2, 2)))
    opt = optim.Adam([p], lr=0.01)
    for _ in range(2):
        p.grad = tc.Tensor(np.full((2, 2), 0.5))
        opt.step()
    tc.save(opt.state_dict(), tmp_path / "opt.npz")
    q = nn.Parameter(p.data.copy())
    restored = optim.Adam([q], lr=0.5)
    restored.load_state_dict(tc.load(tmp_path / "opt.npz"))
    assert restored.param_groups[0]["lr"] == 0.01 and restored.param_groups[0]["betas"] == (0.9, 0.999)
    p.grad = tc.Tensor(np.full((2, 2), 0.5))
    q.grad = tc.Tensor(np.full((2, 2), 0.5))
    opt.step()
    restored.step()
    np.testing.assert_array_equal(q.data, p.data)


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "model.npz"
    tc.save({"x": np.ones(3)}, path)
    with pytest.raises(TypeError, match="object"):
        tc.save({"x": np.array([object()])}, path)
    np.testing.assert_array_equal(tc.load(path)["x"], np.ones(3))
    assert os.listdir(tmp_path) == ["model.npz"]


def test_unsupported_values_raise_type_error_naming_where():
    with pytest.raises(TypeError, match=r"obj\['f'\] is a function"):
        tc.save({"f": lambda: 0}, "unused.npz")


def test_missing_file_raises_file_not_found_and_a_folder_value_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        tc.load(tmp_path / "nothing.npz")
    with pytest.raises(ValueError, match="folder"):
        tc.load(tmp_path)


def test_pickled_files_are_refused(tmp_path):
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ValueError, match="pickle"):
        tc.load(raw)
    archive = tmp_path / "objects.npz"
    np.savez(archive, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        tc.load(archive)


def test_truncated_and_corrupt_files_raise_value_error(tmp_path):
    path = tmp_path / "model.npz"
    tc.save({"w": np.random.default_rng(0).normal(size=(50, 50))}, path)
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        tc.load(tmp_path / "cut.npz")
    damaged = bytearray(data)
    damaged[len(data) // 3: len(data) // 3 + 64] = bytes(64)
    (tmp_path / "bad.npz").write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="bad.npz"):
        tc.load(tmp_path / "bad.npz")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ValueError, match="text.npz"):
        tc.load(tmp_path / "text.npz")


def test_plain_npz_from_elsewhere_loads_as_a_dict_of_arrays(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    loaded = tc.load(tmp_path / "plain.npz")
    assert list(loaded) == ["a"] and (loaded["a"] == np.arange(3)).all()


def test_saved_file_follows_the_umask_like_any_other_file(tmp_path):
    import stat

    previous = os.umask(0o022)
    try:
        tc.save({"w": tc.ones(2)}, tmp_path / "model.npz")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "model.npz").st_mode) == 0o644
