"""StatusNotification: connector status, charging state and error codes.

One 1.6 StatusNotification carries three things 2.0.1 keeps apart
(mapping-research §3.4):

1. the connector status -> 2.0.1 StatusNotification (:data:`CONNECTOR_STATUS`;
   Preparing/Charging/Suspended*/Finishing all become Occupied);
2. during a transaction, the charging state -> TransactionEvent(Updated,
   triggerReason ChargingStateChanged) when it changes
   (:data:`CHARGING_STATE`). Finishing while the transaction is still open
   (the charger sends it before StopTransaction) is EVConnected: charging
   has stopped, the EV is still plugged in;
3. the error code -> NotifyEvent (2.0.1 N07): component by
   :data:`ERROR_COMPONENT`, variable ``Problem``, actualValue ``true``,
   techCode the 1.6 errorCode, techInfo the info / vendorId /
   vendorErrorCode. When the connector reports NoError again, the bridge
   sends the same event with ``cleared`` and ``false``. An error is sent
   once, not on every status of a connector that stays in error.

connectorId 0 (the whole charge point) has no 2.0.1 StatusNotification
(evseId and connectorId name a connector); it becomes a NotifyEvent of
component ChargingStation, variable AvailabilityState (2.0.1 Part 2
Appendix, standardized variables), which then is the call the charger's
confirmation waits for.

Only the call that stands for the charger's message carries its id; the
additions are bridge-originated (fresh ids, answers ignored).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call
from ocppkit.translators.j16_to_201 import dangling
from ocppkit.translators.j16_to_201.charger_kit import derive, empty_answer, forward, on_answer
from ocppkit.translators.j16_to_201.command_kit import dispatch_by_origin, lossy
from ocppkit.translators.j16_to_201.handlers import ResultHandler
from ocppkit.translators.j16_to_201.meter_values import updated_event
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, Step

_OCCUPIED = ("Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing")
CONNECTOR_STATUS = EnumMap(
    "StatusNotification.status -> connectorStatus",
    {
        "Available": "Available",
        **{s: "Occupied" for s in _OCCUPIED},
        "Reserved": "Reserved",
        "Unavailable": "Unavailable",
        "Faulted": "Faulted",
    },
    # Lossy unless a TransactionEvent carries the detail as chargingState.
    lossy=frozenset(_OCCUPIED),
    reference="1.6 §7.7 ChargePointStatus; 2.0.1 ConnectorStatusEnumType; mapping-research §3.4",
)
CHARGING_STATE = EnumMap(
    "StatusNotification.status -> chargingState (open transaction only)",
    {
        "Available": "Idle",
        "Preparing": "EVConnected",
        "Charging": "Charging",
        "SuspendedEV": "SuspendedEV",
        "SuspendedEVSE": "SuspendedEVSE",
        "Finishing": "EVConnected",
    },
    lossy=frozenset({"Finishing"}),
    reference="2.0.1 ChargingStateEnumType; mapping-research §3.4. Reserved, Unavailable and "
    "Faulted leave the charging state as it was",
)
ERROR_COMPONENT = EnumMap(
    "StatusNotification.errorCode -> NotifyEvent component (variable Problem)",
    {
        "ConnectorLockFailure": "ConnectorPlugRetentionLock",
        "EVCommunicationError": "ConnectedEV",
        "GroundFailure": "RCD",
        "HighTemperature": "TemperatureSensor",
        "InternalError": "Controller",
        "LocalListConflict": "LocalAuthListCtrlr",
        "OtherError": "Connector",
        "OverCurrentFailure": "OverCurrentProtection",
        "OverVoltage": "ElectricalFeed",
        "PowerMeterFailure": "ControlMetering",
        "PowerSwitchFailure": "PowerContactor",
        "ReaderFailure": "TokenReader",
        "ResetFailure": "Controller",
        "UnderVoltage": "ElectricalFeed",
        "WeakSignal": "DataLink",
    },
    reference="1.6 §7.6 ChargePointErrorCode; 2.0.1 Part 2 Appendix standardized components "
    "(spec-derived). The 1.6 code itself travels as techCode, so no row loses it",
)

TABLES: tuple[EnumMap, ...] = (CONNECTOR_STATUS, CHARGING_STATE, ERROR_COMPONENT)


def _event(state: BridgeState, timestamp: str, **fields: Any) -> dict[str, Any]:
    event = {
        "eventId": state.next_event_id,
        "timestamp": timestamp,
        "eventNotificationType": "HardWiredNotification",
        **fields,
    }
    state.next_event_id += 1
    return event


def _component(name: str, connector: int) -> dict[str, Any]:
    if connector == 0:
        return {"name": name}
    return {"name": name, "evse": {"id": connector, "connectorId": 1}}


def _error_events(state: BridgeState, p: dict[str, Any], timestamp: str) -> list[dict[str, Any]]:
    """NotifyEvent eventData for a new error code, or for clearing the last one."""
    key = str(p["connectorId"])
    code = p["errorCode"]
    previous = state.connector_errors.get(key)
    if code == previous:
        return []
    events = []
    if previous is not None and code == "NoError":
        del state.connector_errors[key]
        events.append(_problem(state, previous, int(key), timestamp, active=False))
    elif code != "NoError":
        state.connector_errors[key] = code
        event = _problem(state, code, p["connectorId"], timestamp, active=True)
        info = "; ".join(f"{k}={p[k]}" for k in ("info", "vendorId", "vendorErrorCode") if k in p)
        if info:
            event["techInfo"] = info[:500]
        events.append(event)
    return events


def _problem(
    state: BridgeState, code: str, connector: int, timestamp: str, *, active: bool
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "trigger": "Alerting",
        "actualValue": "true" if active else "false",
        "techCode": code,
        "component": _component(ERROR_COMPONENT(code)[0], connector),
        "variable": {"name": "Problem"},
    }
    if not active:
        fields["cleared"] = True
    return _event(state, timestamp, **fields)


def status_notification(state: BridgeState, call: Call, ctx: Context) -> Step:
    """StatusNotification -> StatusNotification / NotifyEvent (+ TransactionEvent)."""
    p = call.payload
    connector = p["connectorId"]
    status = p["status"]
    timestamp = p.get("timestamp") or ctx.timestamp()
    state.connector_status[str(connector)] = status
    if connector != 0:
        dangling.on_status(state, ctx, connector, status, timestamp)
    target = CONNECTOR_STATUS(status)[0]
    notes: list[Note] = []
    if p["errorCode"] == "NoError" and ("info" in p or "vendorErrorCode" in p):
        notes.append(lossy(state, call.action, "info", "informational text without an error"))
    errors = _error_events(state, p, timestamp)
    if connector == 0:
        availability = _event(
            state,
            timestamp,
            trigger="Delta",
            actualValue=target,
            component={"name": "ChargingStation"},
            variable={"name": "AvailabilityState"},
        )
        payload = {"generatedAt": ctx.timestamp(), "seqNo": 0, "eventData": [availability, *errors]}
        return forward(state, call, "NotifyEvent", payload, notes=notes)
    payload = {
        "timestamp": timestamp,
        "connectorStatus": target,
        "evseId": connector,
        "connectorId": 1,
    }
    step = forward(state, call, "StatusNotification", payload)
    carried = False
    tx = state.active_on(connector)
    if tx is not None and not tx.ended:
        charging = CHARGING_STATE.rows.get(status)
        carried = charging is not None
        if charging is not None and charging != tx.charging_state:
            tx.charging_state = charging
            event = updated_event(tx, timestamp, "ChargingStateChanged")
            event["transactionInfo"]["chargingState"] = charging
            why = f"charging state {charging} from 1.6 status {status}"
            step += derive(
                state, ctx, "TransactionEvent", event, origin_action=call.action, why=why
            )
    if status in CONNECTOR_STATUS.lossy and not carried:
        notes.append(lossy(state, call.action, "status", f"{status} -> {target}"))
    if errors:
        why = "1.6 errorCode change (no field for it in 2.0.1 StatusNotification)"
        extra = {"generatedAt": ctx.timestamp(), "seqNo": 0, "eventData": errors}
        step += derive(state, ctx, "NotifyEvent", extra, origin_action=call.action, why=why)
    return step + Step(notes=tuple(notes))


CALLS = {"StatusNotification": status_notification}
_ANSWER: ResultHandler = on_answer(empty_answer)
RESULTS: dict[str, ResultHandler] = {
    "StatusNotification": dispatch_by_origin({"StatusNotification": _ANSWER}),
    "NotifyEvent": dispatch_by_origin({"StatusNotification": _ANSWER}),
}
