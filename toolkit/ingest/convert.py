"""`convert`: any log shape -> journal lines, optionally into another OCPP version.

Every reader's frame events become journal records
(:mod:`ocppkit.translators.journal`); with a target version they go through the
stream translators of ``ocppkit translate``
(:func:`ocppkit.toolkit.translate_stream.translator_for`): both roles of the
conversation, the charger's messages and the CSMS's commands, so a legacy 1.6
log can be replayed against a 2.0.1 CSMS. The output then holds only records
of the target version; a message that cannot be translated is left out,
counted by kind (:attr:`ConvertSummary.left_out`) and passed to ``report``
with its reason. Messages already in the target version are kept as they
are. (Journal -> Parquet frames is ``ingest`` with only the frames and
quarantine tables; see :func:`to_parquet`.)

A journal record needs a time, a charger and a direction. A message whose
log gives no time cannot become one and is counted under its reason; a
missing charger id can be given (``charge_point_id``); a missing direction
is inferred (the action's sender, and a result goes the other way).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ocppkit.toolkit.ingest import vocab
from ocppkit.toolkit.ingest.events import (
    CS_TO_CSMS,
    CSMS_TO_CS,
    REVERSE,
    SKIPPED,
    Bad,
    FrameEvent,
    ts_to_text,
)
from ocppkit.toolkit.ingest.pipeline import IngestOptions, IngestSummary, ingest
from ocppkit.toolkit.ingest.readers import trace
from ocppkit.toolkit.ingest.source import events
from ocppkit.toolkit.translate_report import Fed, LeftOut, summary
from ocppkit.translators.journal import Direction, JournalRecord, encode_record
from ocppkit.translators.versions import OcppVersion


@dataclass(slots=True)
class ConvertSummary:
    """What a conversion wrote and what it could not."""

    records_in: int = 0
    records_out: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    quarantined: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, reason
    translation: Counter[str] = field(default_factory=Counter)
    left_out: Counter[str] = field(default_factory=Counter)  # kind -> messages not translatable
    formats: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"converted {self.records_in:,} message(s) into {self.records_out:,} record(s)"]
        if self.quarantined:
            out.append(f"unreadable lines: {len(self.quarantined):,}")
        out.extend(f"skipped {n:,}: {reason}" for reason, n in self.skipped.most_common())
        if self.translation:
            out.append("translation: " + ", ".join(
                f"{k}={v}" for k, v in sorted(self.translation.items()) if v))  # fmt: skip
        if self.left_out:
            out.append(summary(self.left_out))
        return out


def _message(ev: FrameEvent) -> list[Any] | str:
    if ev.raw is not None:
        return ev.raw
    p = orjson.loads(ev.payload) if isinstance(ev.payload, bytes) else ev.payload
    if ev.mtype == 2:
        return [2, ev.msg_id, ev.action, p]
    if ev.mtype == 3:
        return [3, ev.msg_id, p]
    return [4, ev.msg_id, p.get("errorCode", ""), p.get("errorDescription", ""),
            p.get("errorDetails", {})]  # fmt: skip


def to_journal(
    paths: Sequence[str | Path],
    write: Callable[[bytes], object],
    *,
    fmt: str | None = None,
    version: str | None = None,
    charge_point_id: str | None = None,
    side: str = "csms",
    to_version: str | None = None,
    report: Callable[[LeftOut, str], object] | None = None,
    shape: str = "journal",
) -> ConvertSummary:
    """Convert logs to journal lines (one JSON record + newline per ``write`` call).

    With ``shape="trace"`` the lines are Open OCPP Trace v1.1 records instead
    (:mod:`ocppkit.toolkit.ingest.readers.trace`).

    Args:
        paths: log files, in order.
        write: receives each output line.
        fmt: force the reader (None = sniff per file).
        version: OCPP version of logs that do not say it (None = guess).
        charge_point_id: charger id for logs that do not name it.
        side: who wrote the logs ("csms" or "cs").
        to_version: translate into this version (None = keep).
        report: receives each message left out of a translation, with the
            name of its log (its ``line`` is the line in that log).

    Raises:
        ConfigError: unknown format, unrecognisable file, or unsupported pair.
    """
    summary = ConvertSummary()
    translator = None

    def line_of(out: JournalRecord) -> bytes:
        if shape == "trace":
            return orjson.dumps(trace.to_record(
                out.timestamp, out.charge_point_id, out.direction.value,
                out.ocpp_version.value, out.message,
            ))  # fmt: skip
        return encode_record(out)

    def emit(fed: Fed, name: str) -> None:
        for out in fed.records:
            write(line_of(out) + b"\n")
            summary.records_out += 1
        for entry in fed.left_out:
            summary.left_out[entry.kind] += 1
            if report is not None:
                report(entry, str(entry.record.meta.get("source", name)).rsplit(":", 1)[0])

    calls: dict[tuple[str | None, str], str] = {}  # (cp, id) -> direction of the call
    for path in [Path(p) for p in paths]:
        for name, ev in events(path, fmt, version, charge_point_id, side):
            summary.formats[str(path)] = name
            if isinstance(ev, Bad):
                if ev.reason.startswith(SKIPPED):
                    summary.skipped[ev.reason.removeprefix(SKIPPED)] += 1
                else:
                    summary.quarantined.append((str(path), ev.line, ev.reason))
                continue
            summary.records_in += 1
            direction = ev.direction
            if direction is None:
                if ev.mtype == 2:
                    direction = CS_TO_CSMS if ev.action in vocab.CS_ACTIONS else CSMS_TO_CS
                else:
                    call_dir = calls.get((ev.cp, ev.msg_id))
                    direction = REVERSE[call_dir] if call_dir else None
            if ev.mtype == 2 and direction is not None:
                calls[(ev.cp, ev.msg_id)] = direction
                if len(calls) > 100_000:
                    calls.pop(next(iter(calls)))
            reason = (
                "no timestamp in the log" if ev.ts is None
                else "no charger id in the log (give --charge-point-id)" if not ev.cp
                else "direction unknown (a result whose call is not in the log)"
                if direction is None else None
            )  # fmt: skip
            if reason is not None:
                summary.skipped[reason] += 1
                continue
            assert ev.ts is not None and ev.cp is not None and direction is not None
            stamp = ev.ts if isinstance(ev.ts, str) else ts_to_text(ev.ts)
            record = JournalRecord(
                stamp, ev.cp, Direction(direction), OcppVersion(ev.version),
                _message(ev), meta={"source": f"{path.name}:{ev.line}"},
            )  # fmt: skip
            if to_version is not None and to_version != ev.version:
                if translator is None:
                    from ocppkit.toolkit.translate_stream import translator_for

                    translator = translator_for(OcppVersion(ev.version), OcppVersion(to_version))
                emit(translator.feed(record, ev.line), path.name)
            else:
                emit(Fed(records=[record]), path.name)
    if translator is not None:
        emit(translator.finish(), "")
        summary.translation = Counter(translator.counts)
    return summary


def to_parquet(
    paths: Sequence[str | Path], out: str | Path, options: IngestOptions | None = None
) -> IngestSummary:
    """Logs -> the frames table (and quarantine) only: ``ingest`` without the derived tables."""
    base = options or IngestOptions()
    from dataclasses import replace

    return ingest(paths, out, replace(base, tables=frozenset({"frames", "quarantine"})))
