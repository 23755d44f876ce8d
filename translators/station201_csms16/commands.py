"""CSMS-initiated commands: 1.6 calls down to the 2.0.1 station, answers back up.

Each 1.6 command is sent on with the CSMS's message id and answered end to
end from the station's answer. Where the 1.6 call cannot be expressed (a
transactionId the bridge never handed out) the bridge answers the refusal
itself, with the 1.6 status that says so.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.jsontext import dumps_text
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.station201_csms16.charging import profile_down
from ocppkit.translators.station201_csms16.common import (
    Notes,
    empty,
    id_token_down,
    id_token_info_down,
    local_answer,
    put,
    relay,
    relay_call,
    relay_result,
    status_only,
)
from ocppkit.translators.station201_csms16.handlers import CallHandler, ResultHandler, Side
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.station201_csms16.tables import (
    ACCEPTED_REJECTED_UP,
    AVAILABILITY_STATUS_UP,
    AVAILABILITY_TYPE_DOWN,
    DATA_TRANSFER_STATUS,
    RESERVE_STATUS_UP,
    RESET_STATUS_UP,
    RESET_TYPE_DOWN,
    SEND_LOCAL_LIST_STATUS_UP,
    TRIGGER_MESSAGE_DOWN,
    TRIGGER_STATUS_UP,
    UNLOCK_STATUS_UP,
)

DOWN = Side.CHARGER
UP = Side.CSMS


def remote_start(state: StationState, call: Call, ctx: Context) -> Step:
    """RemoteStartTransaction -> RequestStartTransaction with a minted remoteStartId."""
    p = call.payload
    notes = Notes(state, call.action)
    payload: dict[str, Any] = {"idToken": id_token_down(p["idTag"], call.action)}
    if "chargingProfile" in p:
        try:
            payload["chargingProfile"] = profile_down(state, p["chargingProfile"], notes)
        except TranslationError as exc:
            # Starting without the limit the CSMS asked for is not an option.
            return local_answer(call, {"status": "Rejected"}, UP, exc.reason)
    if p.get("connectorId"):  # 1.6 connectorId > 0 (§5.11); 0 or absent: the station picks
        payload["evseId"] = p["connectorId"]
    remote_start_id = state.mint_remote_start_id()
    payload["remoteStartId"] = remote_start_id
    # Remembered so the transaction it starts gets this idTag even when its
    # TransactionEvents carry no idToken (transactions.py, rule 1).
    state.remote_starts[str(remote_start_id)] = {
        "id_tag": p["idTag"],
        "evse_id": p.get("connectorId"),
    }
    out = relay(
        state,
        DOWN,
        call,
        "RequestStartTransaction",
        payload,
        data={"remote_start_id": remote_start_id},
    )
    return notes.step(to_charger=(out,))


def _remote_start_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    if isinstance(frame, CallError) or frame.payload["status"] != "Accepted":
        # Refused or failed: no transaction will carry this remoteStartId.
        state.remote_starts.pop(str(pending.data["remote_start_id"]), None)
    return _REMOTE_START_RELAY(state, pending, frame, ctx)


_REMOTE_START_RELAY = relay_result(status_only(ACCEPTED_REJECTED_UP), UP)


def remote_stop(state: StationState, call: Call, ctx: Context) -> Step:
    """RemoteStopTransaction(int) -> RequestStopTransaction(station's string id)."""
    id16 = call.payload["transactionId"]
    tx = state.by_id16(id16)
    if tx is None:
        return local_answer(
            call, {"status": "Rejected"}, UP, f"transaction {id16} unknown to the bridge"
        )
    out = relay(state, DOWN, call, "RequestStopTransaction", {"transactionId": tx.id201})
    return Step(to_charger=(out,))


def _reset(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return {"type": notes.enum(RESET_TYPE_DOWN, p["type"], "type")}


def _change_availability(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationalStatus": notes.enum(AVAILABILITY_TYPE_DOWN, p["type"], "type")
    }
    if p["connectorId"] != 0:  # connector 0 = the whole station = no evse (§3.6)
        out["evse"] = {"id": p["connectorId"]}
    return out


def _unlock(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    # One connector per EVSE (status.py): 1.6 connector n = EVSE n, connector 1.
    return {"evseId": p["connectorId"], "connectorId": 1}


def _trigger(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return _trigger_with(TRIGGER_MESSAGE_DOWN, p, notes)


def _trigger_with(table: EnumMap, p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    message = notes.enum(table, p["requestedMessage"], "requestedMessage")
    out: dict[str, Any] = {"requestedMessage": message}
    connector = p.get("connectorId")
    if connector is not None and connector != 0:
        evse: dict[str, Any] = {"id": connector}
        if message == "StatusNotification":
            # 2.0.1 F06: a StatusNotification trigger names the connector.
            evse["connectorId"] = 1
        out["evse"] = evse
    return out


def _reserve_now(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p["reservationId"],
        "expiryDateTime": p["expiryDate"],
        "idToken": id_token_down(p["idTag"], "ReserveNow"),
    }
    if p["connectorId"] != 0:  # 1.6 connector 0: any connector = no evseId
        out["evseId"] = p["connectorId"]
    if "parentIdTag" in p:
        out["groupIdToken"] = id_token_down(p["parentIdTag"], "parentIdTag")
    return out


def _send_local_list(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"versionNumber": p["listVersion"], "updateType": p["updateType"]}
    entries = []
    for entry in p.get("localAuthorizationList", []):
        item: dict[str, Any] = {"idToken": id_token_down(entry["idTag"], "SendLocalList")}
        if "idTagInfo" in entry:
            item["idTokenInfo"] = id_token_info_down(entry["idTagInfo"], notes)
        entries.append(item)
    if entries:
        out["localAuthorizationList"] = entries
    return out


def _local_list_version_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return {"listVersion": p["versionNumber"]}


def _data_transfer(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return dict(p)  # same fields; 1.6 string data is valid 2.0.1 "any" data


def _data_transfer_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"status": notes.enum(DATA_TRANSFER_STATUS, p["status"], "status")}
    data = p.get("data")
    if data is not None and not isinstance(data, str):
        notes.lossy("data", "JSON value sent as JSON text")
        data = dumps_text(data)
    put(out, "data", data)
    return out


CSMS_CALLS: dict[str, CallHandler] = {
    "RemoteStartTransaction": remote_start,
    "RemoteStopTransaction": remote_stop,
    "Reset": relay_call("Reset", _reset, DOWN),
    "ChangeAvailability": relay_call("ChangeAvailability", _change_availability, DOWN),
    "UnlockConnector": relay_call("UnlockConnector", _unlock, DOWN),
    "TriggerMessage": relay_call("TriggerMessage", _trigger, DOWN),
    "ReserveNow": relay_call("ReserveNow", _reserve_now, DOWN),
    "CancelReservation": relay_call("CancelReservation", lambda p, n: dict(p), DOWN),
    "SendLocalList": relay_call("SendLocalList", _send_local_list, DOWN),
    "GetLocalListVersion": relay_call("GetLocalListVersion", empty, DOWN),
    "ClearCache": relay_call("ClearCache", empty, DOWN),
    "DataTransfer": relay_call("DataTransfer", _data_transfer, DOWN),
}

# Answers from the 2.0.1 station, keyed by the 2.0.1 action the bridge sent.
STATION_RESULTS: dict[str, ResultHandler] = {
    "RequestStartTransaction": _remote_start_result,
    "RequestStopTransaction": relay_result(status_only(ACCEPTED_REJECTED_UP), UP),
    "Reset": relay_result(status_only(RESET_STATUS_UP), UP),
    "ChangeAvailability": relay_result(status_only(AVAILABILITY_STATUS_UP), UP),
    "UnlockConnector": relay_result(status_only(UNLOCK_STATUS_UP), UP),
    "TriggerMessage": relay_result(status_only(TRIGGER_STATUS_UP), UP),
    "ReserveNow": relay_result(status_only(RESERVE_STATUS_UP), UP),
    "CancelReservation": relay_result(status_only(ACCEPTED_REJECTED_UP), UP),
    "SendLocalList": relay_result(status_only(SEND_LOCAL_LIST_STATUS_UP), UP),
    "GetLocalListVersion": relay_result(_local_list_version_result, UP),
    "ClearCache": relay_result(status_only(ACCEPTED_REJECTED_UP), UP),
    "DataTransfer": relay_result(_data_transfer_result, UP),
}
