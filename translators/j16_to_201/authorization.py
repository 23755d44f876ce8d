"""Reservations and the local authorization list.

- ReserveNow (2.0.1 H01 <-> 1.6 §5.13): id -> reservationId, expiryDateTime
  -> expiryDate, idToken -> idTag, groupIdToken -> parentIdTag, evseId ->
  connectorId (no evseId: connector 0, "any connector", 1.6 §5.13 with
  ReserveConnectorZeroSupported). ``connectorType`` has no 1.6 field (lossy).
- CancelReservation: identical.
- SendLocalList (2.0.1 D01 <-> 1.6 §5.15): versionNumber -> listVersion;
  each entry idToken -> idTag, idTokenInfo -> idTagInfo (status by the
  table Authorize answers use, ``id_tokens.ID_TAG_STATUS``;
  cacheExpiryDateTime -> expiryDate, groupIdToken -> parentIdTag;
  chargingPriority, languages, evseId and personalMessage have no 1.6
  field: lossy).
- GetLocalListVersion: listVersion -> versionNumber.

A token longer than a 1.6 idTag (20) cannot be sent without changing it,
so the bridge answers the CSMS itself (Rejected / Failed) instead.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call
from ocppkit.translators.j16_to_201.command_kit import (
    MAX_ID_TAG,
    connector_of_evse,
    fits_id_tag,
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
from ocppkit.translators.j16_to_201.id_tokens import (
    DROPPED_INFO,
    ID_TAG_STATUS,
    refusal_down,
    remember_type,
)
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, Step
from ocppkit.translators.pending import Pending

SEND_LOCAL_LIST_STATUS = EnumMap(
    "SendLocalList status (1.6 -> 2.0.1)",
    {
        "Accepted": "Accepted",
        "Failed": "Failed",
        "VersionMismatch": "VersionMismatch",
        "NotSupported": "Failed",
    },
    lossy=frozenset({"NotSupported"}),
    reference="1.6 §7.44 UpdateStatus; 2.0.1 D01 SendLocalListStatusEnumType",
)
UPDATE_TYPE = same_values(
    "SendLocalList updateType", ("Differential", "Full"), "1.6 §7.45; 2.0.1 D01"
)
RESERVATION_STATUS = same_values(
    "ReserveNow status",
    ("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"),
    "1.6 §7.39; 2.0.1 H01",
)
CANCEL_STATUS = same_values(
    "CancelReservation status", ("Accepted", "Rejected"), "1.6 §7.5; 2.0.1 H02"
)
TABLES = (SEND_LOCAL_LIST_STATUS, UPDATE_TYPE, RESERVATION_STATUS, CANCEL_STATUS)


def reserve_now(state: BridgeState, call: Call, ctx: Context) -> Step:
    """ReserveNow (2.0.1) -> ReserveNow (1.6)."""
    p = call.payload
    why = refusal_down(p["idToken"]) or (
        refusal_down(p["groupIdToken"]) if "groupIdToken" in p else ""
    )
    if why:
        info = status_info("InvalidIdToken", why)
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, why)
    connector = connector_of_evse(p["evseId"]) if "evseId" in p else 0
    if connector is None:
        info = status_info("UnknownEvse", "no 1.6 connector for this evseId")
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, "evseId")
    remember_type(state, ctx, p["idToken"]["idToken"], p["idToken"]["type"])
    payload: dict[str, Any] = {
        "connectorId": connector,
        "expiryDate": p["expiryDateTime"],
        "idTag": p["idToken"]["idToken"],
        "reservationId": p["id"],
    }
    if "groupIdToken" in p:
        payload["parentIdTag"] = p["groupIdToken"]["idToken"]
    notes: tuple[Note, ...] = ()
    if "connectorType" in p:
        notes = (lossy(state, call.action, "connectorType", "1.6 reserves by connector only"),)
    return send_down(state, call, "ReserveNow", payload, notes=notes)


def cancel_reservation(state: BridgeState, call: Call, ctx: Context) -> Step:
    """CancelReservation -> CancelReservation."""
    return send_down(
        state, call, "CancelReservation", {"reservationId": call.payload["reservationId"]}
    )


def _entry_down(
    state: BridgeState, ctx: Context, entry: dict[str, Any], notes: list[Note]
) -> dict[str, Any] | None:
    """One AuthorizationData (2.0.1) as 1.6 AuthorizationData; None if a token is too long.

    The entry's token type is remembered: the charger's later Authorize and
    transactions with that tag carry the type the CSMS listed it under.
    """
    out: dict[str, Any] = {"idTag": entry["idToken"]["idToken"]}
    if refusal_down(entry["idToken"]):
        return None
    remember_type(state, ctx, out["idTag"], entry["idToken"]["type"])
    info = entry.get("idTokenInfo")
    if info is None:
        return out  # Differential update without info: remove the entry (both versions)
    status, status_notes = mapped(
        state, ID_TAG_STATUS, info["status"], "SendLocalList", "idTokenInfo.status"
    )
    notes.extend(status_notes)
    tag_info: dict[str, Any] = {"status": status}
    if "cacheExpiryDateTime" in info:
        tag_info["expiryDate"] = info["cacheExpiryDateTime"]
    if "groupIdToken" in info:
        if not fits_id_tag(info["groupIdToken"]["idToken"]):
            return None
        tag_info["parentIdTag"] = info["groupIdToken"]["idToken"]
    for name in DROPPED_INFO:
        if name in info:
            notes.append(lossy(state, "SendLocalList", f"idTokenInfo.{name}", "no 1.6 field"))
    out["idTagInfo"] = tag_info
    return out


def send_local_list(state: BridgeState, call: Call, ctx: Context) -> Step:
    """SendLocalList (2.0.1) -> SendLocalList (1.6)."""
    notes: list[Note] = []
    entries = []
    for entry in call.payload.get("localAuthorizationList", []):
        converted = _entry_down(state, ctx, entry, notes)
        if converted is None:
            info = status_info("InvalidIdToken", f"token longer than a 1.6 idTag ({MAX_ID_TAG})")
            return local_answer(call, {"status": "Failed", "statusInfo": info}, "idToken length")
        entries.append(converted)
    payload: dict[str, Any] = {
        "listVersion": call.payload["versionNumber"],
        "updateType": call.payload["updateType"],
    }
    if "localAuthorizationList" in call.payload:
        payload["localAuthorizationList"] = entries
    return send_down(state, call, "SendLocalList", payload, notes=tuple(notes))


def get_local_list_version(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetLocalListVersion -> GetLocalListVersion."""
    return send_down(state, call, "GetLocalListVersion", {})


def _send_local_list_up(
    state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context
) -> Step:
    status, notes = mapped(
        state, SEND_LOCAL_LIST_STATUS, payload["status"], "SendLocalList", "status"
    )
    out: dict[str, Any] = {"status": status}
    if payload["status"] == "NotSupported":
        out["statusInfo"] = status_info("NotEnabled", "1.6: local list not supported")
    return reply(pending, out, notes)


def _version_up(state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context) -> Step:
    return reply(pending, {"versionNumber": payload["listVersion"]})


CALLS = {
    "ReserveNow": reserve_now,
    "CancelReservation": cancel_reservation,
    "SendLocalList": send_local_list,
    "GetLocalListVersion": get_local_list_version,
}
RESULTS = {
    ("ReserveNow", "ReserveNow"): status_result(RESERVATION_STATUS, "ReserveNow"),
    ("CancelReservation", "CancelReservation"): status_result(CANCEL_STATUS, "CancelReservation"),
    ("SendLocalList", "SendLocalList"): on_result(_send_local_list_up),
    ("GetLocalListVersion", "GetLocalListVersion"): on_result(_version_up),
}
