"""What a conversion left out, and why (``ocppkit translate --report FILE``).

A converted conversation holds only records of the target version. A record
that cannot be translated is never passed through in its own version: it
becomes a :class:`LeftOut`, written to the side report as one JSON line
(:func:`encode_left_out`) and counted, by kind, in one readable line on
stderr (:func:`summary`).

A kind is the record's action and a short cause from :class:`Cause`; the
reason is the full sentence (often the translator's own note).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import orjson

from ocppkit.translators.journal import JournalRecord


class Cause(StrEnum):
    """Why a record is not in the output (the kinds of the stderr summary)."""

    NOT_A_FRAME = "not an OCPP-J frame"
    INVALID_SOURCE = "invalid source frame"
    WRONG_VERSION = "not the version of its side"
    NO_COUNTERPART = "no counterpart in the target version"
    ANSWERED_BY_BRIDGE = "answered by the translator, not the peer"
    NOTHING_TO_SEND = "nothing to send"
    ANSWER_LEFT_OUT = "answers a record left out"
    ANSWER_UNKNOWN = "answers no call in the conversation"
    ANSWER_OF_HELD = "answers an event kept for a later StartTransaction"
    ANSWER_MISMATCH = "answer does not fit the translated command"
    HELD = "transaction never started in the target version"
    DROPPED = "dropped by the translator"
    INVALID_OUTPUT = "translation failed its schema (a bug)"
    SOURCE_LIFT = "1.5 SOAP record could not be lifted"


@dataclass(frozen=True, slots=True)
class LeftOut:
    """One input record the output does not hold.

    Attributes:
        record: the input record, as read.
        line: its line (position) in the input.
        action: its action, or the action of the call it answers ("" unknown).
        cause: the kind of reason.
        reason: the reason, in full.
    """

    record: JournalRecord
    line: int
    action: str
    cause: Cause
    reason: str

    @property
    def kind(self) -> str:
        return f"{self.action or 'frame'} ({self.cause.value})"


@dataclass(slots=True)
class Fed:
    """What one input record (or the end of the input) gave.

    Attributes:
        records: output records, all of the target version (with ``--both-legs``
            also the charger's leg).
        left_out: input records the output does not hold, with why.
    """

    records: list[JournalRecord] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)

    def extend(self, other: Fed) -> None:
        self.records.extend(other.records)
        self.left_out.extend(other.left_out)


def encode_left_out(entry: LeftOut, source: str | None = None) -> bytes:
    """One JSON line of the side report: the record, its line, kind and reason.

    Args:
        entry: the record left out.
        source: the input it came from (a file name), when there are several.
    """
    head: dict[str, object] = {} if source is None else {"source": source}
    return orjson.dumps(
        {
            **head,
            "line": entry.line,
            "action": entry.action,
            "cause": entry.cause.value,
            "reason": entry.reason,
            "record": entry.record.to_dict(),
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )


def summary(kinds: Counter[str]) -> str:
    """``12 records not translatable: 8 DataTransfer (...), 4 ...`` ("" when none)."""
    total = sum(kinds.values())
    if not total:
        return ""
    parts = ", ".join(f"{n:,} {kind}" for kind, n in kinds.most_common())
    noun = "record" if total == 1 else "records"
    return f"{total:,} {noun} not translatable: {parts}"


def count_kinds(entries: Iterable[LeftOut]) -> Counter[str]:
    return Counter(e.kind for e in entries)
