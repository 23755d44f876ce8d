"""ocppkit installs like any PyPI package: one import namespace, commands that need no checkout.

The slow test builds the wheel and the sdist as a release would, installs the wheel
into a fresh venv outside the checkout and runs the demo there, in an empty folder.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
CODE_FOLDERS = {"translators": "ocppkit.translators", "toolkit": "ocppkit.toolkit"}


def test_every_folder_with_python_code_is_a_listed_package_under_ocppkit() -> None:
    found = set()
    for folder, name in CODE_FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *rel)))
        for py in (ROOT / folder).rglob("*.py"):
            assert (py.parent / "__init__.py").exists(), f"{py} is in a folder with no __init__.py"
    listed = set(SETUPTOOLS["packages"])
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert all(name.startswith("ocppkit.") for name in listed)
    assert SETUPTOOLS["package-dir"] == {
        **{name: folder for folder, name in CODE_FOLDERS.items()},
        "ocppkit.datasets": "datasets",
        "ocppkit.notebooks": "notebooks",
    }


def test_no_module_imports_the_folders_by_their_bare_names() -> None:
    # From the repository root `import translators` would find the folder itself:
    # only the ocppkit.* names exist once installed.
    for folder in ("translators", "toolkit", "tests", "notebooks", "datasets"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    assert name.split(".")[0] not in CODE_FOLDERS, f"{path}: import {name}"


def _build(out: Path) -> tuple[Path, Path]:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = out.glob("ocppkit-*.whl")
    (sdist,) = out.glob("ocppkit-*.tar.gz")
    return wheel, sdist


@pytest.mark.slow
def test_wheel_built_from_the_checkout_runs_the_demo_in_a_fresh_venv(tmp_path: Path) -> None:
    wheel, sdist = _build(tmp_path / "dist")

    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"ocppkit"}, tops
    for shipped in (
        "ocppkit/datasets/tariffs/sample-tariff.toml",
        "ocppkit/datasets/sample-dataset-2.0.1/_summary.json",
        "ocppkit/notebooks/sessions.ipynb",
        "ocppkit/translators/journal-record.schema.json",
        "ocppkit/toolkit/analysis/summary.schema.json",
        "ocppkit/translators/py.typed",
    ):
        assert shipped in names, shipped
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    meta = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in meta and "Project-URL: " in meta
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("/tests/test_packaging.py") for m in members)
    assert any(m.endswith("/datasets/tariffs/sample-tariff.toml") for m in members)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_ = env_dir / "bin"
    subprocess.run(
        [bin_ / "python", "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(c) for c in cmd],
            cwd=empty,
            env=clean_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    imported = run(bin_ / "python", "-c", "import ocppkit.translators, ocppkit.toolkit")
    assert imported.returncode == 0, imported.stderr
    for bare in ("translators", "toolkit"):
        assert run(bin_ / "python", "-c", f"import {bare}").returncode != 0, bare
    version = run(bin_ / "ocppkit", "--version")
    assert version.stdout.strip() == f"ocppkit {PYPROJECT['project']['version']}"

    demo = run(bin_ / "ocppkit", "demo", "--out", "d", "--chargers", "3", "--hours", "3")
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "check     every session in both datasets matches the simulator" in demo.stdout
    assert (empty / "d" / "report" / "index.html").exists()

    copied = run(bin_ / "ocppkit", "notebooks", "nb")
    assert copied.returncode == 0, copied.stderr
    assert (empty / "nb" / "sessions.ipynb").exists()
    assert (empty / "nb" / "datasets" / "sample-dataset-2.0.1" / "_summary.json").exists()
    again = run(bin_ / "ocppkit", "notebooks", "nb")
    assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
