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


def _strict(text: str) -> object:
    def refuse(token: str) -> None:
        raise AssertionError(f"summary.json holds {token}, which strict JSON parsers reject")

    return json.loads(text, parse_constant=refuse)


def test_every_report_is_strict_json_that_conforms_to_the_published_schema(
    dataset: Path, tmp_path: Path
) -> None:
    from ocppkit.toolkit.analysis.report import SUMMARY_SCHEMA, summary_violations

    assert SUMMARY_SCHEMA.is_file()
    reports = [
        build_report(dataset, tmp_path / "a", tariff=load_tariff(TARIFF)),
        build_report(dataset, tmp_path / "b", port_rule="all"),
    ]
    for out, summary in zip(("a", "b"), reports, strict=True):
        written = _strict((tmp_path / out / "summary.json").read_text(encoding="utf-8"))
        assert written == summary
        assert summary_violations(written) == []
    page = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert "Ports: inferred from the logs" in page and reports[0]["scope"]["inventory"] == (
        "inferred from the logs"
    )
    # Undefined figures are null: the 1-session sample has no rapid point for the UK rule.
    assert reports[0]["availability"]["uk_rapid_network_pct"] is None
    assert summary_violations({"dataset": 1}) != []  # the schema can fail


def test_report_command_takes_period_inventory_offline_after_and_exclusions(
    dataset: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from ocppkit.toolkit.analysis.report import summary_violations
    from ocppkit.toolkit.cli import app
    from ocppkit.translators.errors import ConfigError

    chargers = {str(c) for c in load_sessions_chargers(dataset)}
    (cp,) = chargers
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        f"charge_point_id,evse_id,connector_id,rated_power_kw\n{cp},1,1,150\n{cp},2,2,150\n",
        encoding="utf-8",
    )
    exclusions = tmp_path / "exclusions.csv"
    exclusions.write_text(
        "start,end,reason,evidence,charge_point_id\n"
        f"2020-01-01T00:00:00Z,2030-01-01T00:00:00Z,utility_outage,ticket 4711,{cp}\n",
        encoding="utf-8",
    )
    period = build_report(dataset, tmp_path / "probe")["period"]
    result = CliRunner().invoke(
        app,
        ["report", str(dataset), "--out", str(tmp_path / "r"), "--json",
         "--period", period[0], period[1], "--inventory", str(inventory),
         "--offline-after", "20min", "--exclusions", str(exclusions)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = _strict((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary_violations(summary) == []
    assert summary["scope"]["period_rule"] == "given"
    assert summary["scope"]["inventory"] == "given" and summary["scope"]["ports"] == 2
    assert summary["scope"]["offline_after_s"] == [1200.0] and summary["scope"]["exclusions"] == 1
    # Every outage minute is inside the excluded utility outage: each port is 100 % up.
    assert [p["uptime_pct"] for p in summary["availability"]["ports"]] == [100.0, 100.0]
    bad = CliRunner().invoke(
        app, ["report", str(dataset), "--out", str(tmp_path / "x"), "--period", "2026-03-02",
              "2026-03-01"],
    )  # fmt: skip
    # main() turns a ConfigError into one line and exit 2 (test_report_command_prints_...)
    assert isinstance(bad.exception, ConfigError) and "not after start" in str(bad.exception)


def test_exclusions_without_evidence_or_with_another_cause_are_refused(tmp_path: Path) -> None:
    from ocppkit.toolkit.analysis.exclusions import load_exclusions
    from ocppkit.translators.errors import ConfigError

    path = tmp_path / "x.toml"
    path.write_text(
        '[[exclusion]]\nstart = 2026-03-01T10:00:00Z\nend = 2026-03-01T11:00:00Z\n'
        'reason = "vandalism"\nevidence = "police report 12"\n', encoding="utf-8",
    )  # fmt: skip
    (only,) = load_exclusions(path)
    assert (only.reason, only.evidence, only.charge_point_id) == ("vandalism", "police report 12",
                                                                  None)  # fmt: skip
    refused = (
        ('reason = "vandalism"', "no evidence"),
        ('reason = "software bug"\nevidence = "x"', "not a NEVI exclusion"),
    )
    for body, why in refused:
        path.write_text(
            "[[exclusion]]\nstart = 2026-03-01T10:00:00Z\nend = 2026-03-01T11:00:00Z\n" + body,
            encoding="utf-8",
        )
        with pytest.raises(ConfigError, match=why):
            load_exclusions(path)


def load_sessions_chargers(dataset: Path) -> list[str]:
    from ocppkit.toolkit.analysis.dataset import load

    return list(load(dataset).sessions["charge_point_id"].unique())
