"""Remote control: RequestStart/StopTransaction, UnlockConnector, TriggerMessage.

- RequestStartTransaction (2.0.1 F01) -> RemoteStartTransaction (1.6 §5.11):
  idToken -> idTag (the type is remembered in ``state.id_token_types`` for
  the way up; additionalInfo and groupIdToken have no 1.6 field: lossy);
  evseId -> connectorId; the TxProfile goes through :mod:`smart_charging`.
  ``remoteStartId`` is kept in ``state.remote_starts[str(connectorId or 0)]``
  from the moment the call is sent, so the charger's StartTransaction becomes
  TransactionEvent(Started, triggerReason RemoteStart, remoteStartId) even if
  it overtakes the answer; a Rejected or failed call removes it again.
- RequestStopTransaction (2.0.1 F03) -> RemoteStopTransaction (1.6 §5.12):
  the string id is looked up in the state and sent as the charger's
  integer. The charger decides, as in 1.6: an ended transaction the bridge
  still knows goes down with its integer, and an unknown id that is itself
  a 1.6 integer goes down as it is (the charger answers Rejected for a
  transaction it does not have). Only an unknown id that no 1.6 integer can
  carry is answered Rejected by the bridge (TxNotFound).
- UnlockConnector (2.0.1 F05) -> UnlockConnector (1.6 §5.18), always: the
  charger decides. In 1.6 an unlock during a transaction stops it (1.6
  §5.18); 2.0.1 F05.FR.02 would have the station answer
  OngoingAuthorizedTransaction, but that is the station's rule to apply,
  and a 1.6 charger applies its own. The bridge notes the difference.
- TriggerMessage (2.0.1 F06) -> TriggerMessage (1.6 §5.17) or, for a
  certificate signing request, ExtendedTriggerMessage (1.6 security
  whitepaper); triggers 1.6 has no message for are answered NotImplemented.
"""

from __future__ import annotations

import re
from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201.command_kit import (
    connector_of_evse,
    local_answer,
    lossy,
    mapped,
    on_result,
    relay_error,
    reply,
    same_values,
    send_down,
    status_info,
    status_result,
)
from ocppkit.translators.j16_to_201.id_tokens import refusal_down, remember_type
from ocppkit.translators.j16_to_201.smart_charging import profile_down
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending

# A 1.6 transactionId is an integer (1.6 §6.50); -2^31..2^31-1 in practice.
_INTEGER = re.compile(r"-?[0-9]{1,9}")

REMOTE_START_STATUS = same_values(
    "RemoteStartTransaction status", ("Accepted", "Rejected"), "1.6 §7.36; 2.0.1 F01"
)
REMOTE_STOP_STATUS = same_values(
    "RemoteStopTransaction status", ("Accepted", "Rejected"), "1.6 §7.36; 2.0.1 F03"
)
UNLOCK_STATUS = EnumMap(
    "UnlockConnector status (1.6 -> 2.0.1)",
    {"Unlocked": "Unlocked", "UnlockFailed": "UnlockFailed", "NotSupported": "UnlockFailed"},
    lossy=frozenset({"NotSupported"}),
    reference="1.6 §7.49 (NotSupported: no connector lock); 2.0.1 F05; mapping-research §3.1",
)
# 1.6 §7.47 MessageTrigger vs 2.0.1 MessageTriggerEnumType. A triggered 1.6
# MeterValues during a transaction comes up as TransactionEvent(Updated,
# Trigger), the nearest 1.6 has to a triggered TransactionEvent.
TRIGGER = EnumMap(
    "TriggerMessage.requestedMessage (2.0.1 -> 1.6)",
    {
        "BootNotification": "BootNotification",
        "FirmwareStatusNotification": "FirmwareStatusNotification",
        "Heartbeat": "Heartbeat",
        "MeterValues": "MeterValues",
        "StatusNotification": "StatusNotification",
        "LogStatusNotification": "DiagnosticsStatusNotification",
        "TransactionEvent": "MeterValues",
    },
    lossy=frozenset({"TransactionEvent"}),
    reference="1.6 §7.47; 2.0.1 F06; mapping-research §3.1 (others: NotImplemented)",
)
EXTENDED_TRIGGER = EnumMap(
    "TriggerMessage.requestedMessage (2.0.1) -> ExtendedTriggerMessage (1.6 security WP)",
    {"SignChargingStationCertificate": "SignChargePointCertificate"},
    reference="1.6 security whitepaper ExtendedTriggerMessage; 2.0.1 F06/A02",
)
TRIGGER_STATUS = same_values(
    "TriggerMessage status", ("Accepted", "Rejected", "NotImplemented"), "1.6 §7.48; 2.0.1 F06"
)
TABLES = (
    REMOTE_START_STATUS,
    REMOTE_STOP_STATUS,
    UNLOCK_STATUS,
    TRIGGER,
    EXTENDED_TRIGGER,
    TRIGGER_STATUS,
)


def _rejected(call: Call, reason_code: str, detail: str) -> Step:
    return local_answer(
        call, {"status": "Rejected", "statusInfo": status_info(reason_code, detail)}, detail
    )


def request_start(state: BridgeState, call: Call, ctx: Context) -> Step:
    """RequestStartTransaction -> RemoteStartTransaction."""
    token = call.payload["idToken"]
    why = refusal_down(token)
    if why:
        return _rejected(call, "InvalidIdToken", why)
    payload: dict[str, Any] = {"idTag": token["idToken"]}
    notes: list[Note] = []
    # The CSMS named the token type: remember it, so the transaction this
    # start leads to reports the same idToken type (state.id_token_types).
    remember_type(state, ctx, token["idToken"], token["type"])
    if "additionalInfo" in token:
        notes.append(lossy(state, call.action, "idToken.additionalInfo", "no 1.6 field"))
    if "groupIdToken" in call.payload:
        notes.append(lossy(state, call.action, "groupIdToken", "RemoteStart has no parentIdTag"))
    connector = 0
    if "evseId" in call.payload:
        found = connector_of_evse(call.payload["evseId"])
        if found is None or found == 0:
            return _rejected(call, "UnknownEvse", "no 1.6 connector for this evseId")
        connector = payload["connectorId"] = found
    if "chargingProfile" in call.payload:
        try:
            payload["chargingProfile"] = profile_down(
                state, call.action, call.payload["chargingProfile"], notes
            )
        except (LookupError, TranslationError) as exc:
            return _rejected(call, "InvalidProfile", f"chargingProfile: {exc}")
    remote_start_id = call.payload["remoteStartId"]
    state.remote_starts[str(connector)] = remote_start_id
    data = {"connector": connector, "remoteStartId": remote_start_id}
    return send_down(state, call, "RemoteStartTransaction", payload, data=data, notes=tuple(notes))


def remote_started(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """RemoteStartTransaction.conf -> RequestStartTransactionResponse."""
    key = str(pending.data["connector"])
    accepted = isinstance(answer, CallResult) and answer.payload["status"] == "Accepted"
    if not accepted and state.remote_starts.get(key) == pending.data["remoteStartId"]:
        del state.remote_starts[key]
    if isinstance(answer, CallError):
        return relay_error(pending, answer)
    status, notes = mapped(
        state, REMOTE_START_STATUS, answer.payload["status"], "RequestStartTransaction", "status"
    )
    return reply(pending, {"status": status}, notes)


def request_stop(state: BridgeState, call: Call, ctx: Context) -> Step:
    """RequestStopTransaction -> RemoteStopTransaction with the 1.6 integer id."""
    id201 = call.payload["transactionId"]
    tx = state.by_id201(id201)
    if tx is None:
        if not _INTEGER.fullmatch(id201):
            return _rejected(call, "TxNotFound", "unknown transactionId, and not a 1.6 integer")
        detail = "transactionId unknown to the bridge: sent as the 1.6 integer, the charger decides"
        note = Note(NoteKind.ORPHAN, call.action, detail)
        payload = {"transactionId": int(id201)}
        return send_down(state, call, "RemoteStopTransaction", payload, notes=(note,))
    if not tx.ended:
        tx.remote_stop = True  # a StopTransaction without reason is then Remote
    data = {"id201": tx.id201}
    return send_down(state, call, "RemoteStopTransaction", {"transactionId": tx.id16}, data=data)


def remote_stopped(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """RemoteStopTransaction.conf -> RequestStopTransactionResponse."""
    accepted = isinstance(answer, CallResult) and answer.payload["status"] == "Accepted"
    tx = state.by_id201(pending.data.get("id201", ""))
    if tx is not None and not accepted:
        tx.remote_stop = False
    return _REMOTE_STOP_RESULT(state, pending, answer, ctx)


_REMOTE_STOP_RESULT = status_result(REMOTE_STOP_STATUS, "RequestStopTransaction")


def unlock_connector(state: BridgeState, call: Call, ctx: Context) -> Step:
    """UnlockConnector (evseId, connectorId) -> UnlockConnector (connectorId)."""
    connector = connector_of_evse(call.payload["evseId"], call.payload["connectorId"])
    if connector is None or connector == 0:
        return local_answer(call, {"status": "UnknownConnector"}, "no 1.6 connector")
    notes: tuple[Note, ...] = ()
    if state.active_on(connector) is not None:
        detail = "transaction running: a 1.6 charger may stop it to unlock (1.6 §5.18)"
        notes = (Note(NoteKind.LOSSY, call.action, detail),)
    return send_down(state, call, "UnlockConnector", {"connectorId": connector}, notes=notes)


def trigger_message(state: BridgeState, call: Call, ctx: Context) -> Step:
    """TriggerMessage -> TriggerMessage / ExtendedTriggerMessage."""
    wanted = call.payload["requestedMessage"]
    payload: dict[str, Any] = {}
    if "evse" in call.payload:
        evse = call.payload["evse"]
        connector = connector_of_evse(evse["id"], evse.get("connectorId"))
        if connector is None:
            return _rejected(call, "UnknownEvse", "no 1.6 connector for this evse")
        payload["connectorId"] = connector
    notes: tuple[Note, ...] = ()
    if wanted in TRIGGER.rows:
        payload["requestedMessage"], notes = mapped(
            state, TRIGGER, wanted, call.action, "requestedMessage"
        )
        if wanted == "BootNotification":
            state.boot_cause = "Triggered"
        return send_down(state, call, "TriggerMessage", payload, notes=notes)
    if wanted in EXTENDED_TRIGGER.rows:
        payload["requestedMessage"] = EXTENDED_TRIGGER(wanted)[0]
        return send_down(state, call, "ExtendedTriggerMessage", payload)
    detail = f"1.6 has no message for {wanted}"
    info = status_info("UnsupportedRequest", detail)
    return local_answer(call, {"status": "NotImplemented", "statusInfo": info}, detail)


_TRIGGER_RESULT = status_result(TRIGGER_STATUS, "TriggerMessage")


def triggered(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """TriggerMessage.conf; a refused BootNotification trigger causes no boot."""
    accepted = isinstance(answer, CallResult) and answer.payload["status"] == "Accepted"
    if not accepted and state.boot_cause == "Triggered":
        state.boot_cause = None
    return _TRIGGER_RESULT(state, pending, answer, ctx)


def _unlock_up(state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context) -> Step:
    status, notes = mapped(state, UNLOCK_STATUS, payload["status"], "UnlockConnector", "status")
    out: dict[str, Any] = {"status": status}
    if payload["status"] == "NotSupported":
        out["statusInfo"] = status_info("UnsupportedRequest", "1.6: connector has no lock")
    return reply(pending, out, notes)


CALLS = {
    "RequestStartTransaction": request_start,
    "RequestStopTransaction": request_stop,
    "UnlockConnector": unlock_connector,
    "TriggerMessage": trigger_message,
}
RESULTS = {
    ("RemoteStartTransaction", "RequestStartTransaction"): remote_started,
    ("RemoteStopTransaction", "RequestStopTransaction"): remote_stopped,
    ("UnlockConnector", "UnlockConnector"): on_result(_unlock_up),
    ("TriggerMessage", "TriggerMessage"): triggered,
    ("ExtendedTriggerMessage", "TriggerMessage"): status_result(TRIGGER_STATUS, "TriggerMessage"),
}
