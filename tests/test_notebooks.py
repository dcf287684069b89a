"""The notebooks in examples/notebooks/ are kept in git without outputs, link nowhere outside the repository,
and their runner (which CI calls after the tests) fails on a cell that raises."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "examples" / "notebooks"
EXPECTED = {"cnn_basics.ipynb", "train_and_look_inside.ipynb", "write_an_op.ipynb"}
NOT_SOURCE = {"build", "dist", "runs", "site", "node_modules", "__pycache__"}  # build outputs, virtualenvs


def notebooks() -> list[Path]:
    """Every notebook in the repository's own files: hidden folders (.venv, .ipynb_checkpoints) and build
    outputs left out."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name not in NOT_SOURCE
                         and not name.endswith(".egg-info")]
        found += [Path(folder) / name for name in files if name.endswith(".ipynb")]
    return sorted(found)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_the_three_notebooks_are_there():
    assert EXPECTED <= {path.name for path in notebooks() if path.parent == NOTEBOOKS}


@pytest.mark.parametrize("path", notebooks(), ids=lambda path: str(path.relative_to(ROOT)))
def test_notebook_is_stored_without_outputs(path):
    # Outputs (images, timings, widget state) make every run a diff; CI executes the notebooks instead.
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, f"{path.name} has no code cell"
    with_outputs = [i for i, cell in enumerate(notebook["cells"])
                    if cell["cell_type"] == "code" and (cell["outputs"] or cell["execution_count"] is not None)]
    assert not with_outputs, f"{path.name}: cells {with_outputs} carry outputs or an execution count; clear them"
    timed = [i for i, cell in enumerate(notebook["cells"]) if "execution" in cell.get("metadata", {})]
    assert not timed, f"{path.name}: cells {timed} carry execution timings in their metadata"
    assert "widgets" not in notebook["metadata"], f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", notebooks(), ids=lambda path: str(path.relative_to(ROOT)))
def test_notebook_links_nowhere_outside_the_repository(path):
    text = "".join("".join(cell["source"]) for cell in cells(path))
    assert not re.findall(r"https?://|www\.", text), f"{path.name} links outside the repository"


@pytest.mark.parametrize("path", notebooks(), ids=lambda path: str(path.relative_to(ROOT)))
def test_notebook_is_valid_nbformat(path):
    nbformat = pytest.importorskip("nbformat", reason="the notebooks extra")
    nbformat.validate(nbformat.read(path, as_version=4))


def write_notebook(path: Path, *sources: str) -> Path:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
    notebook = {"cells": [{**cell, "id": f"cell-{i}", "source": source} for i, source in enumerate(sources)],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def test_runner_fails_on_a_cell_that_raises_counts_both_and_leaves_the_notebooks_as_they_were(tmp_path):
    pytest.importorskip("nbclient", reason="the notebooks extra")
    pytest.importorskip("ipykernel", reason="the notebooks extra")
    good = write_notebook(tmp_path / "good.ipynb", "x = 1 + 1", "print(x)")
    bad = write_notebook(tmp_path / "bad.ipynb", "print('before')", "raise ValueError('the cell that fails')",
                         "print('never run')")
    stored = {path: path.read_text(encoding="utf-8") for path in (good, bad)}
    kept = tmp_path / "kept"
    run = subprocess.run([sys.executable, str(NOTEBOOKS / "run_all.py"), str(good), str(bad), "--keep", str(kept)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ok     good.ipynb" in run.stdout and "FAILED bad.ipynb" in run.stdout
    assert "ValueError: the cell that fails" in run.stdout
    assert run.stdout.rstrip().endswith("notebooks: 1 passed, 1 failed")
    assert all(path.read_text(encoding="utf-8") == text for path, text in stored.items())
    # --keep writes the executed copy of the notebook that passed, with its outputs.
    assert [path.name for path in kept.iterdir()] == ["good.ipynb"]
    assert "".join(cells(kept / "good.ipynb")[1]["outputs"][0]["text"]) == "2\n"


def test_runner_refuses_a_notebook_that_does_not_exist(tmp_path):
    run = subprocess.run([sys.executable, str(NOTEBOOKS / "run_all.py"), str(tmp_path / "missing.ipynb")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert f"no such notebook: {tmp_path / 'missing.ipynb'}" in run.stderr


def test_runner_finds_a_notebook_by_its_name_from_any_folder(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("run_all", NOTEBOOKS / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    monkeypatch.chdir(tmp_path)
    assert run_all.notebook_paths([Path("cnn_basics.ipynb")]) == [NOTEBOOKS / "cnn_basics.ipynb"]
    assert set(run_all.notebook_paths([])) == {NOTEBOOKS / name for name in EXPECTED}
    (tmp_path / "cnn_basics.ipynb").write_text("{}")  # one in the current folder comes first
    assert run_all.notebook_paths([Path("cnn_basics.ipynb")]) == [tmp_path / "cnn_basics.ipynb"]
