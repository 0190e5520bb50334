"""The layering rule, checked on the source (ast), so a wrong import fails the suite:

* the ``yure`` kernel (``yure/*.py``) imports none of the packages (``yure/__main__.py``,
  the ``python -m yure`` entry, reaches only the CLI root ``commands``);
* the foundation — ``geo``, ``broadcast``, ``infra`` — imports no feature package
  (``ingest``, ``safety_check``, ``push``, ``archive``, …): only ``infra``;
* only ``web`` and the CLI root (``commands``) compose everything: nobody else imports
  ``web``, and only the entry point imports ``commands``;
* no two packages import each other, directly or around a circle;
* nothing imports a package by its folder name (``import geo``): the one import name is
  ``yure``.

docs/README.md ("Layers") draws the same picture.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
YURE = ROOT / "yure"
#: Every package: the folders linked into yure (yure/<name> → ../<name>), data aside.
PACKAGES = frozenset(
    p.name for p in YURE.iterdir() if p.is_symlink() and (p / "__init__.py").is_file()
) - {"data"}
FOUNDATION = frozenset({"geo", "broadcast", "infra"})
COMPOSERS = frozenset({"web", "commands"})


@functools.cache
def _imports(path: Path) -> tuple[str, ...]:
    """The absolute module names ``path`` imports (at any depth: lazy imports count)."""
    return tuple(_walk(ast.parse(path.read_text(encoding="utf-8"), str(path))))


def _walk(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _packages_imported(path: Path) -> set[str]:
    found = set()
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "yure" and len(parts) > 1 and parts[1] in PACKAGES:
            found.add(parts[1])
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@functools.cache
def _graph() -> dict[str, set[str]]:
    return {
        package: {dep for f in _sources(package) for dep in _packages_imported(f)} - {package}
        for package in PACKAGES
    }


def test_the_packages_are_found() -> None:
    assert {"ingest", "geo", "broadcast", "safety_check", "web", "commands"} <= PACKAGES
    assert all(_sources(p) for p in PACKAGES)


@pytest.mark.parametrize("path", sorted(YURE.glob("*.py")), ids=lambda p: p.name)
def test_the_kernel_imports_no_package(path: Path) -> None:
    allowed = {"commands"} if path.name == "__main__.py" else set()
    assert _packages_imported(path) <= allowed


@pytest.mark.parametrize("package", sorted(FOUNDATION & PACKAGES))
def test_the_foundation_imports_no_feature(package: str) -> None:
    assert _graph()[package] <= {"infra"}, f"{package} reaches above the foundation"


def test_only_the_composers_import_web_and_commands() -> None:
    for package, deps in _graph().items():
        if package not in COMPOSERS:
            assert not deps & COMPOSERS, f"{package} imports {sorted(deps & COMPOSERS)}"
    assert "commands" not in _graph()["web"]


def test_no_circle_between_packages() -> None:
    graph = _graph()

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return seen

    assert [p for p in sorted(graph) if p in reachable(p)] == []


def test_nothing_imports_a_folder_by_its_own_name() -> None:
    files = [*YURE.glob("*.py")]  # yure/<package> links are the folders below
    for root in [*sorted(PACKAGES), "tests", "bench", "scripts"]:
        files.extend((ROOT / root).rglob("*.py"))
    wrong = [
        (str(f.relative_to(ROOT)), name)
        for f in files
        for name in _imports(f)
        if name.split(".")[0] in PACKAGES
    ]
    assert wrong == []
