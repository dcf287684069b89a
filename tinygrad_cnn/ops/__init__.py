"""Every built-in op, one family per file; importing this package fills `registry`."""

from . import (  # noqa: F401
    activation,
    conv,
    conv_transpose,
    dropout,
    elementwise,
    embedding,
    indexing,
    inplace,
    layer_norm,
    loss,
    math_functions,
    matmul,
    movement,
    nonlinear,
    norm,
    padding,
    pointwise,
    pool,
    reduce,
    upsample,
)
from .registry import OpInfo, Sample, register, registry

__all__ = ["OpInfo", "Sample", "register", "registry"]
