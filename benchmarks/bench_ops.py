"""Time forward + backward of the CNN ops (conv2d, max_pool2d, batch_norm) against PyTorch, float32.

    python benchmarks/bench_ops.py                # 1 BLAS thread, torch too if importable
    python benchmarks/bench_ops.py --threads 2    # pin BLAS (and torch) to 2 threads
    python benchmarks/bench_ops.py --only conv    # rows whose name contains "conv"
    python benchmarks/bench_ops.py --openblas-coretype Haswell   # pick OpenBLAS's kernel (see below)

Each row is timed as: forward, then backward with a fixed output gradient; every input requires grad.
Ours and torch's runs alternate in one process (so machine noise hits both alike); the time is the
median of --repeats runs after --warmup runs. The ratio is ours / torch; the last line is the geometric
mean of the conv2d ratios.

--openblas-coretype sets OPENBLAS_CORETYPE before NumPy loads. On AMD Zen 4, OpenBLAS picks its
AVX-512 (SkylakeX) kernels, but Zen 4 runs AVX-512 at half width and the AVX2 (Haswell) sgemm kernel is
about 10% faster there; the default run reports what a user gets without setting anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The conv shapes and their FLOP counts are run.py's, shared with it (run.py imports no
# NumPy at module level, so the thread pinning below still comes first).
from run import CONVS, conv_gflop  # noqa: E402

OTHERS = ["max_pool2d 2x2/2 64x64x28x28", "batch_norm train 64x64x28x28"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per row, median reported (>= 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    parser.add_argument("--only", default="", help="run only rows whose name contains this")
    parser.add_argument("--no-torch", action="store_true", help="skip torch even if it imports")
    parser.add_argument("--openblas-coretype", default="", help="set OPENBLAS_CORETYPE (e.g. Haswell) first")
    args = parser.parse_args(argv)
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    return args


def pin_threads(threads: int) -> None:
    """Must run before NumPy is imported: BLAS reads these once, when it loads."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def build(name: str, arrays: dict, F, tensor):
    """A no-argument callable that runs forward + backward of row `name`; `F` is the framework's functional
    module and `tensor(array, requires_grad)` its tensor factory (both frameworks share these names)."""
    tensors = {key: tensor(value, key not in ("running_mean", "running_var", "grad")) for key, value in arrays.items()}
    x, grad = tensors["x"], tensors["grad"]
    if name in CONVS:
        *_, stride, padding = CONVS[name]
        weight, bias = tensors["weight"], tensors["bias"]
        return lambda: F.conv2d(x, weight, bias, stride, padding).backward(grad)
    if name.startswith("max_pool2d"):
        return lambda: F.max_pool2d(x, 2, 2).backward(grad)
    mean, var, gamma, beta = (tensors[k] for k in ("running_mean", "running_var", "weight", "bias"))
    return lambda: F.batch_norm(x, mean, var, gamma, beta, training=True).backward(grad)


def make_arrays(name: str, rng) -> dict:
    """float32 inputs of row `name` and a fixed output gradient."""
    import numpy as np

    def normal(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    if name in CONVS:
        n, c_in, c_out, h, w, k, s, p = CONVS[name]
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        return {"x": normal(n, c_in, h, w), "weight": normal(c_out, c_in, k, k) * np.float32(0.1),
                "bias": normal(c_out), "grad": normal(n, c_out, h_out, w_out)}
    x = normal(64, 64, 28, 28)
    if name.startswith("max_pool2d"):
        return {"x": x, "grad": normal(64, 64, 14, 14)}
    return {"x": x, "weight": normal(64), "bias": normal(64), "running_mean": np.zeros(64, np.float32),
            "running_var": np.ones(64, np.float32), "grad": normal(64, 64, 28, 28)}


def blas_name() -> str:
    """NumPy's BLAS and the kernel family it chose, when threadpoolctl can tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS unknown"
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return f"{info.get('internal_api')} {info.get('version')} {info.get('architecture', '')}".strip()
    return "BLAS unknown"


def median_times(runs: dict, repeats: int, warmup: int) -> dict:
    """Median seconds per callable; the callables take turns, so noise from other processes hits all alike."""
    import numpy as np

    times: dict = {key: [] for key in runs}
    for i in range(warmup + repeats):
        for key, run in runs.items():
            start = time.perf_counter()
            run()
            if i >= warmup:
                times[key].append(time.perf_counter() - start)
    return {key: float(np.median(values)) for key, values in times.items()}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    pin_threads(args.threads)
    if args.openblas_coretype:
        os.environ["OPENBLAS_CORETYPE"] = args.openblas_coretype
    sys.path.insert(0, ROOT)
    import numpy as np

    import tinygrad_cnn as tc
    import tinygrad_cnn.nn.functional as ours_F

    tc.set_num_threads(args.threads)

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not importable: timing tinygrad_cnn only")
    if torch is not None:
        torch.set_num_threads(args.threads)

    print(f"float32, forward + backward, median of {args.repeats} after {args.warmup} warm-up, "
          f"{args.threads} thread(s), numpy {np.__version__} ({blas_name()})"
          + (f", torch {torch.__version__}" if torch else ""))
    header = f"{'op':32} {'ours ms':>9} {'GFLOP/s':>8}" + (f" {'torch ms':>9} {'ratio':>6}" if torch else "")
    print(header)
    print("-" * len(header))
    conv_ratios = []
    for name in [*CONVS, *OTHERS]:
        if args.only not in name:
            continue
        arrays = make_arrays(name, np.random.default_rng(0))
        runs = {"ours": build(name, arrays, ours_F, lambda a, grad: tc.Tensor(a, requires_grad=grad))}
        if torch is not None:
            runs["torch"] = build(name, arrays, torch.nn.functional,
                                  lambda a, grad: torch.tensor(a, requires_grad=grad))
        seconds = median_times(runs, args.repeats, args.warmup)
        gflops = f"{conv_gflop(name) / seconds['ours']:8.1f}" if name in CONVS else f"{'':8}"
        line = f"{name:32} {seconds['ours'] * 1e3:9.2f} {gflops}"
        if torch is not None:
            ratio = seconds["ours"] / seconds["torch"]
            line += f" {seconds['torch'] * 1e3:9.2f} {ratio:6.2f}"
            if name in CONVS:
                conv_ratios.append(ratio)
        print(line, flush=True)
    if conv_ratios:
        print(f"conv2d geometric mean of ours/torch over {len(conv_ratios)} shapes: "
              f"{float(np.exp(np.mean(np.log(conv_ratios)))):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
