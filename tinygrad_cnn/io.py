"""Saving and loading state dicts as `.npz` files, never with pickle.

`save` flattens a nested structure (dicts, lists, tuples of Tensors, arrays, numbers, strings,
bools, None) into numbered arrays plus one JSON description of the structure, stored as a string
array, so `load` rebuilds the same structure with `allow_pickle=False`. The file is written to a
temporary file in the same folder and renamed over `path`, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import numpy as np

from .tensor import Tensor

_STRUCTURE_KEY = "__tinygrad_cnn_structure__"
_FORMAT_VERSION = 1


def _encode(obj: Any, arrays: list[np.ndarray], where: str) -> Any:
    """A JSON-able description of obj; arrays are appended to `arrays` and referred to by number."""
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = obj.data if isinstance(obj, Tensor) else np.asarray(obj)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"save: {where} has dtype {array.dtype}; only numeric and bool arrays can be saved")
        arrays.append(array)
        kind = "tensor" if isinstance(obj, Tensor) else "scalar" if isinstance(obj, np.generic) else "array"
        return {"type": kind, "index": len(arrays) - 1}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"type": "value", "value": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: {where} has a key {key!r} of type {type(key).__name__}; "
                                "only str and int keys can be saved")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"type": type(obj).__name__,
                "items": [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)]}
    raise TypeError(f"save: {where} is a {type(obj).__name__}; only Tensors, arrays, numbers, strings, None "
                    "and dicts/lists/tuples of them can be saved")


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    kind = node["type"]
    if kind == "value":
        return node["value"]
    if kind in ("tensor", "array", "scalar"):
        array = arrays[f"arr_{node['index']}"]
        return Tensor(array) if kind == "tensor" else array[()] if kind == "scalar" else array
    if kind == "dict":
        return {key: _decode(value, arrays) for key, value in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(value, arrays) for value in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"unknown entry type {kind!r}")


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write obj (a state dict, an optimizer state, or any nesting of dicts/lists/tuples of Tensors,
    arrays and numbers) to exactly `path` as a `.npz` file, atomically."""
    arrays: list[np.ndarray] = []
    structure = _encode(obj, arrays, "obj")
    entries = {f"arr_{i}": array for i, array in enumerate(arrays)}
    entries[_STRUCTURE_KEY] = np.array(json.dumps({"version": _FORMAT_VERSION, "root": structure}))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        # A file object, not a name: NumPy would append ".npz" to a name without it.
        with os.fdopen(handle, "wb") as file:
            np.savez(file, allow_pickle=False, **entries)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a saved model should not be
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load(path: str | os.PathLike) -> Any:
    """Read what `save` wrote (Tensors come back as Tensors, arrays as arrays). A plain `.npz` made
    elsewhere loads as a dict of name -> array. A missing file raises FileNotFoundError; a pickled,
    corrupt or truncated one raises ValueError."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"load: {path!r} is a folder, not a checkpoint file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not an .npz archive")
            # Read every member now: a truncated or corrupt archive fails here, inside the try.
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise ValueError(f"load: {path!r} holds pickled objects, which are refused for safety; "
                             "only files written by tinygrad_cnn.save (or plain .npz arrays) load") from error
        raise ValueError(f"load: {path!r} is not a valid tinygrad_cnn checkpoint: {error}") from error
    except Exception as error:  # BadZipFile, EOFError, OSError, zlib.error: a damaged archive
        raise ValueError(f"load: {path!r} is corrupt or truncated ({type(error).__name__}: {error})") from error
    if _STRUCTURE_KEY not in arrays:
        return arrays
    try:
        description = json.loads(str(arrays.pop(_STRUCTURE_KEY)))
        return _decode(description["root"], arrays)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"load: {path!r} has a damaged structure record ({type(error).__name__}: {error})") \
            from error
