"""The package's shape: no import circles, torch only where training is, test modules independent.

    pytest tests/test_layout.py -q

Imports are read from the source with ``ast`` (every import statement: module level, inside
functions, under ``if TYPE_CHECKING``), so a circle dodged by a late import still counts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

SUITE = REPO / "suite"
TESTS = REPO / "tests"

# Packages whose every module imports without torch: what is measured, the results folder, the
# report, the nightly comparison, and the flake measurement (which trains through the engine, but
# imports the Workbench, and so torch, only when it trains).
TORCH_FREE = ["suite.spec", "suite.store", "suite.report", "suite.regress", "suite.flake"]


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(folder: Path, root: Path = REPO) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(folder.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of KNOWN that the module NAME (at PATH) imports anywhere in its source.

    ``from a import b`` names the module a.b when there is one, else a (b is an attribute of a).
    A package's own __init__ is not counted as imported by ``import a.b``: it is the package's
    door, and counting it would make every package whose __init__ re-exports a circle."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..a import b
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {module for module in found if module in known and module != name}


def import_graph(folder: Path) -> dict[str, set[str]]:
    found = modules(folder)
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected group of modules (Tarjan), as the path a -> ... -> a."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle(graph, group) for group in groups]


def _circle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest circle through the group's first module (breadth-first within the group)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no circle in {group}")


def test_the_import_reader_sees_late_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg.a import f\n")
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    found = modules(pkg, root=tmp_path)
    graph = {name: imported(name, path, set(found)) for name, path in found.items()}
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": {"pkg.a"}}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_no_module_of_the_suite_imports_another_in_a_circle():
    found = cycles(import_graph(SUITE))
    assert not found, "import circles:\n" + "\n".join(" -> ".join(circle) for circle in found)


def package_modules(package: str) -> list[str]:
    """Every module of PACKAGE but __main__, which runs its program when imported."""
    folder = REPO.joinpath(*package.split("."))
    return [name for name in modules(folder) if not name.endswith(".__main__")]


@pytest.mark.subprocess
@pytest.mark.parametrize("package", TORCH_FREE)
def test_a_torch_free_package_imports_without_torch(package):
    names = package_modules(package)
    assert len(names) > 1, names
    # Imported one by one, so that a failure names the first module that brought torch in.
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'torch' in sys.modules:\n"
        "        sys.exit(f'importing {name} imported torch')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{package}: {proc.stderr.strip()[-500:]}"


def test_no_test_module_imports_another():
    found = modules(TESTS)
    shared = {"tests", "tests.helpers"}  # plain constants and functions, for every test module
    offending = {}
    for name, path in found.items():
        others = imported(name, path, set(found)) - shared
        if others:
            offending[name] = others
    assert offending == {}, "test modules importing others (use tests/helpers.py or a fixture)"
