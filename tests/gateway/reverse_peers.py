"""Independent peers for the bridge's end-to-end tests (the reverse bridge, and 2.1).

A strict 2.0.1 station on the ``ocpp`` package's v201 ``ChargePoint`` and a strict 1.6
central system on its v16 ``ChargePoint``; for OCPP 2.1 the same station on the
package's v21 classes (:class:`Station21`), and strict 2.0.1 / 2.1 CSMSs
(:class:`CentralSystem201`, :class:`CentralSystem21`). Each validates every payload it
sends and receives itself (the package's schemas), and :class:`Audit` checks every
frame it receives a second time with :class:`ocppkit.translators.validation.Validator`
(strict).
A CALLERROR either peer sends (its own validation refusing a call) or receives is an
audit finding too: a clean run has none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

FIRST_TX_ID = 4711  # the 1.6 central system mints 4711, 4712, ...
_VALIDATOR = Validator()
TAG = {"idToken": "TAG-PLUG", "type": "ISO14443"}
EVSE = {"id": 1, "connectorId": 1}


def stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Audit:
    """Every frame one peer received, checked against the official schema of its version."""

    version: OcppVersion
    frames: int = 0
    violations: list[str] = field(default_factory=list)
    asked: dict[str, str] = field(default_factory=dict)  # message id -> action, calls sent

    def sent(self, text: str) -> None:
        frame = orjson.loads(text)
        if frame[0] == 2:
            self.asked[frame[1]] = frame[2]
        elif frame[0] == 4:
            self.violations.append(f"sent CALLERROR {frame[2]} for {frame[1]}: {frame[3]}")

    def received(self, text: str) -> None:
        self.frames += 1
        frame = orjson.loads(text)
        if frame[0] == 2:
            action, kind, payload = frame[2], Kind.REQUEST, frame[3]
        elif frame[0] == 3:
            action, kind, payload = self.asked.get(frame[1], "?"), Kind.RESPONSE, frame[2]
        else:
            self.violations.append(f"received CALLERROR {frame[2]}: {frame[3]}")
            return
        if not _VALIDATOR.is_valid(self.version, action, kind, payload):
            self.violations.append(f"{action} {kind.name}: {payload}")


class _Audited:
    """Mixin: run every frame in and out through :class:`Audit` (before the package)."""

    audit: Audit

    async def route_message(self, raw_msg: str) -> Any:
        self.audit.received(raw_msg)
        return await super().route_message(raw_msg)  # type: ignore[misc]

    async def _send(self, message: str) -> None:
        self.audit.sent(message)
        await super()._send(message)  # type: ignore[misc]


class CentralSystem16(_Audited, ChargePoint16):
    """A strict 1.6 central system: mints integer transaction ids, records what it saw."""

    def __init__(self, cp_id: str, ws: Any, minted: Callable[[], int]) -> None:
        super().__init__(cp_id, ws, response_timeout=15)
        self.audit = Audit(OcppVersion.V16)
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.minted = minted

    def _saw(self, action: str, payload: dict[str, Any]) -> None:
        self.seen.append((action, payload))

    @on(Action16.boot_notification)
    def boot(self, **p: Any) -> Any:
        self._saw("BootNotification", p)
        return result16.BootNotification(current_time=stamp(), interval=300, status="Accepted")

    @on(Action16.status_notification)
    def status(self, **p: Any) -> Any:
        self._saw("StatusNotification", p)
        return result16.StatusNotification()

    @on(Action16.heartbeat)
    def heartbeat(self, **p: Any) -> Any:
        self._saw("Heartbeat", p)
        return result16.Heartbeat(current_time=stamp())

    @on(Action16.authorize)
    def authorize(self, **p: Any) -> Any:
        self._saw("Authorize", p)
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action16.start_transaction)
    def start_transaction(self, **p: Any) -> Any:
        self._saw("StartTransaction", p)
        return result16.StartTransaction(
            transaction_id=self.minted(), id_tag_info={"status": "Accepted"}
        )

    @on(Action16.meter_values)
    def meter(self, **p: Any) -> Any:
        self._saw("MeterValues", p)
        return result16.MeterValues()

    @on(Action16.stop_transaction)
    def stop_transaction(self, **p: Any) -> Any:
        self._saw("StopTransaction", p)
        return result16.StopTransaction(id_tag_info={"status": "Accepted"})


def minter(first: int = FIRST_TX_ID) -> Callable[[], int]:
    """The central system's transaction id counter, shared across its connections."""
    counter = [first - 1]

    def mint() -> int:
        counter[0] += 1
        return counter[0]

    return mint


class Station201(_Audited, ChargePoint201):
    """A strict 2.0.1 station: answers the commands a 1.6 CSMS's translation brings it.

    Variables live in :attr:`variables`, keyed (component, variable); what the station
    received is in :attr:`received`, in order.
    """

    def __init__(self, cp_id: str, ws: Any) -> None:
        super().__init__(cp_id, ws, response_timeout=15)
        self.audit = Audit(OcppVersion.V201)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.variables = {
            ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
            ("SampledDataCtrlr", "TxUpdatedInterval"): "60",
        }
        self._seq: dict[str, int] = {}

    # -- what it sends ---------------------------------------------------------------

    async def boot(self) -> Any:
        return await self.call(call201.BootNotification(
            charging_station={"model": "E2E-201", "vendorName": "ocppkit-tests"},
            reason="PowerUp",
        ))  # fmt: skip

    async def status(self, connector_status: str) -> Any:
        return await self.call(call201.StatusNotification(
            timestamp=stamp(), connector_status=connector_status, evse_id=1, connector_id=1,
        ))  # fmt: skip

    async def event(
        self,
        kind: str,
        tx: str,
        trigger: str,
        kwh: float | None = None,
        context: str = "Sample.Periodic",
        **extra: Any,
    ) -> Any:
        """One TransactionEvent of transaction ``tx`` (seqNo counted per transaction),
        with the energy register in kWh when ``kwh`` is given."""
        seq = self._seq.get(tx, -1) + 1
        self._seq[tx] = seq
        info = {"transactionId": tx, **extra.pop("info", {})}
        meter = None
        if kwh is not None:
            sample = {"value": kwh, "context": context,
                      "measurand": "Energy.Active.Import.Register",
                      "unitOfMeasure": {"unit": "kWh"}}  # fmt: skip
            meter = [{"timestamp": stamp(), "sampledValue": [sample]}]
        return await self.call(call201.TransactionEvent(
            event_type=kind, timestamp=stamp(), trigger_reason=trigger, seq_no=seq,
            transaction_info=info, meter_value=meter, **extra,
        ), suppress=False)  # fmt: skip

    # -- what it answers ---------------------------------------------------------------

    def _saw(self, action: str, payload: dict[str, Any]) -> None:
        self.received.append((action, payload))

    @on(Action201.request_start_transaction)
    def request_start(self, **p: Any) -> Any:
        self._saw("RequestStartTransaction", p)
        return result201.RequestStartTransaction(status="Accepted")

    @on(Action201.request_stop_transaction)
    def request_stop(self, **p: Any) -> Any:
        self._saw("RequestStopTransaction", p)
        return result201.RequestStopTransaction(status="Accepted")

    @on(Action201.get_variables)
    def get_variables(self, **p: Any) -> Any:
        self._saw("GetVariables", p)
        results = []
        for item in p["get_variable_data"]:
            component, variable = item["component"], item["variable"]
            value = self.variables.get((component["name"], variable["name"]))
            status = "Accepted" if value is not None else "UnknownVariable"
            result = {"component": component, "variable": variable, "attributeStatus": status}
            if value is not None:
                result["attributeValue"] = value
            results.append(result)
        return result201.GetVariables(get_variable_result=results)

    @on(Action201.set_variables)
    def set_variables(self, **p: Any) -> Any:
        self._saw("SetVariables", p)
        results = []
        for item in p["set_variable_data"]:
            component, variable = item["component"], item["variable"]
            address = (component["name"], variable["name"])
            known = address in self.variables
            if known:
                self.variables[address] = item["attribute_value"]
            status = "Accepted" if known else "UnknownVariable"
            results.append({"component": component, "variable": variable,
                            "attributeStatus": status})  # fmt: skip
        return result201.SetVariables(set_variable_result=results)

    @on(Action201.trigger_message)
    def trigger(self, **p: Any) -> Any:
        self._saw("TriggerMessage", p)
        return result201.TriggerMessage(status="Accepted")

    @on(Action201.unlock_connector)
    def unlock(self, **p: Any) -> Any:
        self._saw("UnlockConnector", p)
        return result201.UnlockConnector(status="Unlocked")

    @on(Action201.reset)
    def reset(self, **p: Any) -> Any:
        self._saw("Reset", p)
        return result201.Reset(status="Accepted")

    def got(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.received if a == action]


class Station21(Station201):
    """:class:`Station201` speaking OCPP 2.1: the ``ocpp`` package's v21 schemas check
    every payload it sends and receives, and its audit checks them against 2.1."""

    _call = call21
    _call_result = result21
    _ocpp_version = "2.1"

    def __init__(self, cp_id: str, ws: Any) -> None:
        super().__init__(cp_id, ws)
        self.audit = Audit(OcppVersion.V21)


class CentralSystem201(_Audited, ChargePoint201):
    """A strict 2.0.1 CSMS: answers what stations send, records it, sends commands.

    Transactions are kept by id as the list of their TransactionEvents (:attr:`events`).
    """

    version = OcppVersion.V201

    def __init__(self, cp_id: str, ws: Any) -> None:
        super().__init__(cp_id, ws, response_timeout=15)
        self.audit = Audit(self.version)
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.events: dict[str, list[dict[str, Any]]] = {}

    def _saw(self, action: str, payload: dict[str, Any]) -> None:
        self.seen.append((action, payload))

    def payloads(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.seen if a == action]

    @on(Action201.boot_notification)
    def boot(self, **p: Any) -> Any:
        self._saw("BootNotification", p)
        return result201.BootNotification(current_time=stamp(), interval=300, status="Accepted")

    @on(Action201.heartbeat)
    def heartbeat(self, **p: Any) -> Any:
        self._saw("Heartbeat", p)
        return result201.Heartbeat(current_time=stamp())

    @on(Action201.status_notification)
    def status(self, **p: Any) -> Any:
        self._saw("StatusNotification", p)
        return result201.StatusNotification()

    @on(Action201.notify_event)
    def notify_event(self, **p: Any) -> Any:
        self._saw("NotifyEvent", p)
        return result201.NotifyEvent()

    @on(Action201.authorize)
    def authorize(self, **p: Any) -> Any:
        self._saw("Authorize", p)
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on(Action201.meter_values)
    def meter_values(self, **p: Any) -> Any:
        self._saw("MeterValues", p)
        return result201.MeterValues()

    @on(Action201.transaction_event)
    def transaction_event(self, **p: Any) -> Any:
        self._saw("TransactionEvent", p)
        self.events.setdefault(p["transaction_info"]["transaction_id"], []).append(p)
        if p.get("id_token") is not None:
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()

    @on(Action201.security_event_notification)
    def security_event(self, **p: Any) -> Any:
        self._saw("SecurityEventNotification", p)
        return result201.SecurityEventNotification()

    @on(Action201.firmware_status_notification)
    def firmware_status(self, **p: Any) -> Any:
        self._saw("FirmwareStatusNotification", p)
        return result201.FirmwareStatusNotification()


class CentralSystem21(CentralSystem201, ChargePoint21):
    """:class:`CentralSystem201` speaking OCPP 2.1 (the package's v21 schemas and audit)."""

    _call = call21
    _call_result = result21
    _ocpp_version = "2.1"
    version = OcppVersion.V21


async def plug_in_first_session(
    st: Station201, tx: str, starts_seen: Callable[[], int]
) -> dict[str, Any]:
    """E02: cable first, then authorisation; energy in kWh (12.345 at plug-in, 13.5 and
    14.75 periodic, 15.5 at plug-out). Returns the station's answers, and how many
    StartTransactions the CSMS had seen (``starts_seen``) before the idToken was known."""
    got: dict[str, Any] = {}
    await st.status("Occupied")
    got["started"] = await st.event(
        "Started", tx, "CablePluggedIn", 12.345, "Transaction.Begin",
        info={"chargingState": "EVConnected"}, evse=EVSE,
    )  # fmt: skip
    # A round trip through the CSMS: a StartTransaction sent before it would be seen by now.
    await st.call(call201.Heartbeat())
    got["start_before_authorisation"] = starts_seen()
    assert (await st.call(call201.Authorize(id_token=TAG))).id_token_info["status"] == "Accepted"
    got["authorized"] = await st.event(
        "Updated", tx, "Authorized", info={"chargingState": "Charging"}, id_token=TAG
    )
    for kwh in (13.5, 14.75):
        await st.event("Updated", tx, "MeterValuePeriodic", kwh)
    got["ended"] = await st.event(
        "Ended", tx, "EVCommunicationLost", 15.5, "Transaction.End",
        info={"chargingState": "Idle", "stoppedReason": "EVDisconnected"},
    )  # fmt: skip
    await st.status("Available")
    return got


async def run_peer(peer: Any) -> None:
    """A peer's receive loop, ended quietly when its connection closes."""
    try:
        await peer.start()
    except websockets.exceptions.ConnectionClosed:
        return


def spawn(peer: Any) -> asyncio.Task[None]:
    return asyncio.create_task(run_peer(peer))
