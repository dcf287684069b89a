"""What tinygrad_cnn does to the process: nothing at import, no memory kept after a graph is freed, the same
trained weights whatever the import order, and a forked child that finishes."""

from __future__ import annotations

import gc
import multiprocessing
import os
import subprocess
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python(code: str) -> str:
    """Run `code` in a fresh interpreter that imports this checkout's package; its stdout."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_changes_no_environment_error_state_or_warning_filter():
    output = python("""
import os, warnings
import numpy as np
before = dict(os.environ), np.geterr(), list(warnings.filters)
import tinygrad_cnn
after = dict(os.environ), np.geterr(), list(warnings.filters)
print(before[0] == after[0], before[1] == after[1], before[2] == after[2])
""")
    assert output.split() == ["True", "True", "True"]


def test_import_before_numpy_sets_no_environment_variable():
    output = python("""
import os
before = dict(os.environ)
import tinygrad_cnn
print(sorted(set(os.environ.items()) ^ set(before.items())))
""")
    assert output.strip() == "[]"


_TRAIN = """
import hashlib
import tinygrad_cnn as tc
from tinygrad_cnn import nn
import tinygrad_cnn.nn.functional as F
tc.manual_seed(0)
model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8),
                      nn.Sigmoid(), nn.Flatten(), nn.Linear(8 * 12 * 12, 4))
optimizer = tc.optim.Adam(model.parameters(), lr=1e-2)
images, labels = tc.randn(6, 3, 12, 12), tc.tensor(np.arange(6) % 4)
runs = {}
with tc.kernels.only("winograd") as runs:  # the second conv: 8 -> 8 channels, 12x12 outputs
    for _ in range(5):
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
assert runs["winograd"] == 5, runs
print(hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters())).hexdigest())
"""


def test_trained_weights_are_bit_identical_whatever_the_import_order():
    numpy_first = python("import numpy as np\nimport tinygrad_cnn\n" + _TRAIN)
    package_first = python("import tinygrad_cnn\nimport numpy as np\n" + _TRAIN)
    assert numpy_first == package_first and len(numpy_first.strip()) == 64


def _train_step() -> None:
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.standard_normal((4, 8, 12, 12)), requires_grad=True)
    weight = tc.Tensor(rng.standard_normal((8, 8, 3, 3)), requires_grad=True)
    F.relu(F.conv2d(x, weight, padding=1)).sum().backward()


def _child(queue) -> None:
    _train_step()
    queue.put("done")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_after_training_finishes():
    _train_step()
    for _ in range(3):  # a pool of ours, or a BLAS's, would hold its locks across the fork
        threading.Thread(target=_train_step).start()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung")
    assert child.exitcode == 0 and queue.get(timeout=5) == "done"


@pytest.mark.parametrize("variant", ["reference", "winograd"])
def test_no_large_buffer_outlives_the_graph(variant):
    rng = np.random.default_rng(0)
    arrays = rng.standard_normal((16, 16, 28, 28)), rng.standard_normal((16, 16, 3, 3))  # cols: 14 MiB
    tracemalloc.start()
    try:
        x, weight = (tc.Tensor(a, requires_grad=True) for a in arrays)
        kind = tc.kernels.disabled() if variant == "reference" else tc.kernels.only(variant)
        with kind:
            out = F.conv2d(x, weight, padding=1)
            out.sum().backward()
        del x, weight, out
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept < 2**20, f"{kept} bytes still allocated after the graph was freed"
