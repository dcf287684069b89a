"""Transposed convolution (conv_transpose1d/2d/3d, as PyTorch): the adjoint of the convolution.

A transposed conv maps x (N, Cin, *S) to y (N, Cout, *So) exactly as a convolution's backward maps its output
gradient to its input gradient: y is the input gradient of the conv that has weight (Cin, Cout/groups, *K),
input size So and output size S. So it is built from the same two moves as conv (`_windows.py`):
    forward:        cols = W.T @ x        one GEMM per group, then `fold` (col2im) adds the columns onto y
    input grad:     dx   = W @ unfold(dy)   a plain convolution of dy
    weight grad:    dW   = x @ unfold(dy).T
with x laid out as (G, Cin/G, N*L), L = prod(S), and the columns as conv has them, (G, Cout/G*K, N*L).
So = (S - 1)*stride - 2*padding + dilation*(K - 1) + output_padding + 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._util import expect_tensor, pair, random_array
from ._windows import Windows
from .conv import check_dtypes_and_groups, fold, unfold
from .registry import Sample, register


def output_size(input_size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...],
                output_padding: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial size So of a transposed conv's output, per dim (see the module docstring)."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, op, d in
                 zip(input_size, kernel, stride, padding, output_padding, dilation))


def _check(x: np.ndarray, weight: np.ndarray, bias: Any, groups: Any, op: str) -> None:
    """ValueError/TypeError naming the values for arrays that do not make a transposed convolution."""
    if x.ndim != weight.ndim:
        raise ValueError(f"{op}: expected a {weight.ndim}-D input (N, C, ...) for a {weight.ndim}-D weight, "
                         f"got input of shape {x.shape}")
    check_dtypes_and_groups(x, weight, bias, groups, op)
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: the weight's first dim (in_channels, {weight.shape[0]}) must be divisible by "
                         f"groups ({groups}) (weight shape {weight.shape})")
    if x.shape[1] != weight.shape[0]:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight expects {weight.shape[0]} (weight shape "
                         f"{weight.shape}: (in_channels, out_channels/groups, *kernel))")
    out_channels = weight.shape[1] * groups
    if bias is not None and np.shape(bias) != (out_channels,):
        raise ValueError(f"{op}: bias has shape {np.shape(bias)}, expected ({out_channels},) "
                         f"(out_channels = weight.shape[1] * groups = {weight.shape[1]} * {groups})")


def make_windows(input_size: tuple[int, ...], kernel: tuple[int, ...], stride: Any, padding: Any,
                 output_padding: Any, dilation: Any, op: str) -> Windows:
    """The windows of the convolution whose input gradient this transposed conv is: over the transposed conv's
    output (size So), giving its input size S. Raises ValueError naming the values for bad geometry."""
    n = len(kernel)
    stride, padding = pair(stride, "stride", op, n), pair(padding, "padding", op, n)
    output_padding, dilation = pair(output_padding, "output_padding", op, n), pair(dilation, "dilation", op, n)
    for name, values, least in (("kernel size", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1),
                                ("padding", padding, 0), ("output_padding", output_padding, 0),
                                ("input size", input_size, 1)):
        if any(v < least for v in values):
            raise ValueError(f"{op}: {name} must be {'positive' if least else 'non-negative'}, got {values}")
    if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding must be smaller than either stride or dilation, got "
                         f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    size = output_size(input_size, kernel, stride, padding, output_padding, dilation)
    if any(s < 1 for s in size):
        raise ValueError(f"{op}: input of size {input_size} gives output size {size} (kernel {kernel}, "
                         f"stride={stride}, padding={padding}, output_padding={output_padding}, "
                         f"dilation={dilation}): output size is too small")
    # The conv reads So padded by `padding` before; the padding after is whatever gives exactly S outputs
    # (p - output_padding, negative when the last output_padding positions are beyond its last window).
    return Windows(size, kernel, stride, dilation, tuple((p, p - op_) for p, op_ in zip(padding, output_padding)))


def _conv_transpose_samples(rng: np.random.Generator):
    def case(x_shape, w_shape, bias=True, note="", **attrs):
        groups = attrs.get("groups", 1)
        bias_array = random_array(rng, w_shape[1] * groups) if bias else None
        return Sample((random_array(rng, *x_shape), random_array(rng, *w_shape), bias_array), attrs, note=note)

    yield case((2, 3, 4, 4), (3, 2, 3, 3), note="2d")
    yield case((2, 2, 3, 4), (2, 3, 3, 3), bias=False, stride=2, padding=1, output_padding=1,
               note="2d stride 2, padding 1, output_padding 1, no bias")
    yield case((1, 2, 3, 3), (2, 2, 2, 3), stride=(3, 2), padding=(0, 1), output_padding=(2, 0),
               note="2d pairs of stride, padding, output_padding")
    yield case((1, 2, 4, 3), (2, 1, 3, 2), dilation=(2, 3), output_padding=(1, 2), padding=1,
               note="2d dilation, output_padding < dilation (stride 1)")
    yield case((2, 4, 3, 3), (4, 3, 3, 2), groups=2, stride=2, note="2d groups 2")
    yield case((1, 3, 3, 3), (3, 1, 2, 2), groups=3, bias=False, stride=2, note="2d depthwise")
    yield case((2, 3, 5), (3, 2, 4), stride=2, padding=1, note="1d")
    yield case((1, 4, 4), (4, 1, 3), stride=3, padding=2, output_padding=2, dilation=2, groups=2,
               note="1d stride, padding, output_padding, dilation, groups")
    yield case((1, 2, 2, 3, 2), (2, 2, 2, 2, 3), stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 0),
               note="3d")


@register("conv_transpose", samples=_conv_transpose_samples)
class ConvTransposeNd(Function):
    """N-d transposed conv: x (N, Cin, *S), weight (Cin, Cout/groups, *K), bias (Cout,) or None -> (N, Cout, *So)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        op = f"conv_transpose{weight.ndim - 2}d"
        _check(x, weight, bias, groups, op)
        windows = make_windows(x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation, op)
        batch, out_channels = x.shape[0], weight.shape[1] * groups
        kernels = weight.reshape(groups, x.shape[1] // groups, -1)  # (G, Cin/G, Cout/G*K)
        cols = np.matmul(kernels.transpose(0, 2, 1), _rows(x, groups))  # (G, Cout/G*K, N*L)
        out = fold(cols.reshape(out_channels, *windows.kernel, batch, *windows.output_size), windows,
                   (batch, out_channels, *windows.input_size))
        if bias is not None:
            out += bias.reshape(-1, *(1,) * len(windows.input_size))
        ctx.windows, ctx.groups = windows, groups
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = (*ctx.needs_input_grad, False)[:3]  # bias may be left out of apply()
        windows, groups = ctx.windows, ctx.groups
        batch, out_channels = grad_output.shape[:2]
        grad_x = grad_w = grad_b = None
        if need_x or need_w:
            col_rows = out_channels // groups * int(np.prod(windows.kernel))  # explicit: a batch may be empty
            cols = unfold(grad_output, windows).reshape(groups, col_rows, batch * int(np.prod(windows.output_size)))
        if need_x:  # the convolution of grad_output with the same weight
            in_channels = weight.shape[0]
            grad_rows = np.matmul(weight.reshape(groups, in_channels // groups, -1), cols)  # (G, Cin/G, N*L)
            grad_x = grad_rows.reshape(in_channels, batch, *windows.output_size).swapaxes(0, 1)
        if need_w:
            rows = _rows(x, groups)
            grad_w = np.matmul(rows, cols.transpose(0, 2, 1)).reshape(x.shape[1], -1, *windows.kernel)
        if need_b:
            grad_b = grad_output.sum(axis=(0, *range(2, grad_output.ndim)))
        return (grad_x, grad_w, grad_b)[:len(ctx.needs_input_grad)]


def _rows(x: np.ndarray, groups: int) -> np.ndarray:
    """x (N, C, *S) as (G, C/G, N*L): per group, one row per channel holding every sample's positions."""
    batch, channels = x.shape[:2]
    return np.moveaxis(x, 0, 1).reshape(groups, channels // groups, batch * int(np.prod(x.shape[2:])))


def _conv_transpose(x: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, output_padding: Any,
                    groups: int, dilation: Any, spatial: int) -> Tensor:
    expect_tensor(f"conv_transpose{spatial}d", "input", x)
    op = f"conv_transpose{spatial}d"
    for name, value in (("input", x), ("weight", weight)):
        shape = np.shape(value._data if isinstance(value, Tensor) else value)
        if len(shape) != spatial + 2:
            raise ValueError(f"{op}: expected a {spatial + 2}-D {name} "
                             f"({'N, C_in' if name == 'input' else 'C_in, C_out/groups'}, {spatial} spatial dims), "
                             f"got shape {shape}")
    return ConvTransposeNd.apply(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                                 groups=groups, dilation=dilation)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed conv: input (N, Cin, L), weight (Cin, Cout/groups, k), bias (Cout,) -> (N, Cout, Lo),
    Lo = (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed conv: input (N, Cin, H, W), weight (Cin, Cout/groups, kh, kw), bias (Cout,)
    -> (N, Cout, Ho, Wo); options are ints or pairs, sizes as conv_transpose1d per dim."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """3-D transposed conv: input (N, Cin, D, H, W), weight (Cin, Cout/groups, kd, kh, kw), bias (Cout,)
    -> (N, Cout, Do, Ho, Wo); options are ints or triples, sizes as conv_transpose1d per dim."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
