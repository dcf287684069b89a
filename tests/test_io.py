"""io: save/load round trips of nested state, exact paths, atomic writes, refused and damaged files."""

import io
import json
import os
import pickle
import struct
import subprocess
import sys
import threading
import tracemalloc
import zipfile
import zlib

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
    np.testing.assert_array_equal(loaded["weights"]["a"].detach().numpy(), obj["weights"]["a"].detach().numpy())
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
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_optimizer_state_round_trips_through_a_file(tmp_path):
    p = nn.Parameter(np.ones((2, 2)))
    opt = optim.Adam([p], lr=0.01)
    for _ in range(2):
        p.grad = tc.Tensor(np.full((2, 2), 0.5))
        opt.step()
    tc.save(opt.state_dict(), tmp_path / "opt.npz")
    q = nn.Parameter(p.detach().numpy().copy())
    restored = optim.Adam([q], lr=0.5)
    restored.load_state_dict(tc.load(tmp_path / "opt.npz"))
    assert restored.param_groups[0]["lr"] == 0.01 and restored.param_groups[0]["betas"] == (0.9, 0.999)
    p.grad = tc.Tensor(np.full((2, 2), 0.5))
    q.grad = tc.Tensor(np.full((2, 2), 0.5))
    opt.step()
    restored.step()
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())


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


# ----- hostile and broken files ------------------------------------------------------------------
def _write_checkpoint(path, root, arrays=(), version=1, **extra_members):
    """A file in tinygrad_cnn's format with a hand-written structure record, as a damaged or
    hostile file would have it."""
    members = {f"arr_{i}": array for i, array in enumerate(arrays)}
    members["__tinygrad_cnn_structure__"] = np.array(json.dumps({"version": version, "root": root}))
    np.savez(path, **members, **extra_members)
    return path


def _write_one_member_zip(path, name, compressed, crc, size, method=zipfile.ZIP_DEFLATED):
    """A zip with one member whose (already compressed) bytes, CRC and declared size are given,
    which zipfile cannot write for us."""
    name = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(compressed), size, len(name), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(compressed),
                          size, len(name), 0, 0, 0, 0, 0, 0)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name),
                      len(local) + len(name) + len(compressed), 0)
    path.write_bytes(local + name + compressed + central + name + end)
    return path


def _npy_header(shape, dtype=np.float64):
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                  "shape": shape})
    return stream.getvalue()


def _peak_allocation(function):
    """(result or exception, peak bytes allocated while function ran), NumPy's buffers included."""
    tracemalloc.start()
    try:
        try:
            result = function()
        except Exception as error:  # the caller checks which
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    # 1 MiB of deflate that inflates to a valid .npy of 1 GiB of zeros: 64 copies of one 16 MiB segment.
    header, zeros = _npy_header((2**27,)), bytes(2**24)
    first, segment = zlib.compressobj(9, zlib.DEFLATED, -15), zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = (first.compress(header) + first.flush(zlib.Z_FULL_FLUSH)
                  + (segment.compress(zeros) + segment.flush(zlib.Z_FULL_FLUSH)) * 64 + b"\x03\x00")
    crc = zlib.crc32(header)
    for _ in range(64):
        crc = zlib.crc32(zeros, crc)
    bomb = _write_one_member_zip(tmp_path / "bomb.npz", "x.npy", compressed, crc, len(header) + 2**30)
    file_size = os.path.getsize(bomb)
    assert file_size < 2**21
    error, peak = _peak_allocation(lambda: tc.load(bomb))
    assert isinstance(error, ValueError) and "max_bytes" in str(error) and "x.npy" in str(error)
    assert peak < 4 * file_size


def test_an_npy_header_disagreeing_with_the_zip_size_is_refused_before_allocating(tmp_path):
    # The header promises 1 GiB; the zip holds 80 bytes of data: nothing of 1 GiB is allocated.
    data = _npy_header((2**27,)) + bytes(80)
    small = _write_one_member_zip(tmp_path / "small.npz", "x.npy", data, zlib.crc32(data), len(data),
                                  method=zipfile.ZIP_STORED)
    error, peak = _peak_allocation(lambda: tc.load(small))
    assert isinstance(error, ValueError) and "'x.npy'" in str(error) and "1073741824 bytes" in str(error)
    assert peak < 2**20
    # The zip promises 1 GiB (within max_bytes) of a member whose header says 10 floats.
    header = _npy_header((10,))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = packer.compress(header + bytes(80)) + packer.flush()
    liar = _write_one_member_zip(tmp_path / "liar.npz", "x.npy", compressed, zlib.crc32(header + bytes(80)), 2**30)
    with pytest.raises(ValueError, match=r"'x.npy' declares shape \(10,\)"):
        tc.load(liar, max_bytes=2**31)


def test_max_bytes_bounds_what_a_file_may_inflate_to(tmp_path):
    path = tmp_path / "model.npz"
    tc.save({"w": np.zeros(1000)}, path)
    with pytest.raises(ValueError, match="max_bytes=4000"):
        tc.load(path, max_bytes=4000)
    np.testing.assert_array_equal(tc.load(path, max_bytes=10_000)["w"], np.zeros(1000))
    with pytest.raises(ValueError, match="max_bytes must be non-negative, got -1"):
        tc.load(path, max_bytes=-1)
    for wrong_type in (True, 1.5):
        with pytest.raises(TypeError, match="max_bytes must be an int"):
            tc.load(path, max_bytes=wrong_type)
    # The default lets a legitimately well-compressed .npz through (64 MiB of zeros in ~64 KiB).
    np.savez_compressed(tmp_path / "zeros.npz", z=np.zeros(2**23))
    assert tc.load(tmp_path / "zeros.npz")["z"].shape == (2**23,)


def test_loading_peaks_at_about_the_checkpoint_size(tmp_path):
    path = tmp_path / "big.npz"
    tc.save({"w": tc.ones(1024, 4096, dtype=np.float64), "b": np.ones(1024)}, path)  # 32 MiB
    loaded, peak = _peak_allocation(lambda: tc.load(path))
    assert isinstance(loaded["w"], tc.Tensor) and loaded["w"].detach().numpy().sum() == 2**22
    assert peak / os.path.getsize(path) <= 1.25


def _nested_lists_record(depth):
    return '{"version": 1, "root": ' + '{"type": "list", "items": [' * depth + "]}" * depth + "}"


@pytest.mark.parametrize("depth", [65, 500, 100_000])
def test_a_structure_record_nested_too_deep_is_a_value_error(tmp_path, depth):
    path = tmp_path / "deep.npz"
    np.savez(path, __tinygrad_cnn_structure__=np.array(_nested_lists_record(depth)))
    with pytest.raises(ValueError, match="nested"):
        tc.load(path)


def test_saving_a_structure_nested_too_deep_is_a_value_error(tmp_path):
    nested = []
    for _ in range(63):
        nested = [nested]
    tc.save(nested, tmp_path / "ok.npz")  # 64 lists deep: the limit
    assert _same(tc.load(tmp_path / "ok.npz"), nested)
    with pytest.raises(ValueError, match=r"nested more than 64"):
        tc.save([nested], tmp_path / "deep.npz")
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="contain itself"):
        tc.save({"c": cycle}, tmp_path / "cycle.npz")
    assert sorted(os.listdir(tmp_path)) == ["ok.npz"]


_W = np.ones(2, np.float32)


def test_arrays_are_named_by_their_place_so_plain_numpy_reads_a_checkpoint(tmp_path):
    model = tc.nn.Sequential(tc.nn.Conv2d(1, 2, 3), tc.nn.BatchNorm2d(2))
    optimizer = tc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(tc.randn(2, 1, 4, 4)).sum().backward()
    optimizer.step()
    path = tmp_path / "checkpoint.npz"
    tc.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    with np.load(path) as plain:
        for name, tensor in model.state_dict().items():
            np.testing.assert_array_equal(plain[f"model/{name}"], tensor.detach().numpy())
        assert "optimizer/state/0/momentum_buffer" in plain.files
    loaded = tc.load(path)
    assert sorted(loaded["model"]) == sorted(model.state_dict())


def test_a_checkpoint_of_format_version_1_still_loads(tmp_path):
    path = tmp_path / "old.npz"
    record = {"version": 1, "root": {"type": "dict", "items": [["w", {"type": "tensor", "index": 0}]]}}
    np.savez(path, arr_0=np.arange(3.0), __tinygrad_cnn_structure__=np.array(json.dumps(record)))
    np.testing.assert_array_equal(tc.load(path)["w"].numpy(), [0.0, 1.0, 2.0])


@pytest.mark.parametrize("root, arrays, version, match", [
    ({"type": "pickle", "value": 1}, [], 1, "known type"),
    ({"type": "tensor", "index": 1}, [_W], 1, "index 1 is not one of the 1 arrays"),
    ({"type": "list", "items": [{"type": "tensor", "index": 0}] * 2}, [_W], 1, "referred to twice"),
    ({"type": "value", "value": 1}, [_W], 1, r"never refers to arrays \[0\]"),
    ({"type": "tensor", "index": "0"}, [_W], 1, "index '0'"),
    ({"type": "tensor", "index": True}, [_W], 1, "index True"),
    ({"type": "list", "items": {"a": 1}}, [], 1, "items are a dict"),
    ({"type": "value", "value": [1, 2]}, [], 1, "holds a list"),
    ({"type": "dict", "items": [[True, {"type": "value", "value": 1}]]}, [], 1, "not a .str or int key"),
    ({"type": "dict", "items": [["a", {"type": "value", "value": 1}, 3]]}, [], 1, "pair"),
    ({"type": "dict", "items": [["a", {"type": "value", "value": 1}]] * 2}, [], 1, "'a' appears twice"),
    ({"type": "value", "value": 1, "index": 0}, [], 1, "fields"),
    ({"type": "scalar", "index": 0}, [_W], 1, "shape"),
    ({"type": "tensor", "index": 0}, [np.ones(2, np.float16)], 1, "dtype float16"),
    ({"type": "array", "index": 0}, [np.ones(2, np.complex64)], 1, "complex64"),
    ({"type": "value", "value": 1}, [], 3, "format version 3"),
    ({"type": "value", "value": 1}, [], 2, "exactly the fields"),  # version 2 names its arrays
    ({"type": "value", "value": 1}, [], "1", "format version '1'"),
])
def test_a_damaged_structure_record_is_a_value_error_not_another_object(tmp_path, root, arrays, version, match):
    path = _write_checkpoint(tmp_path / "damaged.npz", root, arrays, version)
    with pytest.raises(ValueError, match=match):
        tc.load(path)


def test_members_other_than_the_record_and_its_arrays_are_refused(tmp_path):
    entry = {"type": "tensor", "index": 0}
    with pytest.raises(ValueError, match="'notes'"):
        tc.load(_write_checkpoint(tmp_path / "extra.npz", entry, [_W], notes=np.zeros(1)))
    with pytest.raises(ValueError, match="arr_0"):
        tc.load(_write_checkpoint(tmp_path / "missing.npz", entry, [], arr_1=_W))
    record = np.array(json.dumps({"version": 1, "root": entry}))
    np.savez(tmp_path / "twice.npz", arr_0=_W, __tinygrad_cnn_structure__=np.array([record, record]))
    with pytest.raises(ValueError, match="not a single string"):
        tc.load(tmp_path / "twice.npz")
    with zipfile.ZipFile(tmp_path / "text.npz", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="'readme.txt' is not a .npy array"):
        tc.load(tmp_path / "text.npz")


def test_a_torch_save_zip_is_refused_as_pickled(tmp_path):
    with zipfile.ZipFile(tmp_path / "fake.pt", "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        archive.writestr("archive/data/0", bytes(8))
    with pytest.raises(ValueError, match="torch.save"):
        tc.load(tmp_path / "fake.pt")


def test_a_torch_save_file_is_refused_as_pickled(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="torch.save"):
        tc.load(tmp_path / "model.pt")


def test_plain_npz_members_load_in_any_byte_order_and_layout(tmp_path):
    big_endian, fortran = np.arange(6, dtype=">f8").reshape(2, 3), np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "plain.npz", big_endian=big_endian, fortran=fortran, empty=np.zeros((0, 3)))
    loaded = tc.load(tmp_path / "plain.npz")
    assert list(loaded) == ["big_endian", "fortran", "empty"]
    for name, original in [("big_endian", big_endian), ("fortran", fortran)]:
        np.testing.assert_array_equal(loaded[name], original)
    assert loaded["big_endian"].dtype == np.float64 and loaded["empty"].shape == (0, 3)
    # A checkpoint written on a big-endian machine loads its tensors too.
    path = _write_checkpoint(tmp_path / "s390x.npz", {"type": "tensor", "index": 0}, [np.ones(3, ">f4")])
    tensor = tc.load(path)
    assert tensor.dtype == np.float32 and (tensor.detach().numpy() == 1).all()


def _open_paths():
    paths = []
    for descriptor in os.listdir("/proc/self/fd"):
        try:
            paths.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return paths


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_a_failed_load_closes_its_file(tmp_path):
    path = tmp_path / "model.npz"
    tc.save({"w": np.ones(100)}, path)
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    _write_checkpoint(tmp_path / "damaged.npz", {"type": "pickle"})
    for name in ["cut.npz", "damaged.npz"]:
        with pytest.raises(ValueError) as caught:  # keeps the traceback, and so its frames, alive
            tc.load(tmp_path / name)
        assert str(tmp_path / name) not in _open_paths(), caught.value


def test_load_accepts_weights_only_like_torch(tmp_path):
    tc.save({"w": np.ones(2)}, tmp_path / "model.npz")
    for weights_only in (True, False, None):
        np.testing.assert_array_equal(tc.load(tmp_path / "model.npz", weights_only=weights_only)["w"], np.ones(2))
    with pytest.raises(TypeError, match="weights_only"):
        tc.load(tmp_path / "model.npz", weights_only="yes")


# ----- crash-safe saving ---------------------------------------------------------------------------
# A child saves two arrays full of `value` and stops at `pause_at` until told to go on (or is killed).
_SAVE_AND_PAUSE = """
import os, sys
import numpy as np
import tinygrad_cnn as tc
path, value, pause_at = sys.argv[1], float(sys.argv[2]), sys.argv[3]

def pausing(original):
    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        print("paused", flush=True)
        sys.stdin.readline()
        return result
    return paused

if pause_at == "first array written":
    np.lib.format.write_array = pausing(np.lib.format.write_array)
else:
    setattr(os, pause_at, pausing(getattr(os, pause_at)))
tc.save({"a": np.full(2**17, value), "b": np.full(2**17, value)}, path)
"""


def _start_paused_save(path, value, pause_at):
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(tc.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, "-c", _SAVE_AND_PAUSE, str(path), str(value), pause_at],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline() == b"paused\n"
    return child


def _saved_value(path):
    loaded = tc.load(path)
    assert loaded["a"].shape == loaded["b"].shape == (2**17,) and (loaded["a"] == loaded["a"][0]).all()
    assert (loaded["b"] == loaded["a"][0]).all()
    return loaded["a"][0]


def test_saves_killed_midway_leave_a_whole_file_and_at_most_one_temporary(tmp_path):
    path = tmp_path / "model.npz"
    tc.save({"a": np.zeros(2**17), "b": np.zeros(2**17)}, path)
    for value, pause_at, expected in [(1, "first array written", 0), (2, "fsync", 0), (3, "replace", 3)]:
        child = _start_paused_save(path, value, pause_at)
        child.kill()
        child.wait(timeout=60)
        assert len(os.listdir(tmp_path)) <= 2, os.listdir(tmp_path)
        assert _saved_value(path) == expected
    tc.save({"a": np.ones(2**17), "b": np.ones(2**17)}, path)  # and the next save clears the stale one
    assert os.listdir(tmp_path) == ["model.npz"] and _saved_value(path) == 1


def test_two_saves_of_one_path_take_turns(tmp_path):
    path = tmp_path / "model.npz"
    child = _start_paused_save(path, 1, "fsync")  # written, not yet renamed: holds the temporary
    errors = []
    saving = threading.Thread(target=lambda: _collect_errors(errors, tc.save,
                                                             {"a": np.full(2**17, 2.0), "b": np.full(2**17, 2.0)},
                                                             path))
    saving.start()
    saving.join(timeout=0.5)
    assert saving.is_alive()  # waiting for the child's save to finish
    child.communicate(b"go\n", timeout=60)
    saving.join(timeout=60)
    assert child.returncode == 0 and not errors
    assert _saved_value(path) == 2 and os.listdir(tmp_path) == ["model.npz"]


def _collect_errors(errors, function, *args):
    try:
        function(*args)
    except Exception as error:  # reported by the test
        errors.append(error)


def test_save_writes_through_a_symlink_and_keeps_it(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    target, link = tmp_path / "real" / "model.npz", tmp_path / "links" / "latest.npz"
    tc.save({"w": np.zeros(2)}, target)
    link.symlink_to(target)
    tc.save({"w": np.ones(2)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(tc.load(target)["w"], np.ones(2))
    assert os.listdir(tmp_path / "real") == ["model.npz"] and os.listdir(tmp_path / "links") == ["latest.npz"]
