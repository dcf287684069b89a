"""`tc.accelerator`, which PyTorch's tutorials ask for a device:
`tc.accelerator.current_accelerator().type if tc.accelerator.is_available() else "cpu"`.

There is none: tinygrad_cnn computes with NumPy on the CPU.
"""

from __future__ import annotations


def is_available() -> bool:
    """False: no accelerator."""
    return False


def current_accelerator() -> None:
    """None: no accelerator."""
    return None


def device_count() -> int:
    """0: no accelerator."""
    return 0

__all__ = ["current_accelerator", "device_count", "is_available"]
