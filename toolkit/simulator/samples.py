"""The sample logs in ``datasets/``: made by the simulator, reproducibly.

    .venv/bin/python -m toolkit.simulator.samples datasets/

One run of a small site (3 chargers on 1.6J, 1 on 1.5 SOAP) through
``ocppkit bridge`` to the built-in 2.0.1 CSMS over three simulated days
gives, from the bridge journal:

- ``site-1.6.jsonl.gz``: the 1.6J chargers' own leg (what a 1.6 CSMS log holds);
- ``site-2.0.1.jsonl.gz``: the same fleet as the 2.0.1 CSMS saw it;
- ``site-1.5.jsonl.gz``: the 1.5 SOAP charger's leg (envelopes as strings);
- ``faulty-1.6.log``: one 1.6 charger's day as a plain prefixed frame log
  (``<time> <charger> <-|-> <frame>``) with about 1 % garbage lines mixed in,
  for the quarantine;

and the two ingested Parquet datasets the notebooks open by default:
``sample-dataset-2.0.1/`` (the CSMS leg) and ``sample-dataset-legacy/``
(the 1.5 and 1.6 legs).
"""

from __future__ import annotations

import asyncio
import gzip
import random
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from toolkit.simulator.model import DEFAULT_START
from translators.journal import format_timestamp
from translators.versions import OcppVersion

SEED = 20260302
GARBAGE = (
    "WARN websocket ping timeout, reconnecting",
    '[2, "broken", "Heartbeat"',
    "2026-03-02T11:00:00Z CP <- not a frame at all",
    '{"unexpected": "json object"}',
    "\x00\x00 binary noise",
)


def _run(work: Path) -> None:
    from toolkit.demo import live_site
    from toolkit.simulator import FleetConfig

    fleet = FleetConfig(
        chargers=4,
        mix=((OcppVersion.V16, 0.75), (OcppVersion.V15, 0.25)),
        seed=SEED,
        duration=timedelta(days=3),
        id_prefix="SITE",
        meter_interval_s=300,
        faults_per_charger_day=0.6,
    )
    result, _ = asyncio.run(live_site(work, fleet, SPEED))
    if not result.ok:
        raise SystemExit(f"simulated fleet failed: {result.failures}")


_SOAP_TIME = re.compile(r"<(?:\w+:)?timestamp>([^<]+)</")
SPEED = 20_000.0


def _payload_time(message: Any) -> str | None:
    """The charger's own clock in a call, where the message carries it."""
    if isinstance(message, str):  # 1.5 SOAP envelope
        m = _SOAP_TIME.search(message)
        return m.group(1) if m else None
    if message[0] != 2:
        return None
    payload = message[3]
    for key in ("timestamp", "generatedAt"):
        if isinstance(payload.get(key), str):
            return str(payload[key])
    values = payload.get("meterValue") or payload.get("transactionData") or []
    return str(values[0]["timestamp"]) if values else None


def retime(records: list[dict[str, Any]]) -> None:
    """Put the records on the simulated clock, as the chargers lived it.

    The bridge journals wall-clock receive times, and the simulator ran a
    fast clock. A call takes the charger's own time from its payload; a call
    without one is placed after the charger's previous call by the wall time
    between them times the speed; an answer keeps its real (wall) latency
    after its call.
    """
    anchor: dict[str, tuple[datetime, datetime]] = {}
    calls: dict[tuple[str, str, str], tuple[datetime, datetime]] = {}
    for r in records:
        cp, wall = r["charge_point_id"], datetime.fromisoformat(r["timestamp"])
        message = r["message"]
        own = _payload_time(message)
        # A charger's first frame (its BootNotification) is at the simulated start.
        last = anchor.get(cp, (DEFAULT_START, wall))
        if isinstance(message, list) and message[0] != 2:
            call = calls.get((cp, message[1], r.get("leg", "")))
            new = call[0] + (wall - call[1]) if call else last[0] + (wall - last[1]) * SPEED
        else:
            new = datetime.fromisoformat(own) if own else last[0] + (wall - last[1]) * SPEED
            anchor[cp] = (new, wall)
            if isinstance(message, list):
                calls[(cp, message[1], r.get("leg", ""))] = (new, wall)
        r["timestamp"] = format_timestamp(new.astimezone(UTC))


def make(out: Path) -> None:
    from toolkit.ingest.pipeline import IngestOptions, ingest

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _run(work)
        records = [
            orjson.loads(line)
            for path in sorted((work / "journal").glob("journal-*.jsonl"))
            for line in path.read_bytes().splitlines()
        ]
    retime(records)
    for record in records:
        record.pop("seq", None)
    legs = {
        "site-1.6.jsonl.gz": [
            r for r in records if r.get("leg") == "downstream" and r["ocpp_version"] == "1.6"
        ],
        "site-2.0.1.jsonl.gz": [r for r in records if r.get("leg") == "upstream"],
        "site-1.5.jsonl.gz": [
            r for r in records if r.get("leg") == "downstream" and r["ocpp_version"] == "1.5"
        ],
    }
    for name, rows in legs.items():
        for r in rows:
            r.pop("leg", None)
        with gzip.GzipFile(out / name, "wb", mtime=0) as fh:
            fh.write(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    rng = random.Random(SEED)
    first = legs["site-1.6.jsonl.gz"][0]["charge_point_id"]
    lines = []
    for r in legs["site-1.6.jsonl.gz"]:
        if r["charge_point_id"] != first or not r["timestamp"].startswith("2026-03-02"):
            continue
        marker = "<-" if r["direction"] == "cs_to_csms" else "->"
        lines.append(f"{r['timestamp']} {first} {marker} {orjson.dumps(r['message']).decode()}")
        if rng.random() < 0.01:
            lines.append(rng.choice(GARBAGE))
    (out / "faulty-1.6.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, sources in (
        ("sample-dataset-2.0.1", ["site-2.0.1.jsonl.gz"]),
        ("sample-dataset-legacy", ["site-1.6.jsonl.gz", "site-1.5.jsonl.gz"]),
    ):
        shutil.rmtree(out / name, ignore_errors=True)
        ingest([out / s for s in sources], out / name, IngestOptions(workers=1))


if __name__ == "__main__":
    make(Path(sys.argv[1] if len(sys.argv) > 1 else "datasets"))
