"""The charger's simple calls: one 1.6 call, one 2.0.1 call, answers back.

Every message here is a field-by-field move (no transaction state), listed
in :data:`MESSAGES`: 1.6 action -> (2.0.1 action, request converter,
answer converter). The answer converter turns the CSMS's 2.0.1 response
into the 1.6 confirmation the charger receives.

- BootNotification (1.6 §4.2, 2.0.1 B01): the flat 1.6 fields move into
  ``chargingStation``. 2.0.1 requires a boot ``reason`` 1.6 does not send.
  Where the bridge relayed the cause it says so (``state.boot_cause``: a
  Reset -> ``RemoteReset``, an UpdateFirmware -> ``FirmwareUpdate``, a
  TriggerMessage(BootNotification) -> ``Triggered``); otherwise
  :data:`BOOT_REASON` (``Unknown``) with a note, the one value that claims
  nothing (``PowerUp`` would often be false). Open transactions start their
  reboot grace (:mod:`.dangling`). chargeBoxSerialNumber (when it
  differs from chargePointSerialNumber), meterType and meterSerialNumber
  have no 2.0.1 field and travel in ``chargingStation.customData`` (vendor
  :data:`CUSTOM_VENDOR`), so nothing is lost on the wire.
- Heartbeat, SecurityEventNotification: same shape.
- Authorize (1.6 §4.1, 2.0.1 C01): idTag -> IdToken (:mod:`.id_tokens`).
- DataTransfer: same shape; a non-string 2.0.1 ``data`` in the answer is
  JSON-encoded into the 1.6 string (lossy: the type is gone).
- DiagnosticsStatusNotification -> LogStatusNotification (2.0.1 N01),
  FirmwareStatusNotification and the security whitepaper's
  LogStatusNotification / SignedFirmwareStatusNotification /
  SignCertificate: status tables below.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ocppkit.translators import security_events
from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call
from ocppkit.translators.j16_to_201 import dangling
from ocppkit.translators.j16_to_201.charger_kit import (
    AnswerConverter,
    empty_answer,
    forward,
    on_answer,
)
from ocppkit.translators.j16_to_201.command_kit import (
    dispatch_by_origin,
    lossy,
    mapped,
    same_values,
)
from ocppkit.translators.j16_to_201.handlers import CallHandler, ResultHandler
from ocppkit.translators.j16_to_201.id_tokens import id_tag_info, id_token
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending

BOOT_REASON = "Unknown"  # 2.0.1 BootReasonEnumType; see the module docstring
CUSTOM_VENDOR = "org.ocppkit.ocpp16"  # customData.vendorId for 1.6 fields 2.0.1 lacks

REGISTRATION_STATUS = same_values(
    "BootNotification status", ("Accepted", "Pending", "Rejected"), "1.6 §7.44; 2.0.1 B01"
)
DATA_TRANSFER_STATUS = same_values(
    "DataTransfer status",
    ("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"),
    "1.6 §7.20; 2.0.1 DataTransferStatusEnumType",
)
SIGN_CERTIFICATE_STATUS = same_values(
    "SignCertificate status", ("Accepted", "Rejected"), "1.6 security whitepaper; 2.0.1 A02"
)
DIAGNOSTICS_STATUS = EnumMap(
    "DiagnosticsStatusNotification.status -> LogStatusNotification.status",
    {
        "Idle": "Idle",
        "Uploaded": "Uploaded",
        "UploadFailed": "UploadFailure",
        "Uploading": "Uploading",
    },
    reference="1.6 §7.23 DiagnosticsStatus; 2.0.1 UploadLogStatusEnumType (renamed value)",
)
LOG_STATUS = same_values(
    "LogStatusNotification.status (security whitepaper -> 2.0.1)",
    ("BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied", "Uploaded",
     "UploadFailure", "Uploading"),
    "1.6 security whitepaper UploadLogStatusEnumType; 2.0.1 N01 (adds AcceptedCanceled)",
)  # fmt: skip
FIRMWARE_STATUS = same_values(
    "FirmwareStatusNotification.status",
    ("Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing",
     "Installed"),
    "1.6 §7.25 FirmwareStatus; 2.0.1 FirmwareStatusEnumType (a superset)",
)  # fmt: skip
SIGNED_FIRMWARE_STATUS = same_values(
    "SignedFirmwareStatusNotification.status -> FirmwareStatusNotification.status",
    ("Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled", "DownloadPaused",
     "Idle", "InstallationFailed", "Installing", "Installed", "InstallRebooting",
     "InstallScheduled", "InstallVerificationFailed", "InvalidSignature", "SignatureVerified"),
    "1.6 security whitepaper FirmwareStatusEnumType; 2.0.1 L01 (same values)",
)  # fmt: skip

TABLES: tuple[EnumMap, ...] = (
    REGISTRATION_STATUS,
    DATA_TRANSFER_STATUS,
    SIGN_CERTIFICATE_STATUS,
    DIAGNOSTICS_STATUS,
    LOG_STATUS,
    FIRMWARE_STATUS,
    SIGNED_FIRMWARE_STATUS,
)

# (state, 1.6 payload, ctx) -> (2.0.1 payload, notes)
RequestConverter = Callable[
    [BridgeState, dict[str, Any], Context], tuple[dict[str, Any], list[Note]]
]


def _boot(state: BridgeState, p: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], list[Note]]:
    station: dict[str, Any] = {"model": p["chargePointModel"], "vendorName": p["chargePointVendor"]}
    serial = p.get("chargePointSerialNumber", p.get("chargeBoxSerialNumber"))
    if serial is not None:
        station["serialNumber"] = serial
    if "firmwareVersion" in p:
        station["firmwareVersion"] = p["firmwareVersion"]
    modem = {k: p[k] for k in ("iccid", "imsi") if k in p}
    if modem:
        station["modem"] = modem
    extra: dict[str, Any] = {k: p[k] for k in ("meterType", "meterSerialNumber") if k in p}
    if p.get("chargeBoxSerialNumber", serial) != serial:
        extra["chargeBoxSerialNumber"] = p["chargeBoxSerialNumber"]
    if extra:
        station["customData"] = {"vendorId": CUSTOM_VENDOR, **extra}
    dangling.on_boot(state, ctx)
    notes: list[Note] = []
    reason = state.boot_cause
    if reason is None:
        reason = BOOT_REASON
        # Nothing is lost (1.6 has no reason); the value is the bridge's default.
        detail = "reason Unknown: the bridge relayed no Reset, UpdateFirmware or trigger"
        notes.append(Note(NoteKind.DERIVED, "BootNotification", detail))
    return {"chargingStation": station, "reason": reason}, notes


def _boot_answer(
    state: BridgeState, pending: Pending, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    status, notes = mapped(state, REGISTRATION_STATUS, p["status"], pending.action, "status")
    if status == "Accepted":
        state.boot_cause = None
    out = {"status": status, "currentTime": p["currentTime"], "interval": p["interval"]}
    return out, [*notes, *_dropped(state, pending, p, ("statusInfo",))]


def _same(state: BridgeState, p: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], list[Note]]:
    return dict(p), []


def _security_event(
    state: BridgeState, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    return {**p, "type": security_events.up(p["type"])}, []


def _heartbeat_answer(
    state: BridgeState, pending: Pending, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    return {"currentTime": p["currentTime"]}, []


def _authorize(
    state: BridgeState, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    return {"idToken": id_token(state, ctx, p["idTag"])}, []


def _authorize_answer(
    state: BridgeState, pending: Pending, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    info, notes = id_tag_info(state, p["idTokenInfo"], pending.action)
    return {"idTagInfo": info}, [*notes, *_dropped(state, pending, p, ("certificateStatus",))]


def _data_transfer_answer(
    state: BridgeState, pending: Pending, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    status, found = mapped(state, DATA_TRANSFER_STATUS, p["status"], pending.action, "status")
    out: dict[str, Any] = {"status": status}
    notes = [*found, *_dropped(state, pending, p, ("statusInfo",))]
    if "data" in p:
        data = p["data"]
        if isinstance(data, str):
            out["data"] = data
        else:
            # 2.0.1 data is anyType, 1.6 data a string: carry the JSON text.
            out["data"] = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            notes.append(lossy(state, pending.action, "data", "non-string data sent as JSON text"))
    return out, notes


def _status_up(table: EnumMap, request_of: Callable[[BridgeState], int | None]) -> RequestConverter:
    """A status notification; a missing requestId is the one the bridge relayed.

    1.6 FirmwareStatusNotification / DiagnosticsStatusNotification carry no
    requestId, 2.0.1 wants the id of the UpdateFirmware / GetLog they report
    on (L01.FR.20, N01.FR.?): the bridge remembered it when it relayed the
    request (``state.firmware_request_id`` / ``log_request_id``). Idle
    reports on no request and gets none.
    """

    def convert(
        state: BridgeState, p: dict[str, Any], ctx: Context
    ) -> tuple[dict[str, Any], list[Note]]:
        out: dict[str, Any] = {"status": table(p["status"])[0]}
        known = request_of(state)
        if "requestId" in p:
            out["requestId"] = p["requestId"]
        elif known is not None and out["status"] != "Idle":
            out["requestId"] = known
        return out, []

    return convert


def _firmware_request(state: BridgeState) -> int | None:
    return state.firmware_request_id


def _log_request(state: BridgeState) -> int | None:
    return state.log_request_id


def _sign_certificate(
    state: BridgeState, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    # The 1.6 security whitepaper signs only the charge point certificate.
    return {"csr": p["csr"], "certificateType": "ChargingStationCertificate"}, []


def _sign_certificate_answer(
    state: BridgeState, pending: Pending, p: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], list[Note]]:
    status, notes = mapped(state, SIGN_CERTIFICATE_STATUS, p["status"], pending.action, "status")
    return {"status": status}, [*notes, *_dropped(state, pending, p, ("statusInfo",))]


def _dropped(
    state: BridgeState, pending: Pending, p: dict[str, Any], keys: tuple[str, ...]
) -> list[Note]:
    return [lossy(state, pending.action, k, "no 1.6 field") for k in keys if k in p]


# 1.6 action -> (2.0.1 action, request converter, answer converter)
MESSAGES: dict[str, tuple[str, RequestConverter, AnswerConverter]] = {
    "BootNotification": ("BootNotification", _boot, _boot_answer),
    "Heartbeat": ("Heartbeat", _same, _heartbeat_answer),
    "Authorize": ("Authorize", _authorize, _authorize_answer),
    "DataTransfer": ("DataTransfer", _same, _data_transfer_answer),
    "DiagnosticsStatusNotification": (
        "LogStatusNotification",
        _status_up(DIAGNOSTICS_STATUS, _log_request),
        empty_answer,
    ),
    "LogStatusNotification": (
        "LogStatusNotification",
        _status_up(LOG_STATUS, _log_request),
        empty_answer,
    ),
    "FirmwareStatusNotification": (
        "FirmwareStatusNotification",
        _status_up(FIRMWARE_STATUS, _firmware_request),
        empty_answer,
    ),
    "SignedFirmwareStatusNotification": (
        "FirmwareStatusNotification",
        _status_up(SIGNED_FIRMWARE_STATUS, _firmware_request),
        empty_answer,
    ),
    "SecurityEventNotification": ("SecurityEventNotification", _security_event, empty_answer),
    "SignCertificate": ("SignCertificate", _sign_certificate, _sign_certificate_answer),
}


def _call_handler(action201: str, convert: RequestConverter) -> CallHandler:
    def handle(state: BridgeState, call: Call, ctx: Context) -> Step:
        payload, notes = convert(state, call.payload, ctx)
        return forward(state, call, action201, payload, notes=notes)

    return handle


CALLS: dict[str, CallHandler] = {
    action16: _call_handler(action201, up) for action16, (action201, up, _) in MESSAGES.items()
}

# 2.0.1 action -> 1.6 action -> result handler
ANSWERS: dict[str, dict[str, ResultHandler]] = {}
for _action16, (_action201, _, _down) in MESSAGES.items():
    ANSWERS.setdefault(_action201, {})[_action16] = on_answer(_down)

RESULTS: dict[str, ResultHandler] = {a: dispatch_by_origin(t) for a, t in ANSWERS.items()}
