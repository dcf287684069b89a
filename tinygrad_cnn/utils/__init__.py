"""Utilities at PyTorch's paths: `tc.utils.data` (datasets and DataLoader)."""

from . import data

__all__ = ["data"]
