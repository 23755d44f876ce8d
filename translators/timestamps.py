"""Date-times with at most three decimal places in every 2.0.1 frame the bridge sends.

OCPP 2.0.1 Part 2 §2.1.1 ("dateTime"): seconds may carry at most three
decimals (milliseconds). The official JSON schemas say only
``format: date-time``, which allows more, and strict CSMSs (CitrineOS)
refuse ``...33.383026Z`` with FormatViolation. 1.6 chargers and CSMSs often
send microseconds (Python's ``isoformat()``), and a translation copies their
timestamps, so the session translators pass every frame for the 2.0.1 side
through :func:`limit_step`: extra digits are cut (never rounded up: a
reading never moves into the next millisecond), with a LOSSY note.

Opaque payload parts (``data`` of DataTransfer, ``customData``) are left
alone: the bridge does not know that they hold date-times.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson

from ocppkit.translators.frames import Call, CallResult, Frame
from ocppkit.translators.jsontext import dumps_bytes
from ocppkit.translators.outcome import Note, NoteKind, Step

# RFC 3339 date-time with four or more fraction digits.
TOO_FINE = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d\.\d{3})\d+((?:[Zz]|[+-]\d\d:\d\d)?)\Z")
OPAQUE = frozenset({"data", "customData"})
# A first look at the payload's JSON text, at C speed: most frames hold no
# date-time with four or more decimals, and skip the walk below. It starts
# with a literal (the seconds' colon), which the regex engine scans for
# quickly; a pattern starting with a digit class tests every byte (it was
# a tenth of a translated MeterValues' instructions).
MAYBE_TOO_FINE = re.compile(rb":\d\d\.\d{4}")
_SEARCH = MAYBE_TOO_FINE.search
_WITH_PAYLOAD = (Call, CallResult)


def too_fine(value: str) -> bool:
    """True for a date-time string with more than three decimal places."""
    return TOO_FINE.match(value) is not None


def _cut(value: Any) -> tuple[Any, int]:
    if isinstance(value, str):
        match = TOO_FINE.match(value)
        return (match.group(1) + match.group(2), 1) if match else (value, 0)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        count = 0
        for key, item in value.items():
            if key in OPAQUE:
                out[key] = item
                continue
            out[key], n = _cut(item)
            count += n
        return out, count
    if isinstance(value, list):
        items = [_cut(item) for item in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return value, 0


def violations(value: Any, path: str = "$") -> list[str]:
    """Where ``value`` holds a date-time with more than three decimals (JSON paths)."""
    if isinstance(value, str):
        return [path] if too_fine(value) else []
    if isinstance(value, dict):
        return [
            p for k, v in value.items() if k not in OPAQUE for p in violations(v, f"{path}.{k}")
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in violations(v, f"{path}[{i}]")]
    return []


def limit_frame(frame: Frame) -> tuple[Frame, int]:
    """``frame`` with its date-times cut to milliseconds, and how many were cut."""
    if isinstance(frame, Call | CallResult):
        if MAYBE_TOO_FINE.search(dumps_bytes(frame.payload)) is None:
            return frame, 0
        payload, count = _cut(frame.payload)
        return (replace(frame, payload=payload), count) if count else (frame, 0)
    return frame, 0


def _clean(frame: Frame) -> bool:
    """True when ``frame`` has no date-time to cut: :func:`limit_frame`'s first look, inline."""
    if not isinstance(frame, _WITH_PAYLOAD):
        return True
    try:
        text = orjson.dumps(frame.payload)
    except TypeError:  # an integer beyond 64 bits: dumps_bytes's fallback
        text = dumps_bytes(frame.payload)
    return _SEARCH(text) is None


def limit_step(step: Step, *, to_csms: bool) -> Step:
    """Cut the date-times of the frames ``step`` sends to the 2.0.1 side."""
    frames = step.to_csms if to_csms else step.to_charger
    if len(frames) == 1 and _clean(frames[0]):
        return step  # the common step: one frame, nothing to cut
    limited: list[Frame] = []
    notes: list[Note] = []
    for frame in frames:
        out, count = limit_frame(frame)
        limited.append(out)
        if count:
            action = frame.action if isinstance(frame, Call) else ""
            detail = (
                f"timestamp: {count} date-time(s) cut to milliseconds (2.0.1 allows 3 decimals)"
            )
            notes.append(Note(NoteKind.LOSSY, action, detail))
    if not notes:
        return step
    if to_csms:
        return Step(step.to_charger, tuple(limited), step.notes + tuple(notes))
    return Step(tuple(limited), step.to_csms, step.notes + tuple(notes))
