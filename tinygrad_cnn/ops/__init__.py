"""Every built-in op, one family per file; importing this package fills `registry`."""

from . import activation, conv, dropout, elementwise, inplace, loss, matmul, movement, norm, pool, reduce  # noqa: F401
from .registry import OpInfo, Sample, register, registry

__all__ = ["OpInfo", "Sample", "register", "registry"]
