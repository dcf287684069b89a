"""The benchmark scripts run end to end (a tiny workload, no torch) and print a row with numbers in it.

They are measurements, not tests of speed: nothing here looks at how fast anything is."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr
    return done.stdout


def row(output: str, name: str) -> list[str]:
    lines = [line for line in output.splitlines() if name in line and not line.startswith("command")]
    assert len(lines) == 1, output
    return [cell.strip() for cell in lines[0].strip("|").split("|")]


def test_run_py_measures_a_workload_in_worker_processes():
    output = run_script("benchmarks/run.py", "--no-torch", "--only", "cross_entropy", "--repeats", "1",
                        "--warmup", "0", "--rounds", "2")
    _name, ms, _gflops, rss = row(output, "cross_entropy 64x10")
    assert float(ms) > 0 and 0 < float(rss) < 10_000
    assert "rounds=2" in output


def test_bench_ops_times_a_conv():
    name = "conv2d 6->16 14x14 k5 p0"
    output = run_script("benchmarks/bench_ops.py", "--no-torch", "--only", name, "--repeats", "5", "--warmup", "0")
    lines = [line for line in output.splitlines() if line.startswith(name)]
    assert len(lines) == 1, output
    ms, gflops = (float(cell) for cell in lines[0][len(name):].split())
    assert ms > 0 and gflops > 0


def test_every_workload_builds_and_runs_once_on_ours():
    """Each workload's step runs (the run itself is timed only by benchmarks/run.py); the big ones are skipped
    here by shape, not by name, so a broken builder of any kind of workload still fails."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import run
    finally:
        sys.path.pop(0)
    for name in run.WORKLOADS:
        if name.startswith(("LeNet", "cross_entropy", "chain")):
            run.build(name, run.Ours())()
        else:
            assert callable(run.build(name, run.Ours()))
