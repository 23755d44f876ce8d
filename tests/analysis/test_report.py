"""`ocppkit report` end to end: sample log -> ingest -> HTML report with figures and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ocppkit.toolkit.analysis.report import build_report
from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest
from ocppkit.toolkit.tariff import load_tariff

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-1.6-session.jsonl"
TARIFF = ROOT / "datasets" / "tariffs" / "sample-tariff.toml"


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs)["src"] or "")
        self._in_h2 = tag == "h2"

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings.append(data)
            self._in_h2 = False


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "ds"
    ingest([SAMPLE], out, IngestOptions(progress=False))
    return out


def test_report_has_every_section_and_every_figure_it_links(dataset: Path, tmp_path: Path) -> None:
    summary = build_report(dataset, tmp_path, tariff=load_tariff(TARIFF))
    page = _Images()
    page.feed((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert page.headings == [
        "Sessions",
        "Meter values and anomalies",
        "Availability",
        "Faults and reliability",
        "Costs",
        "Data quality",
    ]
    assert len(page.sources) == 8
    for src in page.sources:
        assert (tmp_path / src).stat().st_size > 5_000, src  # a real PNG, not an empty frame
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(
        json.dumps(summary, default=str)
    )


def test_report_numbers_match_the_hand_computed_sample(dataset: Path, tmp_path: Path) -> None:
    summary = build_report(dataset, tmp_path, tariff=load_tariff(TARIFF))
    assert summary["sessions"]["sessions"] == 1
    assert summary["sessions"]["energy_kwh"] == pytest.approx(7.35)
    # 7.35 kWh x 0.35 = 2.57 + 0.50 session fee; 21 % VAT on 3.0725 = 0.65; idle < 30 min grace.
    assert summary["costs"]["revenue_incl_vat"] == pytest.approx(3.72)
    assert summary["faults"]["by_code"] == {"GroundFailure": 1}
    assert summary["quarantine"] == 0


def test_report_command_prints_a_summary_line_and_errors_in_one_line(
    dataset: Path, tmp_path: Path
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ocppkit.toolkit.cli", "report", *args],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    ok = run(str(dataset), "--out", str(tmp_path / "r"))
    assert ok.returncode == 0, ok.stderr
    assert "1 sessions, 7.3 kWh on 1 chargers" in ok.stdout
    bad = run(str(tmp_path / "missing"), "--out", str(tmp_path / "r2"))
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("ocppkit: error:") and "Traceback" not in bad.stderr
