"""Shared moves of the charger-side translators (1.6 charger -> 2.0.1 CSMS).

Every charger call follows one path: the 1.6 CALL becomes a 2.0.1 CALL to
the CSMS with the **same message id** (the two legs of a journal line up),
registered with :func:`~ocppkit.translators.charger16_csms201.handlers.expect_answer`; the
CSMS's answer becomes the 1.6 CALLRESULT (or CALLERROR) for the charger. The
charger is answered only when the CSMS has answered (end-to-end
acknowledgement), so a 1.6 charger's own retry logic keeps working.

Messages the bridge adds on its own (NotifyEvent for an error code, a
TransactionEvent for a charging-state change) get fresh ids from the
context, are registered with ``origin_id=None``, and their answers give the
charger nothing.

Topology (shared with :mod:`ocppkit.translators.charger16_csms201.command_kit`): 1.6
connector N is 2.0.1 EVSE N with connectorId 1; connector 0 is the station.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppkit.translators import engine
from ocppkit.translators.charger16_csms201.command_kit import lossy
from ocppkit.translators.charger16_csms201.handlers import ResultHandler, Side
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.engine import respell
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.versions import OcppVersion

V16 = OcppVersion.V16

# (state, pending, 2.0.1 payload, ctx) -> (1.6 payload, notes)
AnswerConverter = Callable[
    [BridgeState, Pending, dict[str, Any], Context], tuple[dict[str, Any], list[Note]]
]


def forward(
    state: BridgeState,
    call16: Call,
    action201: str,
    payload201: dict[str, Any],
    *,
    data: dict[str, Any] | None = None,
    notes: list[Note] | tuple[Note, ...] = (),
) -> Step:
    """Send ``payload201`` to the CSMS as the counterpart of ``call16`` (same id)."""
    return engine.pass_on(state, Side.CSMS, call16, action201, payload201, data=data, notes=notes)


def derive(
    state: BridgeState,
    ctx: Context,
    action201: str,
    payload201: dict[str, Any],
    *,
    origin_action: str,
    why: str,
) -> Step:
    """A call the bridge originates towards the CSMS (fresh id, nothing to answer)."""
    return engine.derive(
        state, ctx, Side.CSMS, action201, payload201, origin_action=origin_action, why=why
    )


def answer_local(call16: Call, payload16: dict[str, Any], kind: NoteKind, detail: str) -> Step:
    """Answer the charger without asking the CSMS, and say why."""
    return engine.answer_locally(call16, payload16, Side.CHARGER, detail, kind=kind)


def error_to_charger(origin_ids: list[str], error: CallError, action: str = "") -> Step:
    """Pass the CSMS's CALLERROR down to each charger call it answers, in 1.6 spelling.

    A code 1.6 does not know (RpcFrameworkError, MessageTypeNotSupported)
    takes its nearest 1.6 code (:meth:`ErrorCode.wire`); an unknown one
    becomes GenericError with the original kept in the text, and a lossy
    note about ``action`` (:func:`~ocppkit.translators.engine.respell`).
    """
    frames: list[CallError] = []
    notes: list[Note] = []
    for mid in origin_ids:
        frame, unknown = respell(error, mid, V16)
        frames.append(frame)
        if unknown and not notes:
            notes.append(Note(NoteKind.LOSSY, action, f"error code {error.error_code}"))
    return Step(to_charger=tuple(frames), notes=tuple(notes))


def origin_ids(pending: Pending) -> list[str]:
    """The charger calls one CSMS answer settles: the origin and any retries of it."""
    if pending.origin_id is None:
        return []
    return [pending.origin_id, *pending.data.get("also_answer", ())]


def on_answer(convert: AnswerConverter) -> ResultHandler:
    """A result handler: the CSMS's answer becomes the charger's answer.

    CALLERRORs are relayed; answers to bridge-originated calls give the
    charger nothing (a refused one is noted and counted as lossy: the
    information it carried did not arrive).
    """

    def handle(
        state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
    ) -> Step:
        origin = pending.origin_id
        if origin is None:
            if isinstance(answer, CallError):
                detail = f"CSMS refused derived call: {answer.error_code}"
                return Step(notes=(lossy(state, pending.action, "derived", detail),))
            return Step()
        if isinstance(answer, CallError):
            return error_to_charger(origin_ids(pending), answer, pending.origin_action)
        payload16, notes = convert(state, pending, answer.payload, ctx)
        if not pending.data.get("also_answer"):  # the common case: no retries to answer too
            return Step((CallResult(origin, payload16),), (), tuple(notes))
        frames = tuple(CallResult(mid, payload16) for mid in origin_ids(pending))
        return Step(to_charger=frames, notes=tuple(notes))

    return handle


def empty_answer(
    state: BridgeState, pending: Pending, payload: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    """For confirmations that carry nothing in 1.6 (``{}``)."""
    return {}, []
