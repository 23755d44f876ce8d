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


def test_every_notebook_takes_the_report_options_as_parameters() -> None:
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        for name in ("PERIOD", "INVENTORY", "OFFLINE_AFTER", "EXCLUSIONS"):
            assert f"\n{name} = None" in params.source, (path.name, name)
        assert any("scope_from_options(" in c.source for c in nb.cells), path.name


def test_a_notebook_run_with_options_shows_the_report_figures(tmp_path: Path) -> None:
    from ocppkit.toolkit.analysis.inventory import load_inventory
    from ocppkit.toolkit.analysis.report import build_report

    dataset = DATASETS / "sample-dataset-2.0.1"
    data = load(dataset)
    cp = sorted(data.sessions["charge_point_id"].unique())[0]
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        f"charge_point_id,evse_id,rated_power_kw\n{cp},1,50\n{cp},2,50\nNEVER-SEEN,1,50\n",
        encoding="utf-8",
    )
    period = ("2026-03-02T00:00:00Z", "2026-03-04T00:00:00Z")
    nb = nbformat.read(ROOT / "notebooks" / "faults.ipynb", as_version=4)
    (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    params.source += f"\nPERIOD = {period!r}\nINVENTORY = {str(inventory)!r}\nOFFLINE_AFTER = '20min'"
    nb.cells.append(nbformat.v4.new_code_cell("print('UPTIME', nevi['uptime_pct'].round(6).tolist())"))
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
    summary = build_report(
        dataset,
        tmp_path / "report",
        period=(pd.Timestamp(period[0]), pd.Timestamp(period[1])),
        inventory=load_inventory(inventory),
        offline_after=pd.Timedelta(minutes=20),
    )
    from_report = [round(p["uptime_pct"], 6) for p in summary["availability"]["ports"]]
    assert len(from_report) == 3  # every inventory port, the silent one included
    assert printed.strip() == f"UPTIME {from_report}"
