"""The import graph of ocppkit has no cycles, counting every import.

Static: every ``import`` and ``from ... import`` in a module, at module level,
inside a function or under ``TYPE_CHECKING`` alike, is an edge from that
module to the ocppkit module it names (a package's ``__init__`` counts for
its dotted name; a module's own ancestor packages, always loaded first,
do not count). A cycle hidden behind a function-level import is still a
cycle: the two modules cannot be understood, tested or loaded one without
the other. A second check imports each module of the two formerly tangled
pairs alone, in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"translators": "ocppkit.translators", "toolkit": "ocppkit.toolkit"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, prefix in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((prefix, *parts))] = path
    return found


MODULES = _modules()


def _target(name: str) -> str | None:
    """The ocppkit module ``name`` refers to (itself, or the package holding it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """The ocppkit modules ``module`` imports, anywhere in its text."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # ``from pkg import mod`` imports pkg.mod when it is a module,
            # else a name from pkg itself.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        for name in names:
            target = _target(name)
            # A module's own ancestor packages are always loaded before it:
            # an edge to one is no cycle.
            if target is not None and not f"{module}.".startswith(f"{target}."):
                out.add(target)
    return out


def cycles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    graph = {m: imports_of(m) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for node in graph:
        if node not in index:
            visit(node)
    return sorted(groups)


def test_the_graph_sees_function_level_and_type_checking_imports() -> None:
    # The check would be blind if these were missed: server imports soap
    # inside a method, and TYPE_CHECKING blocks hold annotations' imports.
    assert "ocppkit.toolkit.gateway.soap" in imports_of("ocppkit.toolkit.gateway.server")
    assert "ocppkit.translators.errors" in imports_of("ocppkit.translators.versions")


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycles() == []


@pytest.mark.parametrize(
    "module",
    [
        "ocppkit.translators.errors",
        "ocppkit.translators.versions",
        "ocppkit.translators.engine",
        "ocppkit.toolkit.gateway.soap",
        "ocppkit.toolkit.gateway.server",
    ],
)
def test_module_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
