"""The documentation stays true: its code runs, its links resolve inside the repository, its wording is a user's.

Every ```python block of README.md and docs/**/*.md runs, the blocks of one page in order in one namespace (as a
reader types them), in a fresh working directory; where an ```output block follows one, the block prints exactly
that. When MkDocs is installed (the `docs` extra), the site builds
with warnings as errors and its API reference covers every public name.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import tinygrad_cnn as tc

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
FENCED_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n?", re.S | re.M)
# [text](target) with the target up to a space or ")"; images too.
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _code_blocks(page: Path) -> list[tuple[str, str | None]]:
    """(code, the output it prints or None) for each ```python block: the output is an ```output block that
    follows it with nothing but blank lines between."""
    text = page.read_text()
    blocks = list(FENCED_BLOCK.finditer(text))
    found = []
    for block, after in zip(blocks, [*blocks[1:], None]):
        if block.group(1) != "python":
            continue
        follows = after is not None and after.group(1) == "output" and not text[block.end():after.start()].strip()
        found.append((block.group(2), after.group(2) if follows else None))
    return found


# ----- the code of the pages runs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("page", [p for p in PAGES if _code_blocks(p)], ids=_page_id)
def test_every_python_block_of_the_page_runs(page, tmp_path, monkeypatch):
    text = page.read_text()
    if "load_digits" in text:
        pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    if ".render(" in text and shutil.which("dot") is None:
        pytest.skip("the page renders a graph with Graphviz's dot, which is not installed")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    state, registered = tc.random.generator(), dict(tc.ops.registry)
    try:
        for number, (block, expected) in enumerate(_code_blocks(page), start=1):
            where = f"{_page_id(page)}, python block {number}"
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed) if expected is not None else contextlib.nullcontext():
                exec(compile(block, where, "exec"), namespace)  # noqa: S102 (the docs' own code)
            if expected is not None:
                assert printed.getvalue() == expected, f"{where} printed:\n{printed.getvalue()}"
    finally:
        # A page's manual_seed and the ops it registers do not reach the tests after it.
        tc.random._generator = state
        tc.ops.registry.clear()
        tc.ops.registry.update(registered)


def test_the_docs_have_python_blocks_to_run():
    pages = [_page_id(p) for p in PAGES if _code_blocks(p)]
    assert "README.md" in pages and len(pages) >= 6, pages


# ----- links stay inside the repository --------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_link_points_to_a_file_inside_the_repository(page):
    for target in MARKDOWN_LINK.findall(page.read_text()):
        assert not re.match(r"[a-z]+:", target), f"{_page_id(page)} links outside the repository: {target}"
        path = target.split("#")[0]
        if not path:
            continue
        resolved = (page.parent / path).resolve()
        assert resolved.is_relative_to(ROOT), f"{_page_id(page)}: {target} leaves the repository"
        assert resolved.exists(), f"{_page_id(page)}: {target} does not exist"


def test_readme_links_the_guides_and_names_the_docs_build_command():
    readme = (ROOT / "README.md").read_text()
    linked = set(MARKDOWN_LINK.findall(readme))
    for guide in sorted((DOCS / "guides").glob("*.md")):
        assert f"docs/guides/{guide.name}" in linked, f"README does not link {guide.name}"
    assert 'pip install -e ".[docs]" && mkdocs build --strict' in readme


# ----- the words are a user's -------------------------------------------------------------------------------------
def _help_text(script: str) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--help"], capture_output=True,
                            text=True, check=True, cwd=ROOT)
    return result.stdout


@pytest.mark.parametrize("name", ["README.md", "BENCHMARKS.md", "docs", "benchmarks/run.py --help"])
def test_user_facing_text_speaks_of_no_issue_or_target(name):
    """Words a reader of the repository cannot follow: the issues and internal targets the work was done for."""
    if name == "docs":
        text = "\n".join(p.read_text() for p in DOCS.rglob("*.md"))
        words = r"\bissues?\b"  # `target` is also the losses' argument, so the docs are checked for issues only
    elif name.endswith("--help"):
        text, words = _help_text("run.py"), r"\bissues?\b|\btargets?\b|\basked\b"
    else:
        text, words = (ROOT / name).read_text(), r"\bissues?\b|\btargets?\b|\basked\b"
    found = [line.strip() for line in text.splitlines() if re.search(words, line, re.I)]
    assert not found, f"{name}: {found}"


# ----- the site builds, and its reference covers the public API -----------------------------------------------------
PUBLIC_MODULES = ["tinygrad_cnn", "tinygrad_cnn.nn", "tinygrad_cnn.nn.functional", "tinygrad_cnn.nn.init",
                  "tinygrad_cnn.optim", "tinygrad_cnn.utils.data", "tinygrad_cnn.datasets", "tinygrad_cnn.testing",
                  "tinygrad_cnn.viz", "tinygrad_cnn.kernels", "tinygrad_cnn.ops", "tinygrad_cnn.io",
                  "tinygrad_cnn.optim.lr_scheduler"]


def _public_objects(module_name: str) -> dict[str, object]:
    """name -> object for a module's public names: its `__all__`, else what it defines without a leading _."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name, value in vars(module).items() if not name.startswith("_")
                 and getattr(value, "__module__", None) == module_name
                 and (inspect.isfunction(value) or inspect.isclass(value))]
    return {f"{module_name}.{name}": getattr(module, name) for name in names
            if not inspect.ismodule(getattr(module, name))}


def _inventory(site: Path) -> list[str]:
    """The object names of the site's objects.inv (Sphinx's format: four header lines, then zlib)."""
    raw = (site / "objects.inv").read_bytes()
    body = zlib.decompress(raw.split(b"\n", 4)[4]).decode()
    return [line.split()[0] for line in body.splitlines()]


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for part in parts[split:]:
                value = getattr(value, part)
        except AttributeError:
            return None
        return value
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings_handlers.python", reason="the docs extra: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_the_site_builds_with_warnings_as_errors(site):
    for page in ["index.html", "guides/coming-from-pytorch/index.html", "reference/nn/index.html"]:
        assert (site / page).is_file(), page


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_the_api_reference_documents_every_public_name(site, module_name):
    try:
        importlib.import_module(module_name)
    except ImportError:
        pytest.skip(f"{module_name} is not in this version")
    documented = {id(obj) for obj in map(_resolve, _inventory(site)) if obj is not None}
    inventory = set(_inventory(site))
    missing = [name for name, obj in _public_objects(module_name).items()
               if name not in inventory and id(obj) not in documented]
    assert not missing, f"not in the API reference: {missing}"


def test_the_api_reference_documents_every_public_tensor_method_and_property(site):
    inventory = set(_inventory(site))
    public = [name for name in dir(tc.Tensor) if not name.startswith("_")]
    missing = [name for name in public if f"tinygrad_cnn.Tensor.{name}" not in inventory]
    assert not missing, f"Tensor members not in the API reference: {missing}"
