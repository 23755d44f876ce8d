"""The OCPP-J RPC frame layer: parse and serialise, sans-I/O.

OCPP-J (1.6: "OCPP-J 1.6 Specification" §4; 2.0.1: Part 4 §4) sends every
message as a JSON array whose first element is the message type number:

    CALL            [2, "<messageId>", "<action>", {payload}]
    CALLRESULT      [3, "<messageId>", {payload}]
    CALLERROR       [4, "<messageId>", "<errorCode>", "<errorDescription>", {details}]
    CALLRESULTERROR [5, "<messageId>", "<errorCode>", "<errorDescription>", {details}]  (2.1)
    SEND            [6, "<messageId>", "<action>", {payload}]                           (2.1)

The two 2.1 types are read only on a 2.1 connection, by :func:`parse_frame_any`;
:func:`parse_frame` refuses them (MessageTypeNotSupported / NotSupported).

:func:`parse_frame` never raises anything but :class:`FrameError`, whose
``code`` is the CALLERROR code the spec names for what went wrong, and whose
``message_id`` is set whenever the id could be read, so a server can always
answer and keep the connection. Which code each fault gets is one table,
:data:`FAULT_CODES`, per version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

import orjson

from ocppkit.translators.errors import ErrorCode, FrameError
from ocppkit.translators.jsontext import dumps_bytes
from ocppkit.translators.versions import OcppVersion

MAX_MESSAGE_ID_LENGTH = 36  # 1.6 §4.1.3 / 2.0.1 Part 4 §4.1.3: "maximum of 36 characters"
DEFAULT_MAX_FRAME_BYTES = 256 * 1024
# Nesting deeper than this is refused at parse time. No OCPP schema comes
# near it (the deepest 2.0.1 payloads nest about 10 levels), and everything
# downstream (journal serialiser, validators) stays far from its own limits.
MAX_DEPTH = 64


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5  # OCPP 2.1
    SEND = 6  # OCPP 2.1


# Not frozen: a frozen dataclass's __init__ sets each field through
# object.__setattr__, four times the cost of a plain one, and a frame is built
# for every message. Treated as immutable all the same: change a copy
# (dataclasses.replace), never one in place.
@dataclass(slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]

    message_type = MessageType.CALL


@dataclass(slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]

    message_type = MessageType.CALLRESULT


@dataclass(slots=True)
class CallError:
    message_id: str
    error_code: str
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)

    message_type = MessageType.CALLERROR


Frame = Call | CallResult | CallError


@dataclass(frozen=True, slots=True)
class Send:
    """OCPP 2.1's SEND (6): a call that gets no answer, ever (2.1 Part 4 §4.2.4)."""

    message_id: str
    action: str
    payload: dict[str, Any]

    message_type = MessageType.SEND


@dataclass(frozen=True, slots=True)
class CallResultError:
    """OCPP 2.1's CALLRESULTERROR (5): the receiver of a CALLRESULT could not use it
    (2.1 Part 4 §4.2.5). Never answered; it ends the exchange."""

    message_id: str
    error_code: str
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)

    message_type = MessageType.CALLRESULTERROR


# The frames only a 2.1 connection carries; never passed to a 1.6 or 2.0.1 peer.
Frame21 = Send | CallResultError
AnyFrame = Frame | Frame21


class Fault(Enum):
    """What can be wrong with a frame, before its payload is looked at."""

    OVERSIZE = "frame larger than the configured maximum"
    NOT_JSON = "frame is not valid JSON"
    NOT_ARRAY = "frame is not a JSON array"
    BAD_MESSAGE_TYPE = "message type is not a known integer"
    UNSUPPORTED_MESSAGE_TYPE = "message type belongs to OCPP 2.1"
    WRONG_LENGTH = "wrong number of elements for the message type"
    BAD_MESSAGE_ID = "message id is not a string of 1 to 36 characters"
    BAD_ACTION = "action is not a non-empty string"
    BAD_PAYLOAD = "payload is not a JSON object"
    BAD_ERROR_FIELDS = "CALLERROR code, description or details have the wrong type"
    TOO_DEEP = "JSON nested too deeply"


_V16 = OcppVersion.V16
_V201 = OcppVersion.V201
_V21 = OcppVersion.V21

# Fault -> CALLERROR code, per version. 1.6 (OCPP-J 1.6 §4.2.3) knows only
# FormationViolation / ProtocolError for an unreadable frame; 2.0.1 (Part 4
# §4.3) adds RpcFrameworkError ("MessageId could not be read") and
# MessageTypeNotSupported.
FAULT_CODES: dict[OcppVersion, dict[Fault, ErrorCode]] = {
    _V16: {
        Fault.OVERSIZE: ErrorCode.FORMAT_VIOLATION,
        Fault.NOT_JSON: ErrorCode.FORMAT_VIOLATION,
        Fault.NOT_ARRAY: ErrorCode.FORMAT_VIOLATION,
        Fault.BAD_MESSAGE_TYPE: ErrorCode.FORMAT_VIOLATION,
        # "recognised but not supported by the receiver"
        Fault.UNSUPPORTED_MESSAGE_TYPE: ErrorCode.NOT_SUPPORTED,
        # "Payload for Action is incomplete"
        Fault.WRONG_LENGTH: ErrorCode.PROTOCOL_ERROR,
        Fault.BAD_MESSAGE_ID: ErrorCode.PROTOCOL_ERROR,
        Fault.BAD_ACTION: ErrorCode.PROTOCOL_ERROR,
        Fault.BAD_PAYLOAD: ErrorCode.FORMAT_VIOLATION,
        Fault.BAD_ERROR_FIELDS: ErrorCode.FORMAT_VIOLATION,
        Fault.TOO_DEEP: ErrorCode.FORMAT_VIOLATION,
    },
    _V201: {
        Fault.OVERSIZE: ErrorCode.FORMAT_VIOLATION,
        Fault.NOT_JSON: ErrorCode.RPC_FRAMEWORK_ERROR,
        Fault.NOT_ARRAY: ErrorCode.RPC_FRAMEWORK_ERROR,
        Fault.BAD_MESSAGE_TYPE: ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
        Fault.UNSUPPORTED_MESSAGE_TYPE: ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
        Fault.WRONG_LENGTH: ErrorCode.RPC_FRAMEWORK_ERROR,
        Fault.BAD_MESSAGE_ID: ErrorCode.RPC_FRAMEWORK_ERROR,
        Fault.BAD_ACTION: ErrorCode.RPC_FRAMEWORK_ERROR,
        Fault.BAD_PAYLOAD: ErrorCode.FORMAT_VIOLATION,
        Fault.BAD_ERROR_FIELDS: ErrorCode.FORMAT_VIOLATION,
        Fault.TOO_DEEP: ErrorCode.FORMAT_VIOLATION,
    },
}
FAULT_CODES[_V21] = dict(FAULT_CODES[_V201])  # 2.1 Part 4 §4.3: the same codes
# Message types that answer (or, for SEND, expect no answer): a frame of
# these types is never answered, however broken (OCPP-J: no answer to an answer).
NEVER_ANSWERED = frozenset(
    {MessageType.CALLRESULT, MessageType.CALLERROR, MessageType.CALLRESULTERROR, MessageType.SEND}
)

_UNSUPPORTED_TYPES = frozenset({MessageType.CALLRESULTERROR, MessageType.SEND})
_LENGTHS = {
    MessageType.CALL: 4,
    MessageType.CALLRESULT: 3,
    MessageType.CALLERROR: (4, 5),
    MessageType.CALLRESULTERROR: (4, 5),
    MessageType.SEND: 4,
}
# Reads the id of a CALL too large to parse, so it can still be answered.
_CALL_ID_PREFIX = re.compile(rb'\s*\[\s*2\s*,\s*"([^"\\]{1,36})"')


def _fail(
    fault: Fault,
    version: OcppVersion,
    detail: str = "",
    message_id: str | None = None,
    message_type: int | None = None,
) -> FrameError:
    text = fault.value + (f": {detail}" if detail else "")
    return FrameError(
        FAULT_CODES[version][fault], text, message_id=message_id, message_type=message_type
    )


def depth_of(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests (a scalar is 0), counted up to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level) for child in children if isinstance(child, dict | list))
    return deepest


def parse_frame(
    data: str | bytes,
    version: OcppVersion = _V16,
    *,
    max_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Frame:
    """Parse one OCPP-J frame.

    Args:
        data: the WebSocket text message.
        version: 1.6 or 2.0.1; decides which error codes are used.
        max_bytes: frames larger than this are refused without being parsed.
        max_depth: frames nesting deeper than this are refused
            (FormationViolation / FormatViolation).

    Returns:
        a :class:`Call`, :class:`CallResult` or :class:`CallError`.

    Raises:
        FrameError: the frame is malformed; ``code`` names the CALLERROR to
            answer with and ``message_id`` is set when it could be read.
    """
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > max_bytes:
        m = _CALL_ID_PREFIX.match(raw)
        raise _fail(
            Fault.OVERSIZE,
            version,
            f"{len(raw)} bytes > {max_bytes}",
            m.group(1).decode() if m else None,
            MessageType.CALL if m else None,
        )
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _fail(Fault.NOT_JSON, version, str(exc)) from None
    if depth_of(msg, max_depth) > max_depth:
        head = msg[:2] if isinstance(msg, list) else []
        type_id = head[0] if head and isinstance(head[0], int) else None
        message_id = head[1] if len(head) > 1 and isinstance(head[1], str) else None
        if message_id is not None and not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
            message_id = None
        raise _fail(Fault.TOO_DEEP, version, f"over {max_depth} levels", message_id, type_id)
    return frame_from_list(msg, version)


def parse_frame_any(
    data: str | bytes,
    version: OcppVersion = _V16,
    *,
    max_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    max_depth: int = MAX_DEPTH,
) -> AnyFrame:
    """:func:`parse_frame`, and on a 2.1 connection also SEND and CALLRESULTERROR."""
    try:
        return parse_frame(data, version, max_bytes=max_bytes, max_depth=max_depth)
    except FrameError as exc:
        if not (version.has_extended_frames and exc.message_type in _EXTENDED):
            raise
    msg = orjson.loads(data)  # parse_frame read it already: valid JSON, not too deep
    return _extended_from_list(msg, version)


_EXTENDED = (MessageType.CALLRESULTERROR, MessageType.SEND)


def _extended_from_list(msg: list[Any], version: OcppVersion) -> Frame21:
    type_id, message_id = msg[0], msg[1]
    expected = _LENGTHS[MessageType(type_id)]
    if len(msg) not in (expected if isinstance(expected, tuple) else (expected,)):
        raise _fail(Fault.WRONG_LENGTH, version, f"{len(msg)} elements", message_id, type_id)
    if type_id == MessageType.SEND:
        action, payload = msg[2], msg[3]
        if not isinstance(action, str) or not action:
            raise _fail(Fault.BAD_ACTION, version, repr(action)[:60], message_id, type_id)
        if not isinstance(payload, dict):
            raise _fail(Fault.BAD_PAYLOAD, version, type(payload).__name__, message_id, type_id)
        return Send(message_id, action, payload)
    code, description = msg[2], msg[3]
    details = msg[4] if len(msg) == 5 else {}
    if not (isinstance(code, str) and isinstance(description, str) and isinstance(details, dict)):
        raise _fail(Fault.BAD_ERROR_FIELDS, version, "", message_id, type_id)
    return CallResultError(message_id, code, description, details)


def frame_from_list(msg: Any, version: OcppVersion = _V16) -> Frame:
    """Build a frame from an already decoded JSON value (see :func:`parse_frame`).

    SEND and CALLRESULTERROR are refused here whatever the version (the callers
    of this function handle three frame types); :func:`parse_frame_any` reads them.
    """
    if type(msg) is not list or not msg:
        if isinstance(msg, list) and msg:  # a list subclass: the same checks, slower
            return frame_from_list(list(msg), version)
        raise _fail(Fault.NOT_ARRAY, version, type(msg).__name__)
    type_id = msg[0]
    # bool is an int subclass; [true, ...] is not a message type. Plain ints
    # are compared below: IntEnum member lookups cost more than the checks.
    if type(type_id) is not int:
        if not isinstance(type_id, int) or isinstance(type_id, bool):
            raise _fail(Fault.BAD_MESSAGE_TYPE, version, repr(type_id))
        type_id = int(type_id)
    size = len(msg)
    message_id = msg[1] if size > 1 else None
    if type(message_id) is not str or not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
        if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
            raise _fail(Fault.BAD_MESSAGE_ID, version, repr(message_id)[:60], None, type_id)
        message_id = str(message_id)
    if type_id == 2:  # CALL
        if size != 4:
            raise _fail(Fault.WRONG_LENGTH, version, f"{size} elements", message_id, type_id)
        action, payload = msg[2], msg[3]
        if not isinstance(action, str) or not action:
            raise _fail(Fault.BAD_ACTION, version, repr(action)[:60], message_id, type_id)
        if not isinstance(payload, dict):
            err = _fail(Fault.BAD_PAYLOAD, version, type(payload).__name__, message_id, type_id)
            err.action = action
            raise err
        return Call(message_id, action, payload)
    if type_id == 3:  # CALLRESULT
        if size != 3:
            raise _fail(Fault.WRONG_LENGTH, version, f"{size} elements", message_id, type_id)
        payload = msg[2]
        if not isinstance(payload, dict):
            detail = type(payload).__name__
            raise _fail(Fault.BAD_PAYLOAD, version, detail, message_id, type_id)
        return CallResult(message_id, payload)
    if type_id in _UNSUPPORTED_TYPES:
        name = MessageType(type_id).name
        raise _fail(Fault.UNSUPPORTED_MESSAGE_TYPE, version, name, message_id, type_id)
    if type_id != 4:  # CALLERROR
        raise _fail(Fault.BAD_MESSAGE_TYPE, version, repr(type_id), message_id, type_id)
    if size not in (4, 5):
        raise _fail(Fault.WRONG_LENGTH, version, f"{size} elements", message_id, type_id)
    code, description = msg[2], msg[3]
    details = msg[4] if size == 5 else {}
    if not (isinstance(code, str) and isinstance(description, str) and isinstance(details, dict)):
        raise _fail(Fault.BAD_ERROR_FIELDS, version, "", message_id, type_id)
    return CallError(message_id, code, description, details)


def frame_to_list(frame: AnyFrame) -> list[Any]:
    """The JSON array of a frame."""
    if isinstance(frame, Call | Send):
        return [frame.message_type.value, frame.message_id, frame.action, frame.payload]
    if isinstance(frame, CallResult):
        return [3, frame.message_id, frame.payload]
    return [
        frame.message_type.value,
        frame.message_id,
        frame.error_code,
        frame.error_description,
        frame.error_details,
    ]


def serialize_frame(frame: AnyFrame) -> bytes:
    """The UTF-8 JSON text of a frame, compact."""
    return dumps_bytes(frame_to_list(frame))


# 2.0.1 Part 4 §4.2.3 limits errorDescription; OCPP-J 1.6 §4.2.3 sets no limit,
# and the same cut keeps a relayed 1.6 text valid for a 2.0.1 peer.
MAX_ERROR_DESCRIPTION = 255


def call_error(
    message_id: str,
    code: ErrorCode,
    version: OcppVersion,
    description: str,
    details: dict[str, Any] | None = None,
) -> CallError:
    """A CALLERROR as ``version`` writes it: the code's spelling, the description cut to fit.

    Every CALLERROR the project emits is built here: the one truncation rule.
    """
    return CallError(
        message_id, code.wire(version), description[:MAX_ERROR_DESCRIPTION], dict(details or {})
    )


def call_result_error(
    message_id: str, code: ErrorCode, description: str, details: dict[str, Any] | None = None
) -> CallResultError:
    """A 2.1 CALLRESULTERROR: the CALLRESULT ``message_id`` could not be used."""
    return CallResultError(
        message_id,
        code.wire(OcppVersion.V21),
        description[:MAX_ERROR_DESCRIPTION],
        dict(details or {}),
    )


def call_error_for(exc: FrameError, version: OcppVersion) -> CallError | None:
    """The CALLERROR answering ``exc``, or None when there is nothing to answer.

    Nothing is answered when the id could not be read, or when the frame was
    an answer (CALLRESULT, CALLERROR, and 2.1's CALLRESULTERROR and SEND):
    OCPP-J never answers an answer. The description is the error's own text,
    cut to fit (:func:`call_error`).
    """
    if exc.message_id is None or exc.message_type in NEVER_ANSWERED:
        return None
    return call_error(exc.message_id, exc.code, version, exc.description)
