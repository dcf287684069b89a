"""The package is typed: it ships the PEP 561 marker, mypy passes on it, and a user's typed code checks against it.

The mypy tests run where mypy is installed (the `typing` extra) and use the project's configuration in
pyproject.toml, with a cache of their own so that nothing is written into the repository.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import tinygrad_cnn

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


def test_py_typed_marker_is_in_the_package_and_declared_as_package_data():
    marker = Path(tinygrad_cnn.__file__).parent / "py.typed"
    assert marker.is_file()
    assert marker.read_bytes() == b""  # a plain marker: the whole package is typed, not partially
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads(PYPROJECT.read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["tinygrad_cnn"]


def _mypy(tmp_path: Path, *targets: str) -> tuple[str, int]:
    api = pytest.importorskip("mypy.api")
    stdout, stderr, status = api.run(["--config-file", str(PYPROJECT), "--cache-dir", str(tmp_path / "cache"),
                                      "--no-error-summary", *targets])
    return stdout + stderr, status


def test_mypy_passes_on_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    output, status = _mypy(tmp_path, "tinygrad_cnn")
    assert status == 0, output
    assert output == ""


USER_CODE = '''
from collections import OrderedDict

import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import nn


class Square(tc.Function):
    @staticmethod
    def forward(ctx: tc.Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.note = "an op keeps its own values on ctx"
        return x * x

    @staticmethod
    def backward(ctx: tc.Context, grad_output: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


layer = nn.Linear(2, 3)
model = nn.Sequential(OrderedDict(fc=layer, act=nn.ReLU()))
also = nn.Sequential(layer, nn.ReLU())
weight: tc.Tensor = layer.weight
y = Square.apply(tc.randn(2, 2, requires_grad=True))
node = y.grad_fn
if node is not None:
    shape: tuple[int, ...] = node.shape
    inputs: tuple[bool, ...] = node.needs_input_grad
bias_sum = layer.bias.sum()  # an error: bias is None for Linear(..., bias=False)
count: str = len(model)  # an error: len() is an int
'''


def test_user_code_type_checks_against_the_package(tmp_path, monkeypatch):
    """Context's fields and an op's own attributes, Sequential's two forms, a layer's parameters and a node's
    fields are typed; a misuse (an Optional bias used unchecked, an int taken for a str) is reported."""
    monkeypatch.chdir(ROOT)
    user = tmp_path / "user_code.py"
    user.write_text(textwrap.dedent(USER_CODE))
    output, status = _mypy(tmp_path, str(user))
    errors = [line for line in output.splitlines() if ": error:" in line]
    lines = USER_CODE.splitlines()
    reported = sorted(lines[int(error.split(":")[1]) - 1].split("  #")[0] for error in errors)
    assert reported == ["bias_sum = layer.bias.sum()", "count: str = len(model)"], output
    assert '"None" of "Parameter | None" has no attribute "sum"' in output
    assert status == 1
