"""The `ocppkit` command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample-1.6-session.jsonl"


def ocppkit(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ocppkit.toolkit.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands() -> None:
    out = ocppkit("--help")
    assert out.returncode == 0
    assert b"validate" in out.stdout


def test_version_prints_the_package_version() -> None:
    from ocppkit.toolkit import __version__

    out = ocppkit("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"ocppkit {__version__}".encode()


def test_validate_sample_journal_passes_with_a_per_action_summary() -> None:
    out = ocppkit("validate", str(SAMPLE))
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout.decode()
    assert "StartTransaction" in text and "response" in text
    assert " 38        0" in text  # 38 frames, none invalid


def test_validate_reports_every_violation_with_its_json_path_and_fails() -> None:
    frames = b"\n".join(
        [
            b'[2,"1","BootNotification",{"chargePointVendor":1}]',
            b'[2,"2","Heartbeat",{}]',
            b'[3,"2",{"currentTime":"not a time"}]',
            b"this is not json",
        ]
    )
    out = ocppkit("validate", "-", stdin=frames)
    assert out.returncode == 1
    text = out.stdout.decode()
    assert "line 1: BootNotification request $.chargePointVendor" in text
    assert "line 1: BootNotification request $: 'chargePointModel' is a required property" in text
    assert "line 3: Heartbeat response $.currentTime" in text
    assert "line 4: unreadable" in text


def test_validate_reads_2_0_1_frames_when_told_the_version() -> None:
    frame = orjson.dumps([2, "1", "Heartbeat", {}])
    assert ocppkit("validate", "--ocpp-version", "2.0.1", stdin=frame).returncode == 0
    assert ocppkit("validate", "--ocpp-version", "9.9", stdin=frame).returncode == 2


def test_user_errors_are_one_readable_line_without_traceback() -> None:
    out = ocppkit("validate", "/no/such/file.jsonl")
    assert out.returncode == 2
    assert out.stderr.decode().strip() == "ocppkit: error: /no/such/file.jsonl: no such file"
    assert b"Traceback" not in out.stderr
