"""OCPP 1.5 SOAP captures: envelopes, one after another, one or many lines each.

A record is an XML envelope (``<...:Envelope ...>`` to ``</...:Envelope>``),
optionally preceded on its first line, or on a line of its own, by the same
prefix a frame log uses (time, direction marker, charger id; see
:mod:`ocppkit.toolkit.ingest.readers.prefix`). Envelopes are decoded by the project's
1.5 codec (:func:`ocppkit.translators.soap15.parse_envelope`), leniently: vendor
extras are dropped rather than refused, because a log is evidence, not a
peer to argue with.

Mapped onto frame events: a request is a CALL (action = operation), a
response a CALLRESULT, a Fault a CALLERROR; the message id is the
wsa:MessageID (responses: wsa:RelatesTo) shortened as the 1.5 stream
translator does (:func:`ocppkit.translators.soap15.frame_id`). The charger id is the
``chargeBoxIdentity`` header; a response, which need not carry it, takes its
request's, as does one without wsa:RelatesTo (HTTP answers on the same
exchange: it pairs with the last unanswered request).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ocppkit.toolkit.ingest.events import CS_TO_CSMS, REVERSE, Bad, FrameEvent, bad
from ocppkit.toolkit.ingest.readers import ReaderOptions
from ocppkit.toolkit.ingest.readers.prefix import parse_prefix
from ocppkit.translators.errors import OcppkitError
from ocppkit.translators.soap15 import Role, SoapFault, SoapSettings, frame_id, parse_envelope
from ocppkit.translators.soap15.operations import CENTRAL_SYSTEM

NAME = "soap15"
SPLITTABLE = False  # envelopes span lines, and responses borrow their request's charger id

SETTINGS = SoapSettings(max_bytes=4 * 1024 * 1024, validate=False, strict=False)
_OPEN = re.compile(rb"<(?:\?xml|(?:[\w.-]+:)?Envelope\b)")
_CLOSE = re.compile(rb"</(?:[\w.-]+:)?Envelope\s*>")
_CS_OPERATIONS = frozenset(op.name for op in CENTRAL_SYSTEM.operations)


def sniff(lines: list[bytes]) -> float:
    joined = b"\n".join(lines)
    if b"Envelope" in joined and (b"urn://Ocpp/Cs/2012/06/" in joined or b"urn://Ocpp/Cp/2012/06/"
                                  in joined):  # fmt: skip
        return 1.0
    return 0.0


def envelope_event(
    text: str | bytes,
    ts: int | None,
    cp: str | None,
    direction: str | None,
    line: int,
) -> FrameEvent | str:
    """One 1.5 envelope as a frame event, or the reason it cannot be read.

    Args:
        text: the envelope.
        ts, cp, direction: what the log says around it (None if nothing).
        line: its first line.
    """
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    try:
        msg = parse_envelope(text, SETTINGS)
    except OcppkitError as exc:
        return f"unreadable OCPP 1.5 envelope: {exc}"
    if isinstance(msg, SoapFault):
        mid = frame_id(msg.relates_to) if msg.relates_to else f"fault-line-{line}"
        payload = {"errorCode": msg.subcode or msg.code, "errorDescription": msg.reason,
                   "errorDetails": {}}  # fmt: skip
        return FrameEvent(ts, cp, direction, "1.5", 4, mid, None, payload, line, raw)
    called_by_charger = msg.role is Role.CENTRAL_SYSTEM
    request_dir = CS_TO_CSMS if called_by_charger else REVERSE[CS_TO_CSMS]
    wsa = msg.addressing
    if msg.kind.value == "request":
        mid = frame_id(wsa.message_id) if wsa.message_id else f"soap-line-{line}"
        cp = msg.charge_box_identity or cp
        return FrameEvent(ts, cp, request_dir, "1.5", 2, mid, msg.operation, msg.payload, line, raw)
    mid = frame_id(wsa.relates_to) if wsa.relates_to else ""
    return FrameEvent(ts, cp, REVERSE[request_dir], "1.5", 3, mid, None, msg.payload, line, raw)


def _records(
    lines: Iterable[tuple[int, bytes]],
) -> Iterator[tuple[int, bytes, bytes] | Bad]:
    """(first line, prefix, envelope) per record; stray lines as Bad."""
    prefix, start = b"", 0
    parts: list[bytes] = []
    pending_prefix: tuple[int, bytes] | None = None
    for number, line in lines:
        if not parts:
            m = _OPEN.search(line)
            if m is None:
                if pending_prefix is not None:
                    yield bad(pending_prefix[0], "not part of a SOAP envelope", pending_prefix[1])
                pending_prefix = (number, line)
                continue
            prefix = line[: m.start()].strip()
            if not prefix and pending_prefix is not None:
                prefix = pending_prefix[1]
            elif pending_prefix is not None:
                yield bad(pending_prefix[0], "not part of a SOAP envelope", pending_prefix[1])
            pending_prefix = None
            start = number
            line = line[m.start() :]
        parts.append(line)
        if _CLOSE.search(line):
            yield start, prefix, b"\n".join(parts)
            parts = []
    if parts:
        yield bad(start, "SOAP envelope not closed before the end of the file", b"\n".join(parts))
    if pending_prefix is not None:
        yield bad(pending_prefix[0], "not part of a SOAP envelope", pending_prefix[1])


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    open_requests: dict[str, FrameEvent] = {}  # message id -> request, oldest first
    for item in _records(lines):
        if isinstance(item, Bad):
            yield item
            continue
        number, prefix, envelope = item
        ts, direction, cp = parse_prefix(prefix.decode("utf-8", "replace"), options.side)
        event = envelope_event(envelope, ts, cp or options.charge_point_id, direction, number)
        if isinstance(event, str):
            yield bad(number, event, envelope)
            continue
        if event.mtype == 2:
            open_requests[event.msg_id] = event
            if len(open_requests) > 10_000:  # a log of unanswered requests stays bounded
                open_requests.pop(next(iter(open_requests)))
        else:
            request = open_requests.pop(event.msg_id, None)
            if request is None and not event.msg_id and open_requests:
                request = open_requests.pop(next(reversed(open_requests)))
            if request is not None:
                event = event._replace(
                    msg_id=request.msg_id,
                    cp=event.cp or request.cp,
                    direction=event.direction or REVERSE.get(request.direction or "", None),
                )
            elif not event.msg_id:
                event = event._replace(msg_id=f"soap-line-{number}")
        yield event
