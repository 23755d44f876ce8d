"""Every notebook runs top to bottom, headless, on the sample dataset in datasets/ with no edits."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from ocppkit.toolkit.analysis.dataset import load
from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DATASETS = ROOT / "datasets"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_on_its_sample_dataset_and_draws_figures(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    outputs = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    ]
    assert any("image/png" in out.get("data", {}) for out in outputs), f"{path.name} drew no figure"
    assert not [out for out in outputs if out.get("output_type") == "error"]


def test_every_notebook_takes_one_dataset_parameter_has_prose_and_no_outputs() -> None:
    expected = {"sessions", "meter_values", "costs", "faults", "migration_readiness"}
    assert expected <= {p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1 and "DATASET = " in params[0].source, path.name
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 3, path.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.parametrize(
    ("dataset", "logs"),
    [
        ("sample-dataset-2.0.1", ["site-2.0.1.jsonl.gz"]),
        ("sample-dataset-legacy", ["site-1.6.jsonl.gz", "site-1.5.jsonl.gz"]),
    ],
)
def test_committed_sample_datasets_are_what_ingest_makes_of_the_sample_logs(
    dataset: str, logs: list[str], tmp_path: Path
) -> None:
    ingest([DATASETS / name for name in logs], tmp_path / "fresh", IngestOptions(workers=1))
    committed, fresh = load(DATASETS / dataset), load(tmp_path / "fresh")
    for table in ("sessions", "faults"):
        pd.testing.assert_frame_equal(getattr(committed, table), getattr(fresh, table))
    assert len(committed.frames) == len(fresh.frames)
