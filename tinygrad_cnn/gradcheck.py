"""gradcheck: compare analytic gradients with finite differences in float64, and say what is wrong.

The output is projected on a random direction v, so one backward gives <v, J> for every input, and
each numeric partial is (<v, f(x + h e_i)> - <v, f(x - h e_i)>) / 2h. Small inputs are checked element
by element; large ones along a random direction (`fast_mode`), then element by element on a sample
when that fails. A failure report gives, per input, the count of failing elements, the worst few by
multi-index, points where the function is not differentiable (confirmed with one-sided differences),
and hints from the pattern of the errors (backward not connected, a constant factor, a sign flip,
errors only on a border, axes swapped).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, float64


class GradcheckError(RuntimeError):
    """The analytic and numeric gradients disagree; the message says where, by how much, and why maybe.

    `.report` holds the `GradcheckReport` for programmatic use.
    """

    def __init__(self, report: GradcheckReport | str):
        super().__init__(str(report))
        self.report = report if isinstance(report, GradcheckReport) else None


# ----- the report ---------------------------------------------------------------------------------
@dataclass
class Row:
    """One element of an input: its multi-index, both derivatives and how far apart they are."""

    index: tuple[int, ...]
    analytic: float
    numeric: float
    left: float = float("nan")  # one-sided derivatives, filled in where they were looked at
    right: float = float("nan")

    @property
    def abs_error(self) -> float:
        """|analytic - numeric|."""
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        """abs_error / |numeric| (inf where numeric is 0)."""
        return self.abs_error / abs(self.numeric) if self.numeric != 0 else float("inf")


@dataclass
class InputReport:
    """What the check found for one input (or Module parameter) that requires grad."""

    label: str  # "input 0" or "parameter 'features.0.weight'"
    shape: tuple[int, ...]
    mode: str  # "per-element" or "random direction"
    checked: int = 0  # elements compared one by one (all of them, or a sample in fast mode)
    mismatches: list[Row] = field(default_factory=list)  # failing elements, worst first
    kinks: list[Row] = field(default_factory=list)  # failing elements at a non-differentiable point
    invalid_kinks: int = 0  # of those, where the analytic value is not between the one-sided derivatives
    hints: list[str] = field(default_factory=list)
    directional: tuple[float, float] | None = None  # (analytic, numeric) along the random direction
    directional_ok: bool = True
    sampled: bool = False  # fast mode compared only a random sample of the elements one by one
    allow_kinks: bool = False

    @property
    def ok(self) -> bool:
        """Whether this input passed: no mismatch, no kink the settings refuse, no failed random direction."""
        # A failed random-direction check is only overruled by a clean check of every element.
        directional_ok = self.directional_ok or not self.sampled
        kinks_ok = self.invalid_kinks == 0 and (self.allow_kinks or not self.kinks)
        return directional_ok and not self.mismatches and kinks_ok

    def render(self, max_rows: int) -> list[str]:
        """This input's part of the report, as lines: at most `max_rows` rows per table."""
        head = f"{self.label} (shape {self.shape}, {self.mode})"
        if self.ok:
            return [f"{head}: ok"]
        lines = [head + ":"]
        if self.directional is not None:
            analytic, numeric = self.directional
            lines.append(f"  along the random direction: analytic {analytic:.6g}, numeric {numeric:.6g}, "
                         f"error {abs(analytic - numeric):.3g}; then {self.checked} elements one by one"
                         + (" (a random sample)" if self.sampled else ""))
            if self.sampled and not self.mismatches and not self.kinks:
                lines.append("  no sampled element differs: the error hides in the others or is spread thinly "
                             "over many; rerun with fast_mode=False to compare every element")
        if self.mismatches:
            lines.append(f"  mismatch at {len(self.mismatches)} of {_count(self.checked, 'element')}; worst first:")
            lines += _table(self.mismatches[:max_rows], ("analytic", "numeric", "abs error", "rel error"),
                            lambda r: (r.analytic, r.numeric, r.abs_error, r.rel_error))
        if self.kinks:
            lines.append(f"  {_count(len(self.kinks), 'element')} on a non-differentiable point (the one-sided "
                         "derivatives differ, so the central difference is their average, not a derivative):")
            lines += _table(self.kinks[:max_rows], ("analytic", "left", "right", "central"),
                            lambda r: (r.analytic, r.left, r.right, r.numeric), _kink_side)
            if self.invalid_kinks:
                lines.append(f"  at {self.invalid_kinks} of them the analytic value is outside [left, right]: "
                             "no one-sided derivative agrees, so backward is wrong there")
            else:
                lines.append("  each analytic value is a one-sided derivative or between them (a valid subgradient): "
                             "move the input off the kink, or pass allow_kinks=True to accept it")
        lines += [f"  hint: {hint}" for hint in self.hints]
        return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _table(rows: list[Row], names: tuple[str, ...], values: Callable[[Row], tuple],
           remark: Callable[[Row], str] = lambda row: "") -> list[str]:
    index_width = max(8, *(len(str(r.index)) for r in rows))
    lines = ["    " + "index".ljust(index_width) + "".join(f"{n:>14}" for n in names)]
    for row in rows:
        cells = "".join(f"{v:>14.6g}" for v in values(row))
        lines.append(("    " + str(row.index).ljust(index_width) + cells + "  " + remark(row)).rstrip())
    return lines


def _kink_side(row: Row) -> str:
    """Which one-sided derivative the analytic value agrees with, in words."""
    scale = 1e-6 * max(1.0, abs(row.left), abs(row.right))
    if abs(row.analytic - row.left) <= scale:
        return "= left derivative"
    if abs(row.analytic - row.right) <= scale:
        return "= right derivative"
    low, high = sorted((row.left, row.right))
    return "between them" if low <= row.analytic <= high else "outside both"


@dataclass
class GradcheckReport:
    """The whole check: one `InputReport` per input and parameter, and the settings that reproduce it."""

    inputs: list[InputReport]
    settings: str
    notes: list[str] = field(default_factory=list)
    max_rows: int = 5
    failure: str = ""  # why no gradient could be compared at all (a NaN output), when that is so

    @property
    def ok(self) -> bool:
        """Whether the check passed: every input did, and no NaN or inf output stopped the comparison."""
        return not self.failure and all(report.ok for report in self.inputs)

    def __str__(self) -> str:
        failing = sum(not report.ok for report in self.inputs)
        status = (f"gradcheck failed: {self.failure}" if self.failure
                  else f"gradcheck failed: {failing} of {len(self.inputs)} checked inputs disagree" if failing
                  else "gradcheck passed")
        lines = [f"{status} ({self.settings})", *self.notes]
        for report in self.inputs:
            lines += report.render(self.max_rows)
        return "\n".join(lines)


# ----- float64 copies of the inputs and of a Module's parameters -----------------------------------
@contextlib.contextmanager
def float64_problem(fn: Callable, inputs: Sequence[Any]) -> Iterator[tuple[Callable[[], Any], list]]:
    """Yield `(call, targets)`: `call()` runs fn on float64 copies of the inputs, and `targets` lists
    `(label, tensor)` for each input that requires grad and, when fn is a Module, each of its trainable
    parameters. Parameters and floating buffers are switched to float64 copies for the duration and
    restored afterwards (data, dtype and `.grad`), so running statistics are left untouched too."""
    if isinstance(inputs, Tensor):  # one Tensor stands for a one-argument call, as in PyTorch
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"gradcheck: inputs must be a Tensor or a list or tuple of arguments, "
                        f"got {type(inputs).__name__}")
    # C order, so that an element can be perturbed through a flat view of the data.
    copies = [Tensor(np.array(x._data, dtype=float64, order="C"), requires_grad=x.requires_grad)
              if isinstance(x, Tensor) and x.dtype.kind == "f" else x for x in inputs]
    targets = [(f"input {i}", x) for i, x in enumerate(copies) if isinstance(x, Tensor) and x.requires_grad]
    restore = []
    try:
        if hasattr(fn, "named_parameters"):
            for name, param in fn.named_parameters():
                restore.append((param, param._data, param.grad))
                param._data, param.grad = np.array(param._data, dtype=float64, order="C"), None
                if param.requires_grad:
                    targets.append((f"parameter {name!r}", param))
            for _, buffer in getattr(fn, "named_buffers", lambda: ())():
                if buffer is not None:
                    restore.append((buffer, buffer._data, buffer.grad))
                    kind_float = buffer._data.dtype.kind == "f"
                    buffer._data = np.array(buffer._data, dtype=float64 if kind_float else None, order="C")
        if not targets:
            raise ValueError("gradcheck: no input (and no Module parameter) requires grad, so there is nothing "
                             "to check; create the inputs with requires_grad=True")
        yield (lambda: fn(*copies)), targets
    finally:
        for tensor, data, grad in reversed(restore):  # reversed: a tensor listed twice ends as it began
            tensor._data, tensor.grad = data, grad


def float_outputs(out: Any) -> list[Tensor]:
    """The floating Tensors among fn's result (a Tensor, or a tuple such as max's (values, indices))."""
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    floats = [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]
    if not floats:
        raise TypeError(f"gradcheck: fn must return a floating Tensor (or a tuple holding one), got {out!r:.80}")
    return floats


def evaluate_outputs(call: Callable[[], Any]) -> list[np.ndarray]:
    """fn's floating outputs as float64 copies, computed without recording (copies: an output may be a
    view of an input that is perturbed next)."""
    with no_grad():
        return [np.array(o._data, dtype=float64) for o in float_outputs(call())]


def _first_nonfinite(array: np.ndarray) -> str:
    """'NaN at (1, 2) (3 of 12 elements NaN or inf)': the first non-finite element of an array and the count."""
    bad = ~np.isfinite(array)
    first = np.unravel_index(int(np.argmax(bad)), array.shape)
    value = "NaN" if np.isnan(array[first]) else "inf"
    return (f"{value} at {tuple(int(i) for i in first)} "
            f"({int(bad.sum())} of {_count(array.size, 'element')} NaN or inf)")


def nonfinite_outputs(outputs: list[np.ndarray], inputs: list[tuple[str, Tensor]]) -> str:
    """'' when every output is finite; else which output element is NaN (or inf) and which input, if any,
    holds a NaN or inf already."""
    bad = [(k, o) for k, o in enumerate(outputs) if not np.isfinite(o).all()]
    if not bad:
        return ""
    k, output = bad[0]
    text = f"fn's output {k} is {_first_nonfinite(output)} at the given inputs"
    holders = [f"{label} holds {_first_nonfinite(t._data)}" for label, t in inputs if not np.isfinite(t._data).all()]
    if holders:
        return f"{text}; {', '.join(holders)}"
    return text + ", which are all finite: fn makes it (run fn under tc.detect_anomaly() to find the op)"


def projected_difference(first: list[np.ndarray], second: list[np.ndarray], directions: list[np.ndarray]) -> float:
    """<v, f1 - f2>, differencing element by element before projecting: projecting first would lose a
    small change of one output to round-off in the sum over large others."""
    return float(sum(np.vdot(v, a - b) for a, b, v in zip(first, second, directions, strict=True)))


def backward_projection(outs: list[Tensor], directions: list[np.ndarray]) -> None:
    """Run backward of <v, f(x)>, accumulating <v, J> into every target's `.grad`."""
    roots = [(o, v) for o, v in zip(outs, directions, strict=True) if o.requires_grad]
    for k, (out, direction) in enumerate(roots):
        out.backward(direction.astype(out.dtype), retain_graph=k < len(roots) - 1)


# ----- gradcheck ------------------------------------------------------------------------------
def gradcheck(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, *, seed: int = 0, fast_mode: bool | None = None,
              fast_threshold: int = 1000, kinks: Sequence[Any] | None = None, allow_kinks: bool = False) -> bool:
    """Check fn's backward against central finite differences in float64; True when they agree.

    fn: a function of Tensors, or an nn.Module (its parameters are checked too). inputs: the
    positional arguments; Tensors that require grad are checked (as float64 copies: the originals and
    the Module's parameters are left as they were). eps: the step, scaled to each element's magnitude
    as eps * max(1, |x|). An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
    fast_mode: check along one random direction per input (None: for inputs above `fast_threshold`
    elements); seed: the random directions, printed in the report. kinks: per input, a bool mask of
    elements declared non-differentiable (OpInfo.kinks); allow_kinks: accept a one-sided derivative
    (or anything between) at a non-differentiable point.
    On failure raises `GradcheckError` with the report (or returns False when raise_exception=False);
    `check_gradients` returns the report itself.
    """
    report = check_gradients(fn, inputs, eps, atol, rtol, seed=seed, fast_mode=fast_mode,
                             fast_threshold=fast_threshold, kinks=kinks, allow_kinks=allow_kinks)
    if not report.ok and raise_exception:
        raise GradcheckError(report)
    return report.ok


def check_gradients(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5,
                    rtol: float = 1e-3, *, seed: int = 0, fast_mode: bool | None = None,
                    fast_threshold: int = 1000, kinks: Sequence[Any] | None = None,
                    allow_kinks: bool = False, max_rows: int = 5) -> GradcheckReport:
    """The work of `gradcheck`, returning a `GradcheckReport` (`.ok`, per-input findings, `str()`)."""
    if not (eps > 0 and atol >= 0 and rtol >= 0):
        raise ValueError(f"gradcheck: need eps > 0, atol >= 0 and rtol >= 0, got eps={eps}, atol={atol}, rtol={rtol}")
    with float64_problem(fn, inputs) as (call, targets):
        outs = float_outputs(call())
        rng = np.random.default_rng(seed)
        directions = [rng.standard_normal(o.shape) for o in outs]
        backward_projection(outs, directions)
        analytic = [np.zeros(t.shape) if t.grad is None else np.array(t.grad._data, dtype=float64)
                    for _, t in targets]
        recorded = [np.array(o._data, dtype=float64) for o in outs]
        settings = (f"central differences, eps={eps:g} scaled by max(1, |x|), atol={atol:g}, rtol={rtol:g}, "
                    f"output projected on a random direction with seed={seed}")
        nonfinite = nonfinite_outputs(recorded, targets)
        if nonfinite:  # no difference of a NaN means anything: say so instead of comparing
            return GradcheckReport([], settings, failure=nonfinite + "; no gradient can be compared there")
        base = evaluate_outputs(call)
        notes = []
        drift = max(float(np.max(np.abs(a - b), initial=0)) for a, b in zip(base, recorded, strict=True))
        if not drift <= 1e-12 * (1 + max(float(np.max(np.abs(a), initial=0)) for a in base)):
            raise RuntimeError(f"gradcheck: fn is not deterministic: two calls at the same inputs differ by up to "
                               f"{drift:.3g}; put dropout in eval() mode or fix its randomness")
        if any(o.dtype != float64 for o in outs):
            notes.append("note: fn's output is not float64 for float64 inputs, so finite differences are "
                         "imprecise; cast inside fn is likely")
        declared = list(kinks) if kinks is not None else []
        input_masks = {f"input {i}": m for i, m in enumerate(declared)}
        reports = []
        for position, ((label, tensor), grad) in enumerate(zip(targets, analytic, strict=True)):
            mask = input_masks.get(label)
            mask = None if mask is None or mask is False else np.broadcast_to(np.asarray(mask, bool), tensor.shape)
            fast = fast_mode if fast_mode is not None else tensor._data.size > fast_threshold
            checker = _Checker(call, directions, tensor, grad, base, eps, atol, rtol)
            if fast:
                report = InputReport(label, tensor.shape, f"random direction, seed={seed}", allow_kinks=allow_kinks)
                report.directional = checker.directional(np.random.default_rng([seed, position]))
                if checker.close(*report.directional):
                    reports.append(report)
                    continue
                report.directional_ok = False
                size = tensor._data.size
                report.sampled = size > 4 * fast_threshold
                flat = (np.sort(np.random.default_rng([seed, position]).choice(size, fast_threshold, replace=False))
                        if report.sampled else np.arange(size))
            else:
                report = InputReport(label, tensor.shape, "per-element", allow_kinks=allow_kinks)
                flat = np.arange(tensor._data.size)
            checker.per_element(flat, mask, report, full=not report.sampled)
            reports.append(report)
        return GradcheckReport(reports, settings, notes, max_rows)


class _Checker:
    """Finite differences for one float64 target tensor, perturbed in place and restored."""

    def __init__(self, call: Callable[[], Any], directions: list[np.ndarray], tensor: Tensor, analytic: np.ndarray,
                 base: list[np.ndarray], eps: float, atol: float, rtol: float):
        self.call, self.directions, self.tensor, self.analytic, self.base = call, directions, tensor, analytic, base
        self.eps, self.atol, self.rtol = eps, atol, rtol

    def evaluate(self) -> list[np.ndarray]:
        return evaluate_outputs(self.call)

    def difference(self, first: list[np.ndarray], second: list[np.ndarray]) -> float:
        return projected_difference(first, second, self.directions)

    def close(self, analytic: Any, numeric: Any) -> Any:
        # Written as <= so that NaN on either side counts as a failure.
        return np.abs(analytic - numeric) <= self.atol + self.rtol * np.abs(numeric)

    def directional(self, rng: np.random.Generator) -> tuple[float, float]:
        """<analytic, u> and its central difference along a random u (each element moves at most h)."""
        data = self.tensor._data
        direction = rng.standard_normal(data.shape)
        direction /= np.abs(direction).max()
        step = self.eps * max(1.0, float(np.abs(data).max()))
        original = data.copy()
        try:
            data += step * direction
            plus = self.evaluate()
            data[...] = original - step * direction
            minus = self.evaluate()
        finally:
            data[...] = original
        return float(np.vdot(self.analytic, direction)), self.difference(plus, minus) / (2 * step)

    def _differences(self, flat: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each flat index, <v, f(x + h e_i) - f(x)> and <v, f(x) - f(x - h e_i)>, and the exact steps
        taken upwards and downwards."""
        values = self.tensor._data.reshape(-1)  # a view: the tensor's data is C-contiguous float64
        rise, fall = np.empty(len(flat)), np.empty(len(flat))
        up_steps, down_steps = np.empty(len(flat)), np.empty(len(flat))
        for k, i in enumerate(flat):
            original = values[i]
            step = scale * self.eps * max(1.0, abs(original))
            up, down = original + step, original - step
            try:
                values[i] = up
                plus = self.evaluate()
                values[i] = down
                minus = self.evaluate()
            finally:
                values[i] = original
            rise[k], fall[k] = self.difference(plus, self.base), self.difference(self.base, minus)
            # The representable steps, not the intended ones: this keeps large |x| exact.
            up_steps[k], down_steps[k] = up - original, original - down
        return rise, fall, np.stack([up_steps, down_steps])

    def _between(self, value: float, left: float, right: float) -> bool:
        tol = self.atol + self.rtol * max(abs(left), abs(right))
        return min(left, right) - tol <= value <= max(left, right) + tol

    def per_element(self, flat: np.ndarray, mask: np.ndarray | None, report: InputReport, full: bool) -> None:
        """Compare element by element at the flat indices; fill the report's rows and hints."""
        shape = self.tensor.shape
        rise, fall, (up, down) = self._differences(flat, 1.0)
        numeric = (rise + fall) / (up + down)
        analytic = self.analytic.reshape(-1)[flat]
        failing = ~self.close(analytic, numeric)
        report.checked = len(flat)
        if not failing.any():
            return
        # One-sided differences at the failing elements: a kink has left and right derivatives that
        # differ by a jump that stays when the step shrinks (for a smooth function it shrinks with h).
        left, right = fall / down, rise / up
        jump_tol = self.atol + self.rtol * np.maximum(np.abs(left), np.abs(right))
        suspects = np.flatnonzero(failing & ~(np.abs(right - left) <= jump_tol))
        kink = np.zeros(len(flat), bool)
        if mask is not None:
            kink |= failing & mask.reshape(-1)[flat]
        if len(suspects):
            rise2, fall2, (up2, down2) = self._differences(flat[suspects], 0.1)
            left2, right2 = fall2 / down2, rise2 / up2
            kink[suspects] |= np.abs(right2 - left2) >= 0.5 * np.abs(right[suspects] - left[suspects])
        indices = [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat]
        rows = [Row(indices[k], float(analytic[k]), float(numeric[k]), float(left[k]), float(right[k]))
                for k in np.flatnonzero(failing)]
        order = np.argsort([-(r.abs_error if np.isfinite(r.abs_error) else np.inf) for r in rows], kind="stable")
        rows = [rows[k] for k in order]
        at_kink = {indices[k] for k in np.flatnonzero(kink)}
        report.mismatches = [r for r in rows if r.index not in at_kink]
        report.kinks = [r for r in rows if r.index in at_kink]
        report.invalid_kinks = sum(not self._between(r.analytic, r.left, r.right) for r in report.kinks)
        if report.mismatches:
            mismatch = failing & ~kink
            if full:
                full_analytic, full_numeric = self.analytic, numeric.reshape(shape)
                report.hints = pattern_hints(full_analytic, full_numeric, mismatch.reshape(shape),
                                             self.atol, self.rtol)
            else:
                report.hints = pattern_hints(analytic, numeric, mismatch, self.atol, self.rtol)


# ----- hints from the pattern of the errors --------------------------------------------------------
def pattern_hints(analytic: np.ndarray, numeric: np.ndarray, bad: np.ndarray, atol: float, rtol: float) -> list[str]:
    """Plain-language guesses at the cause of a mismatch, from where and how analytic and numeric differ."""
    hints = []
    if not np.isfinite(analytic).all():
        hints.append(f"the analytic gradient has {int((~np.isfinite(analytic)).sum())} NaN/inf elements: "
                     "backward divides by zero or overflows (run it under tc.detect_anomaly() to find the op)")
    if not np.isfinite(numeric).all():
        hints.append("the function itself is NaN/inf next to these inputs: move the sample into its domain")
    meaningful = np.abs(numeric) > max(atol, 1e-12)
    if not analytic.any() and meaningful.any():
        return hints + ["the analytic gradient is all zero while the numeric one is not: backward does not reach "
                        "this input (it returns None or zeros for it, or the graph was cut by .detach(), .data or "
                        "NumPy code outside a Function)"]
    if not analytic[bad].any() and (bad & meaningful).any():
        hints.append("the analytic gradient is zero on every failing element and right elsewhere: backward "
                     "misses part of this input (a slice, a broadcast axis, a padding border)")
    ratio = _constant_ratio(analytic, numeric, meaningful)
    if ratio is not None:
        hints.append(_describe_ratio(ratio, "on every element"))
    else:
        ratio = _constant_ratio(analytic, numeric, meaningful & bad)
        if ratio is not None and ratio != 0:
            hints.append(_describe_ratio(ratio, "on the failing elements (right elsewhere)"))
    swapped = _swapped_axes(analytic, numeric, atol, rtol)
    if swapped is not None:
        hints.append(f"the analytic gradient matches the numeric one with its axes permuted as {swapped}: "
                     "backward swaps axes (a missing or extra transpose/permute, or a reshape where a "
                     "transpose belongs)")
    border = _border_only(bad)
    if border is not None:
        hints.append(border)
    return hints


def _constant_ratio(analytic: np.ndarray, numeric: np.ndarray, where: np.ndarray) -> float | None:
    if where.sum() < 1 or not np.isfinite(analytic[where]).all():
        return None
    ratios = analytic[where] / numeric[where]
    ratio = float(np.median(ratios))
    if not (np.all(np.abs(ratios - ratio) <= 1e-3 * abs(ratio) + 1e-9) and abs(ratio - 1) > 1e-3):
        return None
    # One or two elements always share "a constant ratio": trust only a telling one (2, 1/2, -1, ...) then.
    if where.sum() < 3 and _simple_factor(abs(ratio)) is None:
        return None
    return ratio


def _simple_factor(magnitude: float) -> str | None:
    """"3" or "1/3" when the magnitude is (nearly) an integer or its reciprocal."""
    if round(magnitude) >= 1 and abs(magnitude - round(magnitude)) < 1e-3:
        return f"{int(round(magnitude))}"
    if magnitude > 0 and round(1 / magnitude) >= 1 and abs(1 / magnitude - round(1 / magnitude)) < 1e-3:
        return f"1/{int(round(1 / magnitude))}"
    return None


def _describe_ratio(ratio: float, where: str) -> str:
    factor = _simple_factor(abs(ratio)) or f"{abs(ratio):.4g}"
    sign = "-" if ratio < 0 else ""
    text = f"analytic = {sign}{factor} x numeric {where}: "
    if factor == "1":
        return text + "the sign is flipped (a subtraction reversed, or a minus sign lost)"
    cause = {"2": "the gradient is twice too large (a factor of 2 applied twice, or one path counted twice)",
             "1/2": "a factor of 2 missing (e.g. d(x*x)/dx written as x, or one of two paths dropped)"}.get(
        factor, "a constant factor is wrong (a missing 1/n of a mean, a scale or a chain-rule term)")
    return text + cause + (", and the sign is flipped" if ratio < 0 else "")


def _swapped_axes(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> tuple | None:
    """A non-trivial axis permutation p with analytic == numeric.transpose(p) (flattened), if any."""
    if analytic.ndim < 2 or analytic.ndim > 5:
        return None
    flat_numeric = numeric.reshape(-1)
    for perm in itertools.permutations(range(numeric.ndim)):
        candidate = numeric.transpose(perm).reshape(-1)
        if np.array_equal(candidate, flat_numeric):  # this permutation does not move anything
            continue
        if np.allclose(analytic.reshape(-1), candidate, atol=atol, rtol=rtol):
            return perm
    return None


def _border_only(bad: np.ndarray) -> str | None:
    """A hint when every failing element lies within a few elements of a conv input's spatial border."""
    if bad.ndim < 3 or not bad.any():
        return None
    spatial = list(range(bad.ndim - 2, bad.ndim)) if bad.ndim >= 4 else [bad.ndim - 1]
    coords = np.indices(bad.shape, sparse=True)
    depth = np.full(bad.shape, np.iinfo(np.int64).max)
    for axis in spatial:
        n = bad.shape[axis]
        depth = np.minimum(depth, np.minimum(coords[axis], n - 1 - coords[axis]))
    width = int(depth[bad].max()) + 1
    interior = depth >= width
    if not interior.any() or bad[interior].any():
        return None
    names = {bad.ndim - 1: ("left", "right"), bad.ndim - 2: ("top", "bottom")} if len(spatial) == 2 else \
        {bad.ndim - 1: ("start", "end")}
    near: dict[str, np.ndarray] = {}
    for axis in spatial:
        n, (low, high) = bad.shape[axis], names[axis]
        index: np.ndarray = np.broadcast_to(coords[axis], bad.shape)
        near[low], near[high] = bad & (index < width), bad & (index >= n - width)
    # Name the fewest sides that hold every failing element (greedy): a bad top row is "top", not
    # "top, left, right" because of its two corners.
    sides, left = [], bad.copy()
    while left.any():
        side = max(near, key=lambda name: (near[name] & left).sum())
        sides.append(side)
        left &= ~near[side]
    sides.sort(key=list(near).index)
    return (f"errors only within {width} element{'s' if width > 1 else ''} of the spatial border "
            f"({', '.join(sides)}) and the interior is right: check the padding in backward (its width, "
            "which side it goes on, or a border cropped off)")

__all__ = ["GradcheckError", "GradcheckReport", "InputReport", "Row", "check_gradients", "gradcheck"]
