"""Station-initiated messages other than transactions: 2.0.1 up, 1.6 answers down.

Every call with a 1.6 counterpart is sent on with the station's message id
and answered end to end from the CSMS's answer (:func:`relay_call` /
:func:`relay_result`). 2.0.1-only notifications whose answer carries nothing
are answered by the bridge (:data:`LOCAL_ANSWERS`); 2.0.1-only requests that
need a decision the 1.6 CSMS cannot make are refused (:data:`NOT_SUPPORTED`).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators import security_events
from ocppkit.translators.context import Context
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.frames import Call
from ocppkit.translators.j201_to_16.common import (
    Notes,
    cut,
    empty,
    id_tag_of,
    id_token_info_down,
    local_answer,
    put,
    relay,
    relay_call,
    relay_result,
    send,
    status_only,
)
from ocppkit.translators.j201_to_16.handlers import CallHandler, ResultHandler, Side
from ocppkit.translators.j201_to_16.meter import meter_values_up
from ocppkit.translators.j201_to_16.state import StationState
from ocppkit.translators.j201_to_16.status import notify_event, status_notification
from ocppkit.translators.j201_to_16.tables import (
    ACCEPTED_REJECTED_UP,
    DATA_TRANSFER_STATUS,
    DIAGNOSTICS_STATUS_UP,
    FIRMWARE_STATUS_UP,
    LOG_STATUS_UP,
    SIGNED_FIRMWARE_STATUS_UP,
)
from ocppkit.translators.jsontext import dumps_text
from ocppkit.translators.outcome import Step

UP = Side.CSMS
DOWN = Side.CHARGER


def _boot(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    station = p["chargingStation"]
    out: dict[str, Any] = {
        "chargePointVendor": cut(station["vendorName"], 20, "chargingStation.vendorName", notes),
        "chargePointModel": station["model"],
    }
    put(out, "chargePointSerialNumber", station.get("serialNumber"))
    put(out, "firmwareVersion", station.get("firmwareVersion"))
    modem = station.get("modem") or {}
    put(out, "iccid", modem.get("iccid"))
    put(out, "imsi", modem.get("imsi"))
    notes.lossy("reason", f"{p['reason']} has no 1.6 field")
    return out


def _boot_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return {"currentTime": p["currentTime"], "interval": p["interval"], "status": p["status"]}


def _heartbeat_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return {"currentTime": p["currentTime"]}


def authorize(state: StationState, call: Call, ctx: Context) -> Step:
    """Authorize: idToken -> idTag; a token 1.6 cannot carry is answered Unknown."""
    p = call.payload
    notes = Notes(state, call.action)
    id_tag, why = id_tag_of(p["idToken"])
    if id_tag is None:
        notes.lossy("idToken", f"{why}: answered Unknown by the bridge")
        return local_answer(call, {"idTokenInfo": {"status": "Unknown"}}, DOWN, why) + notes.step()
    notes.lossy("idToken.type", f"{p['idToken']['type']} has no 1.6 field")
    for extra in ("additionalInfo",):
        if extra in p["idToken"]:
            notes.lossy(f"idToken.{extra}", "no 1.6 field")
    for extra in ("certificate", "iso15118CertificateHashData"):
        if extra in p:
            notes.lossy(extra, "no 1.6 field (ISO 15118 contract authorisation)")
    out = relay(state, UP, call, "Authorize", {"idTag": id_tag})
    return notes.step(to_csms=(out,))


def _authorize_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return {"idTokenInfo": id_token_info_down(p["idTagInfo"], notes)}


def meter_values(state: StationState, call: Call, ctx: Context) -> Step:
    """MeterValues (not transaction-bound in 2.0.1) -> 1.6 MeterValues without transactionId."""
    p = call.payload
    notes = Notes(state, call.action)
    values = meter_values_up(p["meterValue"], notes, "MeterValues")
    if not values:
        return local_answer(call, {}, DOWN, "no sample has a 1.6 form") + notes.step()
    out = send(
        state,
        UP,
        "MeterValues",
        {"connectorId": p["evseId"], "meterValue": values},
        message_id=call.message_id,
        origin_action=call.action,
        origin_id=call.message_id,
    )
    return notes.step(to_csms=(out,))


def _data_transfer(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"vendorId": p["vendorId"]}
    put(out, "messageId", p.get("messageId"))
    data = p.get("data")
    if data is not None and not isinstance(data, str):
        # 1.6 data is a string: structured 2.0.1 data travels as JSON text.
        notes.lossy("data", "JSON value sent as JSON text")
        data = dumps_text(data)
    put(out, "data", data)
    return out


def _data_transfer_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"status": notes.enum(DATA_TRANSFER_STATUS, p["status"], "status")}
    put(out, "data", p.get("data"))
    return out


def firmware_status(state: StationState, call: Call, ctx: Context) -> Step:
    """FirmwareStatusNotification: plain 1.6, or the security extension's signed one."""
    p = call.payload
    notes = Notes(state, call.action)
    request_id = p.get("requestId")
    asked_by = state.firmware_requests.get(str(request_id)) if request_id is not None else None
    if asked_by == "SignedUpdateFirmware":
        action = "SignedFirmwareStatusNotification"
        payload: dict[str, Any] = {
            "status": notes.enum(SIGNED_FIRMWARE_STATUS_UP, p["status"], "status")
        }
        put(payload, "requestId", request_id)
    else:
        action = "FirmwareStatusNotification"
        payload = {"status": notes.enum(FIRMWARE_STATUS_UP, p["status"], "status")}
    out = relay(state, UP, call, action, payload)
    return notes.step(to_csms=(out,))


def log_status(state: StationState, call: Call, ctx: Context) -> Step:
    """LogStatusNotification: DiagnosticsStatusNotification unless a 1.6 GetLog asked."""
    p = call.payload
    notes = Notes(state, call.action)
    request_id = p.get("requestId")
    asked_by = state.log_requests.get(str(request_id)) if request_id is not None else None
    if asked_by == "GetLog":
        action = "LogStatusNotification"
        payload: dict[str, Any] = {"status": notes.enum(LOG_STATUS_UP, p["status"], "status")}
        put(payload, "requestId", request_id)
    else:
        action = "DiagnosticsStatusNotification"
        payload = {"status": notes.enum(DIAGNOSTICS_STATUS_UP, p["status"], "status")}
    out = relay(state, UP, call, action, payload)
    return notes.step(to_csms=(out,))


def _security_event(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"type": security_events.down(p["type"]), "timestamp": p["timestamp"]}
    put(out, "techInfo", p.get("techInfo"))
    return out


def _sign_certificate(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    # The 1.6 security extension signs only the charge point's own
    # certificate; a V2G certificate has no 1.6 route.
    if p.get("certificateType", "ChargingStationCertificate") != "ChargingStationCertificate":
        raise TranslationError("SignCertificate for a V2GCertificate has no 1.6 counterpart")
    return {"csr": p["csr"]}


def _local(payload: dict[str, Any], why: str) -> CallHandler:
    def handler(state: StationState, call: Call, ctx: Context) -> Step:
        return local_answer(call, payload, DOWN, why)

    return handler


# 2.0.1-only notifications: their answer has no field, so the bridge gives it;
# what they report has no 1.6 message (mapping research §3.1, last row).
LOCAL_ANSWERS: dict[str, str] = {
    "NotifyReport": "device model report: no 1.6 message (GetConfiguration is asked directly)",
    "NotifyMonitoringReport": "variable monitoring does not exist in 1.6",
    "NotifyChargingLimit": "external charging limits do not exist in 1.6",
    "ClearedChargingLimit": "external charging limits do not exist in 1.6",
    "NotifyDisplayMessages": "display messages do not exist in 1.6",
    "NotifyCustomerInformation": "customer information does not exist in 1.6",
    "ReportChargingProfiles": "GetChargingProfiles does not exist in 1.6",
    "ReservationStatusUpdate": "1.6 learns a reservation ended from the connector status",
    "PublishFirmwareStatusNotification": "local firmware publishing does not exist in 1.6",
}

# 2.0.1-only requests whose answer needs a decision only a CSMS can make.
NOT_SUPPORTED: dict[str, str] = {
    "Get15118EVCertificate": "ISO 15118 certificate installation has no 1.6 counterpart",
    "GetCertificateStatus": "OCSP status requests have no 1.6 counterpart",
    "NotifyEVChargingNeeds": "ISO 15118 charging needs have no 1.6 counterpart",
    "NotifyEVChargingSchedule": "ISO 15118 charging schedules have no 1.6 counterpart",
}

STATION_CALLS: dict[str, CallHandler] = {
    "BootNotification": relay_call("BootNotification", _boot, UP),
    "Heartbeat": relay_call("Heartbeat", empty, UP),
    "Authorize": authorize,
    "StatusNotification": status_notification,
    "NotifyEvent": notify_event,
    "MeterValues": meter_values,
    "DataTransfer": relay_call("DataTransfer", _data_transfer, UP),
    "FirmwareStatusNotification": firmware_status,
    "LogStatusNotification": log_status,
    "SecurityEventNotification": relay_call("SecurityEventNotification", _security_event, UP),
    "SignCertificate": relay_call("SignCertificate", _sign_certificate, UP),
    **{action: _local({}, why) for action, why in LOCAL_ANSWERS.items()},
}

# Answers from the 1.6 CSMS, keyed by the 1.6 action the bridge sent.
CSMS_RESULTS: dict[str, ResultHandler] = {
    "BootNotification": relay_result(_boot_result, DOWN),
    "Heartbeat": relay_result(_heartbeat_result, DOWN),
    "Authorize": relay_result(_authorize_result, DOWN),
    "StatusNotification": relay_result(empty, DOWN),
    "DataTransfer": relay_result(_data_transfer_result, DOWN),
    "FirmwareStatusNotification": relay_result(empty, DOWN),
    "SignedFirmwareStatusNotification": relay_result(empty, DOWN),
    "DiagnosticsStatusNotification": relay_result(empty, DOWN),
    "LogStatusNotification": relay_result(empty, DOWN),
    "SecurityEventNotification": relay_result(empty, DOWN),
    "SignCertificate": relay_result(status_only(ACCEPTED_REJECTED_UP), DOWN),
}
