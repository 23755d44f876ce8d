"""Both bridges in a row: what the tables call lossless comes back unchanged.

A 2.0.1 station message taken down to 1.6 by this bridge and back up by the
forward bridge (:mod:`ocppkit.translators.j16_to_201`) is the same message; so is a
1.6 CSMS command taken down to 2.0.1 and back. The cases use only rows the
tables declare lossless; lossy ones (Boot reason, Soft reset semantics,
idToken types other than the ones each side picks) are left out on purpose.
"""

from __future__ import annotations

from typing import Any

import pytest

from ocppkit.translators.context import fixed_context
from ocppkit.translators.frames import Call
from ocppkit.translators.j16_to_201 import session as forward
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.j201_to_16 import StationState, from_charger, from_csms

from .helpers import MOMENT

T = "2026-03-01T12:00:00Z"
_HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a",
    "issuerKeyHash": "b",
    "serialNumber": "c",
}
_PROFILE = {
    "chargingProfileId": 5, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
    "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "W",
    "startSchedule": T, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]},
}  # fmt: skip

STATION_MESSAGES: list[tuple[str, dict[str, Any]]] = [
    ("Heartbeat", {}),
    ("Authorize", {"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"}}),
    ("StatusNotification",
     {"timestamp": T, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}),
    ("DataTransfer", {"vendorId": "com.example", "messageId": "m", "data": "text"}),
    ("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": T, "techInfo": "i"}),
    ("MeterValues", {"evseId": 1, "meterValue": [{"timestamp": T, "sampledValue": [
        {"value": 230.5, "measurand": "Voltage", "unitOfMeasure": {"unit": "V"}}]}]}),
    ("FirmwareStatusNotification", {"status": "Installed"}),
    ("LogStatusNotification", {"status": "Uploading"}),
]  # fmt: skip

CSMS_COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("Reset", {"type": "Hard"}),
    ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}),
    ("ChangeAvailability", {"connectorId": 2, "type": "Operative"}),
    ("UnlockConnector", {"connectorId": 1}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2}),
    ("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"}),
    ("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}),
    ("ClearCache", {}),
    ("CancelReservation", {"reservationId": 3}),
    ("GetLocalListVersion", {}),
    ("DataTransfer", {"vendorId": "com.example", "data": "x"}),
    ("ReserveNow", {"connectorId": 1, "expiryDate": T, "idTag": "A", "parentIdTag": "P",
                    "reservationId": 3}),
    ("SendLocalList", {"listVersion": 2, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "A", "idTagInfo": {"status": "Accepted"}}]}),
    ("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": _PROFILE}),
    ("ClearChargingProfile", {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile",
                              "stackLevel": 1}),
    ("GetCompositeSchedule", {"connectorId": 1, "duration": 60, "chargingRateUnit": "A"}),
    ("GetConfiguration", {"key": ["HeartbeatInterval", "SomeVendorKey"]}),
    ("ChangeConfiguration", {"key": "ChargingScheduleAllowedChargingRateUnit", "value": "Current"}),
    ("RemoteStartTransaction", {"connectorId": 1, "idTag": "A"}),
    ("GetDiagnostics", {"location": "https://logs.example/", "startTime": T}),
    ("GetLog", {"logType": "SecurityLog", "requestId": 4,
                "log": {"remoteLocation": "https://logs.example/"}}),
    ("InstallCertificate", {"certificateType": "CentralSystemRootCertificate", "certificate": "c"}),
    ("GetInstalledCertificateIds", {"certificateType": "ManufacturerRootCertificate"}),
    ("CertificateSigned", {"certificateChain": "PEM"}),
    ("DeleteCertificate", {"certificateHashData": _HASH}),
]  # fmt: skip


@pytest.mark.parametrize(("action", "payload"), STATION_MESSAGES, ids=lambda v: str(v)[:30])
def test_station_message_down_and_up_again_is_unchanged(
    action: str, payload: dict[str, Any]
) -> None:
    ctx = fixed_context(MOMENT)
    (down,) = from_charger(StationState(), Call("m1", action, payload), ctx).to_csms
    (up,) = forward.from_charger(BridgeState(), down, ctx).to_csms
    assert isinstance(up, Call)
    assert (up.action, up.payload) == (action, payload)


@pytest.mark.parametrize(("action", "payload"), CSMS_COMMANDS, ids=lambda v: str(v)[:30])
def test_csms_command_down_and_up_again_is_unchanged(action: str, payload: dict[str, Any]) -> None:
    ctx = fixed_context(MOMENT)
    (down,) = from_csms(StationState(), Call("c1", action, payload), ctx).to_charger
    (up,) = forward.from_csms(BridgeState(), down, ctx).to_charger
    assert isinstance(up, Call)
    assert (up.action, up.payload) == (action, payload)
