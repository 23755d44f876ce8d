"""Logs of the OCA compliance test tool (OCTT).

The shape (field findings §4): a header block of ``Key : Value`` lines
naming the test case, the system under test (``CS`` or ``CSMS``) and the
version (``OCPP Version : OCPP 2.0.1``), then one line per event::

    [2024-05-17T09:20:43:730] [msg-in] [2,"1","BootNotification",{...}]
    [2024-05-17T09:20:43:912] [info] Waiting for the StatusNotification

The time has a colon before the milliseconds and no zone (UTC). Frames sit
on ``[msg-in]`` / ``[msg-out]`` lines, the direction seen from the tool: the
tool plays the peer of the system under test, so with ``CS`` under test
``msg-in`` is a frame the charger sent. Every other tagged line
(``[info]``, ``[REQUEST]``, ``[RESPONSE]``, ``[started_testcase]``, ...) is an
annotation: counted as skipped, never quarantined. The version in the
header wins over a guess (``--ocpp-version`` wins over both); the charger id
comes from a header line naming it, else ``--charge-point-id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import orjson

from ocppkit.toolkit.ingest.events import (
    CS_TO_CSMS,
    CSMS_TO_CS,
    SKIPPED,
    Bad,
    FrameEvent,
    bad,
    decode_frame,
    frame_reason,
    parse_ts,
)
from ocppkit.toolkit.ingest.readers import ReaderOptions
from ocppkit.translators.errors import FrameError

NAME = "octt"
SPLITTABLE = False  # the header says what every later line means

_TAGGED = re.compile(
    rb"^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?::(\d{1,6}))?\]\s*\[([^\]]+)\]\s?(.*)$"
)
_HEADER = re.compile(rb"^([A-Za-z][\w ()/.-]{1,60}?)\s*:\s*(.*)$")
_VERSION = re.compile(rb"(2\.0\.1|1\.6|1\.5|2\.1)")
_CP_KEY = re.compile(rb"(charge ?point|charging ?station|station|identity|chargebox)", re.I)
# The tool's side is the peer of the system under test: a frame *in* to the tool.
_IN = {b"CS": CS_TO_CSMS, b"CSMS": CSMS_TO_CS}
FRAME_TAGS = {b"msg-in", b"msg-out"}


def sniff(lines: list[bytes]) -> float:
    tagged = sum(1 for line in lines if _TAGGED.match(line))
    header = sum(1 for line in lines if not line.startswith(b"[") and _HEADER.match(line))
    version = any(line.lower().startswith(b"ocpp version") for line in lines)
    if not tagged or not (version or header):
        return 0.0
    return (tagged + header) / len(lines)


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    version = options.version
    sut = b"CS"
    cp = options.charge_point_id
    in_header = True
    for number, line in lines:
        m = _TAGGED.match(line)
        if m is None:
            h = _HEADER.match(line) if in_header else None
            if h is None:
                if set(line) <= set(b"-=*# "):
                    continue  # a rule under the header
                yield bad(number, "not an OCTT header or tagged line", line)
                continue
            key, value = h.group(1).strip().lower(), h.group(2).strip()
            if key.startswith(b"ocpp version") and options.version is None:
                found = _VERSION.search(value)
                version = found.group(1).decode() if found else version
            elif b"under test" in key or key in (b"sut", b"system"):
                sut = b"CSMS" if value.upper().startswith(b"CSMS") else b"CS"
            elif _CP_KEY.search(key) and value and options.charge_point_id is None:
                cp = value.decode("utf-8", "replace")
            yield Bad(number, f"{SKIPPED}OCTT header line", "")
            continue
        in_header = False
        stamp, ms, tag, rest = m.groups()
        if tag.lower() not in FRAME_TAGS:
            yield Bad(number, f"{SKIPPED}OCTT annotation", "")
            continue
        try:
            mtype, mid, action, payload = decode_frame(orjson.loads(rest))
        except orjson.JSONDecodeError as exc:
            yield bad(number, f"frame is not valid JSON: {exc}", line)
            continue
        except FrameError as exc:
            yield bad(number, frame_reason(exc), line)
            continue
        text = stamp.decode() + (f".{ms.decode()}" if ms else "")
        incoming = _IN[sut]
        direction = incoming if tag.lower() == b"msg-in" else (
            CSMS_TO_CS if incoming == CS_TO_CSMS else CS_TO_CSMS
        )  # fmt: skip
        yield FrameEvent(
            parse_ts(text), cp, direction, version or "1.6", mtype, mid, action, payload, number
        )
