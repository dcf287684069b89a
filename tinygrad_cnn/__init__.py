"""tinygrad_cnn: a small, fast, exact autograd framework for convolutional networks, on NumPy."""

# tensor first: it binds the ops, which need the engine, which needs Tensor.
from .tensor import (  # isort: skip
    Tensor,
    arange,
    as_tensor,
    bool_,
    cat,
    empty,
    empty_like,
    eye,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    int8,
    int16,
    int32,
    int64,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    stack,
    tensor,
    uint8,
    zeros,
    zeros_like,
)
from . import accelerator, backends, cuda, data, datasets, kernels, nn, ops, optim, testing, utils
from .autograd import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .blas import get_num_threads, set_num_threads
from .debug import detect_anomaly, explain_backward, graph_stats
from .device import device, get_default_device, set_default_device
from .functions import (
    abs,
    add,
    all,
    allclose,
    any,
    argmax,
    argmin,
    clamp,
    clip,
    div,
    equal,
    exp,
    flatten,
    log,
    log_softmax,
    matmul,
    max,
    mean,
    min,
    mul,
    norm,
    numel,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    sub,
    sum,
    t,
    tanh,
    transpose,
    unsqueeze,
)
from .gradcheck import GradcheckError, gradcheck
from .io import load, save
from .ops.pointwise import cos, maximum, minimum, sign, sin, where
from .random import Generator, manual_seed
from .viz import draw_graph, print_graph

# PyTorch's dtype names (tc.float is float32...); float16/half exist so that using them says it is unsupported.
float, double, half, long, int, short, bool = float32, float64, float16, int64, int32, int16, bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "abs", "accelerator", "add", "all", "allclose", "any", "arange", "argmax", "argmin", "as_tensor", "backends",
    "bool", "bool_", "cat", "clamp", "clip", "Context", "cos", "cuda", "data", "datasets", "detect_anomaly", "device",
    "div", "double", "draw_graph", "empty", "empty_like", "enable_grad", "equal", "exp", "explain_backward", "eye",
    "flatten", "float", "float16", "float32", "float64", "from_numpy", "full", "full_like", "Function", "Generator",
    "get_default_device", "get_num_threads", "gradcheck", "GradcheckError", "graph_stats", "half", "int", "int16",
    "int32", "int64", "int8", "is_grad_enabled", "kernels", "linspace", "load", "log", "log_softmax", "long",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "nn", "no_grad", "norm", "numel",
    "ones", "ones_like", "ops", "optim", "permute", "pow", "print_graph", "rand", "rand_like", "randint", "randn",
    "randn_like", "relu", "reshape", "save", "set_default_device", "set_grad_enabled", "set_num_threads", "short",
    "sigmoid", "sign", "sin", "softmax", "sqrt", "squeeze", "stack", "sub", "sum", "t", "tanh", "Tensor", "tensor",
    "testing", "transpose", "uint8", "unsqueeze", "utils", "where", "zeros", "zeros_like",
]
