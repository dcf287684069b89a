"""The package is typed: it ships the PEP 561 marker."""

from __future__ import annotations

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
