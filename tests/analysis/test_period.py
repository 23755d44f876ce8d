"""What a ``--period`` counts: a session, charge attempt, fault, CALLERROR or boot belongs to
the period it starts in (energy and costs follow their session); time figures are clipped.

So consecutive periods add up to the whole dataset, and every engine agrees on it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ocppkit.toolkit.analysis.engine_duckdb import Source
from ocppkit.toolkit.analysis.findings import Findings, Options, findings
from ocppkit.toolkit.tariff import load_tariff
from tests.analysis.raw_logs import DAY, Log, dataset
from tests.analysis.test_engines import assert_same_findings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "datasets").glob("sample-dataset-*"))
TARIFF = load_tariff(ROOT / "datasets" / "tariffs" / "sample-tariff.toml")


def counts(f: Findings) -> dict[str, float]:
    """What a period counts (adds up over consecutive periods)."""
    return {
        "sessions": f.fleet["sessions"],
        "energy_kwh": f.fleet["energy_kwh"],
        "charging_h": f.fleet["charging_h"],
        "faults": f.faults,
        "fault_hours": float(f.by_code["hours"].sum()) if len(f.by_code) else 0.0,
        "answered": int(f.callerrors["answered"].sum()),
        "callerrors": int(f.callerrors["callerrors"].sum()),
        "attempts": f.chargex["start_attempts"] or 0,
        "anomaly_sessions": f.anomaly_sessions,
        "boots": int(f.reboots["boots"].sum()) if len(f.reboots) else 0,
        "revenue": f.costs["revenue_incl_vat"] if f.costs else 0.0,
        "priced": f.costs["sessions_priced"] if f.costs else 0,
        "daily_kwh": float(f.daily["energy_kwh"].sum()),
    }


def minutes(f: Findings) -> dict[str, float]:
    """Time figures (clipped to the period: they add up over consecutive periods too)."""
    return {
        "port_min": float(f.per_port_use["port_min"].sum()),
        "occupied_min": float(f.per_port_use["occupied_min"].sum()),
        "charging_min": float(f.per_port_use["charging_min"].sum()),
        "outage_min": float(f.nevi["outage_min"].sum()),
        "unknown_min": float(f.nevi["unknown_min"].sum()),
    }


def added(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: a[k] + b[k] for k in a}


@pytest.mark.parametrize("root", SAMPLES, ids=lambda p: p.name)
def test_two_adjacent_periods_add_up_to_the_whole_dataset(root: Path) -> None:
    whole = findings(root, Options(tariff=TARIFF))
    start, end = whole.scope.start.floor("D"), whole.scope.end.ceil("D")
    cut = pd.Timestamp("2026-03-03T09:30:00Z")  # inside sessions' days: some span it
    first = findings(root, Options(tariff=TARIFF, period=(start, cut)))
    second = findings(root, Options(tariff=TARIFF, period=(cut, end)))
    both = findings(root, Options(tariff=TARIFF, period=(start, end)))
    assert 0 < first.fleet["sessions"] < whole.fleet["sessions"]
    assert added(counts(first), counts(second)) == pytest.approx(counts(whole))
    assert counts(both) == pytest.approx(counts(whole))
    assert added(minutes(first), minutes(second)) == pytest.approx(minutes(both))


def boundary_logs() -> list[Log]:
    """One 1.6 charger over two days; a session, an offline gap and a Charging status
    span midnight; a CALLERROR and a fault start after it."""
    a = Log("CP-A")
    a.boot(0, interval=60)  # offline after 3 silent minutes
    a.status(0, 1, "Available")
    a.heartbeats(1, 1431, every=1)
    a.authorize(1425)  # day 1, 23:45: one charge attempt
    a.status(1426, 1, "Preparing")
    a.start(1427, 1, 7, 1000)
    a.status(1428, 1, "Charging")  # in force at midnight: from the day before
    # silent 1431 -> 1447: offline from 1434 (day 1, 6 min) to 1447 (day 2, 7 min)
    a.heartbeats(1447, 2880, every=1)
    a.stop(1450, 7, 9000)  # day 2, 00:10: 8 kWh, 23 min, counted in day 1
    a.status(1451, 1, "Available")
    a.call(1455, "DataTransfer", {"vendorId": "V"})
    a._line(1455, "csms_to_cs", [4, f"m{a.n}", "NotImplemented", "", {}])  # a CALLERROR
    a.status(1460, 1, "Faulted", "GroundFailure")  # day 2: 10 min out of order
    a.status(1470, 1, "Available")
    return [a]


@pytest.fixture(scope="module")
def boundary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("boundary")
    dataset(boundary_logs(), root)
    return root / "ds"


DAY1 = (DAY, DAY + pd.Timedelta(days=1))
DAY2 = (DAY + pd.Timedelta(days=1), DAY + pd.Timedelta(days=2))


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_session_across_midnight_counts_on_its_start_day_and_its_time_on_both(
    boundary: Path, engine: str
) -> None:
    one = findings(boundary, Options(period=DAY1), engine)
    two = findings(boundary, Options(period=DAY2), engine)
    # Counts: the session, its 8 kWh and its attempt on day 1; the CALLERROR and fault on day 2.
    assert (one.fleet["sessions"], two.fleet["sessions"]) == (1, 0)
    assert (one.fleet["energy_kwh"], two.fleet["energy_kwh"]) == (8.0, 0.0)
    assert (one.chargex["start_attempts"], two.chargex["start_attempts"] or 0) == (1, 0)
    assert (one.faults, two.faults) == (0, 1)
    assert int(one.callerrors["callerrors"].sum()) == 0
    assert int(two.callerrors["callerrors"].sum()) == 1
    # Time: occupied 13 min on day 1 (23:47-24:00), 10 min on day 2 (00:00-00:10).
    assert one.per_port_use["occupied_min"].sum() == pytest.approx(13)
    assert two.per_port_use["occupied_min"].sum() == pytest.approx(10)
    assert two.per_port_use["sessions"].sum() == 1  # the session has time on day 2
    # Offline 6 min before midnight and 7 after; day 2 starts Charging (no unknown time
    # at 00:00: the status in force comes from day 1); faulted 10 min on day 2.
    assert one.nevi["unknown_min"].sum() == pytest.approx(6)
    assert one.nevi["outage_min"].sum() == pytest.approx(6)
    assert two.nevi["unknown_min"].sum() == pytest.approx(7)
    assert two.nevi["outage_min"].sum() == pytest.approx(17)
    assert two.nevi["total_min"].sum() == pytest.approx(1440)


def test_engines_agree_on_each_day_of_the_boundary_log(boundary: Path) -> None:
    for period in (DAY1, DAY2):
        options = Options(period=period, tariff=TARIFF)
        assert_same_findings(findings(boundary, options), findings(boundary, options, "duckdb"))


def staged_rows(src: Source) -> dict[str, dict[str, int]]:
    """Per table, the rows the batches got from each ``date`` partition of the dataset."""
    assert src._staged is not None
    out: dict[str, dict[str, int]] = {}
    for table in ("sessions", "status_events", "meter_values", "faults", "frames"):
        folder = src._staged / table
        out[table] = {}
        if any(folder.rglob("*.parquet")):
            rows = src.con.execute(
                f"""SELECT regexp_extract(_file, 'date=([0-9-]+)', 1), count(*)
                FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = false)
                GROUP BY 1"""
            ).fetchall()
            out[table] = {str(d): int(n) for d, n in rows}
    return out


def test_a_period_reads_only_the_partitions_its_rule_needs(tmp_path: Path) -> None:
    root = ROOT / "datasets" / "sample-dataset-2.0.1"
    # 06:00-18:00 on 3 March: its sessions stop the same day; the one running at 06:00
    # started at 05:24 that day. Only the statuses in force at 06:00 come from 2 March.
    period = (pd.Timestamp("2026-03-03T06:00:00Z"), pd.Timestamp("2026-03-03T18:00:00Z"))
    with Source(root) as src:
        src.stage(src.chargers())
        whole = staged_rows(src)
    with Source(root, period=period) as src:
        src.stage(src.chargers())
        pruned = staged_rows(src)
        connectors = len(src.port_sources("status_events"))
    day = "2026-03-03"
    assert set(whole["meter_values"]) == set(whole["frames"]) == {
        "2026-03-02", day, "2026-03-04"}  # fmt: skip
    assert set(pruned["meter_values"]) == set(pruned["frames"]) == {day}
    assert set(pruned["sessions"]) <= {day} and set(pruned["faults"]) <= {day}
    assert set(pruned["status_events"]) == {"2026-03-02", day}
    assert 0 < pruned["status_events"]["2026-03-02"] <= connectors  # the last one each
    # ... and the numbers are the reference's.
    options = Options(period=period, tariff=TARIFF)
    assert_same_findings(findings(root, options), findings(root, options, "duckdb"))
