"""Translating journal streams between OCPP versions (``ocppkit translate``).

A stream translator takes journal records one at a time and returns, for
each, a :class:`~ocppkit.toolkit.translate_report.Fed`: the records that stand
for it in the target version, or why it is left out. Version pairs plug in
through one table, :data:`PAIRS`: ``(from, to)`` -> a factory of a
:class:`RecordTranslator`. A pair whose two sides are OCPP-J sessions
(1.6 -> 2.0.1, 2.0.1 -> 1.6) is a :class:`SessionSpec` run by
:class:`SessionStream` (:mod:`ocppkit.toolkit.translate_session`: both roles
of a recorded conversation, the charger's messages and the CSMS's commands);
a pair with a pre-stage (1.5 SOAP lifted to 1.6, then 1.6 -> 2.0.1) chains
record translators with :class:`Chain`.

The output holds only records of the target version; a record that cannot
be translated goes to the side report (``--report FILE``,
:mod:`ocppkit.toolkit.translate_report`) with its line and reason, never into
the output in its own version. Each record written carries ``meta.line``
(its input line) and the notes of its translation, and was validated against
the official schema of its version; a translation failing it is a bug of
ocppkit, reported and counted in ``invalid_output`` (the command then exits
non-zero).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson

from ocppkit.toolkit.translate_pairs import session_16_to_201, session_201_to_16, session_lift21
from ocppkit.toolkit.translate_report import Cause, Fed, LeftOut
from ocppkit.toolkit.translate_session import SessionSpec, SessionStream, shared_validator
from ocppkit.translators.errors import ConfigError, OcppkitError
from ocppkit.translators.journal import JournalRecord
from ocppkit.translators.versions import OcppVersion

__all__ = [
    "PAIRS",
    "Chain",
    "Fed",
    "LeftOut",
    "Outcome",
    "RecordTranslator",
    "SessionSpec",
    "SessionStream",
    "encode_line",
    "shared_validator",
    "translate_lines",
    "translator_for",
]


class RecordTranslator(Protocol):
    """What a version pair provides: records in, records out (or why not)."""

    counts: Counter[str]

    def feed(self, record: JournalRecord, line: int) -> Fed:
        """The records standing for ``record``, or why it is left out (never silently none)."""
        ...

    def finish(self) -> Fed:
        """The end of the input: whatever was still kept for later."""
        ...


class Chain:
    """Record translators run one after the other (e.g. 1.5 -> 1.6 -> 2.0.1)."""

    def __init__(self, *stages: RecordTranslator) -> None:
        self.stages = stages
        self.counts: Counter[str] = Counter()

    def feed(self, record: JournalRecord, line: int) -> Fed:
        out = Fed(records=[record])
        for stage in self.stages:
            records, out.records = out.records, []
            for rec in records:
                out.extend(_carry_notes(rec, stage.feed(rec, line)))
        self._sum()
        return out

    def finish(self) -> Fed:
        out = Fed()
        for index, stage in enumerate(self.stages):
            done = stage.finish()
            out.left_out.extend(done.left_out)
            records = done.records  # what a stage still had goes through the later ones
            for later in self.stages[index + 1 :]:
                fed = Fed()
                for rec in records:
                    fed.extend(later.feed(rec, rec.meta.get("line", 0)))
                out.left_out.extend(fed.left_out)
                records = fed.records
            out.records.extend(records)
        self._sum()
        return out

    def _sum(self) -> None:
        """The stages' counts added up, but for what counts the chain's own input (the
        first stage that counts it) and its output (the last stage's)."""
        total: Counter[str] = sum((s.counts for s in self.stages), Counter())
        counted = [s.counts for s in self.stages if "records_in" in s.counts]
        if len(counted) > 1:
            total["records_in"] = counted[0]["records_in"]
            for key in ("records_out", "in_output"):
                total[key] = counted[-1][key]
        self.counts = total


def _carry_notes(record: JournalRecord, fed: Fed) -> Fed:
    """What an earlier stage noted (e.g. a lossy 1.5 lift) rides on what a later one made of it."""
    carried = record.meta.get("notes") or []
    if carried and fed.records and fed.records[0] is not record:
        made = fed.records[0]
        own = [n for n in made.meta.get("notes") or [] if n not in carried]
        made.meta["notes"] = [*carried, *own]
    return fed


def _charger16_csms201(both_legs: bool = False) -> RecordTranslator:
    return SessionStream(session_16_to_201(), both_legs=both_legs)


def _station201_csms16(both_legs: bool = False) -> RecordTranslator:
    return SessionStream(session_201_to_16(), both_legs=both_legs)


class _Lift15:
    """1.5 SOAP records -> 1.6 records (ocppkit.translators.soap15.stream)."""

    def __init__(self, both_legs: bool = False) -> None:
        from ocppkit.translators.soap15.stream import StreamState

        self.state = StreamState()
        self.counts: Counter[str] = Counter()

    def feed(self, record: JournalRecord, line: int) -> Fed:
        from ocppkit.translators.soap15.stream import record_to_j16

        if record.ocpp_version is not OcppVersion.V15:
            return Fed(records=[record])
        self.counts["lifted_in"] += 1
        try:
            lifted, _ = record_to_j16(record, self.state)
        except OcppkitError as exc:
            self.counts["left_out"] += 1
            return Fed(left_out=[LeftOut(record, line, "", Cause.SOURCE_LIFT, str(exc))])
        return Fed(records=[replace(lifted, meta={**lifted.meta, "line": line})])

    def finish(self) -> Fed:
        return Fed()


class _OwnVersion:
    """A chained stage that passes on, untouched, records not of its source version (the
    charger's leg an earlier stage wrote with ``both_legs``)."""

    def __init__(self, stage: RecordTranslator, version: OcppVersion) -> None:
        self.stage, self.version = stage, version
        self.counts = stage.counts  # the same Counter: the stage updates it in place

    def feed(self, record: JournalRecord, line: int) -> Fed:
        if record.ocpp_version is not self.version:
            return Fed(records=[record])
        return self.stage.feed(record, line)

    def finish(self) -> Fed:
        return self.stage.finish()


def _lift21(source: OcppVersion, target: OcppVersion) -> Callable[[bool], RecordTranslator]:
    def make(both_legs: bool = False) -> RecordTranslator:
        return SessionStream(session_lift21(source, target), both_legs=both_legs)

    return make


def _charger16_csms21(both_legs: bool = False) -> RecordTranslator:
    up = _OwnVersion(_lift21(OcppVersion.V201, OcppVersion.V21)(False), OcppVersion.V201)
    return Chain(_charger16_csms201(both_legs), up)


# (from, to) -> factory of the stream translator, given ``both_legs``. Add a
# pair here: that is the whole plug-in point.
PAIRS: dict[tuple[OcppVersion, OcppVersion], Callable[[bool], RecordTranslator]] = {
    (OcppVersion.V16, OcppVersion.V201): _charger16_csms201,
    (OcppVersion.V201, OcppVersion.V16): _station201_csms16,
    (OcppVersion.V15, OcppVersion.V16): _Lift15,
    (OcppVersion.V15, OcppVersion.V201): lambda both: Chain(_Lift15(), _charger16_csms201(both)),
    (OcppVersion.V201, OcppVersion.V21): _lift21(OcppVersion.V201, OcppVersion.V21),
    (OcppVersion.V21, OcppVersion.V201): _lift21(OcppVersion.V21, OcppVersion.V201),
    (OcppVersion.V16, OcppVersion.V21): _charger16_csms21,
    (OcppVersion.V15, OcppVersion.V21): lambda both: Chain(_Lift15(), _charger16_csms21(both)),
}


def translator_for(
    source: OcppVersion, target: OcppVersion, *, both_legs: bool = False
) -> RecordTranslator:
    """The stream translator of a version pair.

    Raises:
        ConfigError: the pair is not supported.
    """
    factory = PAIRS.get((source, target))
    if factory is None:
        known = ", ".join(f"{a} -> {b}" for a, b in PAIRS)
        raise ConfigError(f"cannot translate {source} -> {target} (known: {known})")
    return factory(both_legs)


def encode_line(record: JournalRecord) -> bytes:
    """:func:`ocppkit.translators.journal.encode_record` plus a newline, faster.

    The same bytes (a test holds them equal): orjson writes the StrEnum
    members as their values, which skips the slow ``Enum.value`` lookups.
    """
    out: dict[str, Any] = {
        "timestamp": record.timestamp,
        "charge_point_id": record.charge_point_id,
        "direction": record.direction,
        "ocpp_version": record.ocpp_version,
        "message": record.message,
    }
    if record.leg is not None:
        out["leg"] = record.leg
    if record.seq is not None:
        out["seq"] = record.seq
    if record.meta:
        out["meta"] = record.meta
    return orjson.dumps(out, option=orjson.OPT_APPEND_NEWLINE)


@dataclass(slots=True)
class Outcome:
    """What a stream translation did."""

    counts: Counter[str]
    unreadable: list[tuple[int, str]]
    left_out: Counter[str] = field(default_factory=Counter)  # kind -> records

    @property
    def ok(self) -> bool:
        """False only for real failures: a frame of ours failing its schema."""
        return self.counts["invalid_output"] == 0


def translate_lines(
    lines: Iterable[tuple[int, bytes]],
    translator: RecordTranslator,
    write: Callable[[bytes], object],
    on_unreadable: Callable[[int, str], object] | None = None,
    report: Callable[[LeftOut], object] | None = None,
    *,
    finish: bool = True,
) -> Outcome:
    """Translate journal lines, writing each output record as one JSON line.

    Args:
        lines: ``(line number, bytes)`` pairs (:func:`ocppkit.toolkit.textio.iter_lines`).
        translator: from :func:`translator_for`.
        write: receives each output line, newline included.
        on_unreadable: called with (line number, reason) for a line that is
            not a journal record; processing continues.
        report: receives each record left out of the output, with why.
        finish: end the conversation after these lines (False: more files follow).
    """
    from ocppkit.translators.errors import JournalError
    from ocppkit.translators.journal import decode_record

    unreadable: list[tuple[int, str]] = []
    left_out: Counter[str] = Counter()

    def emit(fed: Fed) -> None:
        for out in fed.records:
            write(encode_line(out))
        for entry in fed.left_out:
            left_out[entry.kind] += 1
            if report is not None:
                report(entry)

    feed = translator.feed
    for number, raw in lines:
        try:
            record = decode_record(raw)
        except JournalError as exc:
            unreadable.append((number, str(exc)))
            if on_unreadable is not None:
                on_unreadable(number, str(exc))
            continue
        fed = feed(record, number)
        if fed.left_out:
            emit(fed)
        else:  # the common record: its output only, without the emit hop
            for out in fed.records:
                write(encode_line(out))
    if finish:
        emit(translator.finish())
    counts = translator.counts
    counts["unreadable"] += len(unreadable)
    return Outcome(counts, unreadable, left_out)
