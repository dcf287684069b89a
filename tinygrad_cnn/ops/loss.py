"""Losses: cross_entropy, nll_loss, binary_cross_entropy(_with_logits), mse_loss, l1_loss, smooth_l1_loss,
huber_loss and kl_div, as PyTorch defines them.

Each is one Function whose forward computes the per-element loss and its reduction ('mean', 'sum'
or 'none') and whose backward is the closed form (cross-entropy's is softmax minus target). Class
weights are constants, as in PyTorch. Every loss is finite for any finite input; at non-finite ones, and where
a finite one overflows, the losses give PyTorch's inf and NaN without NumPy's RuntimeWarnings (as every op:
the engine runs forward and backward under np.errstate(all="ignore")).
Inputs must be float tensors (int ones raise a TypeError, as PyTorch has no such kernels), except that
mse_loss promotes an int input with a float target as PyTorch does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, to_array
from ._util import away_from, expect_tensor, random_array, result_type, unbroadcast
from .activation import log_softmax, stable_sigmoid
from .registry import Sample, register

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss: np.ndarray, reduction: str, denominator: Any = None) -> np.ndarray:
    """The per-element loss reduced; 'mean' divides by `denominator` (default: the element count)."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total)
    # an empty mean is NaN, as PyTorch
    return np.asarray(total / (loss.size if denominator is None else denominator))


def _unreduce(grad_output: np.ndarray, reduction: str, denominator: Any = None, size: int = 1) -> np.ndarray:
    """The gradient of each element's loss (broadcastable to the per-element loss) from the reduced one."""
    if reduction != "mean":
        return grad_output
    return grad_output / (size if denominator is None else denominator)


def _float_input(op: str, x: np.ndarray) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float tensor, got dtype {x.dtype}; convert it with .float()")


def _target_array(target: object) -> np.ndarray:
    """A target given as an array (a Tensor's data) as it is, a list or scalar as `tc.tensor` would make it."""
    return target if isinstance(target, np.ndarray) else to_array(target)


def _per_class(values: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped to broadcast against (N, C, d1, ...)."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _class_targets(op: str, input_shape: tuple, target: np.ndarray, weight: np.ndarray | None,
                   ignore_index: int, dtype: np.dtype) -> tuple[tuple, np.ndarray, np.ndarray]:
    """Class-index targets checked against input (N, C, d...): the index that selects input[n, y[n, d], d]
    (ignored targets select class 0), and per target element 1.0 where it is not ignored and its
    weight (weight[y], 0 where ignored), both of `dtype`."""
    expected = input_shape[:1] + input_shape[2:]
    if target.shape != expected:
        raise ValueError(f"{op}: expected class-index target of shape {expected} for input of shape "
                         f"{input_shape}, got {target.shape}")
    classes = input_shape[1]
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= classes))
    if bad.any():
        raise ValueError(f"{op}: target labels {np.unique(target[bad])[:10].tolist()} are out of range for "
                         f"{classes} classes (expected 0 <= label < {classes}, or ignore_index={ignore_index})")
    index = np.where(valid, target, 0)
    target_weight = valid.astype(dtype) if weight is None else np.where(valid, weight[index], 0).astype(dtype)
    # One fancy index, built once, for both the gather in forward and the scatter in backward (each
    # (n, d) picks one class: no repeats); cheaper than take/put_along_axis for the small arrays of losses.
    grids: tuple[np.ndarray, ...] = np.indices(index.shape, sparse=True)  # one per dim (NumPy's stubs say none)
    return (grids[0], index, *grids[1:]), valid.astype(dtype), target_weight


def _zero_where_ignored(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """values with 0 where the target is ignored (valid == 0), also where they are NaN or inf: an all-ignored
    batch's mean divides by a zero weight sum (a NaN loss, as PyTorch), yet its gradient is zeros there."""
    return values if valid.all() else np.where(valid != 0, values, 0)


def _weight_array(op: str, weight: np.ndarray | None, classes: int, dtype: np.dtype) -> np.ndarray | None:
    if weight is None:
        return None
    if np.shape(weight) != (classes,):
        raise ValueError(f"{op}: weight should have shape ({classes},) for {classes} classes, got {np.shape(weight)}")
    return np.asarray(weight).astype(dtype, copy=False)


def _batched(x: np.ndarray, target: np.ndarray, op: str) -> tuple[np.ndarray, np.ndarray]:
    """An unbatched (C,) input (with a () or (C,) target) as a batch of one, as PyTorch accepts."""
    if x.ndim == 0:
        raise ValueError(f"{op}: expected an input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d input")
    if x.ndim == 1:
        return x[None], target[None]
    return x, target


def _cross_entropy_samples(rng: np.random.Generator):
    for shape in [(4, 3), (3, 4, 2, 2)]:
        logits = random_array(rng, *shape)
        labels = rng.integers(0, shape[1], size=shape[:1] + shape[2:])
        for reduction in REDUCTIONS:
            yield Sample((logits, labels, None), {"reduction": reduction}, note=f"{shape} labels {reduction}")
        probs = rng.dirichlet(np.ones(shape[1]), size=shape[:1] + shape[2:])
        probs = np.moveaxis(probs, -1, 1)
        yield Sample((logits, probs, None), {"reduction": "mean"}, note=f"{shape} probabilities")
    logits, labels = random_array(rng, 5, 4), np.array([0, 3, -100, 2, 1])
    weight = rng.uniform(0.5, 2.0, 4)
    yield Sample((logits, labels, weight), {"label_smoothing": 0.2}, requires_grad=(True, False, False),
                 note="weight, ignore_index, smoothing")
    yield Sample((logits, rng.dirichlet(np.ones(4), size=5), weight), {"label_smoothing": 0.1, "reduction": "sum"},
                 requires_grad=(True, True, False), note="weighted soft targets, gradient to the target")
    yield Sample((random_array(rng, 4), np.array(2), None), note="unbatched (C,)")


@register("cross_entropy", samples=_cross_entropy_samples)
class CrossEntropy(Function):
    """-sum_c q_c * log_softmax(x)_c over the class axis 1, with q the (smoothed, weighted) target."""

    @staticmethod
    def forward(ctx, logits, target, weight=None, reduction="mean", label_smoothing=0.0, ignore_index=-100):
        _check_reduction("cross_entropy", reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
        _float_input("cross_entropy", logits)
        target = _target_array(target)
        if target.dtype.kind == "f":
            labels_shape = logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()
            if target.shape != logits.shape and target.shape == labels_shape:
                raise TypeError(f"cross_entropy: target of shape {target.shape} holds float labels; class indices "
                                f"must be int64: pass target.long() (a float target holds class probabilities, of "
                                f"the input's shape {logits.shape})")
            if target.shape != logits.shape:
                raise ValueError(f"cross_entropy: probability target of shape {target.shape} does not match the "
                                 f"input shape {logits.shape}")
            logits = logits.astype(result_type("cross_entropy", logits, target), copy=False)  # f64 targets: f64
        elif target.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold int64 class indices (target.long()) or float class "
                            f"probabilities of the input's shape, got dtype {target.dtype}")
        unbatched = logits.ndim == 1
        logits, target = _batched(logits, target, "cross_entropy")
        classes, ndim, dtype = logits.shape[1], logits.ndim, logits.dtype
        weight = _weight_array("cross_entropy", weight, classes, dtype)
        log_probs = log_softmax(logits, axis=1)
        smoothing = label_smoothing / classes
        if target.dtype.kind == "f":
            # Soft targets: q = weight * ((1 - eps) * t + eps / C); 'mean' divides by the element count.
            q = target.astype(dtype, copy=False) * (1 - label_smoothing) + smoothing
            if weight is not None:
                q *= _per_class(weight, ndim)
            loss = -(q * log_probs).sum(axis=1)
            ctx.soft, ctx.hard = (q, weight), None
            denominator = None
        else:
            picks, valid, target_weight = _class_targets("cross_entropy", logits.shape, target, weight,
                                                         ignore_index, dtype)
            loss = -(1 - label_smoothing) * target_weight * log_probs[picks]
            if label_smoothing:
                weighted = log_probs if weight is None else log_probs * _per_class(weight, ndim)
                loss -= smoothing * valid * weighted.sum(axis=1)
            loss = _zero_where_ignored(loss, valid)
            ctx.soft, ctx.hard = None, (picks, valid, target_weight, weight)
            denominator = target_weight.sum()  # PyTorch's weighted mean: sum of the targets' weights
        ctx.log_probs, ctx.label_smoothing, ctx.unbatched = log_probs, label_smoothing, unbatched
        ctx.reduction, ctx.denominator = reduction, denominator
        out = _reduce(loss, reduction, denominator)
        return out[0] if unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, grad_output):
        log_probs, smoothing = ctx.log_probs, ctx.label_smoothing
        if ctx.unbatched and ctx.reduction == "none":
            grad_output = grad_output[None]
        grad_loss = _unreduce(grad_output, ctx.reduction, ctx.denominator, log_probs.size // log_probs.shape[1])
        if grad_loss.ndim:  # reduction='none': one gradient per (N, d...) element, broadcast over classes
            grad_loss = grad_loss[:, None]
        probs = np.exp(log_probs)
        grad_target = None
        if ctx.soft is not None:
            q, weight = ctx.soft
            # d/dx of -sum_c q_c log_softmax(x)_c = softmax(x) * sum_c q_c - q
            grad_logits = (probs * q.sum(axis=1, keepdims=True) - q) * grad_loss
            if ctx.needs_input_grad[1]:
                grad_target = -(1 - smoothing) * log_probs * grad_loss
                if weight is not None:
                    grad_target *= _per_class(weight, log_probs.ndim)
        else:
            picks, valid, target_weight, weight = ctx.hard
            classes = log_probs.shape[1]
            smooth_total = (classes if weight is None else weight.sum()) * (smoothing / classes)
            grad_logits = probs * ((1 - smoothing) * target_weight + smooth_total * valid)[:, None]
            grad_logits[picks] -= (1 - smoothing) * target_weight
            if smoothing:
                per_class = np.ones(classes, log_probs.dtype) if weight is None else weight
                grad_logits -= (smoothing / classes) * _per_class(per_class, log_probs.ndim) * valid[:, None]
            grad_logits *= grad_loss
            grad_logits = _zero_where_ignored(grad_logits, valid[:, None])
        if ctx.unbatched:
            grad_logits = grad_logits[0]
            grad_target = None if grad_target is None else grad_target[0]
        return grad_logits, grad_target, None


def _nll_samples(rng: np.random.Generator):
    log_probs = np.log(rng.dirichlet(np.ones(4), size=5))
    labels = rng.integers(0, 4, size=5)
    for reduction in REDUCTIONS:
        yield Sample((log_probs, labels, None), {"reduction": reduction}, note=f"(5, 4) {reduction}")
    yield Sample((random_array(rng, 3, 4, 2), np.array([[0, 3], [-100, 1], [2, 2]]), rng.uniform(0.5, 2, 4)),
                 requires_grad=(True, False, False), note="(N, C, d) with weight and ignore_index")


@register("nll_loss", samples=_nll_samples)
class NLLLoss(Function):
    """-weight[y] * input[y] over the class axis 1, for log-probability input and class-index targets."""

    @staticmethod
    def forward(ctx, log_probs, target, weight=None, reduction="mean", ignore_index=-100):
        _check_reduction("nll_loss", reduction)
        _float_input("nll_loss", log_probs)
        unbatched = log_probs.ndim == 1
        log_probs, target = _batched(log_probs, _target_array(target), "nll_loss")
        if target.dtype.kind not in "iu":
            raise TypeError(f"nll_loss: target must hold int64 class indices, got dtype {target.dtype}; "
                            "pass target.long()")
        weight = _weight_array("nll_loss", weight, log_probs.shape[1], log_probs.dtype)
        picks, valid, target_weight = _class_targets("nll_loss", log_probs.shape, target, weight, ignore_index,
                                                     log_probs.dtype)
        loss = _zero_where_ignored(-target_weight * log_probs[picks], valid)
        ctx.picks, ctx.valid, ctx.target_weight = picks, valid, target_weight
        ctx.input_shape, ctx.unbatched = log_probs.shape, unbatched
        ctx.reduction, ctx.denominator = reduction, target_weight.sum()
        out = _reduce(loss, reduction, ctx.denominator)
        return out[0] if unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.unbatched and ctx.reduction == "none":
            grad_output = grad_output[None]
        grad_loss = _unreduce(grad_output, ctx.reduction, ctx.denominator)
        grad = np.zeros(ctx.input_shape, ctx.target_weight.dtype)
        grad[ctx.picks] = _zero_where_ignored(-ctx.target_weight * grad_loss, ctx.valid)
        return grad[0] if ctx.unbatched else grad, None, None


def _same_shape(op: str, input: np.ndarray, target: np.ndarray) -> None:
    if np.shape(target) != input.shape:
        raise ValueError(f"{op}: target shape {np.shape(target)} must be the same as the input shape {input.shape}")


def _binary_samples(rng: np.random.Generator, probabilities: bool):
    for shape in [(6,), (3, 4)]:
        x = rng.uniform(0.05, 0.95, size=shape) if probabilities else random_array(rng, *shape, low=-4, high=4)
        for reduction in REDUCTIONS:
            yield Sample((x, rng.uniform(0, 1, size=shape), None), {"reduction": reduction},
                         note=f"{shape} {reduction}, gradient to both")
    x = rng.uniform(0.05, 0.95, size=(3, 4)) if probabilities else random_array(rng, 3, 4)
    yield Sample((x, rng.integers(0, 2, size=(3, 4)).astype(float), rng.uniform(0.5, 2, 4)),
                 requires_grad=(True, False, False), note="hard targets, broadcast weight")


@register("binary_cross_entropy", samples=lambda rng: _binary_samples(rng, probabilities=True))
class BinaryCrossEntropy(Function):
    """-weight * (y * log(p) + (1 - y) * log(1 - p)), each log clamped at -100 as PyTorch."""

    @staticmethod
    def forward(ctx, p, y, weight=None, reduction="mean"):
        _check_reduction("binary_cross_entropy", reduction)
        _float_input("binary_cross_entropy", p)
        y = _target_array(y)
        _same_shape("binary_cross_entropy", p, y)
        p = p.astype(result_type("binary_cross_entropy", p, y), copy=False)
        if np.any((p < 0) | (p > 1)):
            raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1, got values "
                             f"in [{p.min()}, {p.max()}]")
        y = np.asarray(y).astype(p.dtype, copy=False)
        log_p, log_not_p = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
        loss = -(y * log_p + (1 - y) * log_not_p)
        if weight is not None:
            weight = np.asarray(weight).astype(p.dtype, copy=False)
            loss = loss * weight
        ctx.save_for_backward(p, y, log_p, log_not_p, weight)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        p, y, log_p, log_not_p, weight = ctx.saved_tensors
        grad_loss = _unreduce(grad_output, ctx.reduction, size=p.size)
        if weight is not None:
            grad_loss = grad_loss * weight
        need_p, need_y = ctx.needs_input_grad[:2]
        # PyTorch's form: (p - y) / max(p (1 - p), 1e-12), finite at p = 0 and p = 1.
        grad_p = grad_loss * (p - y) / np.maximum(p * (1 - p), 1e-12) if need_p else None
        grad_y = grad_loss * (log_not_p - log_p) if need_y else None
        return (None if grad_p is None else np.broadcast_to(grad_p, p.shape),
                None if grad_y is None else np.broadcast_to(grad_y, p.shape), None)


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e**x) without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@register("binary_cross_entropy_with_logits", samples=lambda rng: _binary_samples(rng, probabilities=False))
class BinaryCrossEntropyWithLogits(Function):
    """-weight * (pos_weight * y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z))), from softplus: stable."""

    @staticmethod
    def forward(ctx, z, y, weight=None, reduction="mean", pos_weight=None):
        _check_reduction("binary_cross_entropy_with_logits", reduction)
        _float_input("binary_cross_entropy_with_logits", z)
        y = _target_array(y)
        _same_shape("binary_cross_entropy_with_logits", z, y)
        z = z.astype(result_type("binary_cross_entropy_with_logits", z, y), copy=False)
        y = np.asarray(y).astype(z.dtype, copy=False)
        log_sig = -_softplus(-z)  # log(sigmoid(z)); log(1 - sigmoid(z)) = log_sig - z
        if pos_weight is not None:
            pos_weight = np.asarray(pos_weight).astype(z.dtype, copy=False)
        positive = y if pos_weight is None else y * pos_weight
        # PyTorch's arrangement, (1 - y) * z - (1 + (pos_weight - 1) * y) * log_sig: the same inf and NaN as
        # PyTorch at infinite z (NaN at z = -inf, y = 1, where 0 * -inf meets).
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * z - log_weight * log_sig
        if weight is not None:
            weight = np.asarray(weight).astype(z.dtype, copy=False)
            loss = loss * weight
        ctx.save_for_backward(z, y, positive, log_sig, weight)
        ctx.reduction, ctx.pos_weight = reduction, pos_weight
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        z, y, positive, log_sig, weight = ctx.saved_tensors
        grad_loss = _unreduce(grad_output, ctx.reduction, size=z.size)
        if weight is not None:
            grad_loss = grad_loss * weight
        need_z, need_y = ctx.needs_input_grad[:2]
        # d/dz = (positive + 1 - y) * sigmoid(z) - positive: sigmoid(z) - y without pos_weight.
        grad_z = grad_loss * ((positive + 1 - y) * stable_sigmoid(z) - positive) if need_z else None
        grad_y = None
        if need_y:
            # log(1 - sigmoid(z)) - log(sigmoid(z)) is -z exactly: PyTorch's form, without cancellation at tiny z.
            grad_y = grad_loss * (-z if ctx.pos_weight is None else -_softplus(z) - ctx.pos_weight * log_sig)
        return (None if grad_z is None else np.broadcast_to(grad_z, z.shape),
                None if grad_y is None else np.broadcast_to(grad_y, z.shape), None)


def _mse_samples(rng: np.random.Generator):
    for reduction in REDUCTIONS:
        yield Sample((random_array(rng, 3, 4), random_array(rng, 3, 4)), {"reduction": reduction}, note=reduction)


@register("mse_loss", samples=_mse_samples)
class MSELoss(Function):
    """(x - y) ** 2, reduced."""

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        _check_reduction("mse_loss", reduction)
        y = _target_array(y)
        dtype = result_type("mse_loss", x, y)
        if dtype.kind != "f":
            raise TypeError(f"mse_loss: input or target must be a float tensor, got {x.dtype} and {y.dtype}; "
                            "convert one with .float()")
        if y.shape != x.shape:
            np.broadcast_shapes(x.shape, y.shape)  # a clear ValueError where they do not broadcast
            warnings.warn(f"mse_loss: target size {y.shape} differs from input size {x.shape}; they are broadcast, "
                          "which is likely not what you want", UserWarning, stacklevel=4)
        # Both in their promoted dtype, as PyTorch: an int input with a float target is not rounded to ints.
        diff = x.astype(dtype, copy=False) - y.astype(dtype, copy=False)
        ctx.save_for_backward(diff)
        ctx.shapes, ctx.reduction = (x.shape, y.shape), reduction
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        grad = 2 * diff * _unreduce(grad_output, ctx.reduction, size=diff.size)
        need_x, need_y = ctx.needs_input_grad
        return (unbroadcast(grad, ctx.shapes[0]) if need_x else None,
                unbroadcast(-grad, ctx.shapes[1]) if need_y else None)


def cross_entropy(input: Tensor, target: Tensor | np.ndarray, weight: Tensor | None = None, *,
                  ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits over the class axis 1, as torch.nn.functional.cross_entropy.

    input: (N, C), (N, C, d1, ...) or (C,); target: int64 class indices (N, d1, ...) (or ()), or class
    probabilities of the input's shape; weight: (C,) per-class weights. Returns a scalar, or the
    per-element loss (N, d1, ...) with reduction='none'.
    """
    expect_tensor("cross_entropy", "input", input)
    return CrossEntropy.apply(input, target, weight, reduction=reduction, label_smoothing=label_smoothing,
                              ignore_index=ignore_index)


def nll_loss(input: Tensor, target: Tensor | np.ndarray, weight: Tensor | None = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities over the class axis 1, as torch.nn.functional.nll_loss.

    input: (N, C), (N, C, d1, ...) or (C,); target: int64 class indices (N, d1, ...); weight: (C,).
    """
    expect_tensor("nll_loss", "input", input)
    return NLLLoss.apply(input, target, weight, reduction=reduction, ignore_index=ignore_index)


def binary_cross_entropy(input: Tensor, target: Tensor | np.ndarray, weight: Tensor | None = None, *,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities, each log clamped at -100 as PyTorch.

    input: probabilities in [0, 1], any shape; target: the same shape; weight: broadcastable to it.
    """
    expect_tensor("binary_cross_entropy", "input", input)
    return BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor | np.ndarray, weight: Tensor | None = None, *,
                                     reduction: str = "mean", pos_weight: Tensor | np.ndarray | None = None
                                     ) -> Tensor:
    """Binary cross-entropy of sigmoid(input), computed stably from the logits.

    input: logits, any shape; target: the same shape; weight and pos_weight: broadcastable to it.
    """
    expect_tensor("binary_cross_entropy_with_logits", "input", input)
    if isinstance(pos_weight, Tensor):
        pos_weight = pos_weight._data  # a constant, as PyTorch's pos_weight gets no gradient here
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, reduction=reduction, pos_weight=pos_weight)


def mse_loss(input: Tensor, target: Tensor | np.ndarray, *, reduction: str = "mean") -> Tensor:
    """Squared error (input - target) ** 2, reduced; target of the input's shape (broadcast with a warning).

    input, target: any shape -> a scalar, or the elementwise loss with reduction='none'.
    """
    expect_tensor("mse_loss", "input", input)
    return MSELoss.apply(input, target, reduction=reduction)


# ----- elementwise regression losses: l1, smooth_l1, huber; and kl_div ----------------------------------------
def _difference(op: str, x: np.ndarray, y: Any) -> np.ndarray:
    """input - target in their promoted float dtype, as mse_loss: an int input with a float target is not rounded;
    a target of another shape is broadcast with PyTorch's warning."""
    y = _target_array(y)
    dtype = result_type(op, x, y)
    if dtype.kind != "f":
        raise TypeError(f"{op}: input or target must be a float tensor, got {x.dtype} and {y.dtype}; "
                        "convert one with .float()")
    if y.shape != x.shape:
        np.broadcast_shapes(x.shape, y.shape)  # a clear ValueError where they do not broadcast
        warnings.warn(f"{op}: target size {y.shape} differs from input size {x.shape}; they are broadcast, "
                      "which is likely not what you want", UserWarning, stacklevel=5)
    return x.astype(dtype, copy=False) - y.astype(dtype, copy=False)


def _difference_grads(ctx, grad_diff: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The gradients to input and target from the one to input - target, summed back to their shapes."""
    need_x, need_y = ctx.needs_input_grad[:2]
    return (unbroadcast(grad_diff, ctx.shapes[0]) if need_x else None,
            unbroadcast(-grad_diff, ctx.shapes[1]) if need_y else None)


def _nonnegative(op: str, name: str, value: Any, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    if not (value > 0 if strict else value >= 0):
        raise ValueError(f"{op} does not support {'non-positive' if strict else 'negative'} values for {name}, "
                         f"got {name}={value}")
    return float(value)


def _difference_samples(rng: np.random.Generator, points: tuple[float, ...], **attrs: Any):
    """Input and target whose difference stays `margin` away from each kink in `points`."""
    for reduction in REDUCTIONS:
        target = random_array(rng, 3, 4)
        diff = away_from(rng, (3, 4), points, 0.1, -3.0, 3.0)
        yield Sample((target + diff, target), {"reduction": reduction, **attrs}, note=f"{reduction} {attrs}")


def _difference_kinks(*points: float):
    """kinks(sample): where input - target is at one of `points` (elementwise), for input and target alike."""
    def kinks(sample: Sample) -> list:
        x, y = sample.args[:2]
        on_kink = np.isin(x - y, points)
        return [on_kink, unbroadcast(on_kink.astype(float), np.shape(y)) > 0]
    return kinks


@register("l1_loss", samples=lambda rng: _difference_samples(rng, (0.0,)), kinks=_difference_kinks(0.0))
class L1Loss(Function):
    """|input - target|, reduced; the gradient at a zero difference is 0, as PyTorch."""

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        _check_reduction("l1_loss", reduction)
        diff = _difference("l1_loss", x, y)
        ctx.save_for_backward(diff)
        ctx.shapes, ctx.reduction = (x.shape, np.shape(y)), reduction
        return _reduce(np.abs(diff), reduction)

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        return _difference_grads(ctx, np.sign(diff) * _unreduce(grad_output, ctx.reduction, size=diff.size))


def _smooth_l1_samples(rng: np.random.Generator):
    yield from _difference_samples(rng, (0.0,), beta=0.0)  # beta 0: l1, kinked at 0
    for beta in (1.0, 0.5):  # smooth (C1) at |d| = beta; away from it all the same
        yield from _difference_samples(rng, (-beta, beta), beta=beta)


def _smooth_l1_kinks(sample: Sample) -> list:
    beta = sample.attrs.get("beta", 1.0)
    return _difference_kinks(0.0)(sample) if beta == 0 else [None, None]


@register("smooth_l1_loss", samples=_smooth_l1_samples, kinks=_smooth_l1_kinks)
class SmoothL1Loss(Function):
    """0.5 * d**2 / beta where |d| < beta, else |d| - 0.5 * beta, for d = input - target; l1 when beta is 0."""

    @staticmethod
    def forward(ctx, x, y, reduction="mean", beta=1.0):
        _check_reduction("smooth_l1_loss", reduction)
        beta = _nonnegative("smooth_l1_loss", "beta", beta)
        diff = _difference("smooth_l1_loss", x, y)
        size = np.abs(diff)
        quadratic = size < beta
        loss = np.where(quadratic, 0.5 * diff * diff / (beta or 1), size - 0.5 * beta).astype(diff.dtype, copy=False)
        ctx.save_for_backward(diff)
        ctx.shapes, ctx.reduction, ctx.beta, ctx.quadratic = (x.shape, np.shape(y)), reduction, beta, quadratic
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        slope = np.where(ctx.quadratic, diff / (ctx.beta or 1), np.sign(diff)).astype(diff.dtype, copy=False)
        return _difference_grads(ctx, slope * _unreduce(grad_output, ctx.reduction, size=diff.size))


def _huber_samples(rng: np.random.Generator):
    for delta in (1.0, 0.5, 2.0):
        yield from _difference_samples(rng, (-delta, delta), delta=delta)


@register("huber_loss", samples=_huber_samples)
class HuberLoss(Function):
    """0.5 * d**2 where |d| < delta, else delta * (|d| - 0.5 * delta), for d = input - target (delta > 0)."""

    @staticmethod
    def forward(ctx, x, y, reduction="mean", delta=1.0):
        _check_reduction("huber_loss", reduction)
        delta = _nonnegative("huber_loss", "delta", delta, strict=True)
        diff = _difference("huber_loss", x, y)
        size = np.abs(diff)
        quadratic = size < delta
        loss = np.where(quadratic, 0.5 * diff * diff, delta * (size - 0.5 * delta)).astype(diff.dtype, copy=False)
        ctx.save_for_backward(diff)
        ctx.shapes, ctx.reduction, ctx.delta, ctx.quadratic = (x.shape, np.shape(y)), reduction, delta, quadratic
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        slope = np.where(ctx.quadratic, diff, ctx.delta * np.sign(diff)).astype(diff.dtype, copy=False)
        return _difference_grads(ctx, slope * _unreduce(grad_output, ctx.reduction, size=diff.size))


KL_DIV_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def _kl_div_samples(rng: np.random.Generator):
    log_probs = np.log(rng.dirichlet(np.ones(4), size=3))
    for reduction in KL_DIV_REDUCTIONS:
        yield Sample((log_probs, rng.dirichlet(np.ones(4), size=3)), {"reduction": reduction}, note=reduction)
        yield Sample((log_probs, np.log(rng.dirichlet(np.ones(4), size=3))),
                     {"reduction": reduction, "log_target": True}, note=f"{reduction} log_target")
    yield Sample((random_array(rng, 2, 3, 2), rng.uniform(0.1, 1, size=(3, 2))), {"reduction": "batchmean"},
                 note="broadcast target")


@register("kl_div", samples=_kl_div_samples)
class KLDiv(Function):
    """target * (log(target) - input) (0 where target is 0), or exp(target) * (target - input) with log_target;
    input holds log-probabilities. 'mean' divides by the element count, 'batchmean' by the batch size."""

    @staticmethod
    def forward(ctx, x, y, reduction="mean", log_target=False):
        if reduction not in KL_DIV_REDUCTIONS:
            raise ValueError(f"kl_div: reduction must be one of {KL_DIV_REDUCTIONS}, got {reduction!r}")
        _float_input("kl_div", x)
        y = _target_array(y)
        dtype = result_type("kl_div", x, y)
        x, y = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
        np.broadcast_shapes(x.shape, y.shape)  # a clear ValueError where they do not broadcast
        if log_target:
            target_probs = np.exp(y)
            loss = target_probs * (y - x)
        else:
            target_probs = y
            # xlogy: 0 * log(0) is 0, so a zero target adds nothing (not NaN)
            loss = np.where(y == 0, 0, y * np.log(np.where(y == 0, 1, y))) - y * x
        loss = np.asarray(loss, dtype)
        ctx.save_for_backward(x, y, target_probs)
        ctx.shapes, ctx.log_target, ctx.reduction = (x.shape, y.shape), log_target, reduction
        ctx.denominator = None
        if reduction == "batchmean":
            ctx.denominator = loss.shape[0] if loss.ndim else 1
            return _reduce(loss, "mean", ctx.denominator)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        x, y, target_probs = ctx.saved_tensors
        size = np.broadcast_shapes(x.shape, y.shape)
        reduction = "mean" if ctx.reduction == "batchmean" else ctx.reduction
        grad_loss = _unreduce(grad_output, reduction, ctx.denominator, size=int(np.prod(size)))
        need_x, need_y = ctx.needs_input_grad[:2]
        grad_x = grad_y = None
        if need_x:
            grad_x = unbroadcast(np.broadcast_to(-target_probs * grad_loss, size), x.shape)
        if need_y:
            # d/dy of y log y - y x is log y + 1 - x; of e**y (y - x) it is e**y (y - x + 1)
            local = target_probs * (y - x + 1) if ctx.log_target else np.log(y) + 1 - x
            grad_y = unbroadcast(np.broadcast_to(local * grad_loss, size), y.shape)
        return grad_x, grad_y


def l1_loss(input: Tensor, target: Tensor | np.ndarray, *, reduction: str = "mean") -> Tensor:
    """Absolute error |input - target|, reduced, as torch.nn.functional.l1_loss.

    input, target: any shape (the same; broadcast with a warning) -> a scalar, or elementwise with 'none'.
    """
    expect_tensor("l1_loss", "input", input)
    return L1Loss.apply(input, target, reduction=reduction)


def smooth_l1_loss(input: Tensor, target: Tensor | np.ndarray, *, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Quadratic below `beta`, linear above: 0.5 d**2 / beta or |d| - 0.5 beta for d = input - target, reduced,
    as torch.nn.functional.smooth_l1_loss (beta = 0 is l1_loss).

    input, target: any shape (the same) -> a scalar, or elementwise with 'none'.
    """
    expect_tensor("smooth_l1_loss", "input", input)
    return SmoothL1Loss.apply(input, target, reduction=reduction, beta=beta)


def huber_loss(input: Tensor, target: Tensor | np.ndarray, *, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Quadratic below `delta`, linear above: 0.5 d**2 or delta (|d| - 0.5 delta) for d = input - target, reduced,
    as torch.nn.functional.huber_loss (delta > 0).

    input, target: any shape (the same) -> a scalar, or elementwise with 'none'.
    """
    expect_tensor("huber_loss", "input", input)
    return HuberLoss.apply(input, target, reduction=reduction, delta=delta)


def kl_div(input: Tensor, target: Tensor | np.ndarray, *, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of log-probabilities `input` from `target` (probabilities, or
    log-probabilities with `log_target`), as torch.nn.functional.kl_div.

    input, target: broadcastable shapes. 'mean' divides the sum by the element count (PyTorch's 'mean', here
    without its deprecation warning); 'batchmean' by input.shape[0], the true KL divergence per sample.
    """
    expect_tensor("kl_div", "input", input)
    return KLDiv.apply(input, target, reduction=reduction, log_target=bool(log_target))
