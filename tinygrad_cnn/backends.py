"""`tc.backends.mps` and `tc.backends.cudnn`, which CNN code asks and sets; no such backend exists here.

The cuDNN flags (`benchmark`, `deterministic`, `enabled`) can be set, as scripts do, and change nothing:
tinygrad_cnn computes with NumPy on the CPU, deterministically.
"""

from __future__ import annotations

from types import SimpleNamespace

mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cudnn = SimpleNamespace(is_available=lambda: False, enabled=True, benchmark=False, deterministic=False)

__all__ = ["cudnn", "mps"]
