"""`tc.cuda`, for code that asks for a GPU before using one (`"cuda" if tc.cuda.is_available() else "cpu"`).

There is none: tinygrad_cnn computes with NumPy on the CPU.
"""

from __future__ import annotations


def is_available() -> bool:
    """False: no CUDA device."""
    return False


def device_count() -> int:
    """0: no CUDA device."""
    return 0


def manual_seed(seed: int) -> None:
    """Nothing to seed, as PyTorch's does without a GPU; `tc.manual_seed` seeds tinygrad_cnn."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed, as PyTorch's does without a GPU; `tc.manual_seed` seeds tinygrad_cnn."""

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all"]
