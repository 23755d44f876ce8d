"""The sample logs in ``datasets/``: made by the simulator, reproducibly.

    .venv/bin/python -m ocppkit.toolkit.simulator.samples datasets/
    .venv/bin/python -m ocppkit.toolkit.simulator.samples datasets/ --datasets-only

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
(the 1.5 and 1.6 legs). ``--datasets-only`` ingests the logs already there
again (after a change of the dataset layout) without running the site.

The chargers, the bridge and the CSMS all run on the fleet's clock
(:data:`SPEED` simulated seconds per wall second: about two minutes for the
three days), so every time in the logs, journal stamps and payload times
alike, is on the simulated timeline; :func:`retime` only takes out the
machine's processing time, which the fast clock stretches.
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

from ocppkit.translators.journal import format_timestamp
from ocppkit.translators.versions import OcppVersion

SEED = 20260302
GARBAGE = (
    "WARN websocket ping timeout, reconnecting",
    '[2, "broken", "Heartbeat"',
    "2026-03-02T11:00:00Z CP <- not a frame at all",
    '{"unexpected": "json object"}',
    "\x00\x00 binary noise",
)


def _run(work: Path) -> None:
    from ocppkit.toolkit.demo import live_site
    from ocppkit.toolkit.simulator import FleetConfig

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
_SOAP_MESSAGE_ID = re.compile(r"<(?:\w+:)?MessageID>([^<]+)</")
_SOAP_RELATES_TO = re.compile(r"<(?:\w+:)?RelatesTo>([^<]+)</")
# Simulated seconds per wall second. The machine's processing time is stretched by
# this factor (see retime), and a charger's plan has steps 3 s apart (authorise ->
# start): at 20,000x a 5 ms round trip is 100 s, so authorisations landed after
# the starts they led to and the first hour went by before the chargers had
# booted. At 2,000x the run takes about 2 minutes and those errors are seconds.
SPEED = 2_000.0


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


def _exchange(message: Any) -> tuple[str, bool]:
    """(message id, is an answer) of a frame or a 1.5 SOAP envelope.

    An answer's id is its call's (OCPP-J echoes it; SOAP names it in
    ``wsa:RelatesTo``); a record that is neither has id ``""``.
    """
    if isinstance(message, str):
        relates = _SOAP_RELATES_TO.search(message)
        if relates:
            return relates.group(1), True
        own = _SOAP_MESSAGE_ID.search(message)
        return (own.group(1) if own else ""), False
    return str(message[1]), message[0] != 2


def retime(records: list[dict[str, Any]], speed: float = SPEED) -> None:
    """Take the machine's processing time, which the fast clock multiplies, out of the records.

    Every part of the sample site (chargers, bridge, CSMS) runs on the fleet's
    clock, so the journal is already on the simulated timeline. But the clock
    runs ``speed`` times faster than the machine: the few wall milliseconds
    between a charger sending a frame and the bridge journalling it, or
    between a call and its answer, become seconds (5 ms is 10 s at 2,000x),
    where a real site takes milliseconds. So:

    - a call that carries its sender's own time (a payload timestamp) is
      placed there: that is when it was made;
    - any other call keeps its simulated spacing after the previous call on
      its leg (both crossed the same hops, so their delays mostly cancel;
      each leg is placed from its own records only);
    - an answer is placed after its call by the real latency: the simulated
      gap divided by ``speed``.

    Spacing is measured from the previous call, not from its (compressed)
    answer: that would lose a round trip per Heartbeat and make the timeline
    drift. What is left is an error of seconds on calls without a time.
    """
    last: dict[tuple[str, str], tuple[datetime, datetime]] = {}  # (placed, journalled)
    calls: dict[tuple[str, str, str], tuple[datetime, datetime]] = {}
    for r in records:
        cp, leg = r["charge_point_id"], r.get("leg", "")
        journalled = datetime.fromisoformat(r["timestamp"])
        message_id, is_answer = _exchange(r["message"])
        key = (cp, message_id, leg)
        before = last.get((cp, leg))
        follows = before[0] + (journalled - before[1]) if before else journalled
        if is_answer:
            call = calls.get(key)
            placed = call[0] + (journalled - call[1]) / speed if call else follows
        else:
            own = _payload_time(r["message"])
            placed = datetime.fromisoformat(own) if own else follows
            last[cp, leg] = calls[key] = (placed, journalled)
        r["timestamp"] = format_timestamp(placed.astimezone(UTC))


def make(out: Path) -> None:
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
    make_datasets(out)


def make_datasets(out: Path) -> None:
    """The sample datasets, ingested from the sample logs in ``out``."""
    from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest

    for name, sources in (
        ("sample-dataset-2.0.1", ["site-2.0.1.jsonl.gz"]),
        ("sample-dataset-legacy", ["site-1.6.jsonl.gz", "site-1.5.jsonl.gz"]),
    ):
        shutil.rmtree(out / name, ignore_errors=True)
        ingest([out / s for s in sources], out / name, IngestOptions(workers=1))


if __name__ == "__main__":
    target = Path(next((a for a in sys.argv[1:] if not a.startswith("--")), "datasets"))
    if "--datasets-only" in sys.argv:
        make_datasets(target)
    else:
        make(target)
