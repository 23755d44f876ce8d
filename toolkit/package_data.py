"""The sample data and notebooks shipped inside the package, reached with importlib.resources.

Commands and notebooks that default to sample data read it from here, never from a
repository checkout, so they work the same from a clone and from an installed wheel.
``ocppkit notebooks DIR`` copies the notebooks and their sample data out
(:func:`copy_notebooks`); a notebook run from such a folder reads the copied data.
"""

from __future__ import annotations

import shutil
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from ocppkit.translators.errors import OcppkitError

DATASETS = "ocppkit.datasets"
NOTEBOOKS = "ocppkit.notebooks"
# What `ocppkit notebooks DIR` copies beside the notebooks: what they open by default.
NOTEBOOK_DATA = ("sample-dataset-2.0.1", "sample-dataset-legacy", "tariffs")


def _path(item: Traversable) -> Path:
    # Wheels install unzipped, so package data is a real directory on disk.
    if not isinstance(item, Path):
        raise OcppkitError(f"package data {item} is not on the file system (zipped install?)")
    return item


def packaged(name: str) -> Path:
    """A file or folder under the packaged ``datasets/`` (e.g. ``tariffs/sample-tariff.toml``)."""
    path = _path(resources.files(DATASETS).joinpath(name))
    if not path.exists():
        raise OcppkitError(f"no packaged sample data named {name!r}")
    return path


def sample(name: str) -> Path:
    """Sample data a notebook or command opens by default.

    ``./datasets/<name>`` when it exists (a folder made by ``ocppkit notebooks``,
    where the user may have replaced it), else the packaged copy.
    """
    local = Path("datasets") / name
    return local if local.exists() else packaged(name)


def sample_tariff() -> Path:
    """The sample tariff the demo and the costs notebook use."""
    return sample("tariffs/sample-tariff.toml")


def notebooks() -> list[Path]:
    """The packaged notebooks, sorted by name."""
    folder = _path(resources.files(NOTEBOOKS))
    return sorted(folder.glob("*.ipynb"))


def copy_notebooks(dest: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the notebooks and the sample data they open into ``dest``; returns what it wrote."""
    dest.mkdir(parents=True, exist_ok=True)
    targets = [dest / nb.name for nb in notebooks()] + [
        dest / "datasets" / n for n in NOTEBOOK_DATA
    ]
    clash = [t for t in targets if t.exists()]
    if clash and not overwrite:
        raise OcppkitError(f"{clash[0]} exists already (use --force to overwrite)")
    for nb in notebooks():
        shutil.copyfile(nb, dest / nb.name)
    for name in NOTEBOOK_DATA:
        src, out = packaged(name), dest / "datasets" / name
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(src, out, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return targets
