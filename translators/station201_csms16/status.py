"""Connector status, 2.0.1 -> 1.6: StatusNotification and NotifyEvent faults.

1.6 folds three 2.0.1 sources into one StatusNotification (mapping research
§3.4): the connector status (StatusNotification.connectorStatus), what the
transaction is doing (TransactionEvent chargingState, which refines
"Occupied"), and faults (NotifyEvent on a component's ``Problem`` variable,
which become status Faulted with an errorCode). The last 1.6 status sent per
connector is kept so derived notifications are sent only on a change.

Topology: the 1.6 connectorId is the 2.0.1 evseId (one connector per EVSE,
the common station layout); connector 0 is the station itself. A second
connector of one EVSE is reported as the EVSE, with a note.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.charger16_csms201.status import ERROR_COMPONENT
from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call, CallResult
from ocppkit.translators.outcome import NoteKind, Step
from ocppkit.translators.station201_csms16.common import Notes, cut, put, relay, send
from ocppkit.translators.station201_csms16.handlers import Side
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.station201_csms16.tables import CHARGING_STATE_UP, CONNECTOR_STATUS_UP

ERROR_CODES_16 = frozenset(
    {
        "ConnectorLockFailure",
        "EVCommunicationError",
        "GroundFailure",
        "HighTemperature",
        "InternalError",
        "LocalListConflict",
        "OtherError",
        "OverCurrentFailure",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "UnderVoltage",
        "OverVoltage",
        "WeakSignal",
    }
)

# A standardized component whose boolean ``Problem`` variable turned true ->
# the 1.6 errorCode naming that part: the forward bridge's table
# (1.6 errorCode -> component) read backwards, so a fault crossing both
# bridges comes back as it left. Components several codes share are
# ambiguous: the nearest code, marked lossy. Anything else is OtherError,
# with "Component.Variable" in ``info`` and the techCode in ``vendorErrorCode``.
_AMBIGUOUS = {"Controller": "InternalError", "ElectricalFeed": "OtherError"}
FAULT_COMPONENT_UP = EnumMap(
    "NotifyEvent component (Problem=true) -> StatusNotification.errorCode",
    {
        **{component: code for code, component in ERROR_COMPONENT.rows.items()},
        **_AMBIGUOUS,
    },
    lossy=frozenset(_AMBIGUOUS),
    default="OtherError",
    reference="inverse of ocppkit.translators.charger16_csms201.status.ERROR_COMPONENT "
    "(2.0.1 Part 2 Appendix standardized components, spec-derived); Controller = InternalError or "
    "ResetFailure, ElectricalFeed = OverVoltage or UnderVoltage",
)
# Variables whose actualValue "true" reports a fault.
_FAULT_VARIABLES = frozenset({"Problem", "Fault", "Tripped"})
_TRUE = frozenset({"true", "1"})
# What 1.6 allows for connector 0 (1.6 §4.9: the Charge Point as a whole).
_STATION_STATUSES = frozenset({"Available", "Unavailable", "Faulted"})
_NOT_OCCUPIED = frozenset({"Faulted", "Unavailable", "Reserved"})


def connector16(evse_id: int, connector_id: int | None, notes: Notes) -> int:
    """The 1.6 connectorId of a 2.0.1 (evseId, connectorId)."""
    if connector_id is not None and connector_id > 1:
        notes.lossy("connectorId", f"EVSE {evse_id} connector {connector_id} reported as {evse_id}")
    return evse_id


def current_status16(state: StationState, evse_id: int, notes: Notes) -> str:
    """The 1.6 status of a connector from what the station last said."""
    status = state.connector_status.get(str(evse_id), "Available")
    if status == "Occupied":
        tx = state.active_on(evse_id)
        if tx is not None and tx.charging_state is not None:
            return notes.enum(CHARGING_STATE_UP, tx.charging_state, "chargingState")
    return notes.enum(CONNECTOR_STATUS_UP, status, "connectorStatus")


def derived_status(
    state: StationState,
    ctx: Context,
    notes: Notes,
    evse_id: int,
    status: str,
    timestamp: str,
    *,
    error_code: str = "NoError",
    info: str | None = None,
    vendor_error_code: str | None = None,
) -> tuple[Call, ...]:
    """A StatusNotification the bridge originates, unless nothing changed."""
    key = str(evse_id)
    if error_code == "NoError" and state.status16.get(key) == status:
        return ()
    state.status16[key] = status
    payload: dict[str, Any] = {
        "connectorId": evse_id,
        "errorCode": error_code,
        "status": status,
        "timestamp": timestamp,
    }
    put(payload, "info", info)
    put(payload, "vendorErrorCode", vendor_error_code)
    notes.add(NoteKind.DERIVED, f"StatusNotification {status}/{error_code} for connector {evse_id}")
    call = send(
        state,
        Side.CSMS,
        "StatusNotification",
        payload,
        message_id=ctx.new_id(),
        origin_action=notes.action,
        origin_id=None,
    )
    return (call,)


def status_notification(state: StationState, call: Call, ctx: Context) -> Step:
    """2.0.1 StatusNotification -> 1.6 StatusNotification, answered end to end."""
    p = call.payload
    notes = Notes(state, call.action)
    evse_id: int = p["evseId"]
    state.connector_status[str(evse_id)] = p["connectorStatus"]
    status = current_status16(state, evse_id, notes)
    payload: dict[str, Any] = {
        "connectorId": connector16(evse_id, p["connectorId"], notes),
        "errorCode": "NoError",
        "status": status,
        "timestamp": p["timestamp"],
    }
    if status == "Faulted":
        # The cause comes separately, by NotifyEvent; 1.6 needs a code now.
        payload["errorCode"] = "OtherError"
        notes.lossy("errorCode", "Faulted without a cause: OtherError")
    state.status16[str(evse_id)] = status
    out = relay(state, Side.CSMS, call, "StatusNotification", payload)
    return notes.step(to_csms=(out,))


def _fault_code(event: dict[str, Any]) -> str | None:
    """The 1.6 errorCode of a fault event, or None when it reports no fault."""
    if event["variable"]["name"] not in _FAULT_VARIABLES:
        return None
    tech = event.get("techCode")
    # A techCode that is a 1.6 errorCode is taken as is: that is how the
    # forward bridge (1.6 charger -> 2.0.1) carries the original code.
    if tech in ERROR_CODES_16:
        return str(tech)
    code, _ = FAULT_COMPONENT_UP(event["component"]["name"])
    return code


def notify_event(state: StationState, call: Call, ctx: Context) -> Step:
    """NotifyEvent: faults become 1.6 StatusNotification Faulted; the rest stays local.

    Answered locally (NotifyEventResponse has no field) because one
    NotifyEvent may yield no, one or several 1.6 messages.
    """
    p = call.payload
    notes = Notes(state, call.action)
    frames: list[Call] = []
    for event in p["eventData"]:
        code = _fault_code(event)
        component, variable = event["component"], event["variable"]
        name = f"{component['name']}.{variable['name']}"
        if name == "ChargingStation.AvailabilityState" and "evse" not in component:
            frames.extend(_station_availability(state, ctx, notes, event))
            continue
        if code is None:
            notes.add(NoteKind.LOCAL_ANSWER, f"event {name}={event['actualValue'][:40]} not sent")
            continue
        evse_id = int((component.get("evse") or {}).get("id", 0))
        active = event["actualValue"].strip().lower() in _TRUE and not event.get("cleared", False)
        if active:
            frames.extend(
                derived_status(
                    state,
                    ctx,
                    notes,
                    evse_id,
                    "Faulted",
                    event["timestamp"],
                    error_code=code,
                    info=cut(name, 50, "info", notes),
                    vendor_error_code=event.get("techCode"),
                )
            )
        else:
            state.status16.pop(str(evse_id), None)  # force the all-clear out
            status = current_status16(state, evse_id, notes)
            frames.extend(derived_status(state, ctx, notes, evse_id, status, event["timestamp"]))
    notes.add(NoteKind.LOCAL_ANSWER, "NotifyEventResponse has no field to wait for")
    return notes.step(to_charger=(CallResult(call.message_id, {}),), to_csms=tuple(frames))


def _station_availability(
    state: StationState, ctx: Context, notes: Notes, event: dict[str, Any]
) -> tuple[Call, ...]:
    """The station's own availability is 1.6 connector 0 (1.6 §7.7, §3.4)."""
    value = event["actualValue"]
    if value not in _STATION_STATUSES:
        notes.add(NoteKind.LOCAL_ANSWER, f"station availability {value[:40]} has no 1.6 status")
        return ()
    code = "OtherError" if value == "Faulted" else "NoError"
    return derived_status(state, ctx, notes, 0, value, event["timestamp"], error_code=code)


def refresh_status(
    state: StationState, ctx: Context, notes: Notes, evse_id: int, timestamp: str
) -> tuple[Call, ...]:
    """Tell the CSMS the connector's status changed with the transaction's chargingState."""
    if state.connector_status.get(str(evse_id)) in _NOT_OCCUPIED:
        return ()
    tx = state.active_on(evse_id)
    if tx is None or tx.charging_state is None:
        return ()
    status = notes.enum(CHARGING_STATE_UP, tx.charging_state, "chargingState")
    return derived_status(state, ctx, notes, evse_id, status, timestamp)
