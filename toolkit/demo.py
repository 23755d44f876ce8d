"""`ocppkit demo`: the whole mission on one machine, in about a minute.

1. the built-in strict 2.0.1 CSMS (:mod:`ocppkit.toolkit.csms`) with the sample tariff;
2. ``ocppkit bridge`` in front of it (:mod:`ocppkit.toolkit.gateway`);
3. a simulated fleet of legacy chargers, OCPP 1.5 SOAP and 1.6J, living
   through part of a day at high speed (:mod:`ocppkit.toolkit.simulator`);
4. the bridge's journal ingested into Parquet twice: the chargers' own
   1.5/1.6 leg and the 2.0.1 leg the CSMS saw (:mod:`ocppkit.toolkit.ingest`);
5. the report (:mod:`ocppkit.toolkit.analysis.report`) and a check that the
   sessions in both datasets are exactly the sessions the simulator ran.

Everything is written under one directory (default ``./ocppkit-demo``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from ocppkit.toolkit.package_data import sample_tariff
from ocppkit.translators.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """How big the demo is (the defaults finish in about a minute on 2 cores)."""

    chargers: int = 6
    mix: tuple[tuple[OcppVersion, float], ...] = (
        (OcppVersion.V15, 1 / 3),
        (OcppVersion.V16, 2 / 3),
    )
    seed: int = 2026
    simulated: timedelta = timedelta(hours=14)
    speed: float = 1800.0  # simulated seconds per wall second
    sessions_per_connector_day: float = 5.0


@dataclass
class DemoResult:
    """What the demo did and where it put it."""

    out: Path
    truth: Any  # ocppkit.toolkit.simulator.FleetResult
    legacy_dataset: Path
    upstream_dataset: Path
    report: Path
    summary: dict[str, Any]
    csms_violations: int
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.csms_violations == 0 and self.truth.ok


def _journal_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("journal-*.jsonl*"))


async def live_site(
    work: Path,
    fleet: Any,
    speed: float,
    progress: Callable[[float], None] | None = None,
    csms_journal: Path | None = None,
) -> tuple[Any, int]:
    """Built-in CSMS + bridge + simulated ``fleet`` on 127.0.0.1, all stopped at the end.

    The bridge keeps its state in ``work/bridge.db`` and journals both legs to
    ``work/journal``. The CSMS and the bridge run on the fleet's clock (``speed``
    simulated seconds per wall second from ``fleet.start``), so every time they
    stamp (journal records, ``generatedAt``, ``currentTime``) is on the simulated
    timeline the chargers live on, as it would be on a real site. Returns the
    simulator's ground truth and the number of schema violations the strict
    CSMS saw.
    """
    from ocppkit.toolkit.csms import Csms, CsmsSettings
    from ocppkit.toolkit.gateway.config import BridgeConfig
    from ocppkit.toolkit.gateway.server import Bridge
    from ocppkit.toolkit.gateway.services import real_context
    from ocppkit.toolkit.journal_writer import JournalWriter
    from ocppkit.toolkit.simulator import run_fleet
    from ocppkit.toolkit.simulator.clock import ScaledClock
    from ocppkit.toolkit.tariff import load_tariff

    clock = ScaledClock(fleet.start, speed)
    journal = JournalWriter(csms_journal) if csms_journal is not None else None
    csms = Csms(CsmsSettings(tariff=load_tariff(sample_tariff())), journal=journal, now=clock.now)
    await csms.start("127.0.0.1", 0)
    bridge = Bridge(
        BridgeConfig(
            upstream=csms.url,
            listen="127.0.0.1:0",
            state=str(work / "bridge.db"),
            journal=str(work / "journal"),
            sync="normal",
            ping_interval=0,
            # The bridge core's deadlines run on the clock it is handed, the fleet's
            # scaled one: give the CSMS the default 20 s of wall time, not 20 simulated
            # seconds (11 ms at 1,800x, which a loaded machine misses).
            call_timeout=20.0 * speed,
        ),
        ctx=replace(real_context(), now=clock.now),
    )
    try:
        await bridge.start()
        url = f"ws://127.0.0.1:{bridge.port}/ocpp"
        truth = await run_fleet(fleet, url, clock=clock, on_progress=progress)
    finally:
        await bridge.stop()
        await csms.stop()
    return truth, csms.violations


def _fleet(settings: DemoSettings) -> Any:
    from ocppkit.toolkit.simulator import FleetConfig

    return FleetConfig(
        chargers=settings.chargers,
        mix=settings.mix,
        seed=settings.seed,
        duration=settings.simulated,
        id_prefix="DEMO",
        sessions_per_connector_day=settings.sessions_per_connector_day,
    )


def compare_sessions(truth: Any, sessions: pd.DataFrame, label: str) -> list[str]:
    """Differences between the simulator's sessions and a dataset's sessions table.

    Sessions are matched by charger and start time (to the second); energy,
    stop time and stop reason must be equal. Transaction ids differ by leg
    (the charger's 1.6 integer, the bridge's 2.0.1 string), so they are not
    compared.
    """
    out: list[str] = []
    ds = sessions.copy()
    ds["key"] = list(zip(ds["charge_point_id"], ds["start_time"].dt.floor("s"), strict=True))
    by_key = {k: row for k, row in zip(ds["key"], ds.itertuples(index=False), strict=True)}
    expected = [s for s in truth.sessions if s.id_tag_accepted]
    for s in expected:
        key = (s.charge_point_id, pd.Timestamp(s.started_at).floor("s"))
        row = by_key.pop(key, None)
        if row is None:
            out.append(f"{label}: session of {s.charge_point_id} at {s.started_at} missing")
            continue
        energy = s.meter_stop_wh - s.meter_start_wh
        if row.energy_wh != energy:
            out.append(f"{label}: {key}: energy {row.energy_wh} Wh, simulator {energy} Wh")
        if pd.isna(row.stop_time) or row.stop_time.floor("s") != pd.Timestamp(s.stopped_at).floor(
            "s"
        ):
            out.append(f"{label}: {key}: stop {row.stop_time}, simulator {s.stopped_at}")
    out.extend(f"{label}: extra session {k}" for k in by_key)
    return out


def run_demo(
    out: Path,
    settings: DemoSettings = DemoSettings(),
    progress: Callable[[float], None] | None = None,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the demo into ``out`` (replacing an earlier demo there)."""
    from ocppkit.toolkit.analysis.dataset import load
    from ocppkit.toolkit.analysis.report import build_report
    from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest
    from ocppkit.toolkit.tariff import load_tariff

    if out.exists():
        for name in ("journal", "csms-journal", "dataset-legacy", "dataset-2.0.1", "report"):
            shutil.rmtree(out / name, ignore_errors=True)
        for name in ("bridge.db", "bridge.db-wal", "bridge.db-shm", "truth.json"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    say(
        f"1/4 running the built-in 2.0.1 CSMS, the bridge and {settings.chargers} simulated legacy "
        f"chargers (1.5 SOAP and 1.6J) through {settings.simulated} of simulated time"
    )
    truth, violations = asyncio.run(
        live_site(out, _fleet(settings), settings.speed, progress, out / "csms-journal")
    )
    truth.write_json(out / "truth.json")
    journal = _journal_files(out / "journal")
    say(f"2/4 ingesting the bridge journal ({len(journal)} file(s)) into Parquet, both legs")
    legacy, upstream = out / "dataset-legacy", out / "dataset-2.0.1"
    ingest(journal, legacy, IngestOptions(leg="downstream", workers=1))
    ingest(journal, upstream, IngestOptions(leg="upstream", workers=1))
    say("3/4 analysing: sessions, meter anomalies, availability, faults, costs")
    summary = build_report(upstream, out / "report", tariff=load_tariff(sample_tariff()))
    say("4/4 checking the datasets against what the simulator did")
    mismatches = compare_sessions(truth, load(legacy).sessions, "1.5/1.6 leg")
    mismatches += compare_sessions(truth, load(upstream).sessions, "2.0.1 leg")
    return DemoResult(out, truth, legacy, upstream, out / "report", summary, violations, mismatches)
