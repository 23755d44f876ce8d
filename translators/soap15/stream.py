"""1.5 journal records (SOAP envelopes) -> 1.6 OCPP-J journal records.

The first hop of ``ocppkit translate --from 1.5``: each record whose
``message`` is a 1.5 envelope becomes the record of the equivalent 1.6 frame
(``ocpp_version`` 1.6, ``message`` the frame as a list), which the 1.6 ->
2.0.1 stream translator then takes as it would a 1.6 log.

Frame ids: OCPP-J ids are at most 36 characters (OCPP-J 1.6 §4.1.1). A
request's id comes from its wsa:MessageID (``urn:uuid:`` stripped; longer
ids are hashed), a response's from its wsa:RelatesTo, so a call and its
result share the id. Chargers often omit WS-Addressing: with a
:class:`StreamState`, a response without RelatesTo is paired with the oldest
open request of the same charger (SOAP answers on the same HTTP exchange,
so answers come in request order), and a request without MessageID gets a
hash of its record. The state also tracks open transactions so that 1.5
``Occupied`` becomes Preparing (no transaction yet) or Charging.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from ocppkit.translators.errors import ErrorCode, TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult, Frame, frame_to_list
from ocppkit.translators.journal import JournalRecord
from ocppkit.translators.outcome import Note
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15.codec import SoapMessage, parse_envelope
from ocppkit.translators.soap15.faults import SoapFault
from ocppkit.translators.soap15.lift import lift
from ocppkit.translators.soap15.settings import DEFAULT_SETTINGS, SoapSettings
from ocppkit.translators.versions import OcppVersion

MAX_ID = 36

# SOAP 1.2 fault (code, OCPP subcode) -> OCPP-J error code. Sender faults are
# the caller's mistake; Receiver faults the callee's.
FAULT_ERROR_CODES: dict[tuple[str, str | None], ErrorCode] = {
    ("Sender", "ProtocolError"): ErrorCode.PROTOCOL_ERROR,
    ("Sender", "SecurityError"): ErrorCode.SECURITY_ERROR,
    ("Sender", None): ErrorCode.FORMAT_VIOLATION,
    ("VersionMismatch", None): ErrorCode.PROTOCOL_ERROR,
    ("MustUnderstand", None): ErrorCode.NOT_SUPPORTED,
    ("Receiver", None): ErrorCode.INTERNAL_ERROR,
}


def frame_id(text: str) -> str:
    """An OCPP-J message id (<= 36 chars) for a wsa:MessageID or RelatesTo."""
    short = text.removeprefix("urn:uuid:")
    if 0 < len(short) <= MAX_ID:
        return short
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:MAX_ID]


@dataclass
class StreamState:
    """What a 1.5 stream remembers between records (per charger).

    Attributes:
        open_requests: charger -> ids of requests not yet answered, oldest first.
        starts: frame id of a StartTransaction request -> its connectorId.
        transactions: charger -> {transactionId: connectorId} of open ones.
    """

    open_requests: dict[str, list[str]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)
    transactions: dict[str, dict[int, int]] = field(default_factory=dict)


def _request_id(record: JournalRecord, msg: SoapMessage) -> str:
    if msg.addressing.message_id:
        return frame_id(msg.addressing.message_id)
    basis = f"{record.charge_point_id}|{record.timestamp}|{record.seq}|{record.message}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:MAX_ID]


def _answer_id(record: JournalRecord, relates_to: str | None, state: StreamState | None) -> str:
    queue = state.open_requests.get(record.charge_point_id, []) if state else []
    if relates_to:
        fid = frame_id(relates_to)
        if fid in queue:
            queue.remove(fid)
        return fid
    if queue:
        return queue.pop(0)
    raise TranslationError("a 1.5 response without wsa:RelatesTo matches no open request")


def _occupied_as(state: StreamState | None, cp: str, payload: dict[str, Any]) -> str | None:
    if state is None or payload.get("status") != "Occupied":
        return None
    open_connectors = set(state.transactions.get(cp, {}).values())
    return "Charging" if payload.get("connectorId") in open_connectors else "Preparing"


def _track(state: StreamState, cp: str, msg: SoapMessage, fid: str) -> None:
    txs = state.transactions.setdefault(cp, {})
    if msg.operation == "StartTransaction" and msg.kind is Kind.REQUEST:
        state.starts[fid] = msg.payload["connectorId"]
    elif msg.operation == "StartTransaction" and fid in state.starts:
        txs[msg.payload["transactionId"]] = state.starts.pop(fid)
    elif msg.operation == "StopTransaction" and msg.kind is Kind.REQUEST:
        txs.pop(msg.payload["transactionId"], None)


def envelope_to_frame(
    record: JournalRecord,
    state: StreamState | None = None,
    settings: SoapSettings = DEFAULT_SETTINGS,
) -> tuple[Frame, tuple[Note, ...]]:
    """The 1.6 OCPP-J frame equivalent to one 1.5 journal record.

    Args:
        record: a record with ``ocpp_version`` 1.5 and a SOAP envelope as
            ``message``.
        state: optional memory across records (pairing without RelatesTo,
            Occupied refinement); updated in place. None: stateless.
        settings: codec limits.

    Returns:
        The frame and the notes on anything lost.

    Raises:
        SoapError: the envelope is not a valid 1.5 envelope.
        TranslationError: it has no 1.6 equivalent.
    """
    if record.ocpp_version is not OcppVersion.V15 or not isinstance(record.message, str):
        raise TranslationError("not an OCPP 1.5 record (message must be a SOAP envelope)")
    cp = record.charge_point_id
    msg = parse_envelope(record.message, settings)
    if isinstance(msg, SoapFault):
        fid = _answer_id(record, msg.relates_to, state)
        code = FAULT_ERROR_CODES.get((msg.code, msg.subcode)) or FAULT_ERROR_CODES.get(
            (msg.code, None), ErrorCode.GENERIC_ERROR
        )
        return CallError(fid, code.wire(OcppVersion.V16), msg.reason, {}), ()
    if msg.kind is Kind.REQUEST:
        fid = _request_id(record, msg)
        lifted = lift(
            msg.operation, msg.kind, msg.payload, occupied_as=_occupied_as(state, cp, msg.payload)
        )
        if state is not None:
            state.open_requests.setdefault(cp, []).append(fid)
            _track(state, cp, msg, fid)
        return Call(fid, msg.operation, lifted.payload), lifted.notes
    fid = _answer_id(record, msg.addressing.relates_to, state)
    lifted = lift(msg.operation, msg.kind, msg.payload)
    if state is not None:
        _track(state, cp, msg, fid)
    return CallResult(fid, lifted.payload), lifted.notes


def record_to_j16(
    record: JournalRecord,
    state: StreamState | None = None,
    settings: SoapSettings = DEFAULT_SETTINGS,
) -> tuple[JournalRecord, tuple[Note, ...]]:
    """One 1.5 journal record as the equivalent 1.6 record.

    Everything but ``ocpp_version`` and ``message`` is kept; ``meta`` gains
    ``soap15_action`` (the 1.5 operation) when the record is a call, and
    ``notes`` when the lift lost something.

    Raises:
        SoapError, TranslationError: as :func:`envelope_to_frame`.
    """
    frame, notes = envelope_to_frame(record, state, settings)
    meta = dict(record.meta)
    if isinstance(frame, Call):
        meta["soap15_action"] = frame.action
    if notes:
        meta["notes"] = [n.as_dict() for n in notes]
    out = replace(record, ocpp_version=OcppVersion.V16, message=frame_to_list(frame), meta=meta)
    return out, notes
