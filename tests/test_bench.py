"""`ocppkit bench --quick --json`: every suite reports a figure against a same-run baseline.

Structure only: timings are measured by the bench, never asserted by tests.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(700)  # the report suite starts Spark once (tens of seconds)
def test_quick_bench_reports_each_suite_with_value_baseline_and_ratio() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ocppkit.toolkit.cli", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=680,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert "cores" in result["machine"] and result["quick"] is True
    for suite in ("validate", "translate", "bridge", "ingest"):
        figures = result[suite]
        assert {"value", "unit", "baseline", "ratio", "target"} <= figures.keys(), suite
        assert figures["value"] > 0 and figures["baseline"] > 0, suite
        assert figures["ratio"] == pytest.approx(
            figures["value"] / figures["baseline"], rel=0.05
        ), suite
        assert isinstance(figures["met"], bool), suite
    _check_validate(result["validate"])
    _check_bridge(result["bridge"])
    _check_ingest(result["ingest"])
    _check_failover(result["failover"])


def _ratio_of(figures: dict[str, Any], value: str, baseline: str, ratio: str) -> None:
    assert figures[value] > 0 and figures[baseline] > 0, (value, baseline)
    assert figures[ratio] == pytest.approx(figures[value] / figures[baseline], rel=0.05), ratio


def _check_validate(v: dict[str, Any]) -> None:
    # The parse floor: bare orjson.loads of the same frames, a second baseline.
    _ratio_of(v, "value", "baseline_orjson", "ratio_orjson")
    assert v["met"] is (v["met_orjson"] and v["met_ocpp"])
    assert "orjson" in v["target"] and "ocpp" in v["target"]


def _check_bridge(b: dict[str, Any]) -> None:
    # Three interleaved pairs with --quick, each judged against its own fsync p99.
    assert b["pairs"] == 3 and len(b["runs"]) == 3
    for run in b["runs"]:
        assert run["verdict"] in ("met", "not met")
        assert run["limit_ms"] == pytest.approx(2.0 + run["fsync_p99_ms"], abs=0.002)
        assert (run["verdict"] == "met") is (run["added_p99_ms"] <= run["limit_ms"])
        assert run["added_p99_ms"] == pytest.approx(
            run["bridged_p99_ms"] - run["direct_p99_ms"], abs=0.002
        )
        assert run["fsync_p50_ms"] <= run["fsync_p99_ms"]
        assert run["load_average_1m"] >= 0
        # Cores each process used over the timed phase: the saturated one is named.
        cores = run["bridged_cpu_cores"]
        assert cores.keys() == {"stations", "csms", "bridge", "machine"}
        assert all(0 <= used <= (os.cpu_count() or 1) + 0.1 for used in cores.values())
        for pauses in run["bridged_gc_pauses"].values():  # the generations that collected
            assert pauses["count"] >= 1 and 0 <= pauses["over_25_ms"] <= pauses["count"]
    assert b["runs_met"] == sum(run["verdict"] == "met" for run in b["runs"])
    assert b["added_p99_ms"] == pytest.approx(
        statistics.median(run["added_p99_ms"] for run in b["runs"]), abs=0.002
    )
    assert len(b["load_average"]) == 3
    for fleet in b["fleets"]:
        assert fleet["met_every_run"] is all(r["verdict"] == "met" for r in fleet["runs"])


def _check_failover(f: dict[str, Any]) -> None:
    if "error" in f:  # PostgreSQL, psycopg or HAProxy missing here: said so
        assert "needs" in f["error"]
        return
    assert f["kills"] == 3 and f["cut_connections"] >= 1
    assert f["failover_p50_s"] <= f["failover_p99_s"] == f["value"]
    limit = 5.0 + f["reconnect_delay_s"]
    assert f["met"] is (f["failover_p99_s"] < limit)
    lat = f["latency"]
    assert lat["added_p99_ms"] == pytest.approx(
        lat["postgresql_p99_ms"] - lat["sqlite_p99_ms"], abs=0.002
    )


def _check_ingest(i: dict[str, Any]) -> None:
    _ratio_of(i, "value", "duckdb_derived", "ratio_derived")
    lens = i["ocpp_lens"]
    if "error" in lens:  # said so, never a silent gap
        assert i["ratio_ocpp_lens"] is None and "ocpp-lens" in lens["error"]
    else:
        assert i["ratio_ocpp_lens"] == pytest.approx(i["value"] / lens["frames_per_s"], rel=0.05)
    split = i["split"]
    assert set(split["share"]) == {"read", "parse", "derive", "derive_in_order", "write"}
    assert sum(split["share"].values()) == pytest.approx(1.0, abs=0.01)
    assert all(s >= 0 for s in split["seconds"].values())
    for table in ("frames", "meter_values"):
        trial = i["columnar"][table]
        rates = {k: v for k, v in trial.items() if isinstance(v, int) and not isinstance(v, bool)}
        assert len(rates) >= 2 and all(r > 0 for r in rates.values()), table
        assert trial["fastest"] == max(rates, key=rates.__getitem__)
        assert trial["kept_is_fastest"] is (trial["kept"] == trial["fastest"])


def test_unknown_suite_is_a_one_line_error() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ocppkit.toolkit.cli", "bench", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 2
    assert (
        out.stderr.strip() == "ocppkit: error: unknown suite(s) nope; "
        "known: validate, translate, bridge, scale, failover, ingest, report"
    )


@pytest.mark.timeout(600)
def test_report_bench_measures_both_engines_on_each_fleet_size() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ocppkit.toolkit.cli", "bench", "report", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=580,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)["report"]
    _ratio_of(r, "value", "baseline", "ratio")
    runs = r["runs"]
    sizes = sorted({run["copies"] for run in runs})
    assert len(sizes) >= 2 and {(run["copies"], run["engine"]) for run in runs} == {
        (c, e) for c in sizes for e in ("duckdb", "pandas")
    }
    for run in runs:
        million = run["frames"] / 1e6
        assert run["s_per_million_frames"] == pytest.approx(run["seconds"] / million, rel=0.05)
        assert run["mib_per_million_frames"] == pytest.approx(
            run["peak_rss_mib"] / million, rel=0.05
        )
    # Both engines report the same fleet: sessions and ports grow with the copies.
    first = {run["engine"]: run for run in runs if run["copies"] == sizes[0]}
    last = {run["engine"]: run for run in runs if run["copies"] == sizes[-1]}
    assert first["duckdb"]["sessions"] == first["pandas"]["sessions"] > 0
    assert (
        last["duckdb"]["sessions"]
        == last["pandas"]["sessions"]
        == (first["pandas"]["sessions"] * sizes[-1] // sizes[0])
    )
    assert (
        r["value"] == last["duckdb"]["peak_rss_mib"]
        and r["baseline"] == (last["pandas"]["peak_rss_mib"])
    )
    assert r["met"] is (r["duckdb_growth"] <= r["bound"])
    # The Spark engine: one size with --quick, the same fleet's numbers; or skipped, with why.
    spark = r["spark"]
    if "skipped" in spark:
        assert spark["skipped"]
    else:
        [one] = spark["runs"]
        same = next(run for run in runs if run["copies"] == one["copies"])
        assert (one["engine"], one["sessions"], one["ports"]) == (
            "spark", same["sessions"], same["ports"])  # fmt: skip
        assert one["seconds"] > 0 and one["peak_rss_mib"] > first["duckdb"]["peak_rss_mib"]


def test_translate_bench_reports_the_21_lift_against_its_own_json_baseline() -> None:
    from ocppkit.toolkit.bench_translate import lift21, lift_lines, session_lines

    lines = lift_lines(session_lines(samples=3))
    figures = lift21(lines, seconds=0.05)
    assert figures["messages"] == len(lines) > 0
    assert b'"ocpp_version":"2.0.1"' in lines[0]
    _ratio_of(figures, "value", "baseline", "ratio")
    assert isinstance(figures["met"], bool)
    assert "2.1" in figures["unit"] and "json" in figures["baseline_unit"]
