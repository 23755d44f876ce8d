"""`ocppkit bench --quick --json`: every suite reports a figure against a same-run baseline.

Structure only: timings are measured by the bench, never asserted by tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(400)
def test_quick_bench_reports_each_suite_with_value_baseline_and_ratio() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ocppkit.toolkit.cli", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=380,
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
        out.stderr.strip()
        == "ocppkit: error: unknown suite(s) nope; known: validate, translate, bridge, ingest"
    )
