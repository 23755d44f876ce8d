"""Every notebook runs top to bottom, headless, on an ingested sample dataset."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from toolkit.ingest.pipeline import IngestOptions, ingest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SAMPLE_LOGS = [ROOT / "datasets" / "sample-1.6-session.jsonl"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset") / "ds"
    ingest(SAMPLE_LOGS, out, IngestOptions(progress=False))
    return out


def with_dataset(nb: nbformat.NotebookNode, dataset: Path) -> nbformat.NotebookNode:
    """Set the notebook's one parameter, as papermill would."""
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "each notebook has exactly one cell tagged 'parameters'"
    cells[0].source = f"DATASET = {str(dataset)!r}"
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_and_draws_its_figures(path: Path, dataset: Path) -> None:
    nb = with_dataset(nbformat.read(path, as_version=4), dataset)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    images = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    assert images, f"{path.name} drew no figure"
    errors = [
        out
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors


def test_every_notebook_has_prose_and_is_committed_without_outputs() -> None:
    expected = {"sessions", "meter_values", "costs", "faults", "migration_readiness"}
    assert expected <= {p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 3, path.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
