"""tinygrad_cnn: a small, fast, exact autograd framework for convolutional networks, on NumPy."""

# tensor first: it binds the ops, which need the engine, which needs Tensor.
from .tensor import (  # isort: skip
    Tensor,
    arange,
    bool_,
    cat,
    eye,
    float32,
    float64,
    full,
    int32,
    int64,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from . import data, datasets, kernels, nn, ops, optim, testing, utils
from .autograd import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .blas import get_num_threads, set_num_threads
from .debug import detect_anomaly, explain_backward, graph_stats
from .gradcheck import GradcheckError, gradcheck
from .io import load, save
from .ops.pointwise import cos, maximum, minimum, sign, sin, where
from .random import Generator, manual_seed
from .viz import draw_graph, print_graph

__version__ = "0.1.0"

__all__ = [
    "Context", "Function", "GradcheckError", "Tensor", "arange", "bool_", "cat", "data", "datasets", "enable_grad",
    "explain_backward", "eye", "kernels", "float32", "float64", "full", "gradcheck", "graph_stats", "int32", "int64",
    "is_grad_enabled", "load", "manual_seed", "nn", "no_grad", "ones", "ones_like", "ops", "optim", "rand",
    "randn", "save", "set_grad_enabled", "stack", "tensor", "zeros", "zeros_like",
    "draw_graph", "print_graph",
    "detect_anomaly", "testing",
    "get_num_threads", "set_num_threads",
    "Generator", "utils",
    "cos", "maximum", "minimum", "sign", "sin", "where",
]
