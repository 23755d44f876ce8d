"""The README's main job, end to end: a short demo whose datasets match the simulator exactly."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from ocppkit.toolkit.analysis.dataset import load
from ocppkit.toolkit.demo import DemoSettings, run_demo


def test_short_demo_datasets_match_what_the_simulator_did(tmp_path: Path) -> None:
    settings = DemoSettings(chargers=3, seed=11, simulated=timedelta(hours=8), speed=4000.0)
    result = run_demo(tmp_path / "demo", settings, say=lambda _: None)
    accepted = [s for s in result.truth.sessions if s.id_tag_accepted]
    assert accepted, "the seed must give the demo at least one session"
    assert result.mismatches == []
    assert result.csms_violations == 0 and result.truth.ok
    for dataset in (result.legacy_dataset, result.upstream_dataset):
        sessions = load(dataset).sessions
        assert len(sessions) == len(accepted)
        assert sessions["energy_wh"].sum() == sum(
            s.meter_stop_wh - s.meter_start_wh for s in accepted
        )
    versions = set(load(result.legacy_dataset).frames["ocpp_version"])
    assert versions == {"1.5", "1.6"}  # the mixed legacy fleet really spoke both
    assert set(load(result.upstream_dataset).frames["ocpp_version"]) == {"2.0.1"}
    costs = result.summary["costs"]
    assert costs["reported"] == costs["matching_reported"] == costs["sessions_priced"]
    assert (result.report / "index.html").exists()


def test_demo_command_prints_its_summary_and_writes_under_out(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocppkit.toolkit.cli",
            "demo",
            "--out",
            str(tmp_path / "d"),
            "--chargers",
            "2",
            "--hours",
            "4",
            "--seed",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "check     every session in both datasets matches the simulator" in out.stdout
    for name in (
        "journal",
        "csms-journal",
        "dataset-legacy",
        "dataset-2.0.1",
        "report",
        "truth.json",
    ):
        assert (tmp_path / "d" / name).exists(), name
