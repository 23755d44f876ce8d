"""The session translator: a 1.6J charger behind a 2.0.1 CSMS.

Feed every frame that arrives, from either side, to :func:`from_charger` or
:func:`from_csms`; each returns the :class:`Step` to carry out (frames for
each side, notes). All memory lives in the :class:`BridgeState` the caller
passes in and persists; time and ids come from the :class:`Context`.

Dispatch is by table, never by branch on the action (cf. h11's
``EVENT_TRIGGERED_TRANSITIONS``):

===================  ==========================  ==============================
frame                from the charger (1.6)       from the CSMS (2.0.1)
===================  ==========================  ==============================
CALL                 :data:`CHARGER_CALLS`        ``commands.CSMS_CALLS``
                     (by 1.6 action)              (by 2.0.1 action)
CALLRESULT / ERROR   ``commands.CHARGER_RESULTS`` :data:`CSMS_RESULTS`
                     (by the 1.6 action of the    (by the 2.0.1 action of the
                     pending call it answers)     pending call it answers)
===================  ==========================  ==============================

A CALL whose action the sender's version does not define is answered
CALLERROR NotImplemented ("not known by receiver", OCPP-J 1.6 §4.2.3 /
2.0.1 Part 4 §4.3); a known action without a translation, NotSupported
("recognised but not supported") with the reason. A result nobody waits for
is noted ORPHAN and dropped. A :class:`TranslationError` from a handler
becomes a CALLERROR with its code to the side that sent the call.

The session assumes schema-valid payloads (the caller validates, as
``ocppkit translate`` and the gateway do) and raises nothing but
:class:`OcppkitError`: a handler tripping over a malformed payload answers
FormatViolation instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from ocppkit.translators.context import Context
from ocppkit.translators.errors import ErrorCode, TranslationError
from ocppkit.translators.frames import Call, CallError, Frame
from ocppkit.translators.j16_to_201 import (
    charger_messages,
    commands,
    dangling,
    meter_values,
    status,
    transactions,
)
from ocppkit.translators.j16_to_201.handlers import CallHandler, ResultHandler, Side, pending_key
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.schemas import actions
from ocppkit.translators.timestamps import limit_step
from ocppkit.translators.versions import OcppVersion

V16 = OcppVersion.V16
V201 = OcppVersion.V201
MAX_ERROR_DESCRIPTION = 255

CHARGER_CALLS: dict[str, CallHandler] = {
    **charger_messages.CALLS,
    **transactions.CALLS,
    **status.CALLS,
    "MeterValues": meter_values.meter_values,
}
CSMS_RESULTS: dict[str, ResultHandler] = {
    **charger_messages.RESULTS,
    **transactions.RESULTS,
    **status.RESULTS,
    **meter_values.RESULTS,
    **commands.CSMS_RESULTS,
}
# What each charger call becomes, for the coverage table of docs/mapping.md:
# 1.6 action -> (2.0.1 actions it may emit, how).
CHARGER_TARGETS: dict[str, tuple[tuple[str, ...], str]] = {
    **{
        a16: ((a201,), a201 if a201 == a16 else f"{a201} (renamed)")
        for a16, (a201, _, _) in charger_messages.MESSAGES.items()
    },
    "StartTransaction": (("TransactionEvent",), "TransactionEvent(Started); ids minted"),
    "StopTransaction": (("TransactionEvent",), "TransactionEvent(Ended) with stoppedReason"),
    "MeterValues": (
        ("TransactionEvent", "MeterValues"),
        "TransactionEvent(Updated) in a transaction, else MeterValues",
    ),
    "StatusNotification": (
        ("StatusNotification", "NotifyEvent", "TransactionEvent"),
        "StatusNotification (+ TransactionEvent ChargingStateChanged, + NotifyEvent for "
        "errors); connector 0: NotifyEvent",
    ),
}
EMITTED_FOR: dict[str, str] = {
    a201: ", ".join(sorted(a16 for a16, (targets, _) in CHARGER_TARGETS.items() if a201 in targets))
    for a201 in sorted({t for targets, _ in CHARGER_TARGETS.values() for t in targets})
}
CSMS_CALLS: Mapping[str, CallHandler] = commands.CSMS_CALLS
CHARGER_RESULTS: Mapping[str, ResultHandler] = commands.CHARGER_RESULTS

# 1.6 actions that only a central system sends (1.6 §5): a charger sending
# one is refused NotSupported.
_CSMS_ONLY_16 = "is sent by a central system, not by a charge point (OCPP 1.6 §5)"
NOT_SUPPORTED_16: dict[str, str] = {
    action: f"{action} {_CSMS_ONLY_16}" for action in sorted(actions(V16) - set(CHARGER_CALLS))
}
_STATION_ONLY_201 = "is sent by a charging station, not by a CSMS (OCPP 2.0.1 Part 2)"


def _reason_201(action: str) -> str:
    reason = getattr(commands, "NOT_SUPPORTED", {}).get(action)
    return reason if reason is not None else f"{action} {_STATION_ONLY_201}"


def _refuse(call: Call, version: OcppVersion, code: ErrorCode, reason: str) -> CallError:
    return CallError(call.message_id, code.wire(version), reason[:MAX_ERROR_DESCRIPTION], {})


def _call(
    state: BridgeState,
    call: Call,
    ctx: Context,
    version: OcppVersion,
    table: Mapping[str, CallHandler],
) -> tuple[tuple[Frame, ...], Step]:
    """Run a call handler; returns (frames back to the sender on refusal, step)."""
    handler = table.get(call.action)
    if handler is None:
        if call.action not in actions(version):
            code, reason = ErrorCode.NOT_IMPLEMENTED, f"unknown OCPP {version} action {call.action}"
        elif version is V16:
            code, reason = ErrorCode.NOT_SUPPORTED, NOT_SUPPORTED_16[call.action]
        else:
            code, reason = ErrorCode.NOT_SUPPORTED, _reason_201(call.action)
        note = Note(NoteKind.NOT_SUPPORTED, call.action, reason)
        return (_refuse(call, version, code, reason),), Step(notes=(note,))
    try:
        return (), handler(state, call, ctx)
    except TranslationError as exc:
        note = Note(NoteKind.NOT_SUPPORTED, call.action, exc.reason)
        return (_refuse(call, version, exc.code, exc.reason),), Step(notes=(note,))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        reason = f"{call.action} payload could not be translated ({type(exc).__name__})"
        note = Note(NoteKind.NOT_SUPPORTED, call.action, reason)
        return (_refuse(call, version, ErrorCode.FORMAT_VIOLATION, reason),), Step(notes=(note,))


def _result(
    state: BridgeState,
    side: Side,
    frame: Frame,
    ctx: Context,
    table: Mapping[str, ResultHandler],
    origin_version: OcppVersion,
) -> tuple[tuple[Frame, ...], Step]:
    """Run the result handler of the pending call ``frame`` answers.

    Returns (CALLERRORs for the origin side when translation failed, step).
    """
    assert not isinstance(frame, Call)
    pending = state.pending.pop(pending_key(side, frame.message_id), None)
    if pending is None:
        detail = f"answer {frame.message_id!r} matches no pending call"
        return (), Step(notes=(Note(NoteKind.ORPHAN, "", detail),))
    handler = table.get(pending.action)
    reason = f"no translation for answers to {pending.action}"
    code = ErrorCode.INTERNAL_ERROR
    if handler is not None:
        try:
            return (), handler(state, pending, frame, ctx)
        except TranslationError as exc:
            reason, code = exc.reason, exc.code
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            reason = f"answer to {pending.action} could not be translated ({type(exc).__name__})"
            code = ErrorCode.FORMAT_VIOLATION
    note = Note(NoteKind.NOT_SUPPORTED, pending.origin_action, reason)
    if pending.origin_id is None:
        return (), Step(notes=(note,))
    error = CallError(pending.origin_id, code.wire(origin_version), reason[:MAX_ERROR_DESCRIPTION])
    return (error,), Step(notes=(note,))


def from_charger(state: BridgeState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 1.6 charger sent.

    Args:
        state: the bridge's memory for this charger (updated in place).
        frame: a CALL, or the CALLRESULT / CALLERROR answering a call the
            bridge sent the charger.
        ctx: clock and id source.

    Returns:
        the frames to send to each side, and notes.
    """
    if isinstance(frame, Call):
        back, step = _call(state, frame, ctx, V16, CHARGER_CALLS)
        step = Step(to_charger=back) + step if back else step
    else:
        back, step = _result(state, Side.CHARGER, frame, ctx, CHARGER_RESULTS, V201)
        step = step + Step(to_csms=back) if back else step
    # Whatever the charger sends is a moment to end what it abandoned.
    return limit_step(step + dangling.sweep(state, ctx), to_csms=True)


def from_csms(state: BridgeState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 2.0.1 CSMS sent (see :func:`from_charger`)."""
    if isinstance(frame, Call):
        back, step = _call(state, frame, ctx, V201, CSMS_CALLS)
        return limit_step(Step(to_csms=back) + step if back else step, to_csms=True)
    back, step = _result(state, Side.CSMS, frame, ctx, CSMS_RESULTS, V16)
    return limit_step(step + Step(to_charger=back) if back else step, to_csms=True)
