"""OCPP 2.0.1 charging station: the plan as TransactionEvents, and answers to the CSMS.

Each connector of the plan is its own EVSE (``evseId`` = connector number, ``connectorId``
1). The station is configured ``TxStartPoint = TxStopPoint = EVConnected,Authorized``
(2.0.1 Part 2 E01/E06): the transaction starts when the cable is plugged in and ends at the
first of "card presented again" or "cable removed". So one visit is::

    StatusNotification Occupied
    TransactionEvent Started  (CablePluggedIn, EVConnected, Transaction.Begin)
    Authorize
    TransactionEvent Updated  (Authorized, Charging, idToken)
    TransactionEvent Updated  (MeterValuePeriodic) ...
    TransactionEvent Updated  (ChargingStateChanged, SuspendedEV)   when the battery is full
    TransactionEvent Ended    (StopAuthorized / EVDeparted ..., Transaction.End)
    StatusNotification Available

The transaction id is the station's own (E01.FR.01), seqNo counts the events of a
transaction from 0 (E01.FR.16), and events made while offline carry ``offline: true``.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from functools import partial
from typing import Any

from ocppkit.toolkit.simulator.charger16 import FIRMWARE
from ocppkit.toolkit.simulator.model import FaultPlan, MeterSample, Status, StopReason, iso
from ocppkit.toolkit.simulator.runner import Charger
from ocppkit.toolkit.simulator.state import Connector, Live, Payload
from ocppkit.translators.versions import OcppVersion

# 1.6-vocabulary status -> 2.0.1 ConnectorStatusEnumType (Part 2 G01).
CONNECTOR_STATUS: dict[Status, str] = {
    Status.AVAILABLE: "Available",
    Status.PREPARING: "Occupied",
    Status.CHARGING: "Occupied",
    Status.SUSPENDED_EV: "Occupied",
    Status.FINISHING: "Occupied",
    Status.FAULTED: "Faulted",
    Status.UNAVAILABLE: "Unavailable",
}

# StopReason -> (triggerReason, stoppedReason) of the Ended event (Part 2 E06/E07).
# SoftReset has no 2.0.1 counterpart: an OnIdle reset never stops a transaction.
ENDED: dict[StopReason, tuple[str, str]] = {
    StopReason.LOCAL: ("StopAuthorized", "Local"),
    StopReason.EV_DISCONNECTED: ("EVDeparted", "EVDisconnected"),
    StopReason.REMOTE: ("RemoteStop", "Remote"),
    StopReason.HARD_RESET: ("ResetCommand", "ImmediateReset"),
    StopReason.SOFT_RESET: ("ResetCommand", "ImmediateReset"),
    StopReason.UNLOCK_COMMAND: ("UnlockCommand", "Other"),
    StopReason.DEAUTHORIZED: ("Deauthorized", "DeAuthorized"),
    StopReason.REBOOT: ("AbnormalCondition", "Reboot"),
}

# The device model answered by GetVariables/SetVariables: (component, variable) ->
# (read-only, value). Instances and EVSE scoping are ignored.
DEVICE_MODEL: dict[tuple[str, str], tuple[bool, str]] = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): (False, "300"),
    ("SampledDataCtrlr", "TxUpdatedInterval"): (False, "60"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): (
        False,
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC",
    ),
    ("TxCtrlr", "TxStartPoint"): (True, "EVConnected,Authorized"),
    ("TxCtrlr", "TxStopPoint"): (True, "EVConnected,Authorized"),
    ("TxCtrlr", "EVConnectionTimeOut"): (False, "120"),
    ("AuthCtrlr", "AuthorizeRemoteStart"): (False, "false"),
    ("AuthCtrlr", "LocalAuthorizeOffline"): (False, "true"),
    ("ChargingStation", "AvailabilityState"): (True, "Available"),
}
_TRIGGERABLE = frozenset(
    {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "TransactionEvent"}
)


def sampled_values(m: MeterSample, context: str = "Sample.Periodic") -> list[dict[str, Any]]:
    """A 2.0.1 sampledValue list (numbers, units in unitOfMeasure)."""
    return [
        _energy(m.energy_wh, context),
        {"value": m.power_w, "context": context, "measurand": "Power.Active.Import",
         "location": "Outlet", "unitOfMeasure": {"unit": "W"}},
        {"value": m.current_a, "context": context, "measurand": "Current.Import",
         "location": "Outlet", "unitOfMeasure": {"unit": "A"}},
        {"value": m.soc, "context": context, "measurand": "SoC", "location": "EV",
         "unitOfMeasure": {"unit": "Percent"}},
    ]  # fmt: skip


def _energy(value: int, context: str) -> dict[str, Any]:
    return {
        "value": value,
        "context": context,
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unitOfMeasure": {"unit": "Wh"},
    }


def _token(tag: str) -> dict[str, str]:
    return {"idToken": tag, "type": "ISO14443"}


class Charger201(Charger):
    version = OcppVersion.V201
    schema_version = OcppVersion.V201
    HANDLERS = {
        "RequestStartTransaction": "request_start",
        "RequestStopTransaction": "request_stop",
        "Reset": "reset",
        "GetVariables": "get_variables",
        "SetVariables": "set_variables",
        "TriggerMessage": "trigger_message",
        "SetChargingProfile": "set_charging_profile",
        "ClearChargingProfile": "clear_charging_profile",
        "ChangeAvailability": "change_availability",
        "UnlockConnector": "unlock_connector",
        "ClearCache": "accepted",
        "DataTransfer": "data_transfer",
        "GetBaseReport": "not_supported_report",
        "GetLocalListVersion": "get_local_list_version",
        "GetTransactionStatus": "get_transaction_status",
        "ReserveNow": "rejected",
        "CancelReservation": "rejected",
        "GetCompositeSchedule": "rejected",
    }

    def __init__(self, *args: Any, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, seed=seed, **kwargs)
        self.device_model = dict(DEVICE_MODEL)
        self.reset_on_idle = False
        self._events = 0
        # Transaction ids are the station's: seeded, so a rerun produces the same ids.
        self._tx_ids = random.Random(f"tx:{seed}:{self.spec.charge_point_id}")

    # -- payloads ------------------------------------------------------------------------

    def boot_payload(self) -> Payload:
        return {
            "chargingStation": {
                "vendorName": self.spec.vendor,
                "model": self.spec.model,
                "serialNumber": self.spec.serial,
                "firmwareVersion": FIRMWARE,
            },
            "reason": self.boot_reason,
        }

    def wire_state(self, c: Connector) -> tuple[str, str]:
        return CONNECTOR_STATUS[c.status], c.error_code

    def status_payload(self, c: Connector, at: datetime) -> Payload:
        return {
            "timestamp": iso(at),
            "connectorStatus": CONNECTOR_STATUS[c.status],
            "evseId": c.id,
            "connectorId": 1,
        }

    async def _event(
        self,
        c: Connector,
        live: Live,
        kind: str,
        at: datetime,
        trigger: str,
        info: dict[str, Any],
        meter: list[dict[str, Any]] | None = None,
        *,
        id_token: bool = False,
    ) -> None:
        payload: Payload = {
            "eventType": kind,
            "timestamp": iso(at),
            "triggerReason": trigger,
            "seqNo": live.seq,
            "transactionInfo": {"transactionId": live.tx_id, **info},
        }
        live.seq += 1
        if kind == "Started":
            payload["evse"] = {"id": c.id, "connectorId": 1}
        if id_token:
            payload["idToken"] = _token(live.id_tag)
        if meter:
            payload["meterValue"] = meter
        if not self.link.online or self.need_boot:
            payload["offline"] = True  # E04: generated while the connection was down

        def answered(answer: Payload) -> None:
            status = answer.get("idTokenInfo", {}).get("status", "Accepted")
            if id_token and status != "Accepted" and live.active:
                live.accepted = False
                self.urgent.append(partial(self.stop_now, c, live, StopReason.DEAUTHORIZED))

        await self.send("TransactionEvent", lambda: payload, answered, tx=live)

    # -- the session ---------------------------------------------------------------------

    async def on_plug(self, c: Connector, live: Live, at: datetime) -> None:
        live.tx_id = str(uuid.UUID(int=self._tx_ids.getrandbits(128), version=4))
        live.started_at, live.meter_start = at, live.plan.meter_start_wh
        await self.set_status(c, Status.PREPARING, at)
        begin = [
            {"timestamp": iso(at), "sampledValue": [_energy(live.meter_start, "Transaction.Begin")]}
        ]
        await self._event(c, live, "Started", at, "CablePluggedIn",
                          {"chargingState": "EVConnected"}, begin)  # fmt: skip

    async def on_authorize(self, c: Connector, live: Live, at: datetime) -> None:
        answer: Payload = {}
        await self.send("Authorize", lambda: {"idToken": _token(live.id_tag)}, answer.update)
        live.authorized = True
        if answer:  # offline: LocalAuthorizeOffline lets the card through
            live.accepted = answer["idTokenInfo"]["status"] == "Accepted"

    async def on_start(self, c: Connector, live: Live, at: datetime) -> None:
        live.energised = True
        info: dict[str, Any] = {"chargingState": "Charging"}
        trigger = "Authorized"
        if live.remote_start_id is not None:
            info["remoteStartId"], trigger = live.remote_start_id, "RemoteStart"
        await self._event(c, live, "Updated", at, trigger, info, id_token=True)
        await self.set_status(c, Status.CHARGING, at)

    async def on_sample(self, c: Connector, live: Live, m: MeterSample) -> None:
        meter = [{"timestamp": iso(m.at), "sampledValue": sampled_values(m)}]
        await self._event(c, live, "Updated", m.at, "MeterValuePeriodic", {}, meter)

    async def on_suspend(self, c: Connector, live: Live, at: datetime) -> None:
        c.status = Status.SUSPENDED_EV  # still Occupied on the wire: no StatusNotification
        await self._event(c, live, "Updated", at, "ChargingStateChanged",
                          {"chargingState": "SuspendedEV"})  # fmt: skip

    async def on_stop(self, c: Connector, live: Live, at: datetime, reason: StopReason) -> None:
        trigger, stopped = ENDED[reason]
        live.stop_reason = stopped
        state = "Idle" if reason is StopReason.EV_DISCONNECTED else "EVConnected"
        assert live.meter_stop is not None
        end = [
            {"timestamp": iso(at), "sampledValue": [_energy(live.meter_stop, "Transaction.End")]}
        ]
        await self._event(c, live, "Ended", at, trigger,
                          {"chargingState": state, "stoppedReason": stopped}, end,
                          id_token=reason is StopReason.LOCAL)  # fmt: skip
        c.status = Status.FINISHING

    async def on_unplug(self, c: Connector, live: Live, at: datetime) -> None:
        if live.active:  # the card was refused: the transaction ends when the EV leaves
            await self.stop(c, live, at, StopReason.DEAUTHORIZED)
        await self.set_status(c, Status.AVAILABLE, at)
        if self.reset_on_idle and not self._busy():
            self.reset_on_idle = False
            self.urgent.append(lambda: self._reboot("RemoteReset", self.now()))

    async def on_fault(self, c: Connector, f: FaultPlan, at: datetime) -> None:
        await self.set_status(c, Status.FAULTED, at, f.error_code)
        await self._notify(c, f, at, cleared=False)

    async def on_recover(self, c: Connector, f: FaultPlan, at: datetime) -> None:
        await self._notify(c, f, at, cleared=True)
        await self.set_status(c, Status.AVAILABLE, at)

    async def _notify(self, c: Connector, f: FaultPlan, at: datetime, *, cleared: bool) -> None:
        # The 1.6 errorCode travels as techCode of an AvailabilityState event (Part 2 N07).
        self._events += 1
        event = {
            "eventId": self._events,
            "timestamp": iso(at),
            "trigger": "Delta",
            "actualValue": "Available" if cleared else "Faulted",
            "techCode": f.error_code,
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": c.id, "connectorId": 1}},
            "variable": {"name": "AvailabilityState"},
        }
        if cleared:
            event["cleared"] = True
        payload = {"generatedAt": iso(at), "seqNo": 0, "tbc": False, "eventData": [event]}
        await self.send("NotifyEvent", lambda: payload)

    def _busy(self) -> bool:
        return any(c.live is not None and c.live.active for c in self.connectors.values())

    # -- CSMS commands (Part 2) ----------------------------------------------------------

    async def request_start(self, p: Payload) -> Payload:
        # F02: accepted when an EV is plugged in and waiting for authorisation.
        for c in self.connectors.values():
            live = c.live
            if p.get("evseId") not in (None, c.id) or live is None or live.authorized:
                continue
            live.id_tag, live.start_mode = p["idToken"]["idToken"], "remote"
            live.authorized, live.remote_start_id = True, p["remoteStartId"]
            self.later(partial(self._start_now, c, live))
            return {"status": "Accepted", "transactionId": live.tx_id}
        return {"status": "Rejected"}

    async def _start_now(self, c: Connector, live: Live) -> None:
        await self.on_start(c, live, self.now())

    async def request_stop(self, p: Payload) -> Payload:
        for c in self.connectors.values():
            live = c.live
            if live is not None and live.active and live.tx_id == p["transactionId"]:
                self.later(partial(self.stop_now, c, live, StopReason.REMOTE))
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    async def reset(self, p: Payload) -> Payload:
        if p["type"] == "OnIdle" and self._busy():
            self.reset_on_idle = True  # B12: after the last transaction ends
            return {"status": "Scheduled"}
        self.later(
            lambda: self._reboot("RemoteReset", self.now(), stop_reason=StopReason.HARD_RESET)
        )
        return {"status": "Accepted"}

    def _lookup(self, item: dict[str, Any]) -> tuple[str, tuple[bool, str] | None]:
        key = (item["component"]["name"], item["variable"]["name"])
        if key in self.device_model:
            return "Accepted", self.device_model[key]
        if any(comp == key[0] for comp, _ in self.device_model):
            return "UnknownVariable", None
        return "UnknownComponent", None

    async def get_variables(self, p: Payload) -> Payload:
        out = []
        for item in p["getVariableData"]:
            status, entry = self._lookup(item)
            if item.get("attributeType", "Actual") != "Actual":
                status, entry = "NotSupportedAttributeType", None
            result = {"attributeStatus": status, "component": item["component"],
                      "variable": item["variable"]}  # fmt: skip
            if entry is not None:
                result["attributeValue"] = entry[1]
            out.append(result)
        return {"getVariableResult": out}

    async def set_variables(self, p: Payload) -> Payload:
        out = []
        for item in p["setVariableData"]:
            status, entry = self._lookup(item)
            key = (item["component"]["name"], item["variable"]["name"])
            value = item["attributeValue"]
            if entry is not None and entry[0]:
                status = "Rejected"
            elif entry is not None and key == ("OCPPCommCtrlr", "HeartbeatInterval"):
                if value.isdigit():
                    self.heartbeat_s = max(1, int(value))
                else:
                    status = "Rejected"
            if status == "Accepted":
                self.device_model[key] = (False, value)
            out.append({"attributeStatus": status, "component": item["component"],
                        "variable": item["variable"]})  # fmt: skip
        return {"setVariableResult": out}

    async def trigger_message(self, p: Payload) -> Payload:
        what = p["requestedMessage"]
        if what not in _TRIGGERABLE:
            return {"status": "NotImplemented"}
        if what == "BootNotification" and not self.need_boot:
            return {"status": "Rejected"}  # F06.FR.17: already accepted
        evse = p.get("evse", {}).get("id")
        if evse is not None and evse not in self.connectors:
            return {"status": "Rejected"}
        self.later(lambda: self._triggered(what, evse))
        return {"status": "Accepted"}

    async def _triggered(self, what: str, evse: int | None) -> None:
        chosen = [c for c in self.connectors.values() if evse in (None, c.id)]
        if what == "Heartbeat":
            await self.send("Heartbeat", lambda: {})
        elif what == "StatusNotification":
            for c in chosen:
                await self._send_status(c, self.now())
        for c in chosen:
            live = c.live
            if live is None or not live.active:
                continue
            energy = self.meter_at(live, self.now())
            reading = [{"timestamp": iso(self.now()),
                        "sampledValue": [_energy(energy, "Trigger")]}]  # fmt: skip
            if what == "TransactionEvent":
                await self._event(c, live, "Updated", self.now(), "Trigger", {}, reading)
            elif what == "MeterValues":
                payload = {"evseId": c.id, "meterValue": reading}
                await self.send("MeterValues", partial(dict, payload))

    async def set_charging_profile(self, p: Payload) -> Payload:
        self.profiles.add(p["chargingProfile"]["id"])
        return {"status": "Accepted"}

    async def change_availability(self, p: Payload) -> Payload:
        evse = p.get("evse", {}).get("id")
        busy = [c.id for c in self.connectors.values() if c.live is not None and c.live.active]
        if (evse is None and busy) or evse in busy:
            return {"status": "Scheduled"}
        return {"status": "Accepted"}

    async def unlock_connector(self, p: Payload) -> Payload:
        c = self.connectors.get(p["evseId"])
        if c is None or p["connectorId"] != 1:
            return {"status": "UnknownConnector"}
        if c.live is not None and c.live.active:
            return {"status": "OngoingAuthorizedTransaction"}  # F05.FR.02
        return {"status": "Unlocked"}

    async def not_supported_report(self, p: Payload) -> Payload:
        return {"status": "NotSupported"}

    async def get_local_list_version(self, p: Payload) -> Payload:
        return {"versionNumber": 0}

    async def get_transaction_status(self, p: Payload) -> Payload:
        tx = p.get("transactionId")
        queued = any(
            item.call is None
            or item.call.payload.get("transactionInfo", {}).get("transactionId") == tx
            for item in self.queue
        )
        out: Payload = {"messagesInQueue": bool(self.queue) if tx is None else queued}
        if tx is not None:
            out["ongoingIndicator"] = any(
                c.live is not None and c.live.active and c.live.tx_id == tx
                for c in self.connectors.values()
            )
        return out


class Charger21(Charger201):
    """An OCPP 2.1 station: the 2.0.1 behaviour, which 2.1 keeps message for message,
    spoken on ``ocpp2.1`` and checked against the 2.1 schemas both ways."""

    version = OcppVersion.V21
    schema_version = OcppVersion.V21
