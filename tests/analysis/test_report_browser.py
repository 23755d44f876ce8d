"""The report renders in headless Chromium (Debian's package) with no console message.

`.ci/run` installs Chromium, and under CI (``CI`` set) a missing browser fails these
tests instead of skipping them. Elsewhere they skip where Chromium is not installed:
`apt-get install chromium` includes them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ocppkit.toolkit.analysis.report import build_report
from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def console_messages(page: Path, profile: Path, shot: Path) -> list[str]:
    assert CHROMIUM is not None, "CI must run the browser test: .ci/run installs chromium"
    run = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def test_console_detector_sees_a_page_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>console.error('boom')</script></body></html>")
    assert any(
        "boom" in line for line in console_messages(page, tmp_path / "p", tmp_path / "s.png")
    )


def test_report_renders_without_console_messages(tmp_path: Path) -> None:
    dataset = tmp_path / "ds"
    ingest([ROOT / "datasets" / "sample-1.6-session.jsonl"], dataset, IngestOptions(progress=False))
    build_report(dataset, tmp_path / "report")
    shot = tmp_path / "report.png"
    assert console_messages(tmp_path / "report" / "index.html", tmp_path / "p", shot) == []
    assert shot.stat().st_size > 50_000  # a page was really drawn
