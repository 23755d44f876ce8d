"""The sans-I/O rule, enforced: translators/ never does I/O of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Modules that open sockets, files, processes, or read clocks and randomness.
FORBIDDEN = {
    "asyncio", "socket", "ssl", "time", "random", "uuid", "secrets", "subprocess",
    "threading", "sqlite3", "aiohttp", "websockets", "requests", "httpx",
    "os", "shutil", "tempfile", "pathlib", "urllib.request",
}  # fmt: skip
SOURCES = sorted((ROOT / "translators").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_translator_module_imports_nothing_that_does_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            assert name not in FORBIDDEN and top not in FORBIDDEN, f"{path.name} imports {name}"
            assert not name.startswith("ocppkit.toolkit"), f"{path.name} imports {name}"


def test_datetime_now_is_never_called_in_translators() -> None:
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        assert "datetime.now(" not in text and "date.today(" not in text, path.name
