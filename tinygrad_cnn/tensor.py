"""Tensor: a NumPy array, its gradient, and the edge to the op that made it.

Every method that computes something calls a registered op (`tinygrad_cnn.ops`); this file holds no
derivative of its own. Factories and dtype rules live here too, since they only build Tensors.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

# From the module by its path: in the package, the name `device` is the class (tc.device).
from .device import CPU, DEVICE_TYPES, is_device_like, resolve_device
from .device import device as Device

if TYPE_CHECKING:
    from .autograd import Context

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
uint8 = np.dtype(np.uint8)
float16 = np.dtype(np.float16)  # named so that `tc.half` code gets a clear "not supported", not an AttributeError

# PyTorch's legacy type names, which `Tensor.type()` returns.
_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", int64: "LongTensor", int32: "IntTensor",
               int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor", bool_: "BoolTensor",
               np.dtype(np.uint16): "UInt16Tensor", np.dtype(np.uint32): "UInt32Tensor",
               np.dtype(np.uint64): "UInt64Tensor"}

DEFAULT_DTYPE = float32


def as_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from `np.float64`, `'float64'` or `tc.float64`; only float32/64, ints and bool."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"unknown dtype {dtype!r}") from error
    if resolved.kind == "f" and resolved not in (float32, float64):
        raise TypeError(f"dtype {resolved} is not supported: use float32 or float64")
    if resolved.kind not in "fiub":
        raise TypeError(f"dtype {resolved} is not supported: use float32, float64, an integer type or bool")
    return resolved


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """An owned array from data, following the Tensor dtype rules (see `Tensor`)."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=as_dtype(dtype))
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data, dtype=as_dtype(data.dtype))
    array = np.array(data)
    if array.dtype.kind == "f":
        return array.astype(DEFAULT_DTYPE)
    if array.dtype.kind in "iu":
        return array.astype(int64)
    if array.dtype.kind == "b":
        return array
    raise TypeError(f"cannot make a Tensor from {type(data).__name__} (NumPy made dtype {array.dtype})")


def parse_to_args(op: str, args: tuple, kwargs: dict) -> tuple[Device | None, np.dtype | None, bool]:
    """(device, dtype, copy) from PyTorch's forms of `.to`: (dtype, non_blocking, copy), (device, dtype,
    non_blocking, copy), (tensor, non_blocking, copy), or keywords. A string naming a device type ('cpu',
    'cuda:0') is a device, never a dtype; an unavailable device raises here, before anything changes."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(unknown)}")
    named: dict[str, Any] = {}
    if args:
        first, rest = args[0], args[1:]
        if isinstance(first, Tensor):
            named.update(dtype=first.dtype, device=first.device)
            slots: tuple[str, ...] = ("non_blocking", "copy")
        elif is_device_like(first):
            named["device"], slots = first, ("dtype", "non_blocking", "copy")
        else:
            named["dtype"], slots = first, ("non_blocking", "copy")
        if len(rest) > len(slots):
            raise TypeError(f"{op}() received too many positional arguments: {args!r}")
        named.update(zip(slots, rest))
    for name, value in kwargs.items():
        if name in named:
            raise TypeError(f"{op}() got multiple values for argument {name!r}")
        named[name] = value
    device = named.get("device")
    device = None if device is None else resolve_device(device, op)
    dtype = named.get("dtype")
    if isinstance(dtype, str):
        try:
            dtype = as_dtype(dtype)
        except TypeError:
            raise TypeError(f"{op}: {dtype!r} names neither a device type ({', '.join(DEVICE_TYPES)}) "
                            "nor a dtype") from None
    dtype = None if dtype is None else as_dtype(dtype)
    return device, dtype, bool(named.get("copy", False))


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept both `zeros(2, 3)` and `zeros((2, 3))`."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"shape must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


class Tensor:
    """An n-dimensional array that records the ops applied to it, for `.backward()`.

    `data` is a NumPy array, a nested list or a scalar. A float array keeps its dtype (float32 or
    float64); Python floats and lists become float32; integers become int64 (class labels); bool stays
    bool. `dtype=` converts. Only floating tensors can require grad.
    """

    # `_counter` is [changes in place, in-place rewrites of the graph], shared by a tensor and its views;
    # `_view_of` is, for a view, (its base's rewrite count when it was taken, the base, the op and its attributes
    # that made it); None for a tensor that owns its memory.
    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_counter", "_view_of", "name", "__weakref__")
    __array_priority__ = 1000  # so `ndarray + Tensor` defers to Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        self._data = to_array(data, dtype)
        self.grad: Tensor | None = None
        self._ctx: Context | None = None
        self._counter = [0, 0]
        self._view_of: tuple | None = None
        self.name = name
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, ctx: Context | None) -> Tensor:
        """Wrap an op's output without copying; ctx is its graph node or None."""
        tensor = object.__new__(cls)
        tensor._data = data
        tensor.grad = None
        tensor._ctx = ctx
        tensor._counter = [0, 0]
        tensor._view_of = None
        tensor.name = None
        tensor.requires_grad = ctx is not None
        return tensor

    # ----- attributes -------------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The same values as a tensor that shares this one's memory and records nothing, as PyTorch's `.data`.

        Changes made through it (`p.data.sub_(lr * p.grad.data)`) are invisible to autograd: not recorded and
        not counted by the version check that protects saved values, so prefer `with tc.no_grad():` and
        `.detach()` (which shares the version counter). `.numpy()` gives the NumPy array itself.
        """
        return Tensor._make(self._data, None)

    @data.setter
    def data(self, value: Any) -> None:
        """`t.data = other` makes this tensor hold `other`'s values (sharing its memory), keeping its identity,
        graph and `.grad`, as PyTorch's; the shape may change, the dtype must stay floating if grad is required."""
        array = value._data if isinstance(value, Tensor) else to_array(value)
        if self.requires_grad and array.dtype.kind != "f":
            raise TypeError(f"data: a tensor that requires grad must hold floating point values, got {array.dtype}")
        self._data = array

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dim, a tuple of ints (PyTorch's `torch.Size` is a tuple too)."""
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        """The element type, a NumPy dtype: `tc.float32` is `np.dtype('float32')` (PyTorch has `torch.dtype`)."""
        return self._data.dtype

    @property
    def ndim(self) -> int:
        """The number of dims, as `dim()`."""
        return self._data.ndim

    def size(self, dim: int | None = None) -> Any:
        """The shape (a tuple), or with `dim` the length of that dim, as PyTorch's (negative dims count
        from the end). For the element count, use `numel()`."""
        if dim is None:
            return self._data.shape
        if self._data.ndim == 0:
            raise IndexError(f"size: Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[_normalize_dim(dim, self._data.ndim, "size")]

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    def dim(self) -> int:
        """The number of dims, as `ndim`."""
        return self._data.ndim

    @property
    def _version(self) -> int:
        """How often this tensor (or a view sharing its memory) was changed in place, as PyTorch's."""
        return self._counter[0]

    @property
    def grad_fn(self) -> Context | None:
        """The graph node (`Context`) of the op that made this tensor; None for a leaf."""
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        """Whether no recorded op made this tensor.

        Tensors you create are leaves, and so are results computed without grad; backward fills `.grad` on the leaves
        that require grad."""
        return self._ctx is None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place and return this tensor.

        Only a floating tensor can require grad, and only a leaf can stop (`.detach()` a non-leaf)."""
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating point tensors can require gradients, this one is {self.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad can only be turned off on a leaf; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def numpy(self) -> np.ndarray:
        """The NumPy array itself (shared memory). Refused on a tensor that requires grad, as in PyTorch:
        writing into the array would change values the graph has recorded; use `.detach().numpy()`."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return self._data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor (any shape) as a Python float, int or bool."""
        if self._data.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python scalar, shape {self.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        """The values as nested Python lists of numbers (a plain number for a 0-d tensor)."""
        return self._data.tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph: it shares memory (and the version counter) with this tensor,
        so changing either in place changes both, as in PyTorch; `clone()` for an independent copy."""
        detached = Tensor._make(self._data, None)
        detached._counter = self._counter
        return detached

    def clone(self) -> Tensor:
        """A copy with its own memory that stays in the graph: the gradient flows back through it to this tensor."""
        return _movement.Clone.apply(self)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, this one is {self.dtype}")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """`np.asarray(tensor)`: the array itself, refused where grad is required, as `.numpy()` is."""
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", precision=4, threshold=200, prefix="tensor(")
        extras = [f"shape={self.shape}"] if self._data.ndim > 1 or self._data.size > 200 else []
        if self.dtype != float32 and self.dtype != int64:
            extras.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ----- autograd ---------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool = False, trace: bool = False) -> None:
        """Accumulate the gradient of this tensor into `.grad` of every leaf that requires grad.

        A non-scalar tensor needs `gradient` of its shape. The graph's saved arrays are freed
        afterwards unless `retain_graph=True`. `trace=True` prints each node as it is visited.
        """
        from . import autograd, debug

        autograd.backward(self, gradient, retain_graph, debug.tracer() if trace else None)

    def zero_grad(self) -> None:
        """Set `.grad` to None.

        PyTorch's Tensor has no such method; `Module.zero_grad` and `Optimizer.zero_grad` do this for many tensors."""
        self.grad = None

    # ----- device and dtype -------------------------------------------------------------------
    @property
    def device(self) -> Device:
        """Where the data lives: always the CPU (`device(type='cpu')`), as NumPy computes there."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        """False: tensors live on the CPU."""
        return False

    def cpu(self) -> Tensor:
        """This tensor: it is on the CPU already."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Refused: tinygrad_cnn computes with NumPy on the CPU."""
        raise RuntimeError("Tensor.cuda: no CUDA device: tinygrad_cnn computes with NumPy on the CPU")

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """`.to(dtype)`, `.to(device)`, `.to(device, dtype)`, `.to(other)` (other's dtype and device), each with
        `non_blocking` and `copy`, as PyTorch's: this tensor if nothing changes and `copy` is False."""
        _, dtype, copy = parse_to_args("Tensor.to", args, kwargs)
        dtype = self.dtype if dtype is None else dtype
        if dtype == self.dtype:
            return self.clone() if copy else self
        if self.requires_grad and dtype.kind != "f":
            return Tensor._make(self._data.astype(dtype), None)
        return _elementwise.Cast.apply(self, dtype=dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """With no dtype, PyTorch's type name ('torch.FloatTensor'); with one (or such a name), `to(dtype)`."""
        if dtype is None:
            return "torch." + _TYPE_NAMES[self.dtype]
        if isinstance(dtype, str) and dtype.startswith("torch."):
            by_name = {f"torch.{name}": known for known, name in _TYPE_NAMES.items()}
            if dtype not in by_name:
                raise ValueError(f"Tensor.type: invalid type {dtype!r} (expected one of {', '.join(by_name)}): "
                                 "tinygrad_cnn computes with NumPy on the CPU")
            dtype = by_name[dtype]
        return self.to(as_dtype(dtype))

    def float(self) -> Tensor:
        """As float32."""
        return self.to(float32)

    def double(self) -> Tensor:
        """As float64."""
        return self.to(float64)

    def long(self) -> Tensor:
        """As int64."""
        return self.to(int64)

    def int(self) -> Tensor:
        """As int32."""
        return self.to(int32)

    def bool(self) -> Tensor:
        """As bool."""
        return self.to(bool_)

    def half(self) -> Tensor:
        """Refused: float16 is not supported."""
        return self.to(float16)

    def is_floating_point(self) -> builtins.bool:
        """Whether the dtype is floating (float32 or float64)."""
        return self._data.dtype.kind == "f"

    def element_size(self) -> builtins.int:
        """Bytes per element."""
        return self._data.dtype.itemsize

    # ----- in place: the same tensor changes and its version counter moves -------------------------
    def _inplace(self, function: Any, *operands: Any, **attrs: Any) -> Tensor:
        """Write function(self, *operands) into this tensor's own array, as PyTorch's in-place ops do.

        When grad is recorded the op runs on a snapshot of the old values (ops may save their input for
        backward) and this tensor becomes the op's output in the graph; every check runs before anything
        changes.
        """
        from .autograd import grad_mode

        name = function.name
        recording = grad_mode.enabled and (
            self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands))
        if recording and self.requires_grad and self._ctx is None:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad is used in an in-place operation; "
                               "wrap the update in `with tc.no_grad():`")
        if recording and self._view_of is not None:
            return self._inplace_on_a_slice(function, *operands, **attrs)
        if not self._data.flags.writeable:
            raise RuntimeError(f"{name}: this tensor is an expanded view whose elements share memory; clone() it "
                               "before changing it in place")
        source = Tensor._make(self._data.copy(), self._ctx) if recording else self
        result = function.apply(source, *operands, **attrs)
        if result.shape != self.shape:
            raise RuntimeError(f"{name}: the result has shape {result.shape} but the tensor changed in place has "
                               f"shape {self.shape}; an in-place op cannot broadcast the tensor it changes")
        if result.dtype != self.dtype:
            if not np.can_cast(result.dtype, self.dtype, "same_kind"):
                raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired output type "
                                   f"{self.dtype}")
            result = result.to(self.dtype)
        self._data[...] = result._data
        self._counter[0] += 1
        if recording:
            self._ctx = result._ctx
            self.requires_grad = True
            self._counter[1] += 1  # views taken before now have a stale history: the engine refuses them
        return self

    def _inplace_on_a_slice(self, function: Any, *operands: Any, **attrs: Any) -> Tensor:
        """An in-place op on a view while grad is recorded, as PyTorch: the result is assigned into the base
        (`base[index] = op(view)`, recorded there), whose memory the view shares, and the view is taken again
        from the base's new history. Only slices (basic indexing) can be written back this way."""
        _, base, made_by, made_with = self._view_of  # type: ignore[misc]  # a view here
        if made_by is not _movement.GetItem:
            raise RuntimeError(f"{function.name}: this tensor is a view ({made_by.name}) of another, and changing "
                               "such a view in place while grad is recorded is not supported; change the base "
                               "tensor itself, or clone() the view first")
        index = made_with["index"]
        current = _movement.Clone.apply(_movement.GetItem.apply(base, index=index))  # the values, owned
        result = function.apply(current, *operands, **attrs)
        if result.shape != self.shape:
            raise RuntimeError(f"{function.name}: the result has shape {result.shape} but the tensor changed in "
                               f"place has shape {self.shape}; an in-place op cannot broadcast the tensor it "
                               "changes")
        if result.dtype != self.dtype and not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise RuntimeError(f"{function.name}: result type {result.dtype} can't be cast to the desired output "
                               f"type {self.dtype}")
        base[index] = result  # checks the base (a leaf that requires grad is refused), then records the write
        refreshed = _movement.GetItem.apply(base, index=index)
        self._ctx, self.requires_grad, self._view_of = refreshed._ctx, refreshed.requires_grad, refreshed._view_of
        return self

    def add_(self, other: Any, alpha: builtins.float = 1) -> Tensor:
        """self += alpha * other, in place."""
        return self._inplace(_inplace.AddInPlace, scaled_operand("add_", self, other, alpha))

    def sub_(self, other: Any, alpha: builtins.float = 1) -> Tensor:
        """self -= alpha * other, in place."""
        return self._inplace(_inplace.SubInPlace, scaled_operand("sub_", self, other, alpha))

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return self._inplace(_inplace.MulInPlace, _operand(other))

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        return self._inplace(_inplace.DivInPlace, _operand(other))

    def clamp_(self, min: builtins.float | None = None, max: builtins.float | None = None) -> Tensor:  # noqa: A002
        """self limited to [min, max], in place."""
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        return self._inplace(_inplace.ClampInPlace, min=min, max=max)

    clip_ = clamp_

    def zero_(self) -> Tensor:
        """Every element set to 0, in place."""
        return self._inplace(_inplace.Zero)

    def fill_(self, value: Any) -> Tensor:
        """Every element set to `value` (a number or a 0-d tensor), in place."""
        if isinstance(value, Tensor) and value.ndim != 0:
            raise RuntimeError(f"fill_: only a number or a 0-d tensor can be the value, got shape {value.shape}")
        return self._inplace(_inplace.Fill, value)

    def copy_(self, source: Any) -> Tensor:
        """The elements of `source` (broadcast to this shape, converted to this dtype), in place."""
        return self._inplace(_inplace.Copy, source if isinstance(source, Tensor) else to_array(source))

    def __setitem__(self, index: Any, value: Any) -> None:
        if not isinstance(value, (Tensor, int, float, bool)):
            value = to_array(value)
        self._inplace(_inplace.IndexPut, value, index=_index(index))

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def _modified(self) -> Tensor:
        """Note a change made to `data` directly (optimizers, load_state_dict): saved arrays go stale."""
        self._counter[0] += 1
        return self

    # ----- arithmetic -------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _elementwise.Add.apply(self, _operand(other))

    def __radd__(self, other: Any) -> Tensor:
        return _elementwise.Add.apply(_operand(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return _elementwise.Sub.apply(self, _operand(other))

    def __rsub__(self, other: Any) -> Tensor:
        return _elementwise.Sub.apply(_operand(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return _elementwise.Mul.apply(self, _operand(other))

    def __rmul__(self, other: Any) -> Tensor:
        return _elementwise.Mul.apply(_operand(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _elementwise.Div.apply(self, _operand(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _elementwise.Div.apply(_operand(other), self)

    def __mod__(self, other: Any) -> Tensor:
        return _elementwise.Remainder.apply(self, _operand(other))

    def __rmod__(self, other: Any) -> Tensor:
        return _elementwise.Remainder.apply(_operand(other), self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _elementwise.FloorDivide.apply(self, _operand(other))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _elementwise.FloorDivide.apply(_operand(other), self)

    def __pow__(self, other: Any) -> Tensor:
        return _elementwise.Pow.apply(self, _operand(other))

    def __rpow__(self, other: Any) -> Tensor:
        return _elementwise.Pow.apply(_operand(other), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _matmul.MatMul.apply(self, _operand(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul.MatMul.apply(_operand(other), self)

    def __neg__(self) -> Tensor:
        return _elementwise.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def matmul(self, other: Any) -> Tensor:
        """The matrix product `self @ other`.

        As PyTorch's: a 1-D operand is a vector, leading dims are a broadcast batch."""
        return self @ other

    # Logic on bool (and bitwise on integer) tensors: masks, recording nothing, as in PyTorch.
    def __invert__(self) -> Tensor:
        return Tensor._make(np.invert(_logical_operand("~", self._data)), None)

    def logical_not(self) -> Tensor:
        """True where this tensor is zero (False), any dtype."""
        return Tensor._make(np.logical_not(self._data), None)

    def __and__(self, other: Any) -> Tensor:
        return Tensor._make(np.bitwise_and(_logical_operand("&", self._data), _logical_operand("&", _raw(other))), None)

    def __or__(self, other: Any) -> Tensor:
        return Tensor._make(np.bitwise_or(_logical_operand("|", self._data), _logical_operand("|", _raw(other))), None)

    def __xor__(self, other: Any) -> Tensor:
        return Tensor._make(np.bitwise_xor(_logical_operand("^", self._data), _logical_operand("^", _raw(other))), None)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    # Comparisons give bool tensors and record nothing, as in PyTorch.
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(np.equal(self._data, _raw(other)), None)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(np.not_equal(self._data, _raw(other)), None)

    def __lt__(self, other: Any) -> Tensor:
        return Tensor._make(np.less(self._data, _raw(other)), None)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._make(np.less_equal(self._data, _raw(other)), None)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._make(np.greater(self._data, _raw(other)), None)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._make(np.greater_equal(self._data, _raw(other)), None)

    # ----- elementwise ------------------------------------------------------------------------
    def exp(self) -> Tensor:
        """e ** self, elementwise."""
        return _elementwise.Exp.apply(self)

    def log(self) -> Tensor:
        """The natural logarithm, elementwise (-inf at 0, NaN below)."""
        return _elementwise.Log.apply(self)

    def sqrt(self) -> Tensor:
        """The square root, elementwise (NaN below 0)."""
        return _elementwise.Sqrt.apply(self)

    def abs(self) -> Tensor:
        """|self|, elementwise; the gradient at 0 is 0, as PyTorch's."""
        return _elementwise.Abs.apply(self)

    def clip(self, min: builtins.float | None = None, max: builtins.float | None = None) -> Tensor:  # noqa: A002
        """This tensor limited to [min, max]; either bound may be None, not both. `clamp` is the same method.

        The bounds are numbers or tensors (broadcast against this one). The gradient passes where min <= x <= max,
        and to a tensor bound where it is the value taken, as PyTorch's. An integer tensor with a float bound gives
        float32."""
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            # As where(x < min, min, x), then the same for max: each bound gets the gradient where it is taken.
            low = self if min is None else _pointwise.where(self < min, _operand(min), self)
            return low if max is None else _pointwise.where(low > max, _operand(max), low)
        return _elementwise.Clip.apply(self, min=min, max=max)

    clamp = clip

    def tanh(self) -> Tensor:
        """The hyperbolic tangent, elementwise."""
        return _activation.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e ** -x), elementwise."""
        return _activation.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        """max(x, 0), elementwise; the gradient at 0 is 0, as PyTorch's."""
        return _activation.ReLU.apply(self)

    def relu_(self) -> Tensor:
        """max(x, 0), in place."""
        return self._inplace(_inplace.ReLUInPlace)

    def leaky_relu_(self, negative_slope: builtins.float = 0.01) -> Tensor:
        """x where x > 0, else negative_slope * x, in place."""
        return self._inplace(_inplace.LeakyReLUInPlace, negative_slope=negative_slope)

    def leaky_relu(self, negative_slope: builtins.float = 0.01) -> Tensor:
        """x where x > 0, else negative_slope * x, elementwise.

        Not a method of PyTorch's Tensor (it has `F.leaky_relu`)."""
        return _activation.LeakyReLU.apply(self, negative_slope=negative_slope)

    def softmax(self, dim: builtins.int = -1) -> Tensor:
        """exp(x) normalised to sum to 1 over `dim`; `dim` defaults to the last, where PyTorch asks for it."""
        return _activation.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim: builtins.int = -1) -> Tensor:
        """log(softmax(x)) over `dim`, computed stably; `dim` defaults to the last, where PyTorch asks for it."""
        return _activation.LogSoftmax.apply(self, dim=dim)

    # ----- pointwise (ops/pointwise.py) -------------------------------------------------------
    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element; the gradient is 0."""
        return _pointwise.sign(self)

    def sin(self) -> Tensor:
        """The sine, elementwise."""
        return _pointwise.sin(self)

    def cos(self) -> Tensor:
        """The cosine, elementwise."""
        return _pointwise.cos(self)

    def maximum(self, other: Tensor) -> Tensor:
        """The elementwise larger of this tensor and `other` (a Tensor, broadcast).

        At a tie each gets half the gradient, as in PyTorch."""
        return _pointwise.maximum(self, other)

    def minimum(self, other: Tensor) -> Tensor:
        """The elementwise smaller of this tensor and `other` (a Tensor, broadcast).

        At a tie each gets half the gradient, as in PyTorch."""
        return _pointwise.minimum(self, other)

    def where(self, condition: Tensor, other: Any) -> Tensor:
        """self where condition else other, as PyTorch's `x.where(condition, y)`."""
        return _pointwise.where(condition, self, other)

    # ----- reductions -------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None, axis: Any = None) -> Tensor:
        """Sum over dim (None: all); `dtype` converts the tensor first, as PyTorch's."""
        source = self if dtype is None else self.to(dtype)
        return _reduce.Sum.apply(source, dim=_reduce.dim_alias(dim, axis), keepdim=keepdim)

    def mean(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None, axis: Any = None) -> Tensor:
        """Mean over dim (None: all); `dtype` converts the tensor first, as PyTorch's."""
        source = self if dtype is None else self.to(dtype)
        return _reduce.Mean.apply(source, dim=_reduce.dim_alias(dim, axis), keepdim=keepdim)

    def var(self, dim: Any = None, keepdim: builtins.bool = False, correction: builtins.int = 1, *,
             axis: Any = None) -> Tensor:
        """The variance over dim (None: all; an int or a tuple), divided by N - correction.

        The default correction=1 is the unbiased estimate, as PyTorch's; N - correction <= 0 warns and gives inf or
        NaN."""
        return _reduce.Var.apply(self, dim=_reduce.dim_alias(dim, axis), keepdim=keepdim, correction=correction)

    def std(self, dim: Any = None, keepdim: builtins.bool = False, correction: builtins.int = 1, *,
             axis: Any = None) -> Tensor:
        """The standard deviation, `var(dim, keepdim, correction).sqrt()`."""
        return self.var(dim, keepdim, correction, axis=axis).sqrt()

    def amax(self, dim: Any = None, keepdim: builtins.bool = False, *, axis: Any = None) -> Tensor:
        """The largest value over dim (None: all; an int or a tuple); tied maxima share the gradient evenly."""
        return _reduce.Amax.apply(self, dim=_reduce.dim_alias(dim, axis), keepdim=keepdim)

    def amin(self, dim: Any = None, keepdim: builtins.bool = False, *, axis: Any = None) -> Tensor:
        """The smallest value over dim (None: all; an int or a tuple); tied minima share the gradient evenly."""
        return _reduce.Amin.apply(self, dim=_reduce.dim_alias(dim, axis), keepdim=keepdim)

    def max(self, dim: builtins.int | None = None, keepdim: builtins.bool = False, *, axis: Any = None) -> Any:
        """With no dim, the largest element (ties share the gradient); with an int dim, the pair
        `(values, indices)` whose gradient goes to the returned index, as in PyTorch."""
        return _reduce.extremum(self, _reduce.dim_alias(dim, axis), keepdim, largest=True)

    def min(self, dim: builtins.int | None = None, keepdim: builtins.bool = False, *, axis: Any = None) -> Any:
        """The smallest element, or over an int `dim` the pair `(values, indices)`, as `max`.

        With no dim, tied minima share the gradient; with a dim, it goes to the returned index, as in PyTorch. The pair
        also reads as `.values` and `.indices`."""
        return _reduce.extremum(self, _reduce.dim_alias(dim, axis), keepdim, largest=False)

    def argmax(self, dim: builtins.int | None = None, keepdim: builtins.bool = False, *, axis: Any = None) -> Tensor:
        """The index of the first largest element over the int `dim`, int64, no gradient.

        With no dim, its index in the flattened tensor."""
        return _reduce.arg_extremum(self, _reduce.dim_alias(dim, axis), keepdim, largest=True)

    def argmin(self, dim: builtins.int | None = None, keepdim: builtins.bool = False, *, axis: Any = None) -> Tensor:
        """The index of the first smallest element over the int `dim`, int64, no gradient.

        With no dim, its index in the flattened tensor."""
        return _reduce.arg_extremum(self, _reduce.dim_alias(dim, axis), keepdim, largest=False)

    # ----- common math functions (ops/math_functions.py) ----------------------------------------
    def neg(self) -> Tensor:
        """-self, elementwise; `negative` is the same method."""
        return _elementwise.Neg.apply(self)

    negative = neg

    def log1p(self) -> Tensor:
        """log(1 + self), elementwise, exact for small values."""
        return _math.Log1p.apply(self)

    def expm1(self) -> Tensor:
        """e ** self - 1, elementwise, exact for small values."""
        return _math.Expm1.apply(self)

    def square(self) -> Tensor:
        """self * self, elementwise; integer tensors stay integer (bool gives int64)."""
        return _math.Square.apply(self)

    def rsqrt(self) -> Tensor:
        """1 / sqrt(self), elementwise (inf at 0, NaN below)."""
        return _math.Rsqrt.apply(self)

    def reciprocal(self) -> Tensor:
        """1 / self, elementwise; integer tensors give float32."""
        return _math.Reciprocal.apply(self)

    def floor(self) -> Tensor:
        """The largest integer <= each element; the gradient is 0."""
        return _math.Floor.apply(self)

    def ceil(self) -> Tensor:
        """The smallest integer >= each element; the gradient is 0."""
        return _math.Ceil.apply(self)

    def round(self, decimals: builtins.int = 0) -> Tensor:
        """Each element rounded to `decimals` places, halves to even; the gradient is 0."""
        return _math.Round.apply(self, decimals=decimals)

    def trunc(self) -> Tensor:
        """Each element rounded toward 0; the gradient is 0."""
        return _math.Trunc.apply(self)

    def isnan(self) -> Tensor:
        """True where the element is NaN; a bool tensor, no gradient."""
        return _math.isnan(self)

    def isinf(self) -> Tensor:
        """True where the element is inf or -inf; a bool tensor, no gradient."""
        return _math.isinf(self)

    def isfinite(self) -> Tensor:
        """True where the element is neither NaN nor +-inf; a bool tensor, no gradient."""
        return _math.isfinite(self)

    def nan_to_num(self, nan: builtins.float = 0.0, posinf: builtins.float | None = None,
                   neginf: builtins.float | None = None) -> Tensor:
        """NaN, inf and -inf replaced by `nan`, `posinf` and `neginf` (by default the dtype's largest and lowest
        values); the replaced elements get no gradient."""
        return _math.NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    def logsumexp(self, dim: Any, keepdim: builtins.bool = False) -> Tensor:
        """log(sum(exp(self))) over dim (an int or a tuple), computed without overflow; an empty dim gives -inf."""
        return _math.LogSumExp.apply(self, dim=dim, keepdim=keepdim)

    def prod(self, dim: builtins.int | None = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        """The product over one int dim (None: all); integer tensors give int64. `dtype` converts the tensor first.

        The gradient is exact with zeros, as PyTorch's: each element gets the product of the others."""
        source = self if dtype is None else self.to(dtype)
        return _math.Prod.apply(source, dim=dim, keepdim=keepdim)

    def cumsum(self, dim: builtins.int, *, dtype: Any = None) -> Tensor:
        """Running sums along dim; integer tensors give int64. `dtype` converts the tensor first."""
        source = self if dtype is None else self.to(dtype)
        return _math.CumSum.apply(source, dim=dim)

    def mm(self, mat2: Tensor) -> Tensor:
        """The matrix product of two matrices, (n, k) @ (k, m) -> (n, m); no broadcasting."""
        return _math.mm(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        """The batched matrix product, (B, n, k) @ (B, k, m) -> (B, n, m); no broadcasting."""
        return _math.bmm(self, mat2)

    def dot(self, other: Tensor) -> Tensor:
        """The inner product of two 1-D tensors of one length and dtype, a 0-d tensor."""
        return _math.dot(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        """The outer product of two 1-D tensors, (n,) and (m,) -> (n, m)."""
        return _math.outer(self, vec2)

    def sort(self, dim: builtins.int = -1, descending: builtins.bool = False, stable: builtins.bool = False) -> Any:
        """This tensor sorted along dim, as `(values, indices)` (also `.values`, `.indices`).

        The gradient flows through the values; ties keep their order (the sort is always stable) and NaN sorts as
        the largest value, as in PyTorch."""
        return _math.sort(self, dim, descending, stable)

    def argsort(self, dim: builtins.int = -1, descending: builtins.bool = False,
                stable: builtins.bool = False) -> Tensor:
        """The int64 indices that sort this tensor along dim, as `sort(...).indices`; no gradient."""
        return _math.argsort(self, dim, descending, stable)

    def topk(self, k: builtins.int, dim: builtins.int = -1, largest: builtins.bool = True,
             sorted: builtins.bool = True) -> Any:  # noqa: A002
        """The k largest (or smallest) elements along dim as `(values, indices)`, always in sorted order.

        The gradient flows through the values; NaN counts as the largest value, as in PyTorch."""
        return _math.topk(self, k, dim, largest, sorted)

    # ----- shape ------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape: `reshape(2, -1)` or `reshape((2, -1))`, one dim may be -1.

        A view sharing memory where NumPy can make one, else a copy. `view` is this same method: unlike PyTorch's
        `view`, it copies a tensor whose memory does not fit the new shape instead of refusing it, so a change in place
        to the result may then not reach this tensor."""
        return _movement.Reshape.apply(self, shape=_movement.resolve_shape(self.shape, shape))

    view = reshape

    def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> Tensor:
        """Dims start_dim..end_dim merged into one; a 0-d tensor becomes shape (1,)."""
        return _movement.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: builtins.int, sizes: Sequence[builtins.int]) -> Tensor:
        """Dim `dim` split into `sizes` (one may be -1): (*, S, *) -> (*, *sizes, *) with prod(sizes) = S."""
        return _movement.unflatten(self, dim, sizes)

    def permute(self, *dims: Any) -> Tensor:
        """The dims reordered, a view: output dim i is input dim dims[i]; `permute(2, 0, 1)` or `permute((2, 0, 1))`."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return _movement.Permute.apply(self, dims=dims)

    def transpose(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        """Dims dim0 and dim1 swapped, a view."""
        return _movement.transpose(self, dim0, dim1)

    @property
    def T(self) -> Tensor:  # noqa: N802
        """All dims reversed (a matrix transposed).

        PyTorch warns that `.T` on other than 2 dims is deprecated; this reverses them without a warning."""
        return self.permute(tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim: builtins.int) -> Tensor:
        """A dim of size 1 inserted at `dim` (-1: the new last dim)."""
        return _movement.unsqueeze(self, dim)

    def squeeze(self, dim: builtins.int | tuple | None = None) -> Tensor:
        """Dims of size 1 removed: all of them, or those of `dim` (an int or a tuple) that have size 1, as PyTorch's."""
        return _movement.squeeze(self, dim)

    def expand(self, *shape: Any) -> Tensor:
        """Size-1 dims repeated to `shape` without copying; -1 keeps a dim, new dims go in front.

        The repeated elements share memory, so an in-place change to the result is refused: `clone()` it first."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _movement.Expand.apply(self, shape=tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        return _movement.GetItem.apply(self, index=_index(index))

    # ----- more shape and indexing (ops/indexing.py) ------------------------------------------------------
    def flip(self, *dims: Any) -> Tensor:
        """The elements in reverse order along each of `dims` (`flip(0, 1)` or `flip((0, 1))`), a copy."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return _indexing.Flip.apply(self, dims=tuple(dims))

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Elements shifted by `shifts` along `dims` (one shift per dim; without dims, of the flattened tensor),
        wrapping around at the end."""
        return _indexing.Roll.apply(self, shifts=shifts, dims=dims)

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled `sizes[i]` times along dim i (`repeat(2, 3)` or `repeat((2, 3))`); sizes beyond the
        tensor's dims add dims in front: (n0, n1) -> (s0 * n0, s1 * n1)."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        return _indexing.Repeat.apply(self, sizes=tuple(sizes))

    def repeat_interleave(self, repeats: Any = None, dim: builtins.int | None = None) -> Tensor:
        """Each entry along `dim` (None: each element of the flattened tensor) repeated `repeats` times."""
        return _indexing.repeat_interleave(self, repeats, dim)

    def split(self, split_size_or_sections: Any, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """Views cut along `dim`: pieces of an int size (the last may be smaller) or of the listed sizes."""
        return _indexing.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """At most `chunks` views cut along `dim`, of ceil(length / chunks) each (the last may be smaller)."""
        return _indexing.chunk(self, chunks, dim)

    def unbind(self, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, each without that dim: (*, S, *) -> S tensors of shape (*, *)."""
        return _indexing.unbind(self, dim)

    def gather(self, dim: builtins.int, index: Tensor) -> Tensor:
        """Values picked along `dim` by an integer `index` with as many dims as this tensor; the result has
        index's shape: `out[i][j] = self[i][index[i][j]]` for dim 1."""
        _expect_tensor_arg("gather", "index", index)
        return _indexing.Gather.apply(self, dim=dim, index=index._data)

    def index_select(self, dim: builtins.int, index: Tensor) -> Tensor:
        """The entries along `dim` at the positions of a 1-d integer `index`, in its order (repeats allowed)."""
        _expect_tensor_arg("index_select", "index", index)
        return _indexing.IndexSelect.apply(self, dim=dim, index=index._data)

    def scatter(self, dim: builtins.int, index: Tensor, src: Any) -> Tensor:
        """A copy with `src`'s values (a tensor of this dtype, or a number) written where `index` points along
        `dim`: for dim 1, `out[i][index[i][j]] = src[i][j]`; where index repeats a position, the last write wins."""
        _expect_tensor_arg("scatter", "index", index)
        if not isinstance(src, Tensor):
            if not isinstance(src, (builtins.int, builtins.float, builtins.bool, np.number, np.bool_)):
                raise TypeError(f"scatter(): argument 'src' must be a Tensor or a number, not {type(src).__name__}")
            src = np.full(index.shape, src, dtype=self.dtype)  # PyTorch's `value` form: a constant, cast to the dtype
        return _indexing.Scatter.apply(self, src, dim=dim, index=index._data)

    def scatter_add(self, dim: builtins.int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with `src`'s values added where `index` points along `dim`: for dim 1,
        `out[i][index[i][j]] += src[i][j]`; repeated positions add up."""
        _expect_tensor_arg("scatter_add", "index", index)
        _expect_tensor_arg("scatter_add", "src", src)
        return _indexing.ScatterAdd.apply(self, src, dim=dim, index=index._data)

    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        """A copy with `value` (a number or a 0-d tensor) where the bool `mask` (broadcast with it) is True."""
        _indexing.check_mask("masked_fill", mask, value)
        return _indexing.MaskedFill.apply(self, value, mask=mask._data)

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        """`value` (a number or a 0-d tensor) written where the bool `mask` (broadcast to this shape) is True,
        in place."""
        _indexing.check_mask("masked_fill_", mask, value)
        return self._inplace(_indexing.MaskedFillInPlace, value, mask=mask._data)

    def tril(self, diagonal: builtins.int = 0) -> Tensor:
        """The lower triangle of the last two dims (on and below `diagonal`; > 0 above the main one), the rest 0."""
        return _indexing.Tril.apply(self, diagonal=diagonal)

    def triu(self, diagonal: builtins.int = 0) -> Tensor:
        """The upper triangle of the last two dims (on and above `diagonal`; > 0 above the main one), the rest 0."""
        return _indexing.Triu.apply(self, diagonal=diagonal)

    def view_as(self, other: Tensor) -> Tensor:
        """The same elements in `other`'s shape, as `reshape(other.shape)`."""
        _expect_tensor_arg("view_as", "other", other)
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """The same elements in `other`'s shape, as `reshape(other.shape)`."""
        _expect_tensor_arg("reshape_as", "other", other)
        return self.reshape(other.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """Size-1 dims repeated to `other`'s shape without copying, as `expand(other.shape)`."""
        _expect_tensor_arg("expand_as", "other", other)
        return self.expand(other.shape)

    def is_contiguous(self) -> builtins.bool:
        """Whether the elements lie in memory in row-major order without gaps (not after a transpose or expand)."""
        return builtins.bool(self._data.flags.c_contiguous)

    def contiguous(self) -> Tensor:
        """This tensor when it is contiguous, else a row-major copy that stays in the graph (as `clone()`)."""
        return self if self.is_contiguous() else self.clone()

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: builtins.bool = False) -> Tensor:
        """A tensor of zeros of `size`, of this tensor's dtype unless dtype= says otherwise."""
        return zeros(*size, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: builtins.bool = False) -> Tensor:
        """A tensor of ones of `size`, of this tensor's dtype unless dtype= says otherwise."""
        return ones(*size, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size: Sequence[builtins.int], fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: builtins.bool = False) -> Tensor:
        """A tensor of `size` (a sequence of ints) filled with fill_value, of this tensor's dtype unless dtype=
        says otherwise."""
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"new_full(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype, device=device,
                    requires_grad=requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: builtins.bool = False) -> Tensor:
        """A new tensor holding a copy of `data` (outside any graph), of this tensor's dtype unless dtype= says
        otherwise."""
        return tensor(_raw(data), dtype=self.dtype if dtype is None else dtype, device=device,
                      requires_grad=requires_grad)

    # ----- PyTorch's method forms: x.add(y) for x + y, and a few more -------------------------------
    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        """self + alpha * other."""
        return self + scaled_operand("add", self, other, alpha)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        """self - alpha * other."""
        return self - scaled_operand("sub", self, other, alpha)

    def mul(self, other: Any) -> Tensor:
        """self * other."""
        return self * other

    def div(self, other: Any, rounding_mode: str | None = None) -> Tensor:
        """self / other (true division; `rounding_mode` 'trunc' and 'floor' are not implemented)."""
        if rounding_mode is not None:
            raise ValueError(f"div: rounding_mode={rounding_mode!r} is not supported, only None (true division)")
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent."""
        return self ** exponent

    def t(self) -> Tensor:
        """A matrix transposed; a vector or a 0-d tensor as it is, as PyTorch's."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D; use "
                               "transpose(dim0, dim1) or permute")
        return self.transpose(0, 1) if self.ndim == 2 else self

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: builtins.bool = False, dtype: Any = None) -> Tensor:
        """The vector p-norm over dim (None: all): 'fro' or 2, 1, inf, -inf, 0 or another number."""
        return _reduce.norm(self, p, dim, keepdim, dtype)

    def all(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        """Whether every element (over dim) is nonzero: bool (uint8 for uint8), no gradient."""
        return _logical_reduction(np.all, self, dim, keepdim, "all")

    def any(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        """Whether some element (over dim) is nonzero: bool (uint8 for uint8), no gradient."""
        return _logical_reduction(np.any, self, dim, keepdim, "any")

    # ----- CNN ops as methods --------------------------------------------------------------------
    def linear(self, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        """`F.linear(self, weight, bias)`: self @ weight.T + bias, (*, in_features) -> (*, out_features).

        Not a method of PyTorch's Tensor."""
        return _matmul.linear(self, weight, bias)

    def conv2d(self, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: builtins.int = 1) -> Tensor:
        """`F.conv2d(self, weight, bias, ...)`: (N, C_in, H, W) -> (N, C_out, H_out, W_out).

        weight is (C_out, C_in/groups, kH, kW). Not a method of PyTorch's Tensor."""
        from .ops import conv

        return conv.conv2d(self, weight, bias, stride, padding, dilation, groups)

    def conv1d(self, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: builtins.int = 1) -> Tensor:
        """`F.conv1d(self, weight, bias, ...)`: (N, C_in, L) -> (N, C_out, L_out).

        weight is (C_out, C_in/groups, k). Not a method of PyTorch's Tensor."""
        from .ops import conv

        return conv.conv1d(self, weight, bias, stride, padding, dilation, groups)

    def max_pool2d(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                   ceil_mode: builtins.bool = False) -> Tensor:
        """`F.max_pool2d(self, ...)`: the largest value of each window, (N, C, H, W) -> (N, C, H_out, W_out).

        Not a method of PyTorch's Tensor."""
        from .ops import pool

        return pool.max_pool2d(self, kernel_size, stride, padding, dilation, ceil_mode)

    def avg_pool2d(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
        """`F.avg_pool2d(self, ...)`: the mean of each window, (N, C, H, W) -> (N, C, H_out, W_out).

        Not a method of PyTorch's Tensor."""
        from .ops import pool

        return pool.avg_pool2d(self, kernel_size, stride, padding)


def _logical_operand(op: str, value: Any) -> Any:
    """A bool or integer operand of ~ & | ^ (PyTorch refuses them on float tensors)."""
    if np.asarray(value).dtype.kind not in "biu":
        raise TypeError(f"{op} is only defined for bool and integer tensors, got dtype {np.asarray(value).dtype}")
    return value


def scaled_operand(op: str, x: Any, other: Any, alpha: Any) -> Any:
    """alpha * other for x + alpha * other (add, sub), refusing a float alpha for integers as PyTorch does."""
    other = _operand(other)
    if isinstance(alpha, float) and _result_type(op, _raw(x), _raw(other)).kind != "f":
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a floating point number, "
                           f"got alpha={alpha}")
    return other if alpha == 1 else other * alpha


def _logical_reduction(reduce: Any, x: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    result = reduce(x._data, axis=_normalize_dims(dim, x.ndim, op), keepdims=keepdim)
    return Tensor._make(np.asarray(result, uint8 if x.dtype == uint8 else bool_), None)


def _raw(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


def _operand(value: Any) -> Any:
    """The other side of a binary op: Tensors, numbers and arrays as they are, anything else as an array.

    A NumPy scalar becomes a Python number, which NumPy treats as weakly typed: `np.float64(2) * x`
    keeps x float32, as in PyTorch.
    """
    if isinstance(value, np.generic):  # before float: np.float64 subclasses float
        return value.item()
    if isinstance(value, (Tensor, int, float, np.ndarray)):
        return value
    return to_array(value)


def _index(index: Any) -> Any:
    """An index as NumPy reads it: Tensors replaced by their arrays (integer and bool tensors index like
    arrays), and lists by arrays (an empty list by an empty integer array, which selects nothing)."""
    if isinstance(index, tuple):
        return tuple(_index_part(part) for part in index)
    return _index_part(index)


def _index_part(part: Any) -> Any:
    if isinstance(part, slice) and part.step is not None and part.step <= 0:
        raise ValueError(f"index: step must be greater than zero (got the slice {part}), as in PyTorch")
    if isinstance(part, Tensor):
        return part._data
    if isinstance(part, list):
        array = np.asarray(part)
        return array.astype(int64) if array.size == 0 else array
    return part


# ----- factories: each takes `device=` (the CPU) and checks it, dtype and requires_grad before drawing -----
def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, *, device: Any = None) -> Tensor:
    """A new tensor holding a copy of data (see `Tensor` for the dtype rules)."""
    resolve_device(device, "tensor")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _prepare(op: str, device: Any, dtype: np.dtype, requires_grad: bool) -> np.dtype:
    """A factory's dtype, once its device and requires_grad are known to be possible with it."""
    resolve_device(device, op)
    if requires_grad and dtype.kind != "f":
        raise TypeError(f"{op}: only floating point tensors can require gradients, the dtype is {dtype}")
    return dtype


def _factory(array: np.ndarray, requires_grad: bool) -> Tensor:
    result = Tensor._make(array, None)
    return result.requires_grad_(True) if requires_grad else result


def _float_dtype(dtype: Any) -> np.dtype:
    return DEFAULT_DTYPE if dtype is None else as_dtype(dtype)


def _random_dtype(dtype: Any, op: str) -> np.dtype:
    """A floating dtype for random draws (default float32)."""
    dtype = _float_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: random values of this distribution need a floating dtype, got {dtype}")
    return dtype


def zeros(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given shape (`zeros(2, 3)` or `zeros((2, 3))`); float32 unless dtype= says otherwise."""
    dtype = _prepare("zeros", device, _float_dtype(dtype), requires_grad)
    return _factory(np.zeros(_shape_arg(shape), dtype), requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given shape (`ones(2, 3)` or `ones((2, 3))`); float32 unless dtype= says otherwise."""
    dtype = _prepare("ones", device, _float_dtype(dtype), requires_grad)
    return _factory(np.ones(_shape_arg(shape), dtype), requires_grad)


def empty(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` whose values are not to be read: zeros here (PyTorch leaves memory as it was)."""
    dtype = _prepare("empty", device, _float_dtype(dtype), requires_grad)
    return _factory(np.zeros(_shape_arg(shape), dtype), requires_grad)


def full(shape: Sequence[int] | int, fill_value: float, dtype: Any = None, requires_grad: bool = False, *,
         device: Any = None) -> Tensor:
    """A tensor of `shape` (an int or a sequence) filled with fill_value.

    The dtype follows fill_value unless dtype= says otherwise, as PyTorch's: float32 for a float, int64 for an int,
    bool for a bool."""
    shape = _shape_arg((shape,) if isinstance(shape, int) else (tuple(shape),))
    dtype = _prepare("full", device, to_array(fill_value).dtype if dtype is None else as_dtype(dtype), requires_grad)
    return _factory(np.full(shape, fill_value, dtype), requires_grad)


def _like_dtype(op: str, other: Tensor, dtype: Any, device: Any, requires_grad: bool) -> np.dtype:
    return _prepare(op, device, other.dtype if dtype is None else as_dtype(dtype), requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None) -> Tensor:
    """Zeros in other's shape and dtype (dtype= overrides it)."""
    dtype = _like_dtype("zeros_like", other, dtype, device, requires_grad)
    return _factory(np.zeros(other.shape, dtype), requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None) -> Tensor:
    """Ones in other's shape and dtype (dtype= overrides it)."""
    dtype = _like_dtype("ones_like", other, dtype, device, requires_grad)
    return _factory(np.ones(other.shape, dtype), requires_grad)


def empty_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None) -> Tensor:
    """A tensor shaped as other whose values are not to be read: zeros here."""
    dtype = _like_dtype("empty_like", other, dtype, device, requires_grad)
    return _factory(np.zeros(other.shape, dtype), requires_grad)


def full_like(other: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False, *,
              device: Any = None) -> Tensor:
    """fill_value in other's shape and dtype (a float fill truncated for an integer dtype, as PyTorch)."""
    dtype = _like_dtype("full_like", other, dtype, device, requires_grad)
    return _factory(np.full(other.shape, fill_value, dtype), requires_grad)


def rand_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None) -> Tensor:
    """Uniform values in [0, 1) in other's shape and (floating) dtype."""
    dtype = _prepare("rand_like", device, _random_dtype(other.dtype if dtype is None else dtype, "rand_like"),
                     requires_grad)
    return _factory(_random.generator().random(other.shape, dtype=dtype), requires_grad)


def randn_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None) -> Tensor:
    """Standard normal values in other's shape and (floating) dtype."""
    dtype = _prepare("randn_like", device, _random_dtype(other.dtype if dtype is None else dtype, "randn_like"),
                     requires_grad)
    return _factory(_random.generator().standard_normal(other.shape, dtype=dtype), requires_grad)


def randn(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Any = None) -> Tensor:
    """Standard normal draws of the given shape (`randn(2, 3)` or `randn((2, 3))`); float32 unless dtype= says.

    The draws come from the generator `tc.manual_seed` seeds, or from `generator=` (a `tc.Generator` or a NumPy
    Generator). dtype= must be floating."""
    dtype = _prepare("randn", device, _random_dtype(dtype, "randn"), requires_grad)
    draws = _random.numpy_generator(generator).standard_normal(_shape_arg(shape), dtype=dtype)
    return _factory(draws, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Any = None) -> Tensor:
    """Uniform draws from [0, 1) of the given shape (`rand(2, 3)` or `rand((2, 3))`); float32 unless dtype= says.

    The draws come from the generator `tc.manual_seed` seeds, or from `generator=` (a `tc.Generator` or a NumPy
    Generator). dtype= must be floating."""
    dtype = _prepare("rand", device, _random_dtype(dtype, "rand"), requires_grad)
    return _factory(_random.numpy_generator(generator).random(_shape_arg(shape), dtype=dtype), requires_grad)


def randint(low: int = 0, high: int | None = None, size: Sequence[int] | None = None, *, dtype: Any = None,
            device: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Integers drawn uniformly from [low, high), int64 unless dtype says: `randint(high, size)` or
    `randint(low, high, size)`, size a tuple, as PyTorch's."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints, got {size!r}")
    for name, bound in (("low", low), ("high", high)):
        if not isinstance(bound, (int, np.integer)) or isinstance(bound, bool):
            raise TypeError(f"randint: {name} must be an int, got {bound!r}")
    if high <= low:
        raise RuntimeError(f"randint: expects low to be less than high, but got low={low} >= high={high}")
    dtype = _prepare("randint", device, int64 if dtype is None else as_dtype(dtype), requires_grad)
    if dtype.kind != "f":
        limits = (0, 1) if dtype.kind == "b" else (np.iinfo(dtype).min, np.iinfo(dtype).max)
        if low < limits[0] or high - 1 > limits[1]:
            raise RuntimeError(f"randint: [{low}, {high}) is out of bounds for {dtype} ({limits[0]} to {limits[1]})")
    draws = _random.numpy_generator(generator).integers(low, high, _shape_arg((tuple(size),)), dtype=np.int64)
    return _factory(draws.astype(dtype), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False, *, device: Any = None) -> Tensor:
    """Integers give int64 and anything else float32, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if integral else DEFAULT_DTYPE
    dtype = _prepare("arange", device, as_dtype(dtype), requires_grad)
    return _factory(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, both included; float32 unless dtype says (an integer
    dtype truncates), as PyTorch's. Shape (steps,)."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace: steps must be an int, got {steps!r}")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    start, end = (float(v.item()) if isinstance(v, Tensor) else float(v) for v in (start, end))
    dtype = _prepare("linspace", device, _float_dtype(dtype), requires_grad)
    # PyTorch's order of operations: the first half counts up from start, the second down from end, so that
    # both ends are exact.
    index = np.arange(steps)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    with np.errstate(invalid="ignore"):  # an infinite end: inf * 0 and inf - inf are NaN, as in PyTorch
        values = np.where(index < steps // 2, start + step * index, end - step * (steps - 1 - index))
    if steps == 1:
        values[0] = start
    return _factory(values.astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, *,
        device: Any = None) -> Tensor:
    """The identity matrix: ones on the diagonal, shape (n, m), m defaulting to n; float32 unless dtype= says."""
    dtype = _prepare("eye", device, _float_dtype(dtype), requires_grad)
    return _factory(np.eye(n, m, dtype=dtype), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (a change to either shows in both) and keeping its dtype, as
    PyTorch's; float16, complex and other dtypes without a tinygrad_cnn counterpart are refused."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    if not array.dtype.isnative:
        raise ValueError(f"from_numpy: the array's byte order ({array.dtype.str}) is not the machine's; convert "
                         "it with array.astype(array.dtype.newbyteorder('='))")
    try:
        as_dtype(array.dtype)
    except TypeError as error:
        raise TypeError(f"from_numpy: can't convert np.ndarray of dtype {array.dtype}: {error}") from None
    return Tensor._make(array, None)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """data as a tensor, sharing memory where it can, as PyTorch's: a Tensor of that dtype is returned as it
    is (else converted with `.to`, which records), a NumPy array of that dtype is shared, anything else copied."""
    resolve_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype) == data.dtype):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape but for `dim` along `dim`."""
    return _movement.Cat.apply(*tensors, dim=dim)


def stack(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension `dim`."""
    return _movement.Stack.apply(*tensors, dim=dim)


# Ops import the engine, which imports this module: bind them once Tensor exists.
from . import random as _random  # noqa: E402
from .ops import activation as _activation  # noqa: E402
from .ops import elementwise as _elementwise  # noqa: E402
from .ops import indexing as _indexing  # noqa: E402
from .ops import inplace as _inplace  # noqa: E402
from .ops import math_functions as _math  # noqa: E402
from .ops import matmul as _matmul  # noqa: E402
from .ops import movement as _movement  # noqa: E402
from .ops import pointwise as _pointwise  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops._util import expect_tensor as _expect_tensor_arg  # noqa: E402
from .ops._util import normalize_dim as _normalize_dim  # noqa: E402
from .ops._util import normalize_dims as _normalize_dims  # noqa: E402
from .ops._util import result_type as _result_type  # noqa: E402
