"""Execute the notebooks in this folder, each in a fresh Jupyter kernel; fail if any cell raises.

    python examples/notebooks/run_all.py                      # every *.ipynb here, as CI runs them
    python examples/notebooks/run_all.py cnn_basics.ipynb     # some of them
    python examples/notebooks/run_all.py --keep runs/notebooks  # also write the executed copies there

Each notebook runs in the kernel named python3 (ipykernel, from the `notebooks` extra:
pip install -e ".[notebooks]") with a temporary folder as its working directory and TMPDIR, so a run
writes nothing into the repository. The notebooks in git carry no outputs; --keep writes copies with
them. The last line reads "notebooks: N passed, M failed"; the exit status is 1 when any failed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks; a CI log shows them as noise


def execute(path: Path, workdir: Path, timeout: int) -> object:
    """Run every cell of the notebook at `path` in a new python3 kernel started in `workdir`; returns the
    executed notebook, or raises nbclient's CellExecutionError (with the cell and its traceback),
    CellTimeoutError when one cell runs longer than `timeout` seconds, or DeadKernelError."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def notebook_paths(names: list[Path]) -> list[Path]:
    """Absolute paths of the notebooks named (every *.ipynb here when none is); a name not found from the
    current folder is looked for beside this script, so `run_all.py cnn_basics.ipynb` works from anywhere."""
    if not names:
        return sorted(HERE.glob("*.ipynb"))
    return [(name if name.is_file() or not (HERE / name).is_file() else HERE / name).resolve() for name in names]


def main(argv: list[str] | None = None) -> int:
    """Execute the notebooks named (default: all here), print each one's result and the totals; 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run, as paths or names of those here (default: every *.ipynb here)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds one cell may run (default 300)")
    parser.add_argument("--keep", type=Path, default=None, help="folder for the executed copies, with outputs")
    args = parser.parse_args(argv)
    paths = notebook_paths(args.notebooks)
    missing = [str(path) for path in paths if not path.is_file()]
    if missing or not paths:
        print(f"error: no such notebook: {', '.join(missing)}" if missing else f"error: no notebook in {HERE}",
              file=sys.stderr)
        return 2
    try:
        import nbformat
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as error:
        print(f"error: running the notebooks needs the `notebooks` extra ({error}); "
              "install it with: pip install -e \".[notebooks]\"", file=sys.stderr)
        return 2

    passed, failed = 0, 0
    previous_tmpdir = os.environ.get("TMPDIR")
    with tempfile.TemporaryDirectory(prefix="notebooks_") as scratch:
        # The kernels inherit TMPDIR: what a notebook puts in a temporary folder goes away with `scratch`.
        os.environ["TMPDIR"] = scratch
        try:
            for path in paths:
                workdir = Path(tempfile.mkdtemp(prefix=path.stem + "_", dir=scratch))
                started = time.perf_counter()
                try:
                    notebook = execute(path, workdir, args.timeout)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
                    failed += 1
                    report = ANSI_COLOUR.sub("", str(error))
                    print(f"FAILED {path.name} ({time.perf_counter() - started:.1f} s):\n{report}", flush=True)
                    continue
                passed += 1
                print(f"ok     {path.name} ({time.perf_counter() - started:.1f} s)", flush=True)
                if args.keep is not None:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    nbformat.write(notebook, args.keep / path.name)
        finally:
            if previous_tmpdir is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = previous_tmpdir
    print(f"notebooks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
