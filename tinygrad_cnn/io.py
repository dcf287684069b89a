"""Saving and loading state dicts and whole models as `.npz` files, never with pickle, safe on hostile or broken
files.

`save` flattens a nested structure (dicts, lists, tuples of Tensors, arrays, numbers, strings,
bools, None, and Modules built from tinygrad_cnn's own layers: see model_io.py) into arrays named by
where they sit (a state dict's `features.0.weight`, an optimizer's `state/0/exp_avg`), so that plain
`np.load(path)["features.0.weight"]` reads them, plus one JSON description of the structure, stored as a
string array, in an uncompressed zip (NumPy's `.npz`). It writes a temporary
file beside the target and renames it over the target, so a crash never leaves half a checkpoint.

`load` reads the zip itself rather than through `np.load`, so that it can check every declared size
before inflating anything (a zip bomb is refused, not inflated), read each array straight into its
final buffer (peak memory about the checkpoint's size, not twice it), and validate the structure
record strictly (a damaged or foreign file is a ValueError, never a different object). A whole model is
rebuilt only with `weights_only=False`, as PyTorch 2.6+ asks, although here that is safe too: only
tinygrad_cnn's own layer classes are built, never code named by the file.
"""

from __future__ import annotations

import ast
import json
import math
import os
import pickle  # only for its exception class, which code written for torch.load catches; nothing is pickled
import re
import zipfile
from typing import IO, Any, BinaryIO

import numpy as np

from . import model_io
from .nn import Module
from .tensor import Tensor, as_dtype

try:  # POSIX: saves of one path from several processes take turns (see _open_temporary)
    import fcntl
except ImportError:  # Windows: no flock; concurrent saves of the same path are not guarded there
    fcntl = None  # type: ignore[assignment]  # checked before each use

_STRUCTURE_KEY = "__tinygrad_cnn_structure__"
_FORMAT_VERSION = 2  # 2: arrays named by their place in the structure; 1 (still read): arr_0, arr_1, ...
_SAVED_KINDS = "fiub"  # dtype kinds save writes (and our format may hold): float, int, uint, bool
_MAX_DEPTH = 64  # nesting levels of dicts/lists/tuples; state dicts use 2-4, a cycle or a hostile file far more
_MIN_MAX_BYTES = 256 * 2**20  # the default limit on what a file may inflate to: at least this much ...
_MAX_BYTES_PER_FILE_BYTE = 64  # ... or 64x the file's size, whichever is larger (see load)
_READ_CHUNK = 2**20  # bytes inflated per read: the only transient buffer while an array is read


class UnpicklingError(pickle.UnpicklingError, ValueError):
    """`load` with weights_only=True (the default) of a file that holds a whole model: a ValueError, and the
    exception torch.load raises there, so code written for either catches it."""


# ----- save ------------------------------------------------------------------------------------
def _encode(obj: Any, arrays: list[tuple[str, np.ndarray]], where: str, depth: int = 0,
            memo: model_io.ModuleMemo | None = None) -> Any:
    """A JSON-able description of obj; arrays are appended to `arrays` with where they sit and referred to by
    number, and Modules are recorded by model_io (`memo` holds what this save has recorded of them)."""
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = obj._data if isinstance(obj, Tensor) else np.asarray(obj)
        if array.dtype.kind not in _SAVED_KINDS:
            raise TypeError(f"save: {where} has dtype {array.dtype}; only numeric and bool arrays can be saved")
        arrays.append((where, array))
        kind = "tensor" if isinstance(obj, Tensor) else "scalar" if isinstance(obj, np.generic) else "array"
        return {"type": kind, "index": len(arrays) - 1}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"type": "value", "value": obj}
    if isinstance(obj, (dict, list, tuple, Module)) and depth >= _MAX_DEPTH:
        raise ValueError(f"save: {where} is nested more than {_MAX_DEPTH} dicts/lists/tuples/modules deep "
                         "(does it contain itself?)")
    if memo is None:
        memo = model_io.ModuleMemo()
    if isinstance(obj, Module):
        return model_io.encode_module(obj, where, depth, memo,
                                      lambda value, at, level: _encode(value, arrays, at, level, memo))
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: {where} has a key {key!r} of type {type(key).__name__}; "
                                "only str and int keys can be saved")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]", depth + 1, memo)])
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"type": type(obj).__name__,
                "items": [_encode(value, arrays, f"{where}[{i}]", depth + 1, memo) for i, value in enumerate(obj)]}
    raise TypeError(f"save: {where} is a {type(obj).__name__}; only Tensors, arrays, numbers, strings, None, "
                    "tinygrad_cnn Modules and dicts/lists/tuples of them can be saved")


_PART = r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+)\]|\.([^.\[ ]+)|( \(constructor arguments\))"


def _member_names(wheres: list[str]) -> list[str]:
    """Each array's member name, from where `_encode` found it: "obj['features.0.weight']" -> features.0.weight,
    "obj['state'][0]['exp_avg']" -> state/0/exp_avg, a model's "obj.0.weight" -> 0.weight; made unique."""
    names: list[str] = []
    for where in wheres:
        parts, dotted = [], ""
        for key, attribute, arguments in re.findall(_PART, where[len("obj"):]):
            if key:
                parts.append(dotted + str(ast.literal_eval(key)) if dotted else str(ast.literal_eval(key)))
                dotted = ""
            elif attribute:
                dotted = f"{dotted}.{attribute}" if dotted else attribute
            elif arguments:
                dotted += " args"
        if dotted:
            parts.append(dotted)
        name = "/".join(part.replace("/", "_") for part in parts) or "tensor"
        unique, count = name, 1
        while unique in names or unique == _STRUCTURE_KEY:
            unique, count = f"{name}#{count}", count + 1
        names.append(unique)
    return names


def _open_temporary(temporary: str) -> int:
    """A descriptor for a new file at the fixed name `temporary`, locked so that no other save uses it.

    The name is fixed (`.<target>.tmp`) so a save killed mid-write leaves at most one stale file,
    which the next save of the same target removes. A stale file is told from one another process is
    writing by its lock: flock locks die with their process. Only the holder of a file's lock removes
    or renames it, after checking the name still points to that file, so two saves of the same
    path take turns instead of renaming each other's half-written files into place."""
    no_follow = getattr(os, "O_NOFOLLOW", 0)  # never write through a link planted at the temporary name
    while True:
        try:
            descriptor, created = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | no_follow, 0o666), True
        except FileExistsError:
            try:
                descriptor, created = os.open(temporary, os.O_WRONLY | no_follow), False
            except FileNotFoundError:  # its owner just renamed or removed it: try creating again
                continue
        try:
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits while another save of this target runs
            try:
                still_ours = os.path.samestat(os.fstat(descriptor), os.lstat(temporary))
            except FileNotFoundError:
                still_ours = False
            if still_ours and created:
                return descriptor
            if still_ours:
                os.remove(temporary)  # stale: left by a save that was killed, whose lock died with it
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)


def _fsync_folder(folder: str) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write obj (a state dict, an optimizer state, or any nesting of dicts/lists/tuples of Tensors,
    arrays and numbers) to exactly `path` as a `.npz` file, atomically.

    obj may also be, or hold, a whole model (`tc.save(model, path)`) when every module in it is one of
    tinygrad_cnn's own layers and containers: its architecture (each module's class, constructor arguments,
    children and train/eval mode) is stored as plain data beside its parameters and buffers (requires_grad
    flags kept). A user-defined Module class is refused with a TypeError: save `model.state_dict()` instead,
    and load it into a model built in code. `tc.load(path, weights_only=False)` rebuilds a whole model.

    If `path` is a symbolic link, the file it points to gets the new content and the link stays.
    The file's permissions follow the umask, like any new file."""
    arrays: list[tuple[str, np.ndarray]] = []
    structure = _encode(obj, arrays, "obj")
    names = _member_names([where for where, _ in arrays])
    entries = {name: array for name, (_, array) in zip(names, arrays, strict=True)}
    entries[_STRUCTURE_KEY] = np.array(json.dumps({"version": _FORMAT_VERSION, "names": names, "root": structure}))
    # Through a link to its file, and the temporary beside that file: os.replace is atomic only within a folder.
    target = os.path.realpath(os.fspath(path))
    folder, name = os.path.split(target)
    temporary = os.path.join(folder, f".{name}.tmp")
    renamed = False
    # A file object, not a name: NumPy would append ".npz" to a name without it. The lock lasts until it closes.
    with os.fdopen(_open_temporary(temporary), "wb") as file:
        try:
            np.savez(file, allow_pickle=False, **entries)
            file.flush()
            os.fsync(file.fileno())
            os.replace(temporary, target)
            renamed = True
        except BaseException:
            if not renamed:
                os.remove(temporary)
            raise
    _fsync_folder(folder)


# ----- load: the archive and its members ---------------------------------------------------------
def _refuse_non_zip(file: BinaryIO) -> None:
    """Raise ValueError saying what the file is, unless it starts like a zip archive."""
    start = file.read(8)
    file.seek(0)
    if start.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return
    if start.startswith(b"\x80"):
        raise ValueError("it holds pickled objects, which are refused for safety; "
                         "only files written by tinygrad_cnn.save (or plain .npz arrays) load")
    if start.startswith(b"\x93NUMPY"):
        raise ValueError("it holds a single .npy array, not an .npz archive")
    raise ValueError(f"it is corrupt or not an .npz archive (it starts with {start!r})")


def _check_members(archive: zipfile.ZipFile, file_size: int, max_bytes: int) -> list[zipfile.ZipInfo]:
    """The archive's members, after checking from the zip's directory alone (nothing inflated yet)
    that each is a plain `.npy` array NumPy could have written and that together they inflate to
    at most max_bytes."""
    members = archive.infolist()
    names = [member.filename for member in members]
    if any(name.endswith("data.pkl") for name in names):
        raise ValueError("it is a torch.save file (a zip holding data.pkl, a pickle), refused for safety; "
                         "load it with torch and save its tensors as NumPy arrays with tinygrad_cnn.save")
    if len(set(names)) != len(names):
        raise ValueError(f"it has members with the same name: {sorted({n for n in names if names.count(n) > 1})}")
    for member in members:
        if not member.filename.endswith(".npy"):
            raise ValueError(f"its member {member.filename!r} is not a .npy array")
        if member.flag_bits & 0x1:
            raise ValueError(f"its member {member.filename!r} is encrypted")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"member {member.filename!r} uses compression method {member.compress_type}; "
                             "only stored and deflated members (what NumPy writes) load")
        if member.compress_type == zipfile.ZIP_STORED and member.file_size != member.compress_size:
            raise ValueError(f"member {member.filename!r} is stored uncompressed but declares "
                             f"{member.file_size} bytes in {member.compress_size}")
    total = sum(member.file_size for member in members)
    if total > max_bytes:
        largest = max(members, key=lambda member: member.file_size)
        raise ValueError(f"its members declare {total} bytes of arrays in a {file_size}-byte file (the largest member, "
                         f"{largest.filename!r}, {largest.file_size} bytes), more than max_bytes={max_bytes}; "
                         "refused before inflating (a zip bomb?). Pass a larger max_bytes if you trust the file")
    return members


def _read_npy_header(stream: IO[bytes], member: zipfile.ZipInfo) -> tuple[np.dtype, tuple[int, ...], bool]:
    """(dtype, shape, fortran_order) from a member's .npy header, after checking that the header's
    shape x itemsize is exactly the data size the zip declares (so that the array allocated next
    is no larger than what max_bytes allowed) and that the dtype holds no Python objects."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"member {member.filename!r} has .npy format version {version}; only 1.0 and 2.0 load")
    if dtype.hasobject:
        raise ValueError(f"member {member.filename!r} holds pickled objects (dtype {dtype}), which are refused "
                         "for safety; only files written by tinygrad_cnn.save (or plain .npz arrays) load")
    if any(n < 0 for n in shape):
        raise ValueError(f"member {member.filename!r} declares a negative shape {shape}")
    header_size = stream.tell()
    data_size = math.prod(shape) * dtype.itemsize
    if header_size + data_size != member.file_size:
        raise ValueError(f"member {member.filename!r} declares shape {shape} of {dtype} ({data_size} bytes) "
                         f"in its header but {member.file_size - header_size} bytes of data in the zip")
    return dtype, shape, fortran_order


def _read_array(stream: IO[bytes], dtype: np.dtype, shape: tuple[int, ...], fortran_order: bool,
                name: str) -> np.ndarray:
    """The member's array, read chunk by chunk straight into its own buffer: no bytes object of the
    whole array and no copy of it. Data in the other byte order is swapped in place."""
    array = np.empty(math.prod(shape), dtype)
    if array.nbytes:
        # An ndarray is a buffer; NumPy's stubs declare `__buffer__` only for Python 3.12 and later.
        buffer = memoryview(array.view(np.uint8))  # type: ignore[arg-type]
        filled = 0
        while filled < array.nbytes:
            # A ZipExtFile (an io.BufferedIOBase), which typeshed's ZipFile.open gives as IO[bytes].
            count = stream.readinto(buffer[filled: filled + _READ_CHUNK])  # type: ignore[attr-defined]
            if not count:
                raise ValueError(f"member {name!r} ends after {filled} of its {array.nbytes} bytes of data")
            filled += count
    if not dtype.isnative:
        array = array.byteswap(inplace=True).view(dtype.newbyteorder())
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _read_members(archive: zipfile.ZipFile, file_size: int, max_bytes: int) -> dict[str, np.ndarray]:
    """Every member as name (without `.npy`) -> array, in the archive's order, each checked before
    it is inflated. A CRC mismatch surfaces as zipfile.BadZipFile when a member's last byte is read."""
    arrays = {}
    for member in _check_members(archive, file_size, max_bytes):
        with archive.open(member) as stream:
            dtype, shape, fortran_order = _read_npy_header(stream, member)
            arrays[member.filename[: -len(".npy")]] = _read_array(stream, dtype, shape, fortran_order,
                                                                  member.filename)
    return arrays


# ----- load: the structure record ----------------------------------------------------------------
def _parse_structure(arrays: dict[str, np.ndarray]) -> tuple[Any, list[np.ndarray]]:
    """(root entry, arrays by index) of a tinygrad_cnn checkpoint, after checking that the record is JSON of a
    known version and that the members are exactly the record and the arrays it names (version 2; arr_0 ...
    arr_{n-1} in version 1), of dtypes save writes."""
    record = arrays.pop(_STRUCTURE_KEY)
    for name, array in arrays.items():
        if array.dtype.kind not in _SAVED_KINDS:
            raise ValueError(f"member {name!r} has dtype {array.dtype}, which tinygrad_cnn.save never writes")
    if record.dtype.kind != "U" or record.shape != ():
        raise ValueError(f"it has a structure record of dtype {record.dtype} and shape {record.shape}, "
                         "not a single string")
    try:
        description = json.loads(str(record[()]))
    except RecursionError as error:  # the C parser gives up on deep nesting this way
        raise ValueError("its structure record is nested too deeply to parse") from error
    version = description.get("version") if isinstance(description, dict) else None
    if type(version) is not int or version not in (1, 2):
        raise ValueError(f"it has format version {version!r}; this tinygrad_cnn reads versions 1 and 2")
    fields = {"version", "root"} | ({"names"} if version == 2 else set())
    if set(description) != fields:
        raise ValueError(f"its structure record does not have exactly the fields {sorted(fields)}")
    names = description["names"] if version == 2 else [f"arr_{i}" for i in range(len(arrays))]
    if type(names) is not list or not all(type(name) is str for name in names) or len(set(names)) != len(names):
        raise ValueError("its structure record's names are not a list of distinct strings")
    if set(arrays) != set(names):
        raise ValueError(f"it has members {sorted(set(arrays) - set(names))} where its record names "
                         f"{sorted(set(names) - set(arrays))}")
    return description["root"], [arrays[name] for name in names]


_MODULE_ENTRIES = ("module", "module_ref")
_ENTRY_FIELDS = {"value": "value", "tensor": "index", "array": "index", "scalar": "index",
                 "dict": "items", "list": "items", "tuple": "items"}


def _decode(entry: Any, arrays: list[np.ndarray], used: set[int], where: str, depth: int = 0,
            modules: list[Module] | None = None) -> Any:
    """The object one structure entry describes, checking it strictly: known type, exactly its
    fields, field types, each array index in range and used once (`used` collects them), keys
    unique, nesting at most _MAX_DEPTH deep. Anything else is a ValueError naming `where`.

    Module entries are rebuilt by model_io when `modules` is a list (the modules rebuilt so far, by
    number); when it is None (weights_only), they raise UnpicklingError before anything is built."""
    if isinstance(entry, dict) and entry.get("type") in _MODULE_ENTRIES:
        if modules is None:
            kind = str(entry.get("class", "module"))[:80]
            raise UnpicklingError(f"Weights only load failed: it holds a whole model (a {kind} at {where}), not "
                                  "only weights. Pass "
                                  "weights_only=False to rebuild it; with tinygrad_cnn that is safe for any file, "
                                  "as only its own layer classes are built and no code from the file runs")
        if depth >= _MAX_DEPTH:
            raise ValueError(f"{where}: nested more than {_MAX_DEPTH} dicts/lists/tuples/modules deep")
        return model_io.decode_module(entry, where, depth, modules,
                                      lambda value, at, level: _decode(value, arrays, used, at, level, modules))
    if not isinstance(entry, dict) or entry.get("type") not in _ENTRY_FIELDS:
        raise ValueError(f"{where} is not an entry of a known type: {str(entry)[:80]}")
    kind = entry["type"]
    if set(entry) != {"type", _ENTRY_FIELDS[kind]}:
        raise ValueError(f"{where}: a {kind!r} entry has the fields {sorted(entry)}, "
                         f"not 'type' and {_ENTRY_FIELDS[kind]!r}")
    if kind == "value":
        value = entry["value"]
        if value is not None and type(value) not in (bool, int, float, str):
            raise ValueError(f"{where}: a 'value' entry holds a {type(value).__name__}")
        return value
    if kind in ("tensor", "array", "scalar"):
        index = entry["index"]
        if type(index) is not int or not 0 <= index < len(arrays):
            raise ValueError(f"{where}: index {index!r} is not one of the {len(arrays)} arrays")
        if index in used:
            raise ValueError(f"{where}: array {index} is referred to twice")
        used.add(index)
        array = arrays[index]
        if kind == "scalar":
            if array.shape != ():
                raise ValueError(f"{where}: a scalar entry refers to an array of shape {array.shape}")
            return array[()]
        if kind == "tensor":
            try:
                as_dtype(array.dtype)
            except TypeError as error:
                raise ValueError(f"{where}: a tensor entry refers to an array of dtype {array.dtype}") from error
            return Tensor._make(array, None)  # the array is freshly read and ours: no copy
        return array
    items = entry["items"]
    if type(items) is not list:
        raise ValueError(f"{where}: a {kind!r} entry's items are a {type(items).__name__}, not a list")
    if depth >= _MAX_DEPTH:
        raise ValueError(f"{where}: nested more than {_MAX_DEPTH} dicts/lists/tuples deep")
    if kind == "dict":
        result = {}
        for pair in items:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                raise ValueError(f"{where}: a dict item is not a [str or int key, entry] pair: {str(pair)[:80]}")
            key, value = pair
            if key in result:
                raise ValueError(f"{where}: the key {key!r} appears twice")
            result[key] = _decode(value, arrays, used, f"{where}[{key!r}]", depth + 1, modules)
        return result
    values = [_decode(value, arrays, used, f"{where}[{i}]", depth + 1, modules) for i, value in enumerate(items)]
    return values if kind == "list" else tuple(values)


def _rebuild(root: Any, arrays: list[np.ndarray], weights_only: bool) -> Any:
    """The saved object, from its checked structure record and its arrays, each used exactly once;
    whole models only when not weights_only."""
    used: set[int] = set()
    obj = _decode(root, arrays, used, "its structure record at root", modules=None if weights_only else [])
    if len(used) != len(arrays):
        raise ValueError(f"its structure record never refers to arrays {sorted(set(range(len(arrays))) - used)}")
    return obj


def load(path: str | os.PathLike, *, max_bytes: int | None = None, weights_only: bool | None = None) -> Any:
    """Read what `save` wrote (Tensors come back as Tensors, arrays as arrays). A plain `.npz` made
    elsewhere (np.savez) loads as a dict of name -> array, in its order.

    max_bytes: the most the file's arrays may take once inflated, checked against the sizes the file
    declares before anything is inflated. The default, max(256 MiB, 64 x the file's size), loads any
    checkpoint `save` wrote (it stores arrays uncompressed, so they take about the file's size) and
    a compressed .npz up to 64:1, while a zip bomb (deflate reaches about 1000:1) is refused.
    weights_only: as PyTorch 2.6+, True or None (the default) loads weights and plain data only; a file
    holding a whole model (saved by `save(model, path)`) then raises UnpicklingError (a ValueError).
    False also rebuilds whole models: the model comes back with its architecture, state, requires_grad
    flags and train/eval mode. Unlike PyTorch's, that is safe for any file: only tinygrad_cnn's own
    layer and container classes are built (their constructors check the arguments, and a layer may not
    allocate more than the file holds for it), and a state that does not fit them is a ValueError.

    A missing file raises FileNotFoundError; a pickled, corrupt, truncated or foreign one, or one
    larger than max_bytes, raises ValueError. Peak memory is about the arrays' own size."""
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be a bool or None, got {weights_only!r}")
    if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool)):
        raise TypeError(f"load: max_bytes must be an int or None, got {max_bytes!r}")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"load: max_bytes must be non-negative, got {max_bytes}")
    path = os.fspath(path)
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {path!r}") from None
    except IsADirectoryError:
        raise ValueError(f"load: {path!r} is a folder, not a checkpoint file") from None
    with file:  # closed on every way out, a failed load included
        file_size = os.fstat(file.fileno()).st_size
        if max_bytes is None:
            max_bytes = max(_MIN_MAX_BYTES, _MAX_BYTES_PER_FILE_BYTE * file_size)
        try:
            _refuse_non_zip(file)
            with zipfile.ZipFile(file) as archive:
                arrays = _read_members(archive, file_size, max_bytes)
            if _STRUCTURE_KEY not in arrays:
                return arrays
            return _rebuild(*_parse_structure(arrays), weights_only=weights_only is not False)
        except UnpicklingError as error:
            raise UnpicklingError(f"load: {path!r}: {error}") from None
        except ValueError as error:
            raise ValueError(f"load: {path!r}: {error}") from error
        except MemoryError:
            raise
        except Exception as error:  # BadZipFile, EOFError, OSError, zlib.error: a damaged archive
            raise ValueError(f"load: {path!r} is corrupt or truncated ({type(error).__name__}: {error})") \
                from error

__all__ = ["UnpicklingError", "load", "save"]
