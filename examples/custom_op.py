"""Write your own op as a tc.Function, check it with tc.testing.check_op, and read the report of a broken one.

    python examples/custom_op.py [--out DIR]

Two ops: Swish (x * sigmoid(x)) and a depthwise 2-D convolution (one 3x3-or-so filter per channel,
as an einsum over sliding windows). Each is checked on Hypothesis-generated samples (forward, backward
shapes, float32 kept, gradcheck, Taylor order). Then each is broken on purpose, as people do by
accident, and the reports show what the checker says: the failing elements, the hint, the observed
Taylor order, and the five-line script that reproduces the failure.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import tinygrad_cnn as tc


# ----- Swish --------------------------------------------------------------------------------------
class Swish(tc.Function):
    """x * sigmoid(x); d/dx = s + x * s * (1 - s) with s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-np.clip(x, -60, 60)))  # clipped: no overflow warning for very negative x
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * (s + x * s * (1 - s))


class SwishBroken(Swish):
    """Swish whose backward forgets the (1 - s) factor of sigmoid's derivative."""

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * (s + x * s)


# ----- depthwise convolution ----------------------------------------------------------------------
def _pad(array: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(array, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


class DepthwiseConv2d(tc.Function):
    """Each channel of x (N, C, H, W) correlated with its own filter weight (C, 1, kh, kw), stride 1.

    Output (N, C, H + 2p - kh + 1, W + 2p - kw + 1). Forward and the weight's gradient are einsums over
    the sliding windows of the zero-padded input; the input's gradient adds each filter tap's share
    of grad_output back into place (a loop over the kh * kw taps only), then crops the padding off.
    """

    @staticmethod
    def forward(ctx, x, weight, padding=0):
        if weight.shape[0] != x.shape[1] or weight.shape[1] != 1:
            raise ValueError(f"depthwise conv: weight {weight.shape} does not fit input {x.shape} "
                             f"(expected ({x.shape[1]}, 1, kh, kw))")
        windows = sliding_window_view(_pad(x, padding), weight.shape[2:], axis=(2, 3))
        ctx.save_for_backward(windows, weight)
        ctx.padding, ctx.input_shape = padding, x.shape
        return np.einsum("nchwij,cij->nchw", windows, weight[:, 0], optimize=True)

    @staticmethod
    def backward(ctx, grad_output):
        windows, weight = ctx.saved_tensors
        need_x, need_weight = ctx.needs_input_grad[:2]
        p, (h, w) = ctx.padding, ctx.input_shape[2:]
        grad_x = _scatter_taps(grad_output, weight, p, ctx.input_shape)[:, :, p:p + h, p:p + w] if need_x else None
        grad_weight = (np.einsum("nchwij,nchw->cij", windows, grad_output, optimize=True)[:, None]
                       if need_weight else None)
        return grad_x, grad_weight


def _scatter_taps(grad_output, weight, padding, input_shape):
    """grad_output sent back through every filter tap, into the shape of the padded input."""
    n, c, h, w = input_shape
    kh, kw = weight.shape[2:]
    out_h, out_w = grad_output.shape[2:]
    grad_padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), grad_output.dtype)
    for i in range(kh):
        for j in range(kw):
            grad_padded[:, :, i:i + out_h, j:j + out_w] += grad_output * weight[None, :, 0, i, j, None, None]
    return grad_padded


class DepthwiseConv2dBroken(DepthwiseConv2d):
    """The same op with a backward that folds the top padding's gradient onto the first row."""

    @staticmethod
    def backward(ctx, grad_output):
        windows, weight = ctx.saved_tensors
        p, (h, w) = ctx.padding, ctx.input_shape[2:]
        grad_padded = _scatter_taps(grad_output, weight, p, ctx.input_shape)
        # The bug: the padding rows are treated as copies of the first row (edge padding), not zeros.
        grad_padded[:, :, p] += grad_padded[:, :, :p].sum(axis=2)
        grad_weight = np.einsum("nchwij,nchw->cij", windows, grad_output, optimize=True)[:, None]
        return grad_padded[:, :, p:p + h, p:p + w], grad_weight


# ----- samples --------------------------------------------------------------------------------------
def swish_samples():
    """Hypothesis strategy when Hypothesis is installed, else a fixed list drawn from a seeded rng."""
    try:
        return tc.testing.arrays(shape=tc.testing.shapes(max_dims=3, max_side=4), low=-4, high=4).map(lambda x: (x,))
    except ImportError:
        return lambda rng: [(rng.uniform(-4, 4, size=shape),) for shape in [(3,), (2, 3), (2, 2, 3)]]


def depthwise_samples():
    """(x, weight) pairs with a padding up to half the kernel, as a strategy or a fixed list."""
    def make(x, weight, padding):
        return tc.ops.Sample((x, weight), {"padding": padding}, note=f"x {x.shape} weight {weight.shape} p={padding}")

    try:
        from hypothesis import strategies as st
    except ImportError:
        return lambda rng: [make(rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((3, 1, 3, 3)), 1),
                            make(rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 1, 2, 3)), 0)]

    @st.composite
    def draw(draw_value):
        n, c = draw_value(st.integers(1, 2)), draw_value(st.integers(1, 3))
        kh, kw = draw_value(st.integers(1, 3)), draw_value(st.integers(1, 3))
        h, w = draw_value(st.integers(kh, 5)), draw_value(st.integers(kw, 5))
        padding = draw_value(st.integers(0, min(kh, kw) // 2))
        x = draw_value(tc.testing.arrays(shape=(n, c, h, w)))
        weight = draw_value(tc.testing.arrays(shape=(c, 1, kh, kw)))
        return make(x, weight, padding)

    return draw()


def reference_depthwise(x, weight, padding=0):
    """The same convolution, written the slow obvious way, to check forward against."""
    kh, kw = weight.shape[2:]
    padded = _pad(x, padding)
    out_h, out_w = padded.shape[2] - kh + 1, padded.shape[3] - kw + 1
    return sum(padded[:, :, i:i + out_h, j:j + out_w] * weight[None, :, 0, i, j, None, None]
               for i in range(kh) for j in range(kw))


# ----- the walk-through -----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    """Check the two ops, then show what the checker reports for their broken versions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="where failing samples and reproducers go (default: a temp dir)")
    args = parser.parse_args(argv)
    out_dir = args.out or tempfile.mkdtemp(prefix="custom_op_")
    results = {}

    print("== the right ops ==")
    print(tc.testing.check_op(Swish, swish_samples(), max_examples=15, out_dir=out_dir))
    print(tc.testing.check_op(DepthwiseConv2d, depthwise_samples(), max_examples=15, reference=reference_depthwise,
                              out_dir=out_dir))
    x = tc.randn(2, 3, 6, 6, requires_grad=True)
    weight = tc.randn(3, 1, 3, 3, requires_grad=True)
    y = DepthwiseConv2d.apply(x, weight, padding=1)
    print(f"depthwise conv: x {x.shape} * weight {weight.shape} -> {y.shape}, dtype {y.dtype}")

    print("\n== Swish with a factor forgotten in backward ==")
    try:
        tc.testing.check_op(SwishBroken, swish_samples(), max_examples=15, out_dir=out_dir)
    except tc.testing.CheckOpError as error:
        results["swish"] = str(error)
        print(error)
    taylor = tc.testing.taylor_test(SwishBroken.apply, [tc.randn(5, requires_grad=True)])
    results["swish_taylor"] = taylor.order
    print(taylor)

    print("\n== depthwise convolution with a wrong padding border in backward ==")
    sample = [(tc.randn(1, 2, 5, 5, requires_grad=True), tc.randn(2, 1, 3, 3, requires_grad=True))]
    try:
        tc.gradcheck(lambda t, w: DepthwiseConv2dBroken.apply(t, w, padding=1), sample[0])
    except tc.GradcheckError as error:
        results["depthwise"] = str(error)
        print(error)
    return results


if __name__ == "__main__":
    main()
