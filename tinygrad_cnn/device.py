"""Devices, as PyTorch names them: `tc.device('cpu')`, `device=` on factories and layers, `.to(device)`.

tinygrad_cnn computes with NumPy on the CPU, so 'cpu' is the one available device type. Any device PyTorch
can name ('cuda', 'mps', 'cuda:0'...) can still be written down (tutorials build `device("cuda")` before they
check for it), but using it raises a RuntimeError that says so. Nothing here assumes NumPy: another array
backend (CuPy for 'cuda') would add its device type to `_AVAILABLE` and its arrays to the ops.
"""

from __future__ import annotations

from typing import Any

# PyTorch's device types, in the order of its error message: each can name a device.
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

# The device types tinygrad_cnn computes on, with the library that holds their arrays.
_AVAILABLE: dict[str, str] = {"cpu": "NumPy"}


class device:  # noqa: N801 (PyTorch's name)
    """A device, as `torch.device`: `device('cpu')`, `device('cpu:0')`, `device('cpu', 0)`, `device(other)`.

    `.type` is the device type ('cpu'), `.index` its number or None. Equal when both type and index are.
    """

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002 (PyTorch's name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError(f"device: an index cannot be given with a device, got {type!r} and {index!r}")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError(f"device: {type} names an accelerator by its index, and there is none: "
                               "tinygrad_cnn computes with NumPy on the CPU (use 'cpu')")
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string or a device, got {type!r}")
        name, colon, number = type.partition(":")
        if name not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: "
                               f"{type}")
        if colon:
            if index is not None:
                raise RuntimeError(f"device: type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device: index must be an int or None, got {index!r}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return device, (self.type, self.index)


CPU = device("cpu")
_default = CPU


def is_device_like(value: Any) -> bool:
    """Whether `value` names a device: a `device`, a string starting with a device type, or an int index."""
    if isinstance(value, device) or (isinstance(value, int) and not isinstance(value, bool)):
        return True
    return isinstance(value, str) and value.partition(":")[0] in DEVICE_TYPES


def resolve_device(value: Any, op: str) -> device:
    """The device that `value` names (None: the default device), or a RuntimeError if it is not available."""
    if value is None:
        return _default
    if not isinstance(value, device):
        if not is_device_like(value):
            raise TypeError(f"{op}: device must be a device, a string such as 'cpu', or None, got {value!r}")
        value = device(value)
    if value.type not in _AVAILABLE:
        raise RuntimeError(f"{op}: device {str(value)!r} is not available: tinygrad_cnn computes with NumPy on the "
                           "CPU, so 'cpu' is the only device")
    return value


def set_default_device(value: Any) -> None:
    """The device that factories use when given none (None restores 'cpu', the only one), as PyTorch's."""
    global _default
    _default = CPU if value is None else resolve_device(value, "set_default_device")


def get_default_device() -> device:
    """The device that factories use when given none."""
    return _default
