"""Measure tinygrad_cnn against PyTorch's CPU backend on CNN workloads, forward and backward, float32.

The workloads: five conv2d shapes (28x28 and 14x14 inputs, 1 to 64 channels, 3x3 and 5x5 kernels, one with
stride 2); max pooling, batch norm, relu and
sigmoid on a 64x64x28x28 batch; cross-entropy of 64x10 logits; a training step of LeNet-5 (batch 64) and of a
Keras-style CNN with and without batch norm (batch 32); and a chain of 10,000 small ops (the engine's per-op cost).

    python benchmarks/run.py                 # every workload, 1 BLAS thread, torch too if importable
    python benchmarks/run.py --threads 2     # pin BLAS (and torch) to 2 threads
    python benchmarks/run.py --only conv     # workloads whose name contains "conv"

Each workload runs in a fresh Python process per framework, so that peak RSS belongs to that workload alone; the
harness sets the BLAS thread variables for its workers, and each worker also sets its threads at run time
(tinygrad_cnn.set_num_threads, torch.set_num_threads). A process times --repeats runs after --warmup runs
and reports their median; the frameworks' processes take turns --rounds times, and the table shows the median
over rounds (a busy spell of the machine then falls on both). A training step is forward, loss, backward and
an SGD-momentum update, all float32.
Only the standard library and NumPy are needed (torch is optional).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (N, C_in, C_out, H, W, kernel, stride, padding)
CONVS = {
    "conv2d 1->32 28x28 k3 p1": (64, 1, 32, 28, 28, 3, 1, 1),
    "conv2d 32->64 28x28 k3 p1": (64, 32, 64, 28, 28, 3, 1, 1),
    "conv2d 64->64 14x14 k3 p1": (64, 64, 64, 14, 14, 3, 1, 1),
    "conv2d 6->16 14x14 k5 p0": (64, 6, 16, 14, 14, 5, 1, 0),
    "conv2d 32->64 28x28 k3 s2 p1": (64, 32, 64, 28, 28, 3, 2, 1),
}
ELEMENTWISE = ["max_pool2d 2x2/2", "batch_norm train", "relu", "sigmoid"]
WORKLOADS = [*CONVS, *(f"{op} 64x64x28x28" for op in ELEMENTWISE), "cross_entropy 64x10",
             "LeNet-5 step b64", "Keras-style step b32", "Keras-style+BN step b32", "chain 10000 ops"]


def conv_gflop(name: str) -> float | None:
    """Forward + both backward GEMMs: three times the forward's multiply-adds, in GFLOP."""
    if name not in CONVS:
        return None
    n, c_in, c_out, h, w, k, s, p = CONVS[name]
    h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return 3 * 2 * n * c_out * h_out * w_out * c_in * k * k / 1e9


# ----- the workloads, written once: our API is PyTorch's, so only the tensor factories differ ---------
class Ours:
    def __init__(self) -> None:
        import numpy as np

        import tinygrad_cnn as tc
        import tinygrad_cnn.nn.functional as F
        from tinygrad_cnn import nn, optim

        self.np, self.tc, self.F, self.nn, self.optim = np, tc, F, nn, optim
        self.rng = np.random.default_rng(0)
        tc.manual_seed(0)

    def param(self, *shape):
        return self.tc.Tensor(self.rng.standard_normal(shape).astype(self.np.float32) * 0.1, requires_grad=True)

    def data(self, *shape):
        return self.tc.Tensor(self.rng.standard_normal(shape).astype(self.np.float32))

    def labels(self, n):
        return self.tc.Tensor(self.rng.integers(0, 10, n))

    def full(self, n, value, requires_grad=False):
        return self.tc.full((n,), value, requires_grad=requires_grad)


class Torch:
    def __init__(self) -> None:
        import torch
        import torch.nn.functional as F
        from torch import nn, optim

        self.torch, self.F, self.nn, self.optim = torch, F, nn, optim
        self.generator = torch.Generator().manual_seed(0)
        torch.manual_seed(0)

    def param(self, *shape):
        return (self.torch.randn(*shape, generator=self.generator) * 0.1).requires_grad_()

    def data(self, *shape):
        return self.torch.randn(*shape, generator=self.generator)

    def labels(self, n):
        return self.torch.randint(0, 10, (n,), generator=self.generator)

    def full(self, n, value, requires_grad=False):
        return self.torch.full((n,), float(value), requires_grad=requires_grad)


def build(name: str, lib: Ours | Torch) -> Callable[[], None]:
    """The step to time for workload `name`, written against the PyTorch API that both libraries share."""
    F, nn = lib.F, lib.nn
    if name in CONVS:
        n, c_in, c_out, h, w, k, s, p = CONVS[name]
        x, weight, bias = lib.param(n, c_in, h, w), lib.param(c_out, c_in, k, k), lib.param(c_out)
        return lambda: F.conv2d(x, weight, bias, stride=s, padding=p).sum().backward()
    if name.startswith(tuple(ELEMENTWISE)):
        x, gamma, beta = lib.param(64, 64, 28, 28), lib.param(64), lib.param(64)
        mean, var = lib.full(64, 0.0), lib.full(64, 1.0)
        op = {
            "max_pool2d": lambda: F.max_pool2d(x, 2, 2),
            "batch_norm": lambda: F.batch_norm(x, mean, var, gamma, beta, training=True),
            "relu": lambda: F.relu(x),
            "sigmoid": lambda: F.sigmoid(x),
        }[name.split()[0]]
        return lambda: op().sum().backward()
    if name.startswith("cross_entropy"):
        logits, target = lib.param(64, 10), lib.labels(64)
        return lambda: F.cross_entropy(logits, target).backward()
    if name.startswith("chain"):
        def chain():
            y = lib.full(16, 1.0, requires_grad=True)
            for i in range(10_000):
                y = y * 1.0001 if i % 2 else y + 0.5
            y.sum().backward()
        return chain

    if name.startswith("LeNet"):
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
        batch = 64
    else:
        layers = []
        for c_in, c_out in [(1, 32), (32, 64), (64, 64)]:
            layers += [nn.Conv2d(c_in, c_out, 3, padding="same")]
            layers += [nn.BatchNorm2d(c_out)] if "+BN" in name else []
            layers += [nn.ReLU()]
        model = nn.Sequential(*layers, nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12544, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        batch = 32
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images, labels = lib.data(batch, 1, 28, 28), lib.labels(batch)

    def step():
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


# ----- one workload in this process (the worker) -------------------------------------------------------
def measure(framework: str, name: str, warmup: int, repeats: int, threads: int) -> dict:
    import time

    if framework == "torch":
        lib = Torch()
        lib.torch.set_num_threads(threads)
    else:
        lib = Ours()
        lib.tc.set_num_threads(threads)
    step = build(name, lib)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    times.sort()
    return {"ms": 1e3 * times[len(times) // 2], "peak_rss_mib": peak_rss_mib()}


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB.

    Linux's VmHWM starts afresh with the program exec'd here; ru_maxrss (used elsewhere) keeps the size the
    parent had when it forked, so there the parent must stay small (it never imports torch).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def run_worker(framework: str, name: str, threads: int, args: argparse.Namespace) -> dict | None:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)
    command = [sys.executable, __file__, "--worker", framework, "--name", name, "--threads", str(threads),
               "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {framework} failed on {name!r}: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


Runner = tuple[str, int]  # (framework, threads)


def run_rounds(name: str, runners: list[Runner], args: argparse.Namespace) -> dict[Runner, dict | None]:
    """Each (framework, threads) worker --rounds times, taking turns, so that a slow spell of a shared machine falls
    on all of them; per runner the median time over the rounds and the largest peak RSS (None if a run failed)."""
    runs = {runner: [] for runner in runners}
    for _ in range(args.rounds):
        for framework, threads in runners:
            runs[framework, threads].append(run_worker(framework, name, threads, args))
    return {runner: None if None in results else
            {"ms": statistics.median(result["ms"] for result in results),
             "peak_rss_mib": max(result["peak_rss_mib"] for result in results)}
            for runner, results in runs.items()}


def machine() -> str:
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "unknown BLAS"
    try:
        config = np.show_config(mode="dicts")
        blas_info = config["Build Dependencies"]["blas"]
        blas = f"{blas_info.get('name')} {blas_info.get('version')}"
    except Exception:  # noqa: BLE001 - show_config's layout varies between NumPy versions
        pass
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, NumPy {np.__version__} with {blas}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh worker processes per framework and workload, taking turns (default 3)")
    parser.add_argument("--only", default="", help="run workloads whose name contains this text")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is importable")
    parser.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(measure(args.worker, args.name, args.warmup, args.repeats, args.threads)))
        return

    # Found, not imported: the workers are forked from this process, which should stay small.
    torch_version = importlib.metadata.version("torch") if importlib.util.find_spec("torch") else None
    with_torch = torch_version is not None and not args.no_torch
    print(f"# {machine()}")
    frameworks = ["ours", "torch"] if with_torch else ["ours"]
    print(f"# threads={args.threads} repeats={args.repeats} warmup={args.warmup} rounds={args.rounds} "
          f"torch={torch_version}")
    header = f"| {'workload':<30} | {'ours ms':>9} | {'GFLOP/s':>7} | {'RSS MiB':>7} |"
    if with_torch:
        header += f" {'torch ms':>9} | {'torch RSS':>9} | {'ours/torch':>10} |"
    print_header(header)
    conv_ratios = []
    for name in WORKLOADS:
        if args.only not in name:
            continue
        results = run_rounds(name, [(framework, args.threads) for framework in frameworks], args)
        ours, theirs = results["ours", args.threads], results.get(("torch", args.threads))
        flop = conv_gflop(name)
        row = f"| {name:<30} | " + (f"{ours['ms']:>9.2f}" if ours else f"{'failed':>9}")
        row += f" | {flop / ours['ms'] * 1e3:>7.1f}" if flop and ours else f" | {'':>7}"
        row += f" | {ours['peak_rss_mib']:>7.0f} |" if ours else f" | {'':>7} |"
        if with_torch:
            if theirs:
                row += f" {theirs['ms']:>9.2f} | {theirs['peak_rss_mib']:>9.0f} |"
            else:
                row += f" {'failed':>9} | {'':>9} |"
            if ours and theirs:
                ratio = ours["ms"] / theirs["ms"]
                row += f" {ratio:>10.2f} |"
                if name in CONVS:
                    conv_ratios.append(ratio)
            else:
                row += f" {'':>10} |"
        print(row, flush=True)
    if conv_ratios:
        import math

        mean = math.exp(sum(math.log(r) for r in conv_ratios) / len(conv_ratios))
        print(f"\nconv2d geometric mean ours/torch: {mean:.2f} over {len(conv_ratios)} shapes")
    print_command(argv)


def print_header(header: str) -> None:
    """A Markdown table's header row and the dashes under each of its cells."""
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")


def print_command(argv: list[str] | None) -> None:
    print(f"\ncommand: python benchmarks/run.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
