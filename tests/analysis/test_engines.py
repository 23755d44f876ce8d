"""The DuckDB engine (bounded memory) gets the pandas engine's numbers, KPI by KPI.

The pandas engine loads the dataset whole and runs the reference KPI
functions; the DuckDB engine runs SQL over the Parquet files and the
per-charger KPIs one batch of chargers at a time. Every sample dataset in
datasets/, and hand-written logs with offline gaps, two-connector ports,
faults and authorisations, are compared under each report option.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ocppkit.toolkit.analysis.engine_duckdb import Source
from ocppkit.toolkit.analysis.findings import Findings, Options, findings
from ocppkit.toolkit.analysis.inventory import load_inventory
from ocppkit.toolkit.analysis.report import build_report
from ocppkit.toolkit.tariff import load_tariff
from tests.analysis.raw_logs import DAY, Log, dataset

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "datasets").glob("sample-dataset-*"))
TARIFF = load_tariff(ROOT / "datasets" / "tariffs" / "sample-tariff.toml")


def differences(a: Any, b: Any, path: str = "$") -> list[str]:
    """Where two JSON summaries differ (floats to 1e-9 relative: sums in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}: keys {sorted(set(a) ^ set(b))}"] if set(a) != set(b) else []
        for key in sorted(set(a) & set(b)):
            if key != "dataset":
                out += differences(a[key], b[key], f"{path}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{path}[{i}]")]  # fmt: skip
    if isinstance(a, float) and isinstance(b, float | int):
        if math.isnan(a) and math.isnan(b):
            return []
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def same_table(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    if a.empty and b.empty:
        return
    left = a.sort_values(keys, kind="stable").reset_index(drop=True)
    right = b[list(a.columns)].sort_values(keys, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False, rtol=1e-9)


def assert_same_findings(p: Findings, d: Findings) -> None:
    cp_evse = ["charge_point_id", "evse_id"]
    same_table(p.nevi, d.nevi, cp_evse)
    same_table(p.per_port_use, d.per_port_use, cp_evse)
    same_table(p.reliability, d.reliability, cp_evse)
    same_table(p.uk_table, d.uk_table, ["charge_point_id"])
    same_table(p.reboots, d.reboots, ["charge_point_id", "reason"])
    same_table(p.callerrors, d.callerrors, ["action"])
    same_table(p.by_code, d.by_code, ["code", "vendor"])
    same_table(p.flagged, d.flagged, ["charge_point_id", "transaction_id"])
    same_table(p.state_days, d.state_days, ["day", "state"])
    pd.testing.assert_frame_equal(p.heat, d.heat)
    for left, right in ((p.energy_hist, d.energy_hist), (p.duration_hist, d.duration_hist)):
        assert left[0].sum() == right[0].sum()
        assert list(left[1]) == pytest.approx(list(right[1]))
    assert [c[0] for c in p.curves] == [c[0] for c in d.curves]
    assert [r.charge_point_id for r in p.register_lines] == [
        r.charge_point_id for r in d.register_lines
    ]
    pd.testing.assert_frame_equal(
        p.timeline.reset_index(drop=True), d.timeline.reset_index(drop=True), check_dtype=False
    )
    assert p.chargex == d.chargex
    assert p.anomaly_counts == d.anomaly_counts
    assert (p.faults, p.quarantine) == (d.faults, d.quarantine)
    assert not differences(p.fleet, d.fleet)
    assert not differences(p.use, d.use)


def compare(root: Path, tmp: Path, **options: Any) -> dict[str, Any]:
    """Both engines' reports and findings agree; returns the (pandas) summary."""
    by_pandas = build_report(root, tmp / "pandas", **options)
    for batch in (1, 64):
        by_duck = build_report(root, tmp / f"duck{batch}", engine="duckdb", batch_size=batch,
                               **options)  # fmt: skip
        assert differences(by_pandas, by_duck) == [], batch
    keep = {k: v for k, v in options.items() if k in Options.__dataclass_fields__}
    assert_same_findings(
        findings(root, Options(**keep)), findings(root, Options(**keep), "duckdb", batch_size=2)
    )
    return by_pandas


@pytest.mark.parametrize("root", SAMPLES, ids=lambda p: p.name)
def test_every_kpi_of_every_sample_dataset_is_the_same_by_duckdb_and_by_pandas(
    root: Path, tmp_path: Path
) -> None:
    summary = compare(root, tmp_path, tariff=TARIFF)
    assert summary["sessions"]["sessions"] > 0 and summary["chargex"]["start_attempts"] > 0


@pytest.mark.parametrize("root", SAMPLES, ids=lambda p: p.name)
def test_sample_datasets_agree_under_a_period_and_the_all_connectors_rule(
    root: Path, tmp_path: Path
) -> None:
    start = pd.Timestamp("2026-03-02T06:00:00Z")
    compare(root, tmp_path, period=(start, start + pd.Timedelta(days=2)), port_rule="all",
            offline_after=pd.Timedelta(minutes=10))  # fmt: skip


def fleet_logs() -> list[Log]:
    """Three chargers: a 1.6 one with an offline gap, a fault and a session; a 1.6 one
    with two connectors on one port; a 2.0.1 one. Frames in real time (offline is judged)."""
    a = Log("CP-A")
    a.boot(0, interval=60)
    a.status(0, 1, "Available")
    a.heartbeats(1, 100, every=1)
    a.heartbeats(130, 400, every=1)  # silent from 100 to 130: offline from 103
    a.authorize(140)
    a.status(141, 1, "Preparing")
    a.start(142, 1, 7, 1000)
    a.status(143, 1, "Charging")
    a.stop(200, 7, 9000)
    a.status(201, 1, "Available")
    a.status(250, 1, "Faulted", "GroundFailure")
    a.status(262, 1, "Available")
    b = Log("CP-B")
    b.boot(5)
    for conn in (1, 2):
        b.status(5, conn, "Available")
    b.heartbeats(10, 400)
    b.status(60, 1, "Faulted", "HighTemperature")
    b.status(90, 1, "Available")
    b.authorize(300, "TAG2", "Invalid")
    b.status(301, 2, "Preparing")
    c = Log("CP-C", "2.0.1")
    c.boot(2)
    c.status201(2, 1, 1, "Available")
    c.status201(2, 2, 1, "Available")
    c.heartbeats(3, 400, every=3)
    c.status201(150, 2, 1, "Unavailable")
    c.status201(180, 2, 1, "Available")
    return [a, b, c]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    dataset(fleet_logs(), root)
    return root / "ds"


def test_a_fleet_with_offline_gaps_faults_and_both_versions_agrees(
    fleet: Path, tmp_path: Path
) -> None:
    summary = compare(fleet, tmp_path, tariff=TARIFF)
    assert summary["scope"]["offline_assessed"] is True
    ports = {(p["charge_point_id"], p["evse_id"]): p for p in summary["availability"]["ports"]}
    # CP-A: offline from 100 + 3 min to 130 (27 min) and faulted 250-262 (12 min).
    assert ports[("CP-A", 1)]["unknown_min"] == pytest.approx(27)
    assert ports[("CP-A", 1)]["outage_min"] == pytest.approx(39)


def test_options_agree_period_offline_after_rule_chargers_and_sites(
    fleet: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "charge_point_id,evse_id,connector_id,rated_power_kw,site\n"
        "CP-A,1,1,150,north\nCP-B,1,1,50,south\nCP-B,1,2,50,south\n"
        "CP-C,1,1,22,south\nCP-C,2,1,22,south\nCP-D,1,1,50,north\n",
        encoding="utf-8",
    )
    inv = load_inventory(inventory)
    period = (DAY + pd.Timedelta(minutes=30), DAY + pd.Timedelta(minutes=330))
    compare(fleet, tmp_path / "a", period=period, port_rule="all", inventory=inv)
    compare(fleet, tmp_path / "b", offline_after=pd.Timedelta(minutes=20), inventory=inv)
    south = compare(fleet, tmp_path / "c", inventory=inv, sites=["south"])
    assert {p["charge_point_id"] for p in south["availability"]["ports"]} == {"CP-B", "CP-C"}
    one = compare(fleet, tmp_path / "d", chargers=["CP-A"])
    assert {p["charge_point_id"] for p in one["availability"]["ports"]} == {"CP-A"}
    # Only CP-A's rows were read: its summary is that of a dataset of CP-A's log alone.
    alone = tmp_path / "alone"
    alone.mkdir()
    dataset([fleet_logs()[0]], alone)
    assert differences(one, build_report(alone / "ds", tmp_path / "e")) == []


def test_each_batch_reads_only_its_chargers_rows(fleet: Path) -> None:
    with Source(fleet, batch_size=2) as src:
        everyone = src.chargers()
        src.stage(everyone)
        seen = []
        for chargers, data in src.batches():
            for table in (data.sessions, data.status_events, data.frames, data.meter_values):
                assert set(table["charge_point_id"]) <= set(chargers)
            seen += chargers
    assert everyone == seen == ["CP-A", "CP-B", "CP-C"]
    with Source(fleet, chargers=["CP-B"]) as src:
        assert src.chargers() == ["CP-B"]
        assert set(src.frame_windows()["charge_point_id"]) == {"CP-B"}
