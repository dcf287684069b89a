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
    chunk,
    clamp,
    clip,
    clone,
    div,
    equal,
    exp,
    flatten,
    flip,
    gather,
    index_select,
    is_tensor,
    log,
    log_softmax,
    masked_fill,
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
    repeat_interleave,
    reshape,
    roll,
    scatter,
    scatter_add,
    sigmoid,
    softmax,
    split,
    sqrt,
    squeeze,
    sub,
    sum,
    t,
    tanh,
    transpose,
    tril,
    triu,
    unbind,
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
    "bool", "bool_", "cat", "chunk", "clamp", "clip", "clone", "Context", "cos", "cuda", "data", "datasets",
    "detect_anomaly", "device", "div", "double", "draw_graph", "empty", "empty_like", "enable_grad", "equal", "exp",
    "explain_backward", "eye", "flatten", "flip", "float", "float16", "float32", "float64", "from_numpy", "full",
    "full_like", "Function", "gather", "Generator", "get_default_device", "get_num_threads", "gradcheck",
    "GradcheckError", "graph_stats", "half", "index_select", "int", "int16", "int32", "int64", "int8",
    "is_grad_enabled", "is_tensor", "kernels", "linspace", "load", "log", "log_softmax", "long", "manual_seed",
    "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "nn", "no_grad", "norm", "numel",
    "ones", "ones_like", "ops", "optim", "permute", "pow", "print_graph", "rand", "rand_like", "randint", "randn",
    "randn_like", "relu", "repeat_interleave", "reshape", "roll", "save", "scatter", "scatter_add",
    "set_default_device", "set_grad_enabled", "set_num_threads", "short", "sigmoid", "sign", "sin", "softmax",
    "split", "sqrt", "squeeze", "stack", "sub", "sum", "t", "tanh", "Tensor", "tensor", "testing", "transpose",
    "tril", "triu", "uint8", "unbind", "unsqueeze", "utils", "where", "zeros", "zeros_like",
]
