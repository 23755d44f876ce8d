#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11+ and git.

    python3 tasks.py demo    # set up, then run ocppkit's main job end to end
    python3 tasks.py test    # set up, then lint, type-check and run every test

The tests include building the wheel and sdist and running the demo from the wheel in a
fresh venv outside the checkout (tests/test_packaging.py).

Each creates ./.venv when it is missing and reinstalls the project into it
when pyproject.toml changed (a hash stamp in the venv). Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("OCPPKIT_VENV", ROOT / ".venv"))
BIN = VENV / "bin"
STAMP = VENV / ".ocppkit-installed"


def run(*cmd: str | Path, **kw: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)  # type: ignore[call-overload]


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run by any python3, say why it stops
        sys.exit(f"ocppkit needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except subprocess.CalledProcessError:
            sys.exit(
                "could not create a virtual environment with pip; on Debian/Ubuntu "
                "install the python3-venv package first"
            )
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    STAMP.write_text(want)


def demo(args: list[str]) -> None:
    ensure_venv("dev")
    run(BIN / "ocppkit", "demo", *args)


def typecheck_tree() -> Path:
    """A tree where the repository's folders sit under their import names.

    The wheel maps translators/ and toolkit/ to ocppkit.translators and ocppkit.toolkit
    (pyproject.toml); mypy cannot follow setuptools' editable import hook, so it reads
    the same files through symlinks named as they are imported.
    """
    tree = ROOT / "build" / "typecheck"
    (tree / "ocppkit").mkdir(parents=True, exist_ok=True)
    for name in ("translators", "toolkit"):
        link = tree / "ocppkit" / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name, target_is_directory=True)
    return tree


def test(args: list[str]) -> None:
    # pyspark (~490 MB installed, ~3 min to install here) only where Java can run it;
    # without Java the Spark test skips and says why.
    ensure_venv("dev,spark" if shutil.which("java") else "dev")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    tree = typecheck_tree()
    run(
        BIN / "mypy",
        "-p",
        "ocppkit.translators",
        "-p",
        "ocppkit.toolkit",
        env={**os.environ, "MYPYPATH": str(tree)},
    )
    run(BIN / "python", "-m", "pytest", *(args or ["-q", "-n", "auto"]))


def main() -> None:
    jobs = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in jobs:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(jobs)}}} [args...]")
    try:
        jobs[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
