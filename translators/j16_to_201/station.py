"""Station-wide commands: Reset, ChangeAvailability, ClearCache, DataTransfer.

- Reset (2.0.1 B11/B12 <-> 1.6 §5.14): Immediate -> Hard, OnIdle -> Soft
  (mapping-research §3.6). Lossy: a 1.6 Soft reset stops running
  transactions gracefully *now*, where 2.0.1 OnIdle waits for them to end.
  A reset of one EVSE (``evseId``) has no 1.6 form: the bridge answers
  Rejected (statusInfo UnsupportedRequest) rather than reset the station.
- ChangeAvailability (2.0.1 G03 <-> 1.6 §5.2): no ``evse`` <-> connector 0;
  EVSE N <-> connector N; the values are the same in both versions.
- ClearCache: identical.
- DataTransfer (CSMS -> charger): 2.0.1 ``data`` is any JSON, 1.6 ``data``
  a string; a non-string value is sent as its JSON text (lossy: the answer
  cannot tell the CSMS it was re-encoded).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201.command_kit import (
    connector_of_evse,
    local_answer,
    lossy,
    mapped,
    on_result,
    reply,
    same_values,
    send_down,
    status_info,
    status_result,
)
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.jsontext import dumps_text
from ocppkit.translators.outcome import Note, Step
from ocppkit.translators.pending import Pending

RESET_TYPE = EnumMap(
    "Reset.type (2.0.1 -> 1.6)",
    {"Immediate": "Hard", "OnIdle": "Soft"},
    lossy=frozenset({"OnIdle"}),
    reference="mapping-research §3.6 (NexoWatt iobroker.ocpp21); 1.6 §7.38; 2.0.1 B11/B12",
)
RESET_STATUS = same_values("Reset status", ("Accepted", "Rejected"), "1.6 §7.37; 2.0.1 B11")
AVAILABILITY_TYPE = same_values(
    "ChangeAvailability type -> operationalStatus",
    ("Inoperative", "Operative"),
    "1.6 §7.4; 2.0.1 G03; mapping-research §3.6",
)
AVAILABILITY_STATUS = same_values(
    "ChangeAvailability status", ("Accepted", "Rejected", "Scheduled"), "1.6 §7.3; 2.0.1 G03"
)
CLEAR_CACHE_STATUS = same_values(
    "ClearCache status", ("Accepted", "Rejected"), "1.6 §7.9; 2.0.1 C11"
)
DATA_TRANSFER_STATUS = same_values(
    "DataTransfer status",
    ("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"),
    "1.6 §7.19; 2.0.1 P01",
)
TABLES = (
    RESET_TYPE,
    RESET_STATUS,
    AVAILABILITY_TYPE,
    AVAILABILITY_STATUS,
    CLEAR_CACHE_STATUS,
    DATA_TRANSFER_STATUS,
)


def reset(state: BridgeState, call: Call, ctx: Context) -> Step:
    """Reset (Immediate/OnIdle) -> Reset (Hard/Soft)."""
    if "evseId" in call.payload:
        detail = "1.6 resets the whole charger only; an EVSE reset is not possible"
        info = status_info("UnsupportedRequest", detail)
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, detail)
    kind, notes = mapped(state, RESET_TYPE, call.payload["type"], call.action, "type")
    state.boot_cause = "RemoteReset"  # the next boot's reason (charger_messages)
    return send_down(state, call, "Reset", {"type": kind}, notes=notes)


def _reset_answered(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    accepted = isinstance(answer, CallResult) and answer.payload.get("status") == "Accepted"
    if not accepted and state.boot_cause == "RemoteReset":
        state.boot_cause = None
    return _RESET_RESULT(state, pending, answer, ctx)


_RESET_RESULT = status_result(RESET_STATUS, "Reset")


def change_availability(state: BridgeState, call: Call, ctx: Context) -> Step:
    """ChangeAvailability (evse?, operationalStatus) -> (connectorId, type)."""
    connector = 0
    if "evse" in call.payload:
        evse = call.payload["evse"]
        found = connector_of_evse(evse["id"], evse.get("connectorId"))
        if found is None:
            info = status_info("UnknownEvse", "no 1.6 connector for this evse")
            return local_answer(call, {"status": "Rejected", "statusInfo": info}, "evse")
        connector = found
    kind, _ = AVAILABILITY_TYPE(call.payload["operationalStatus"])
    return send_down(state, call, "ChangeAvailability", {"connectorId": connector, "type": kind})


def clear_cache(state: BridgeState, call: Call, ctx: Context) -> Step:
    """ClearCache -> ClearCache."""
    return send_down(state, call, "ClearCache", {})


def data_transfer(state: BridgeState, call: Call, ctx: Context) -> Step:
    """DataTransfer (CSMS -> charger): same fields; non-string data as JSON text."""
    payload: dict[str, Any] = {"vendorId": call.payload["vendorId"]}
    if "messageId" in call.payload:
        payload["messageId"] = call.payload["messageId"]
    notes: tuple[Note, ...] = ()
    if "data" in call.payload:
        data = call.payload["data"]
        if isinstance(data, str):
            payload["data"] = data
        else:
            payload["data"] = dumps_text(data)
            notes = (lossy(state, call.action, "data", "non-string data sent as JSON text"),)
    return send_down(state, call, "DataTransfer", payload, notes=notes)


def _data_transfer_up(
    state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context
) -> Step:
    status, notes = mapped(state, DATA_TRANSFER_STATUS, payload["status"], "DataTransfer", "status")
    out: dict[str, Any] = {"status": status}
    if "data" in payload:
        out["data"] = payload["data"]
    return reply(pending, out, notes)


CALLS = {
    "Reset": reset,
    "ChangeAvailability": change_availability,
    "ClearCache": clear_cache,
    "DataTransfer": data_transfer,
}
RESULTS = {
    ("Reset", "Reset"): _reset_answered,
    ("ChangeAvailability", "ChangeAvailability"): status_result(
        AVAILABILITY_STATUS, "ChangeAvailability"
    ),
    ("ClearCache", "ClearCache"): status_result(CLEAR_CACHE_STATUS, "ClearCache"),
    ("DataTransfer", "DataTransfer"): on_result(_data_transfer_up),
}
