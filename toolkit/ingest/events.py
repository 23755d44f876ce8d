"""What readers yield: canonical frame events and quarantine items.

Every reader, whatever its log shape, turns lines into :class:`FrameEvent`
(one OCPP message with where and when it was seen) or :class:`Bad` (a line
that could not be used, with the reason). They are named tuples, not
dataclasses, because a large log yields millions of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from ocppkit.translators.errors import FrameError
from ocppkit.translators.frames import Call, CallResult, frame_from_list

CS_TO_CSMS = "cs_to_csms"
CSMS_TO_CS = "csms_to_cs"
REVERSE = {CS_TO_CSMS: CSMS_TO_CS, CSMS_TO_CS: CS_TO_CSMS}

CALL, CALLRESULT, CALLERROR = 2, 3, 4
QUARANTINE_TEXT_MAX = 1000


class FrameEvent(NamedTuple):
    """One OCPP message as a log recorded it.

    Attributes:
        ts: log timestamp: microseconds since the Unix epoch (UTC), or RFC 3339
            text ending in Z (the journal reader leaves it to the block to cast
            all at once), or None.
        cp: charge point id, or None when the log does not name it.
        direction: :data:`CS_TO_CSMS` / :data:`CSMS_TO_CS`, or None.
        version: "1.5", "1.6", "2.0.1" or "2.1".
        mtype: 2 CALL, 3 CALLRESULT, 4 CALLERROR.
        msg_id: the message id.
        action: the CALL's action (None for results and errors).
        payload: the payload (CALLERROR: errorCode/errorDescription/errorDetails),
            or its JSON text when the reader did not need to decode it.
        line: 1-based line number in the source file.
        raw: the message as logged, when it is not an OCPP-J array (a 1.5
            SOAP envelope), so a converter can write it unchanged.
    """

    ts: int | str | None
    cp: str | None
    direction: str | None
    version: str
    mtype: int
    msg_id: str
    action: str | None
    payload: dict[str, Any] | bytes
    line: int
    raw: str | None = None


class Bad(NamedTuple):
    """A line (or frame) that goes to quarantine."""

    line: int
    reason: str
    text: str


# A Bad whose reason starts with this is a record the user chose not to read
# (e.g. the other leg of a bridge journal): counted in the summary as
# skipped, never written to quarantine.
SKIPPED = "skipped: "


def bad(line: int, reason: str, raw: bytes | str) -> Bad:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return Bad(line, reason, text[:QUARANTINE_TEXT_MAX])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def parse_ts(text: str) -> int | None:
    """RFC 3339 / ISO 8601 text -> epoch microseconds (naive times are taken as UTC).

    Returns None when the text is not a timestamp. A comma before the
    fraction (Python logging's default ``asctime``) is accepted.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace(",", ".", 1))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _US


def ts_to_text(ts: int) -> str:
    """Epoch microseconds -> RFC 3339 UTC with milliseconds and Z (journal style)."""
    moment = _EPOCH + timedelta(microseconds=ts)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decode_frame(msg: Any) -> tuple[int, str, str | None, dict[str, Any]]:
    """A decoded OCPP-J array -> (message type, id, action, payload).

    The common well-formed shapes take a fast path; anything else goes
    through :func:`ocppkit.translators.frames.frame_from_list`, whose error says
    exactly what is wrong.

    Raises:
        FrameError: the array is not a valid OCPP-J frame.
    """
    if type(msg) is list:
        n = len(msg)
        if n == 4 and msg[0] == 2:
            mid, action, payload = msg[1], msg[2], msg[3]
            ok = type(mid) is str and type(action) is str and type(payload) is dict
            if ok and action and 0 < len(mid) <= 36:
                return 2, mid, action, payload
        elif n == 3 and msg[0] == 3:
            mid, payload = msg[1], msg[2]
            if type(mid) is str and type(payload) is dict and 0 < len(mid) <= 36:
                return 3, mid, None, payload
    frame = frame_from_list(msg)
    if isinstance(frame, Call):
        return 2, frame.message_id, frame.action, frame.payload
    if isinstance(frame, CallResult):
        return 3, frame.message_id, None, frame.payload
    return (
        4,
        frame.message_id,
        None,
        {
            "errorCode": frame.error_code,
            "errorDescription": frame.error_description,
            "errorDetails": frame.error_details,
        },
    )


def frame_reason(exc: FrameError) -> str:
    return f"invalid OCPP-J frame: {exc.description}"
