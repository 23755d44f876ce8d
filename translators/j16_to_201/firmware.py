"""Firmware and logs: UpdateFirmware, GetLog.

- UpdateFirmware (2.0.1 L01): with ``signingCertificate`` and ``signature``
  it becomes the 1.6 security whitepaper's SignedUpdateFirmware (same
  fields, same statuses); without them the core UpdateFirmware (1.6 §5.19):
  location, retrieveDate, retries, retryInterval. The core message has no
  requestId, installDateTime or answer status: those fields are dropped
  (lossy) and the empty 1.6 answer is reported as Accepted (the 1.6 charger
  cannot refuse). A half-signed request (one of the two fields) is sent
  plain, the other field dropped and counted. Not sending a signed request
  as plain matters: it would skip the station's signature check.
- GetLog (2.0.1 N01): DiagnosticsLog -> GetDiagnostics (1.6 §5.9:
  oldestTimestamp -> startTime, latestTimestamp -> stopTime, requestId
  dropped); SecurityLog -> the whitepaper's GetLog (identical fields).
  1.6 GetDiagnostics.conf names a fileName only when there is something to
  upload; without one the answer is Rejected (statusInfo NotFound).

The core 1.6 messages type ``location`` as a URI; a 2.0.1 location that is
not one is answered Rejected (statusInfo InvalidURL) by the bridge.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call
from ocppkit.translators.j16_to_201.command_kit import (
    local_answer,
    lossy,
    on_result,
    reply,
    same_values,
    send_down,
    status_info,
    status_result,
    strip_custom,
)
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.schema_compiler import is_uri

LOG_ACTION = EnumMap(
    "GetLog.logType -> 1.6 action",
    {"DiagnosticsLog": "GetDiagnostics", "SecurityLog": "GetLog"},
    reference="1.6 §5.9; 1.6 security whitepaper GetLog; 2.0.1 N01; mapping-research §3.1",
)
SIGNED_FIRMWARE_STATUS = same_values(
    "SignedUpdateFirmware status -> UpdateFirmware status",
    ("Accepted", "Rejected", "AcceptedCanceled", "InvalidCertificate", "RevokedCertificate"),
    "1.6 security whitepaper; 2.0.1 L01",
)
LOG_STATUS = same_values(
    "GetLog status", ("Accepted", "Rejected", "AcceptedCanceled"), "1.6 security WP; 2.0.1 N01"
)
TABLES = (LOG_ACTION, SIGNED_FIRMWARE_STATUS, LOG_STATUS)


def _bad_location(call: Call, location: str) -> Step:
    info = status_info("InvalidURL", "1.6 needs the location as a URI")
    return local_answer(call, {"status": "Rejected", "statusInfo": info}, f"location {location!r}")


def update_firmware(state: BridgeState, call: Call, ctx: Context) -> Step:
    """UpdateFirmware -> SignedUpdateFirmware or UpdateFirmware."""
    p = call.payload
    firmware = p["firmware"]
    if "signingCertificate" in firmware and "signature" in firmware:
        state.firmware_request_id = p["requestId"]
        state.boot_cause = "FirmwareUpdate"
        return send_down(state, call, "SignedUpdateFirmware", strip_custom(p))
    if not is_uri(firmware["location"]):
        return _bad_location(call, firmware["location"])
    # The charger's status notifications carry no requestId: the bridge adds
    # this one (charger_messages._status_up); its next boot is FirmwareUpdate.
    state.firmware_request_id = p["requestId"]
    state.boot_cause = "FirmwareUpdate"
    payload: dict[str, Any] = {
        "location": firmware["location"],
        "retrieveDate": firmware["retrieveDateTime"],
    }
    for name in ("retries", "retryInterval"):
        if name in p:
            payload[name] = p[name]
    notes = [
        lossy(
            state,
            call.action,
            "requestId",
            "not in 1.6 UpdateFirmware: kept by the bridge",
        )
    ]
    for name in ("installDateTime", "signingCertificate", "signature"):
        if name in firmware:
            notes.append(lossy(state, call.action, f"firmware.{name}", "no 1.6 field"))
    return send_down(state, call, "UpdateFirmware", payload, notes=tuple(notes))


def _firmware_up(state: BridgeState, pending: Pending, _p: dict[str, Any], _c: Context) -> Step:
    # 1.6 UpdateFirmware.conf is empty: the charger has taken the request.
    return reply(pending, {"status": "Accepted"})


def get_log(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetLog -> GetDiagnostics (DiagnosticsLog) or GetLog (SecurityLog)."""
    p = call.payload
    action16, _ = LOG_ACTION(p["logType"])
    if action16 == "GetLog":
        return send_down(state, call, "GetLog", strip_custom(p))
    log = p["log"]
    if not is_uri(log["remoteLocation"]):
        return _bad_location(call, log["remoteLocation"])
    state.log_request_id = p["requestId"]
    payload: dict[str, Any] = {"location": log["remoteLocation"]}
    for source, target in (("oldestTimestamp", "startTime"), ("latestTimestamp", "stopTime")):
        if source in log:
            payload[target] = log[source]
    for name in ("retries", "retryInterval"):
        if name in p:
            payload[name] = p[name]
    notes: tuple[Note, ...] = (
        lossy(
            state,
            call.action,
            "requestId",
            "not in 1.6 GetDiagnostics: kept by the bridge",
        ),
    )
    return send_down(state, call, "GetDiagnostics", payload, notes=notes)


def _diagnostics_up(
    state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context
) -> Step:
    if "fileName" in payload:
        return reply(pending, {"status": "Accepted", "filename": payload["fileName"]})
    info = status_info("NotFound", "1.6 charger has no diagnostic information to upload")
    return reply(pending, {"status": "Rejected", "statusInfo": info})


def _security_log_up(
    state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context
) -> Step:
    out: dict[str, Any] = {"status": LOG_STATUS(payload["status"])[0]}
    if "filename" in payload:
        out["filename"] = payload["filename"]
    return reply(pending, out)


CALLS = {"UpdateFirmware": update_firmware, "GetLog": get_log}
RESULTS = {
    ("UpdateFirmware", "UpdateFirmware"): on_result(_firmware_up),
    ("SignedUpdateFirmware", "UpdateFirmware"): status_result(
        SIGNED_FIRMWARE_STATUS, "UpdateFirmware"
    ),
    ("GetDiagnostics", "GetLog"): on_result(_diagnostics_up),
    ("GetLog", "GetLog"): on_result(_security_log_up),
}
