"""Reading the text logs put in front of a message: time, direction, charger.

Frame logs and SOAP captures prefix each message with some of: an RFC 3339
(or Python logging, or epoch) timestamp, a direction marker and the charger
id, in whatever order the logging config chose (analysis-research §2 lists
the shapes seen in the field). :func:`parse_prefix` takes the text before
the message apart token by token; markers are one table.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ocppkit.toolkit.ingest.events import CS_TO_CSMS, CSMS_TO_CS, REVERSE, parse_ts

# Markers that name the sender absolutely.
ABSOLUTE_MARKERS: dict[str, str] = {
    m.lower(): d
    for d, names in (
        (CS_TO_CSMS, ("CS->CSMS", "CP->CS", "CP->CSMS", "CS>CSMS", "FROM_CP", "cs_to_csms",
                      "ChargePoint>CentralSystem", "charger->csms", "STATION->CSMS")),
        (CSMS_TO_CS, ("CSMS->CS", "CS->CP", "CSMS->CP", "CSMS>CS", "TO_CP", "csms_to_cs",
                      "CentralSystem>ChargePoint", "csms->charger", "CSMS->STATION")),
    )
    for m in names
}  # fmt: skip

# Markers relative to the side that wrote the log: True = received by it.
RELATIVE_MARKERS: dict[str, bool] = {
    **dict.fromkeys(("<-", "<<", "<<<", "in", "recv", "received", "receive", "rx", "msg-in"), True),
    **dict.fromkeys((">", "->", ">>", ">>>", "out", "send", "sent", "tx", "msg-out"), False),
}

_EPOCH_RE = re.compile(r"^\d{10}(?:\.\d+)?$|^\d{13}$")
# An OCTT-style "07:15:20:118" (colon before the milliseconds).
_COLON_MS = re.compile(r"^(.*\d{2}:\d{2}:\d{2}):(\d{3})$")
_STRIP = "[]()<>{},;:\"'"
_SPLIT = re.compile(r"[\s\[\]()]+")
_ID_KEYS = re.compile(r"^(?:chargeBoxId|chargeboxid|cp|charger|chargePointId|station|id)=", re.I)


class Prefix(NamedTuple):
    ts: int | None
    direction: str | None
    cp: str | None


def received_direction(side: str) -> str:
    """The direction of a message *received* by ``side`` ("csms" or "cs")."""
    return CS_TO_CSMS if side == "csms" else CSMS_TO_CS


def _timestamp(token: str) -> int | None:
    token = token.strip(_STRIP)
    if len(token) < 10 or not token[:4].isdigit():
        return None
    if _EPOCH_RE.match(token):
        value = float(token)
        return int(value * 1000) if len(token) == 13 else round(value * 1_000_000)
    m = _COLON_MS.match(token)
    if m:
        token = f"{m.group(1)}.{m.group(2)}"
    if token[4:5] != "-" or len(token) < 16:  # a bare date is not a timestamp
        return None
    return parse_ts(token)


def parse_prefix(text: str, side: str = "csms") -> Prefix:
    """Split the text before a message into (timestamp, direction, charger id).

    Args:
        text: everything on the line before the message.
        side: who wrote the log ("csms" or "cs"), for relative markers such as
            ``IN`` or ``<-``.

    Returns:
        The parts found; anything not found is None. The charger id is the
        last token that is neither a time, a marker, a log level nor a bare
        word such as ``INFO``.
    """
    tokens = [t for t in _SPLIT.split(text) if t]
    ts: int | None = None
    direction: str | None = None
    cp: str | None = None
    i = 0
    if tokens:
        ts = _timestamp(tokens[0])
        if ts is not None:
            i = 1
        elif len(tokens) > 1:
            ts = _timestamp(f"{tokens[0].strip(_STRIP)}T{tokens[1].strip(_STRIP)}")
            i = 2 if ts is not None else 0
        if (
            ts is not None
            and i < len(tokens)
            and re.fullmatch(r"Z|UTC|[+-]\d{2}:?\d{2}", tokens[i])
        ):
            i += 1
    for token in tokens[i:]:
        bare = token.strip(_STRIP)
        low = bare.lower()
        if low in ABSOLUTE_MARKERS:
            direction = ABSOLUTE_MARKERS[low]
        elif low in RELATIVE_MARKERS or token.lower() in RELATIVE_MARKERS:
            received = RELATIVE_MARKERS.get(low, RELATIVE_MARKERS.get(token.lower()))
            mine = received_direction(side)
            direction = mine if received else REVERSE[mine]
        elif bare and low not in _NOISE and not bare.isdigit():
            cp = _ID_KEYS.sub("", bare).strip(_STRIP) or cp
    return Prefix(ts, direction, cp)


_NOISE = frozenset(
    {"debug", "info", "warning", "warn", "error", "critical", "trace", "ocpp", "message", "-", "|",
     "frame", "websocket", "ws", "txt", "utc", "z"}
)  # fmt: skip
