"""OCPP 1.6J charger: the plan as BootNotification, StatusNotification, Authorize,
StartTransaction, MeterValues, StopTransaction and Heartbeat, and answers to the CSMS.

Session flow (1.6 §3 and §4; status transitions of §4.9): plug-in -> Preparing; the driver
presents a card -> Authorize; StartTransaction -> Charging; the battery is full ->
SuspendedEV; the card again -> StopTransaction (reason Local) -> Finishing; unplug ->
Available. Unplugging without the card ends with reason EVDisconnected (the
StopTransactionOnEVSideDisconnect default true) and goes straight to Available.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from ocppkit.toolkit.simulator.model import FaultPlan, MeterSample, Status, StopReason, iso
from ocppkit.toolkit.simulator.runner import Charger
from ocppkit.toolkit.simulator.state import Connector, Live, Payload
from ocppkit.translators.versions import OcppVersion

FIRMWARE = "ocppkit-sim 1.0"

# Configuration keys (1.6 §9.1) a GetConfiguration lists: key -> (readonly, value).
CONFIGURATION: dict[str, tuple[bool, str]] = {
    "HeartbeatInterval": (False, "300"),
    "MeterValueSampleInterval": (False, "60"),
    "MeterValuesSampledData": (
        False,
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC",
    ),
    "ConnectionTimeOut": (False, "120"),
    "AuthorizeRemoteTxRequests": (False, "false"),
    "LocalAuthorizeOffline": (False, "true"),
    "StopTransactionOnEVSideDisconnect": (True, "true"),
    "StopTransactionOnInvalidId": (False, "true"),
    "TransactionMessageAttempts": (False, "3"),
    "TransactionMessageRetryInterval": (False, "30"),
    "NumberOfConnectors": (True, "1"),
    "SupportedFeatureProfiles": (
        True,
        "Core,RemoteTrigger,SmartCharging,LocalAuthListManagement,Reservation",
    ),
    "WebSocketPingInterval": (False, "60"),
}
_TRIGGERABLE = frozenset({"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"})


def _energy(value: int, context: str) -> dict[str, Any]:
    return {
        "value": str(value),
        "context": context,
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
    }


def sampled_values(m: MeterSample, context: str = "Sample.Periodic") -> list[dict[str, Any]]:
    """A 1.6 sampledValue list (values are strings in 1.6)."""
    return [
        _energy(m.energy_wh, context),
        {"value": str(m.power_w), "context": context, "measurand": "Power.Active.Import",
         "location": "Outlet", "unit": "W"},
        {"value": f"{m.current_a:.1f}", "context": context, "measurand": "Current.Import",
         "location": "Outlet", "unit": "A"},
        {"value": str(m.soc), "context": context, "measurand": "SoC", "location": "EV",
         "unit": "Percent"},
    ]  # fmt: skip


class Charger16(Charger):
    version = OcppVersion.V16
    schema_version = OcppVersion.V16
    HANDLERS = {
        "RemoteStartTransaction": "remote_start",
        "RemoteStopTransaction": "remote_stop",
        "Reset": "reset",
        "GetConfiguration": "get_configuration",
        "ChangeConfiguration": "change_configuration",
        "TriggerMessage": "trigger_message",
        "SetChargingProfile": "set_charging_profile",
        "ClearChargingProfile": "clear_charging_profile",
        "ChangeAvailability": "change_availability",
        "UnlockConnector": "unlock_connector",
        "ClearCache": "accepted",
        "DataTransfer": "data_transfer",
        "GetLocalListVersion": "get_local_list_version",
        "ReserveNow": "rejected",
        "CancelReservation": "rejected",
        "GetCompositeSchedule": "rejected",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.configuration = dict(CONFIGURATION)
        self.configuration["NumberOfConnectors"] = (True, str(self.spec.connectors))

    # -- payloads ------------------------------------------------------------------------

    def boot_payload(self) -> Payload:
        return {
            "chargePointVendor": self.spec.vendor,
            "chargePointModel": self.spec.model,
            "chargePointSerialNumber": self.spec.serial,
            "firmwareVersion": FIRMWARE,
        }

    def status_payload(self, c: Connector, at: datetime) -> Payload:
        return {
            "connectorId": c.id,
            "errorCode": c.error_code,
            "status": c.status.value,
            "timestamp": iso(at),
        }

    # -- the session ---------------------------------------------------------------------

    async def on_plug(self, c: Connector, live: Live, at: datetime) -> None:
        await self.set_status(c, Status.PREPARING, at)

    async def on_authorize(self, c: Connector, live: Live, at: datetime) -> None:
        answer: Payload = {}
        await self.send("Authorize", lambda: {"idTag": live.id_tag}, answer.update)
        live.authorized = True
        # Offline (no answer): LocalAuthorizeOffline lets the card through.
        if answer:
            live.accepted = answer["idTagInfo"]["status"] == "Accepted"

    async def on_start(self, c: Connector, live: Live, at: datetime) -> None:
        live.started_at, live.meter_start = at, live.plan.meter_start_wh
        live.energised = True
        payload = {
            "connectorId": c.id,
            "idTag": live.id_tag,
            "meterStart": live.meter_start,
            "timestamp": iso(at),
        }

        def started(answer: Payload) -> None:
            live.tx_id = answer["transactionId"]
            if answer["idTagInfo"]["status"] != "Accepted" and live.active:
                # StopTransactionOnInvalidId (1.6 §5.11): end it, the card is refused.
                live.accepted = False
                self.urgent.append(partial(self.stop_now, c, live, StopReason.DEAUTHORIZED))

        await self.send("StartTransaction", lambda: payload, started, tx=live)
        await self.set_status(c, Status.CHARGING, at)

    async def on_sample(self, c: Connector, live: Live, m: MeterSample) -> None:
        await self.send("MeterValues", lambda: self._meter_values(c, live, m), tx=live)

    def _meter_values(
        self, c: Connector, live: Live, m: MeterSample, context: str = "Sample.Periodic"
    ) -> Payload | None:
        if live.tx_id is None:
            return None  # StartTransaction was never acknowledged: nothing to refer to
        return {
            "connectorId": c.id,
            "transactionId": live.tx_id,
            "meterValue": [{"timestamp": iso(m.at), "sampledValue": sampled_values(m, context)}],
        }

    async def on_suspend(self, c: Connector, live: Live, at: datetime) -> None:
        await self.set_status(c, Status.SUSPENDED_EV, at)

    async def on_stop(self, c: Connector, live: Live, at: datetime, reason: StopReason) -> None:
        live.stop_reason = reason.value  # 1.6 Reason values are the StopReason values

        def build() -> Payload | None:
            if live.tx_id is None or live.meter_stop is None or live.started_at is None:
                return None
            payload: Payload = {
                "transactionId": live.tx_id,
                "meterStop": live.meter_stop,
                "timestamp": iso(at),
                "reason": live.stop_reason,
                "transactionData": [
                    {"timestamp": iso(live.started_at),
                     "sampledValue": [_energy(live.meter_start, "Transaction.Begin")]},
                    {"timestamp": iso(at),
                     "sampledValue": [_energy(live.meter_stop, "Transaction.End")]},
                ],
            }  # fmt: skip
            if reason is StopReason.LOCAL:
                payload["idTag"] = live.id_tag
            return payload

        await self.send("StopTransaction", build, tx=live)
        if reason is not StopReason.EV_DISCONNECTED:
            await self.set_status(c, Status.FINISHING, at)

    async def on_unplug(self, c: Connector, live: Live, at: datetime) -> None:
        await self.set_status(c, Status.AVAILABLE, at)

    async def on_fault(self, c: Connector, f: FaultPlan, at: datetime) -> None:
        await self.set_status(c, Status.FAULTED, at, f.error_code)

    async def on_recover(self, c: Connector, f: FaultPlan, at: datetime) -> None:
        await self.set_status(c, Status.AVAILABLE, at)

    # -- CSMS commands (1.6 §5) ----------------------------------------------------------

    def _waiting(self, connector_id: int | None) -> tuple[Connector, Live] | None:
        """A connector with an EV plugged in and no authorisation yet."""
        for c in self.connectors.values():
            live = c.live
            if connector_id not in (None, c.id) or live is None:
                continue
            if not live.authorized and live.started_at is None:
                return c, live
        return None

    async def remote_start(self, p: Payload) -> Payload:
        # Accepted only when an EV is plugged in and waiting: the driver started from an
        # app instead of a card. AuthorizeRemoteTxRequests is false, so no Authorize.
        found = self._waiting(p.get("connectorId"))
        if found is None:
            return {"status": "Rejected"}
        c, live = found
        live.id_tag, live.start_mode, live.authorized = p["idTag"], "remote", True
        self.later(partial(self._start_now, c, live))
        return {"status": "Accepted"}

    async def _start_now(self, c: Connector, live: Live) -> None:
        await self.on_start(c, live, max(self.now(), live.plan.plug_in))

    def _active(self, tx_id: Any) -> tuple[Connector, Live] | None:
        for c in self.connectors.values():
            if c.live is not None and c.live.active and c.live.tx_id == tx_id:
                return c, c.live
        return None

    async def remote_stop(self, p: Payload) -> Payload:
        found = self._active(p["transactionId"])
        if found is None:
            return {"status": "Rejected"}
        c, live = found
        self.later(partial(self.stop_now, c, live, StopReason.REMOTE))
        return {"status": "Accepted"}

    async def reset(self, p: Payload) -> Payload:
        hard = p["type"] == "Hard"
        why = StopReason.HARD_RESET if hard else StopReason.SOFT_RESET
        self.later(lambda: self._reboot("RemoteReset", self.now(), stop_reason=why))
        return {"status": "Accepted"}

    async def get_configuration(self, p: Payload) -> Payload:
        keys = p.get("key") or list(self.configuration)
        known = [k for k in keys if k in self.configuration]
        out: Payload = {
            "configurationKey": [
                {"key": k, "readonly": self.configuration[k][0], "value": self.configuration[k][1]}
                for k in known
            ]
        }
        unknown = [k for k in keys if k not in self.configuration]
        if unknown:
            out["unknownKey"] = unknown
        return out

    async def change_configuration(self, p: Payload) -> Payload:
        key, value = p["key"], p["value"]
        if key not in self.configuration:
            return {"status": "NotSupported"}
        if self.configuration[key][0]:
            return {"status": "Rejected"}
        if key == "HeartbeatInterval":
            if not value.isdigit():
                return {"status": "Rejected"}
            self.heartbeat_s = max(1, int(value))
        self.configuration[key] = (False, value)
        return {"status": "Accepted"}

    async def trigger_message(self, p: Payload) -> Payload:
        what, connector_id = p["requestedMessage"], p.get("connectorId")
        if what not in _TRIGGERABLE:
            return {"status": "NotImplemented"}
        if connector_id is not None and connector_id not in self.connectors:
            return {"status": "Rejected"}
        self.later(lambda: self._triggered(what, connector_id))
        return {"status": "Accepted"}

    async def _triggered(self, what: str, connector_id: int | None) -> None:
        chosen = [c for c in self.connectors.values() if connector_id in (None, c.id)]
        if what == "BootNotification":
            await self.send("BootNotification", self.boot_payload)
        elif what == "Heartbeat":
            await self.send("Heartbeat", lambda: {})
        elif what == "StatusNotification":
            for c in chosen:
                await self._send_status(c, self.now())
        else:
            for c in chosen:
                live = c.live
                if live is not None and live.active:
                    m = self._reading(live)
                    build = partial(self._meter_values, c, live, m, "Trigger")
                    await self.send("MeterValues", build)

    def _reading(self, live: Live) -> MeterSample:
        now = self.now()
        last = [m for m in live.plan.samples if m.at <= now]
        m = last[-1] if last else live.plan.samples[0] if live.plan.samples else None
        energy = self.meter_at(live, now)
        if m is None:
            return MeterSample(now, energy, 0, 0.0, live.plan.soc_start)
        return MeterSample(now, energy, m.power_w, m.current_a, m.soc)

    async def set_charging_profile(self, p: Payload) -> Payload:
        self.profiles.add(p["csChargingProfiles"]["chargingProfileId"])
        return {"status": "Accepted"}

    async def change_availability(self, p: Payload) -> Payload:
        busy = [c for c in self.connectors.values() if c.live is not None and c.live.active]
        if any(p["connectorId"] in (0, c.id) for c in busy):
            return {"status": "Scheduled"}  # 1.6 §5.2: after the transaction
        return {"status": "Accepted"}

    async def unlock_connector(self, p: Payload) -> Payload:
        c = self.connectors.get(p["connectorId"])
        if c is None:
            return {"status": "NotSupported"}
        live = c.live
        if live is not None and live.active:
            # 1.6 §5.18: stop the transaction first, then unlock.
            self.later(partial(self.stop_now, c, live, StopReason.UNLOCK_COMMAND))
        return {"status": "Unlocked"}

    async def get_local_list_version(self, p: Payload) -> Payload:
        return {"listVersion": 0}
