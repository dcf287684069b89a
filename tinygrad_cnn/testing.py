"""Testing a user's own op: Hypothesis strategies, a Taylor test, and `check_op` that runs them all.

    import tinygrad_cnn as tc
    tc.testing.check_op(Swish, tc.testing.arrays(kinks=()).map(lambda x: (x,)))

Hypothesis is imported only inside the functions that need it (the strategies, and `check_op` given a
strategy), so `import tinygrad_cnn`, `taylor_test` and `check_op` over a list of samples work without it;
a strategy called without it raises an ImportError that gives the install command.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .autograd import Function
from .gradcheck import (
    backward_projection,
    check_gradients,
    evaluate_outputs,
    float64_problem,
    float_outputs,
    nonfinite_outputs,
    projected_difference,
)
from .ops._util import push_away
from .ops.registry import Sample, registry
from .tensor import Tensor, float32, float64


# ----- Hypothesis strategies ----------------------------------------------------------------------
def _hypothesis(what: str) -> tuple[Any, Any]:
    """Hypothesis's `strategies` and `extra.numpy` modules, or an ImportError that says how to install it."""
    try:
        from hypothesis import strategies
        from hypothesis.extra import numpy
    except ImportError as error:
        raise ImportError(f"tc.testing.{what} needs Hypothesis, which is not installed: pip install hypothesis "
                          "(or tinygrad_cnn's test extra: pip install 'tinygrad_cnn[test]')") from error
    return strategies, numpy


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 5) -> Any:
    """Strategy: array shapes, tuples of `min_dims..max_dims` sides each in `min_side..max_side`."""
    _, hnp = _hypothesis("shapes")

    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
                         max_side: int = 4) -> Any:
    """Strategy: tuples of `num_shapes` shapes that broadcast together (as NumPy and PyTorch do)."""
    _, hnp = _hypothesis("broadcastable_shapes")

    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda b: b.input_shapes)


def arrays(shape: Any = None, dtype: Any = float64, low: float = -2.0, high: float = 2.0,
           kinks: Sequence[float] = (), margin: float = 0.1) -> Any:
    """Strategy: finite float arrays with values in [low, high], none within `margin` of a kink.

    shape: a tuple, an int or a strategy of shapes (default `shapes()`). kinks: points where the op is
    not differentiable (0 for relu, the bounds of clip); values closer than `margin` are pushed to
    2 * margin away, so finite differences never straddle one, even after Hypothesis shrinks to 0.
    """
    st, hnp = _hypothesis("arrays")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"arrays: dtype must be float32 or float64, got {dtype}")
    if not low < high:
        raise ValueError(f"arrays: need low < high, got low={low}, high={high}")
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                         width=8 * dtype.itemsize)
    strategy = hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements)
    return strategy.map(lambda a: push_away(a.copy(), tuple(kinks), margin)) if kinks else strategy


def pooling_windows(max_batch: int = 2, max_channels: int = 2, max_side: int = 6, max_kernel: int = 3,
                    gap: float = 0.1) -> Any:
    """Strategy: max-pooling samples with no ties in any window: `Sample((x,), {kernel_size, stride, padding})`.

    x has shape (N, C, H, W) with every value distinct and at least `gap` from every other (a shuffled
    grid), so the maximum of each window is unique and a finite-difference step never changes which
    element it is. Padding is at most half the kernel, as PyTorch requires.
    """
    st, _ = _hypothesis("pooling_windows")

    @st.composite
    def draw_sample(draw: Callable) -> Sample:
        kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
        stride = tuple(draw(st.integers(1, k)) for k in kernel)
        padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
        shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)),
                 draw(st.integers(max(kernel[0], 2), max(max_side, kernel[0]))),
                 draw(st.integers(max(kernel[1], 2), max(max_side, kernel[1]))))
        size = int(np.prod(shape))
        order = np.array(draw(st.permutations(range(size))), dtype=float64)
        x = ((order - (size - 1) / 2) * gap).reshape(shape)
        return Sample((x,), {"kernel_size": kernel, "stride": stride, "padding": padding},
                      note=f"{shape} kernel {kernel} stride {stride} padding {padding}")

    return draw_sample()


# ----- Taylor test --------------------------------------------------------------------------------
@dataclass
class TaylorResult:
    """The first-order Taylor remainder r(h) = |f(x + h u) - f(x) - h <grad, u>| over shrinking h.

    `order` is the slope of log r against log h: about 2 when the gradient is right, about 1 when it
    is wrong. `exact` means r stayed at round-off level (f is linear along u and the gradient exact).
    """

    order: float
    steps: np.ndarray
    remainders: np.ndarray
    exact: bool = False
    nonfinite: str = ""  # what is NaN or inf (an output, the gradient), which fails the test

    @property
    def ok(self) -> bool:
        """Whether the gradient passed: order >= 1.5 or a remainder at round-off, and nothing NaN or inf."""
        return not self.nonfinite and (self.exact or bool(self.order >= 1.5))

    def __str__(self) -> str:
        if self.nonfinite:
            verdict = f"failed: {self.nonfinite}"
        elif self.exact:
            verdict = "the remainder stays at round-off level: f is linear along u and the gradient is exact"
        elif np.isnan(self.order):
            verdict = "inconclusive: too few remainders above round-off"
        elif self.ok:
            verdict = f"observed order {self.order:.2f} (about 2: the gradient is right)"
        else:
            verdict = (f"observed order {self.order:.2f} (about 1: the gradient is wrong; the remainder "
                       "shrinks only like h, so <grad, u> misses a first-order term)")
        rows = [f"    h={h:<10.3g} remainder={r:.3g}" for h, r in zip(self.steps, self.remainders, strict=True)]
        return "\n".join([f"Taylor test: {verdict}", *rows])


def taylor_test(fn: Callable, inputs: Sequence[Any], *, seed: int = 0,
                steps: Sequence[float] | np.ndarray | None = None) -> TaylorResult:
    """A check of fn's gradient free of a finite-difference eps: the order of the Taylor remainder.

    fn and inputs as for `tc.gradcheck` (an nn.Module's parameters move too). The output is projected on
    a random direction, every input that requires grad moves along a random direction u scaled to its
    magnitude, and the remainder is measured at `steps` (default 1e-2 halved 10 times).
    """
    steps = np.asarray(1e-2 * 0.5 ** np.arange(10) if steps is None else steps, dtype=float64)
    with float64_problem(fn, inputs) as (call, targets):
        outs = float_outputs(call())
        rng = np.random.default_rng(seed)
        directions = [rng.standard_normal(o.shape) for o in outs]
        backward_projection(outs, directions)
        moves = [rng.standard_normal(t.shape) * max(1.0, float(np.sqrt(np.mean(t._data ** 2)))) if t.numel()
                 else np.zeros(t.shape) for _, t in targets]
        slope = sum(float(np.vdot(t.grad._data, u)) for (_, t), u in zip(targets, moves, strict=True)
                    if t.grad is not None)
        originals = [t._data.copy() for _, t in targets]
        base = evaluate_outputs(call)
        nonfinite = nonfinite_outputs(base, targets)
        if not nonfinite and not np.isfinite(slope):
            nonfinite = (f"the gradient is {slope} along u (the output is finite): backward gives NaN or inf "
                         "(run it under tc.detect_anomaly() to find the op)")
        if nonfinite:  # a NaN remainder is below no floor, so it would pass as exact: fail instead
            return TaylorResult(float("nan"), steps, np.full(len(steps), np.nan), nonfinite=nonfinite)
        scale = sum(float(np.abs(o * v).sum()) for o, v in zip(base, directions, strict=True))
        remainders = np.empty(len(steps))
        try:
            for k, h in enumerate(steps):
                for (_, t), original, u in zip(targets, originals, moves, strict=True):
                    t._data[...] = original + h * u
                change = projected_difference(evaluate_outputs(call), base, directions)
                remainders[k] = abs(change - h * slope)
        finally:
            for (_, t), original in zip(targets, originals, strict=True):
                t._data[...] = original
    if not np.isfinite(remainders).all():
        h = steps[int(np.argmax(~np.isfinite(remainders)))]
        return TaylorResult(float("nan"), steps, remainders,
                            nonfinite=f"fn's output is NaN or inf at x + h u for h={h:.3g}, so the remainder is too")
    # Round-off in f and in h <grad, u> sets a floor; remainders below it carry no information.
    floor = 1e3 * np.finfo(float64).eps * (scale + abs(slope) * float(steps.max()))
    usable = np.flatnonzero(remainders > floor)
    if len(usable) < 3:
        exact = len(usable) == 0
        return TaylorResult(float("inf") if exact else float("nan"), steps, remainders, exact)
    usable = usable[-6:]  # the smallest steps: furthest into the asymptotic regime, past any kink
    order = float(np.polyfit(np.log(steps[usable]), np.log(remainders[usable]), 1)[0])
    return TaylorResult(order, steps, remainders)


# ----- check_op -----------------------------------------------------------------------------------
class CheckOpError(AssertionError):
    """A property of `check_op` failed; the message names it, shows the report and the reproducer's path."""


@dataclass
class CheckOpResult:
    """What `check_op` ran: the op, how many samples, and which properties each passed."""

    name: str
    samples: int
    properties: tuple[str, ...] = ("forward", "backward", "dtype", "gradcheck", "taylor")

    def __str__(self) -> str:
        return f"check_op({self.name}): {self.samples} samples passed {', '.join(self.properties)}"


class _PropertyFailure(Exception):
    def __init__(self, prop: str, message: str):
        super().__init__(f"property '{prop}' failed: {message}")
        self.prop = prop


def _as_sample(drawn: Any) -> Sample:
    if isinstance(drawn, Sample):
        return drawn
    if isinstance(drawn, np.ndarray):
        return Sample((drawn,))
    if isinstance(drawn, (tuple, list)):
        return Sample(tuple(drawn))
    raise TypeError(f"check_op: a sample must be a Sample, a tuple of arguments or an array, got {drawn!r:.80}")


def _tensors(sample: Sample, dtype: np.dtype) -> list[Any]:
    return [Tensor(a, requires_grad=flag, dtype=dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a, flag in zip(sample.args, sample.grad_flags(), strict=True)]


def check_sample(function: type[Function], args: Sequence[Any], attrs: dict | None = None,
                 kinks: Sequence[Any] | None = None, reference: Callable | None = None,
                 atol: float = 1e-5, rtol: float = 1e-3) -> None:
    """Run every `check_op` property on one call `function.apply(*args, **attrs)`; raise CheckOpError.

    args are arrays (float ones become inputs that require grad), Tensors (their requires_grad is kept)
    or constants. This is what the reproducer script of a failure calls.
    """
    arrays = tuple(a._data if isinstance(a, Tensor) else a for a in args)
    flags = tuple(a.requires_grad if isinstance(a, Tensor) else isinstance(a, np.ndarray) and a.dtype.kind == "f"
                  for a in args)
    try:
        _check_properties(function, Sample(arrays, dict(attrs or {}), flags), kinks, reference, atol, rtol)
    except _PropertyFailure as failure:
        raise CheckOpError(f"check_op({function.__name__}): {failure}") from None


def _raw_backward(function: type[Function], out: Tensor, prop: str) -> tuple:
    """The op's backward called directly on its node with a gradient of ones: what it returns, before
    the engine checks shapes and casts dtypes."""
    try:
        with np.errstate(all="ignore"):  # as the engine runs it
            # out has a node: the sample has an input that requires grad (else backward raises, reported below).
            grads = function.backward(out._ctx, np.ones(out.shape, out.dtype))  # type: ignore[arg-type]
    except Exception as error:
        raise _PropertyFailure(prop, f"{function.__name__}.backward raised {type(error).__name__}: {error}") from error
    return grads if isinstance(grads, tuple) else (grads,)


def _check_properties(function: type[Function], sample: Sample, kinks: Any, reference: Callable | None,
                      atol: float, rtol: float) -> None:
    name, attrs = function.__name__, sample.attrs
    if not any(sample.grad_flags()):
        raise _PropertyFailure("forward", "the sample has no float array input to differentiate")
    # forward: runs, gives a float Tensor, and (with a reference) the reference's shape and values
    inputs64 = _tensors(sample, float64)
    try:
        out = function.apply(*inputs64, **attrs)
    except Exception as error:
        raise _PropertyFailure("forward", f"{name}.forward raised {type(error).__name__}: {error}") from error
    if out.dtype.kind != "f":
        raise _PropertyFailure("forward", f"the output has dtype {out.dtype}; a differentiable op returns floats")
    if reference is not None:
        expected = np.asarray(reference(*sample.args, **attrs))
        if expected.shape != out.shape:
            raise _PropertyFailure("forward", f"output shape {out.shape}, the reference gives {expected.shape}")
        if not np.allclose(out._data, expected, rtol=1e-7, atol=1e-10):
            worst = float(np.max(np.abs(out._data - expected)))
            raise _PropertyFailure("forward", f"the output differs from the reference by up to {worst:.3g}")
    # backward: one gradient per input, each of its input's shape (called directly, before the engine)
    grads = _raw_backward(function, out, "backward")
    if len(grads) != len(sample.args):
        raise _PropertyFailure("backward", f"backward returned {len(grads)} gradients for {len(sample.args)} inputs")
    for position, (grad, arg) in enumerate(zip(grads, sample.args, strict=True)):
        if grad is not None and np.shape(grad) != np.shape(arg):
            raise _PropertyFailure("backward", f"backward returned a gradient of shape {np.shape(grad)} for input "
                                               f"{position} of shape {np.shape(arg)}")
    # dtype: float32 in, float32 out, and float32 gradients straight from backward (before the engine casts)
    inputs32 = _tensors(sample, float32)
    try:
        out32 = function.apply(*inputs32, **attrs)
    except Exception as error:
        raise _PropertyFailure("dtype", f"{name}.forward raised {type(error).__name__} on float32 inputs: "
                                        f"{error}") from error
    if out32.dtype != float32:
        raise _PropertyFailure("dtype", f"float32 inputs gave a {out32.dtype} output")
    if out32.shape != out.shape:
        raise _PropertyFailure("forward", f"float32 inputs gave shape {out32.shape}, float64 ones {out.shape}")
    for position, grad in enumerate(_raw_backward(function, out32, "dtype")):
        if grad is not None and np.asarray(grad).dtype != float32:
            raise _PropertyFailure("dtype", f"float32 inputs gave a {np.asarray(grad).dtype} gradient for input "
                                            f"{position} (a float64 constant or scalar upcasts it)")
    # gradcheck and Taylor, in float64
    masks = kinks(sample) if kinks is not None else None
    call = lambda *xs: function.apply(*xs, **attrs)  # noqa: E731
    report = check_gradients(call, _tensors(sample, float64), atol=atol, rtol=rtol, kinks=masks)
    if not report.ok:
        raise _PropertyFailure("gradcheck", str(report))
    taylor = taylor_test(call, _tensors(sample, float64))
    if not taylor.ok:
        raise _PropertyFailure("taylor", str(taylor))


def check_op(function: type[Function] | str, samples: Any = None, *, kinks: Callable | None = None,
             reference: Callable | None = None, max_examples: int = 25, atol: float = 1e-5, rtol: float = 1e-3,
             out_dir: str = "check_op_failures", seed: int = 0) -> CheckOpResult:
    """Check a Function on many samples: forward, backward shapes, float32 kept, gradcheck and Taylor order.

    function: a `tc.Function` subclass, or the name of a registered op (its samples and kinks are
    then the defaults). samples: a Hypothesis strategy (drawn `max_examples` times and shrunk on
    failure), a function `rng -> iterable` as in the registry, or an iterable; each sample is a
    `Sample`, a tuple of arguments or one array. kinks: `sample -> per-argument masks` of
    non-differentiable points. reference: a NumPy function the forward must match.
    On failure raises `CheckOpError`, and writes the (shrunk) sample to `out_dir/<op>_<property>.npz`
    with a five-line script beside it that reproduces the failure.
    """
    if isinstance(function, str):
        if function not in registry:
            raise ValueError(f"check_op: no op named {function!r} is registered")
        info = registry[function]
        function, samples = info.function, info.samples if samples is None else samples
        kinks = info.kinks if kinks is None else kinks
    if not (isinstance(function, type) and issubclass(function, Function)):
        raise TypeError(f"check_op: expected a tc.Function subclass or a registered op name, got {function!r}")
    if samples is None:
        raise ValueError(f"check_op({function.__name__}): give samples (a strategy, a function of rng, or a list)")
    failures: list[tuple[Sample, _PropertyFailure]] = []
    passed = [0]

    def check(drawn: Any) -> None:
        sample = _as_sample(drawn)
        try:
            _check_properties(function, sample, kinks, reference, atol, rtol)
        except _PropertyFailure as failure:
            failures.append((sample, failure))
            raise
        passed[0] += 1

    try:
        if type(samples).__module__.startswith("hypothesis"):
            from hypothesis import HealthCheck, given, settings

            run = settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                           report_multiple_bugs=False, suppress_health_check=list(HealthCheck))(given(samples)(check))
            run()
        else:
            for drawn in samples(np.random.default_rng(seed)) if callable(samples) else samples:
                check(drawn)
    except _PropertyFailure:
        sample, failure = failures[-1]  # Hypothesis replays the shrunk example last
        npz, script = write_failure(function, sample, failure.prop, out_dir)
        raise CheckOpError(f"check_op({function.__name__}): {failure}\n(sample: {sample.note or 'unnamed'}; "
                           f"saved to {npz}; reproduce with: python {script})") from None
    if passed[0] == 0:
        raise ValueError(f"check_op({function.__name__}): the samples were empty")
    return CheckOpResult(function.__name__, passed[0])


# ----- saving a failing sample and its reproducer ---------------------------------------------------
def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, np.ndarray):
        return "array"
    return "number"


def write_failure(function: type[Function], sample: Sample, prop: str, out_dir: str) -> tuple[str, str]:
    """Write the sample to `<out_dir>/<op>_<prop>.npz` and a script that re-runs `check_sample` on it."""
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(os.path.abspath(out_dir), f"{function.__name__.lower()}_{prop}")
    arrays = {f"arg{i}": np.asarray(0.0 if a is None else a) for i, a in enumerate(sample.args)}
    # NumPy's stubs fear that `**arrays` fills savez's `allow_pickle`: its keys are arg0, arg1, ...
    np.savez(stem + ".npz", **arrays, kinds=np.array([_kind(a) for a in sample.args]),  # type: ignore[arg-type]
             requires_grad=np.array(sample.grad_flags(), dtype=bool),
             attrs=np.array(json.dumps(sample.attrs, default=str)))
    module, qualname = function.__module__, function.__qualname__
    if module == "__main__":  # a class from a script: import that script by its file name
        path = getattr(sys.modules["__main__"], "__file__", "script.py")
        module = os.path.splitext(os.path.basename(path))[0]
        header = f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(path))!r})"
    else:
        header = f"# check_op({qualname}) failed its {prop!r} property on this sample"
    lines = [
        header,
        "import tinygrad_cnn as tc",
        f"from {module} import {qualname.split('.')[0]}" + ("  # defined inside a function: paste it here"
                                                           if "<locals>" in qualname else ""),
        f"args, attrs = tc.testing.load_sample({stem + '.npz'!r})",
        f"tc.testing.check_sample({qualname}, args, attrs)",
    ]
    with open(stem + ".py", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return stem + ".npz", stem + ".py"


def load_sample(path: str) -> tuple[list[Any], dict]:
    """The arguments and attributes saved by a failing `check_op`: float64 Tensors (requires_grad as
    they were), other arrays and numbers as they were, None where None was passed."""
    with np.load(path, allow_pickle=False) as data:
        kinds, flags = data["kinds"], data["requires_grad"]
        args: list[Any] = []
        for i, (kind, flag) in enumerate(zip(kinds, flags, strict=True)):
            value = data[f"arg{i}"]
            if kind == "none":
                args.append(None)
            elif kind == "number":
                args.append(value.item())
            elif value.dtype.kind == "f":
                args.append(Tensor(value, requires_grad=bool(flag), dtype=value.dtype))
            else:
                args.append(value)
        attrs = json.loads(str(data["attrs"]))
    return args, attrs


__all__ = [
    "CheckOpError", "CheckOpResult", "TaylorResult", "arrays", "broadcastable_shapes", "check_op", "check_sample",
    "load_sample", "pooling_windows", "shapes", "taylor_test", "write_failure",
]
