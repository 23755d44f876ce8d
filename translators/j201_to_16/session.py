"""The session translator: a 2.0.1 charging station behind a 1.6J CSMS.

Feed every frame that arrives from the station to :func:`from_charger` and
every frame from the CSMS to :func:`from_csms`; send what the returned
:class:`Step` lists, in order, and persist the state. Same contract as the
forward package (:mod:`ocppkit.translators.j16_to_201`), with the versions swapped.

Routing is by table (h11-style): CALLs by action (:data:`STATION_CALLS`,
:data:`CSMS_CALLS`), answers by the action of the call they answer (the
``pending`` record). The two ways a frame is refused are decided here, once:

- an action with no handler: CALLERROR NotSupported when the sender's
  version defines it ("recognised but not supported", OCPP-J §4.2.3 /
  2.0.1 Part 4 §4.3), NotImplemented when it does not ("not known");
- an :class:`~ocppkit.translators.errors.OcppkitError` raised by a handler: the
  CALLERROR its code names, with its reason (TranslationError ->
  NotSupported by default). Handlers raise before changing the state.
- a payload that is not schema-valid (the caller is expected to validate;
  a lenient one may not): FormatViolation, for a call or for the answer
  that could not be translated, instead of an exception.

An answer matching no pending call is noted ORPHAN and dropped: there is no
one to pass it to.
"""

from __future__ import annotations

from ocppkit.translators import schemas
from ocppkit.translators.context import Context
from ocppkit.translators.errors import ErrorCode, FrameError, TranslationError
from ocppkit.translators.frames import Call, CallError, Frame
from ocppkit.translators.j201_to_16 import (
    charging,
    commands,
    config,
    security,
    station,
    transactions,
)
from ocppkit.translators.j201_to_16.common import V16, V201
from ocppkit.translators.j201_to_16.handlers import CallHandler, ResultHandler, Side, pending_key
from ocppkit.translators.j201_to_16.state import StationState
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.timestamps import limit_step

STATION_CALLS: dict[str, CallHandler] = {**station.STATION_CALLS, **transactions.STATION_CALLS}
CSMS_RESULTS: dict[str, ResultHandler] = {**station.CSMS_RESULTS, **transactions.CSMS_RESULTS}
CSMS_CALLS: dict[str, CallHandler] = {
    **commands.CSMS_CALLS,
    **charging.CSMS_CALLS,
    **config.CSMS_CALLS,
    **security.CSMS_CALLS,
}
STATION_RESULTS: dict[str, ResultHandler] = {
    **commands.STATION_RESULTS,
    **charging.STATION_RESULTS,
    **config.STATION_RESULTS,
    **security.STATION_RESULTS,
}
# Refusals with a reason, by the sender's action.
NOT_SUPPORTED: dict[str, str] = {**station.NOT_SUPPORTED}
_WRONG_SENDER = {
    Side.CHARGER: "is sent by a CSMS, not by a charging station (OCPP 2.0.1 Part 2)",
    Side.CSMS: "is sent by a charge point, not by a central system (OCPP 1.6 §4)",
}
# What a handler raises on a payload that is not schema-valid (the caller is
# expected to validate; a lenient caller still gets an answer, not a crash).
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)
MAX_ERROR_DESCRIPTION = 255  # 2.0.1 Part 4 §4.2.3


def from_charger(state: StationState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 2.0.1 station sent.

    Args:
        state: the station's bridge state; updated in place.
        frame: a parsed (and, by the caller, schema-checked) 2.0.1 frame.
        ctx: clock and id source.

    Returns:
        The frames for each side and the notes. Never raises for a
        schema-valid frame: refusals are CALLERROR frames.
    """
    if isinstance(frame, Call):
        step = _call(STATION_CALLS, Side.CHARGER, state, frame, ctx)
    else:
        step = _answer(STATION_RESULTS, Side.CHARGER, state, frame, ctx)
    return limit_step(step, to_csms=False)  # 2.0.1 date-times: milliseconds at most


def from_csms(state: StationState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 1.6 CSMS sent (see :func:`from_charger`)."""
    if isinstance(frame, Call):
        step = _call(CSMS_CALLS, Side.CSMS, state, frame, ctx)
    else:
        step = _answer(CSMS_RESULTS, Side.CSMS, state, frame, ctx)
    return limit_step(step, to_csms=False)


def _refuse(side: Side, call: Call, code: ErrorCode, reason: str) -> Step:
    version = V201 if side is Side.CHARGER else V16
    error = CallError(call.message_id, code.wire(version), reason[:MAX_ERROR_DESCRIPTION], {})
    note = (Note(NoteKind.NOT_SUPPORTED, call.action, reason),)
    if side is Side.CHARGER:
        return Step(to_charger=(error,), notes=note)
    return Step(to_csms=(error,), notes=note)


def _call(
    table: dict[str, CallHandler], side: Side, state: StationState, call: Call, ctx: Context
) -> Step:
    handler = table.get(call.action)
    if handler is None:
        version = V201 if side is Side.CHARGER else V16
        if call.action not in schemas.actions(version):
            reason = f"{call.action!r} is not an OCPP {version} action"
            return _refuse(side, call, ErrorCode.NOT_IMPLEMENTED, reason)
        reason = NOT_SUPPORTED.get(call.action, f"{call.action} {_WRONG_SENDER[side]}")
        return _refuse(side, call, ErrorCode.NOT_SUPPORTED, reason)
    try:
        return handler(state, call, ctx)
    except TranslationError as exc:
        return _refuse(side, call, exc.code, exc.reason)
    except FrameError as exc:
        return _refuse(side, call, exc.code, exc.description)
    except _MALFORMED as exc:
        reason = f"{call.action} payload could not be translated ({type(exc).__name__})"
        return _refuse(side, call, ErrorCode.FORMAT_VIOLATION, reason)


def _answer(
    table: dict[str, ResultHandler], side: Side, state: StationState, frame: Frame, ctx: Context
) -> Step:
    assert not isinstance(frame, Call)
    pending = state.pending.pop(pending_key(side, frame.message_id), None)
    if pending is None:
        kind = "CALLERROR" if isinstance(frame, CallError) else "CALLRESULT"
        detail = f"{kind} {frame.message_id} answers no pending call"
        return Step(notes=(Note(NoteKind.ORPHAN, "", detail),))
    try:
        return table[pending.action](state, pending, frame, ctx)
    except _MALFORMED as exc:
        # The answer cannot be translated: the side whose call caused it
        # learns so, rather than waiting for ever.
        reason = f"answer to {pending.action} could not be translated ({type(exc).__name__})"
        note = (Note(NoteKind.NOT_SUPPORTED, pending.origin_action, reason),)
        if pending.origin_id is None:
            return Step(notes=note)
        origin = Side.CSMS if side is Side.CHARGER else Side.CHARGER
        code = ErrorCode.FORMAT_VIOLATION.wire(V201 if origin is Side.CHARGER else V16)
        error = CallError(pending.origin_id, code, reason, {})
        if origin is Side.CHARGER:
            return Step(to_charger=(error,), notes=note)
        return Step(to_csms=(error,), notes=note)
