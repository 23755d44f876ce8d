"""Shared moves of the CSMS-command translators (2.0.1 CSMS -> 1.6 charger).

Every command follows the same path: the 2.0.1 CALL becomes a 1.6 CALL to the
charger (same message id, so logs of both legs line up), registered with
:func:`~ocppkit.translators.charger16_csms201.handlers.expect_answer`; the charger's answer
becomes the 2.0.1 CALLRESULT (or CALLERROR) answering the CSMS's message id.
When the bridge can decide alone (a value 1.6 cannot carry, an unknown
transaction) it answers the CSMS itself and says so in a LOCAL_ANSWER note.

Topology used throughout (1.6 has connectors only, 2.0.1 has EVSEs with
connectors): 1.6 connector N is 2.0.1 EVSE N with connectorId 1; 1.6
connector 0 is the whole station (2.0.1: no ``evse``/evseId 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ocppkit.translators import engine
from ocppkit.translators.charger16_csms201.handlers import ResultHandler, Side
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.engine import lossy_note
from ocppkit.translators.engine import relay_error as _relay_error
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import ErrorCode
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.versions import OcppVersion

V201 = OcppVersion.V201
MAX_ID_TAG = 20  # 1.6 IdToken: CiString20Type (1.6 §7.27)

ResultConverter = Callable[[BridgeState, Pending, dict[str, Any], Context], Step]


def same_values(name: str, values: tuple[str, ...], reference: str) -> EnumMap:
    """An identity table: the enum has the same values in both versions."""
    return EnumMap(name, {v: v for v in values}, reference=reference)


def strip_custom(value: Any) -> Any:
    """A copy of a 2.0.1 value without ``customData`` (1.6 has no such field)."""
    if isinstance(value, dict):
        return {k: strip_custom(v) for k, v in value.items() if k != "customData"}
    if isinstance(value, list):
        return [strip_custom(v) for v in value]
    return value


def lossy(state: BridgeState, action: str, field: str, detail: str) -> Note:
    """A LOSSY note for ``action.field``, counted in ``state.lossy_counts``."""
    return lossy_note(state, action, field, detail)


def mapped(
    state: BridgeState, table: EnumMap, value: str, action: str, field: str
) -> tuple[str, tuple[Note, ...]]:
    """Apply ``table`` to ``value``; a lossy row yields a counted LOSSY note."""
    target, was_lossy = table(value)
    if not was_lossy:
        return target, ()
    return target, (lossy(state, action, field, f"{value} -> {target} ({table.name})"),)


def status_info(reason_code: str, additional: str = "") -> dict[str, Any]:
    """A 2.0.1 StatusInfoType (reasonCode <= 20, additionalInfo <= 512)."""
    info: dict[str, Any] = {"reasonCode": reason_code[:20]}
    if additional:
        info["additionalInfo"] = additional[:512]
    return info


def send_down(
    state: BridgeState,
    call201: Call,
    action16: str,
    payload16: dict[str, Any],
    *,
    data: dict[str, Any] | None = None,
    notes: tuple[Note, ...] = (),
) -> Step:
    """Send ``payload16`` to the charger as the counterpart of ``call201``.

    The 1.6 CALL reuses the CSMS's message id; its answer is expected and
    will be translated back for ``call201``.
    """
    return engine.pass_on(state, Side.CHARGER, call201, action16, payload16, data=data, notes=notes)


def local_answer(
    call201: Call, payload201: dict[str, Any], detail: str, *, notes: tuple[Note, ...] = ()
) -> Step:
    """Answer the CSMS without asking the charger, and say why."""
    return engine.answer_locally(call201, payload201, Side.CSMS, detail, notes=notes)


def refuse(call201: Call, reason: str, code: ErrorCode = ErrorCode.NOT_SUPPORTED) -> Step:
    """Answer the CSMS with a CALLERROR (NotSupported unless told otherwise)."""
    return engine.refuse(call201, Side.CSMS, V201, reason, code)


def reply(pending: Pending, payload201: dict[str, Any], notes: tuple[Note, ...] = ()) -> Step:
    """The 2.0.1 CALLRESULT answering the CSMS call ``pending`` came from."""
    return engine.answer(pending, payload201, Side.CSMS, notes)


def relay_error(pending: Pending, error: CallError) -> Step:
    """Pass the charger's CALLERROR up, in 2.0.1 spelling.

    1.6 and 2.0.1 share the RPC error codes except for spelling
    (FormationViolation, OccurenceConstraintViolation); a code 2.0.1 does
    not know becomes GenericError, with the original kept in the text.
    """
    return _relay_error(pending, error, Side.CSMS, V201)


def on_result(convert: ResultConverter) -> ResultHandler:
    """A result handler: CALLERRORs are relayed, CALLRESULTs go to ``convert``."""

    def handle(
        state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
    ) -> Step:
        if isinstance(answer, CallError):
            return relay_error(pending, answer)
        return convert(state, pending, answer.payload, ctx)

    return handle


def status_result(table: EnumMap, action: str) -> ResultHandler:
    """A result handler for answers that are just ``{"status": ...}``."""

    def convert(state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context) -> Step:
        status, notes = mapped(state, table, payload["status"], action, "status")
        return reply(pending, {"status": status}, notes)

    return on_result(convert)


def dispatch_by_origin(handlers: Mapping[str, ResultHandler]) -> ResultHandler:
    """One result handler for an action, choosing by the call it served (``origin_action``).

    Used both ways: a 1.6 answer that served one of several 2.0.1 commands, and
    a 2.0.1 answer that served one of several 1.6 charger calls.
    """

    def handle(
        state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
    ) -> Step:
        handler = handlers.get(pending.origin_action)
        if handler is None:
            detail = f"answer to {pending.action} for unhandled {pending.origin_action}"
            return Step(notes=(Note(NoteKind.ORPHAN, pending.action, detail),))
        return handler(state, pending, answer, ctx)

    return handle


def connector_of_evse(evse_id: int, connector_id: int | None = None) -> int | None:
    """The 1.6 connectorId of a 2.0.1 EVSE (and connector), or None if 1.6 has none.

    EVSE N <-> connector N; only connectorId 1 exists inside an EVSE.
    """
    if evse_id < 0 or (connector_id is not None and connector_id != 1):
        return None
    if evse_id == 0 and connector_id is not None:
        return None
    return evse_id


def fits_id_tag(token: str) -> bool:
    """True when a 2.0.1 idToken value fits a 1.6 idTag (<= 20 characters)."""
    return len(token) <= MAX_ID_TAG


def to_tenths(value: float) -> float | None:
    """``value`` rounded to 0.1, as 1.6 charging limits require (multipleOf 0.1).

    Returns None when the value cannot be represented that way (too large
    for exact decimal arithmetic, or not finite).
    """
    try:
        tenths = Decimal(repr(value)).quantize(Decimal("0.1"))
    except InvalidOperation:
        return None
    if not tenths.is_finite():
        return None
    return float(tenths)
