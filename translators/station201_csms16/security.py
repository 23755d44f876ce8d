"""Firmware, logs and certificates, 1.6 CSMS -> 2.0.1 station.

2.0.1 merged 1.6's plain firmware/diagnostics commands and the 1.6 security
whitepaper's signed ones: UpdateFirmware and SignedUpdateFirmware both become
UpdateFirmware, GetDiagnostics and GetLog both become GetLog. The station's
status notifications name only a requestId, so the bridge remembers which 1.6
command each id belongs to (``firmware_requests`` / ``log_requests``) and
reports in that command's vocabulary (station.py). Plain 1.6 commands carry no
requestId: the bridge mints one.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.station201_csms16.common import (
    Convert,
    Notes,
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
    CERTIFICATE_TYPE_DOWN,
    CERTIFICATE_TYPE_UP,
    DELETE_CERTIFICATE_STATUS_UP,
    EXTENDED_TRIGGER_DOWN,
    GET_LOG_STATUS_UP,
    INSTALL_CERTIFICATE_STATUS_UP,
    INSTALLED_IDS_STATUS_UP,
    UPDATE_FIRMWARE_STATUS_UP,
)

DOWN = Side.CHARGER
UP = Side.CSMS
_HASH_FIELDS = ("hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber")
MAX_LOCATION = 512  # 2.0.1 firmware.location / log.remoteLocation (1.6: any URI)


def _location(value: str) -> str:
    if len(value) > MAX_LOCATION:
        raise TranslationError(f"location longer than the {MAX_LOCATION} characters 2.0.1 allows")
    return value


def _retries(p: dict[str, Any], out: dict[str, Any]) -> None:
    put(out, "retries", p.get("retries"))
    put(out, "retryInterval", p.get("retryInterval"))


def _down(
    state: StationState, call: Call, action: str, payload: dict[str, Any], notes: Notes
) -> Step:
    out = relay(state, DOWN, call, action, payload)
    return notes.step(to_charger=(out,))


def update_firmware(state: StationState, call: Call, ctx: Context) -> Step:
    """UpdateFirmware (1.6) -> UpdateFirmware (2.0.1) with a minted requestId."""
    p = call.payload
    notes = Notes(state, call.action)
    firmware = {"location": _location(p["location"]), "retrieveDateTime": p["retrieveDate"]}
    request_id = state.mint_request_id()
    payload: dict[str, Any] = {"requestId": request_id, "firmware": firmware}
    _retries(p, payload)
    state.firmware_requests[str(request_id)] = call.action
    return _down(state, call, "UpdateFirmware", payload, notes)


def signed_update_firmware(state: StationState, call: Call, ctx: Context) -> Step:
    """SignedUpdateFirmware (1.6 security extension) -> UpdateFirmware (same fields)."""
    p = call.payload
    notes = Notes(state, call.action)
    firmware = dict(p["firmware"])
    payload: dict[str, Any] = {"requestId": p["requestId"], "firmware": firmware}
    _retries(p, payload)
    state.firmware_requests[str(p["requestId"])] = call.action
    return _down(state, call, "UpdateFirmware", payload, notes)


def get_diagnostics(state: StationState, call: Call, ctx: Context) -> Step:
    """GetDiagnostics -> GetLog(DiagnosticsLog) with a minted requestId."""
    p = call.payload
    notes = Notes(state, call.action)
    log: dict[str, Any] = {"remoteLocation": _location(p["location"])}
    put(log, "oldestTimestamp", p.get("startTime"))
    put(log, "latestTimestamp", p.get("stopTime"))
    request_id = state.mint_request_id()
    payload: dict[str, Any] = {"logType": "DiagnosticsLog", "requestId": request_id, "log": log}
    _retries(p, payload)
    state.log_requests[str(request_id)] = call.action
    return _down(state, call, "GetLog", payload, notes)


def get_log(state: StationState, call: Call, ctx: Context) -> Step:
    """GetLog (1.6 security extension) -> GetLog (same fields)."""
    p = call.payload
    notes = Notes(state, call.action)
    state.log_requests[str(p["requestId"])] = call.action
    return _down(state, call, "GetLog", dict(p), notes)


def _firmware_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    if pending.origin_action == "SignedUpdateFirmware":
        return _SIGNED_FIRMWARE(state, pending, frame, ctx)
    return _PLAIN_FIRMWARE(state, pending, frame, ctx)


def _plain_firmware(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    # 1.6 UpdateFirmware.conf has no field: a refusal cannot be told.
    if p["status"] != "Accepted":
        notes.lossy("status", f"{p['status']}: 1.6 UpdateFirmware.conf has no field")
    return {}


def _get_log_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"status": notes.enum(GET_LOG_STATUS_UP, p["status"], "status")}
    put(out, "filename", p.get("filename"))
    return out


def _diagnostics_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    if p["status"] != "Accepted":
        notes.lossy("status", f"{p['status']}: 1.6 GetDiagnostics.conf has no status")
    out: dict[str, Any] = {}
    put(out, "fileName", p.get("filename"))
    return out


_SIGNED_FIRMWARE = relay_result(status_only(UPDATE_FIRMWARE_STATUS_UP), UP)
_PLAIN_FIRMWARE = relay_result(_plain_firmware, UP)
_SECURITY_LOG = relay_result(_get_log_result, UP)
_DIAGNOSTICS = relay_result(_diagnostics_result, UP)


def _log_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    if pending.origin_action == "GetLog":
        return _SECURITY_LOG(state, pending, frame, ctx)
    return _DIAGNOSTICS(state, pending, frame, ctx)


def _extended_trigger(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    message = notes.enum(EXTENDED_TRIGGER_DOWN, p["requestedMessage"], "requestedMessage")
    out: dict[str, Any] = {"requestedMessage": message}
    connector = p.get("connectorId")
    if connector is not None and connector != 0:
        evse: dict[str, Any] = {"id": connector}
        if message == "StatusNotification":
            evse["connectorId"] = 1  # 2.0.1 F06: a StatusNotification trigger names it
        out["evse"] = evse
    return out


def _certificate_signed(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    # The 1.6 security extension only ever signs the charge point's certificate.
    return {
        "certificateChain": p["certificateChain"],
        "certificateType": "ChargingStationCertificate",
    }


def _install_certificate(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return {
        "certificateType": notes.enum(CERTIFICATE_TYPE_DOWN, p["certificateType"], "type"),
        "certificate": p["certificate"],
    }


def _installed_ids(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    return {"certificateType": [notes.enum(CERTIFICATE_TYPE_DOWN, p["certificateType"], "type")]}


def _installed_ids_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"status": notes.enum(INSTALLED_IDS_STATUS_UP, p["status"], "status")}
    hashes = []
    for chain in p.get("certificateHashDataChain", []):
        if chain["certificateType"] not in CERTIFICATE_TYPE_UP.rows:
            notes.lossy("certificateType", f"{chain['certificateType']} has no 1.6 value")
            continue
        data = chain["certificateHashData"]
        hashes.append({key: data[key] for key in _HASH_FIELDS})
        if "childCertificateHashData" in chain:
            notes.lossy("childCertificateHashData", "no 1.6 field")
    if hashes:
        out["certificateHashData"] = hashes
    return out


def _relay(action: str, convert: Convert) -> CallHandler:
    return relay_call(action, convert, DOWN)


CSMS_CALLS: dict[str, CallHandler] = {
    "UpdateFirmware": update_firmware,
    "SignedUpdateFirmware": signed_update_firmware,
    "GetDiagnostics": get_diagnostics,
    "GetLog": get_log,
    "ExtendedTriggerMessage": _relay("TriggerMessage", _extended_trigger),
    "CertificateSigned": _relay("CertificateSigned", _certificate_signed),
    "InstallCertificate": _relay("InstallCertificate", _install_certificate),
    "DeleteCertificate": _relay("DeleteCertificate", lambda p, n: dict(p)),
    "GetInstalledCertificateIds": _relay("GetInstalledCertificateIds", _installed_ids),
}
STATION_RESULTS: dict[str, ResultHandler] = {
    "UpdateFirmware": _firmware_result,
    "GetLog": _log_result,
    "CertificateSigned": relay_result(status_only(ACCEPTED_REJECTED_UP), UP),
    "InstallCertificate": relay_result(status_only(INSTALL_CERTIFICATE_STATUS_UP), UP),
    "DeleteCertificate": relay_result(status_only(DELETE_CERTIFICATE_STATUS_UP), UP),
    "GetInstalledCertificateIds": relay_result(_installed_ids_result, UP),
}
