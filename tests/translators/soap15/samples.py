"""One realistic OCPP 1.5 payload (codec dict) per operation and kind.

Written from the 1.5 operation facts, with every optional field filled
somewhere, so each table row and each structure is exercised.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.soap15.operations import Role

T0 = "2026-03-05T09:00:06Z"
T1 = "2026-03-05T09:15:00Z"
ID_TAG_INFO = {"status": "Accepted", "expiryDate": "2026-12-31T23:59:59Z", "parentIdTag": "PARENT"}
READING = {
    "value": "6200",
    "context": "Sample.Periodic",
    "format": "Raw",
    "measurand": "Energy.Active.Import.Register",
    "location": "Outlet",
    "unit": "Wh",
}
CURRENT = {"value": "16.2", "measurand": "Current.Import", "unit": "Amp"}
VOLTAGE = {"value": "230", "measurand": "Voltage", "unit": "Volt"}

SAMPLES: dict[tuple[Role, str], tuple[dict[str, Any], dict[str, Any]]] = {
    (Role.CENTRAL_SYSTEM, "Authorize"): ({"idTag": "CARD15"}, {"idTagInfo": ID_TAG_INFO}),
    (Role.CENTRAL_SYSTEM, "BootNotification"): (
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "Wallbox 15",
            "chargePointSerialNumber": "CP-0001",
            "chargeBoxSerialNumber": "CB-0001",
            "firmwareVersion": "1.5.3",
            "iccid": "8931000000000000001",
            "imsi": "204080000000001",
            "meterType": "DZG",
            "meterSerialNumber": "M-77",
        },
        {"status": "Accepted", "currentTime": T0, "heartbeatInterval": 300},
    ),
    (Role.CENTRAL_SYSTEM, "DataTransfer"): (
        {"vendorId": "com.acme", "messageId": "diag", "data": "x=1"},
        {"status": "Accepted", "data": "ok"},
    ),
    (Role.CENTRAL_SYSTEM, "DiagnosticsStatusNotification"): ({"status": "Uploaded"}, {}),
    (Role.CENTRAL_SYSTEM, "FirmwareStatusNotification"): ({"status": "Installed"}, {}),
    (Role.CENTRAL_SYSTEM, "Heartbeat"): ({}, {"currentTime": T0}),
    (Role.CENTRAL_SYSTEM, "MeterValues"): (
        {
            "connectorId": 1,
            "transactionId": 77,
            "values": [{"timestamp": T1, "value": [READING, CURRENT, VOLTAGE]}],
        },
        {},
    ),
    (Role.CENTRAL_SYSTEM, "StartTransaction"): (
        {
            "connectorId": 1,
            "idTag": "CARD15",
            "timestamp": T0,
            "meterStart": 5000,
            "reservationId": 9,
        },
        {"transactionId": 77, "idTagInfo": ID_TAG_INFO},
    ),
    (Role.CENTRAL_SYSTEM, "StatusNotification"): (
        {
            "connectorId": 1,
            "status": "Faulted",
            "errorCode": "Mode3Error",
            "info": "pilot lost",
            "timestamp": T0,
            "vendorId": "com.acme",
            "vendorErrorCode": "E42",
        },
        {},
    ),
    (Role.CENTRAL_SYSTEM, "StopTransaction"): (
        {
            "transactionId": 77,
            "idTag": "CARD15",
            "timestamp": T1,
            "meterStop": 11200,
            "transactionData": [
                {"values": [{"timestamp": T0, "value": [READING]}]},
                {"values": [{"timestamp": T1, "value": [{"value": "11200"}]}]},
            ],
        },
        {"idTagInfo": {"status": "Accepted"}},
    ),
    (Role.CHARGE_POINT, "CancelReservation"): ({"reservationId": 9}, {"status": "Accepted"}),
    (Role.CHARGE_POINT, "ChangeAvailability"): (
        {"connectorId": 0, "type": "Inoperative"},
        {"status": "Scheduled"},
    ),
    (Role.CHARGE_POINT, "ChangeConfiguration"): (
        {"key": "HeartbeatInterval", "value": "600"},
        {"status": "Accepted"},
    ),
    (Role.CHARGE_POINT, "ClearCache"): ({}, {"status": "Rejected"}),
    (Role.CHARGE_POINT, "DataTransfer"): (
        {"vendorId": "com.acme", "messageId": "ping"},
        {"status": "UnknownMessageId"},
    ),
    (Role.CHARGE_POINT, "GetConfiguration"): (
        {"key": ["HeartbeatInterval", "Nope"]},
        {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "600"},
                {"key": "ChargePointId", "readonly": True},
            ],
            "unknownKey": ["Nope"],
        },
    ),
    (Role.CHARGE_POINT, "GetDiagnostics"): (
        {
            "location": "ftp://diag.example/up/",
            "startTime": T0,
            "stopTime": T1,
            "retries": 3,
            "retryInterval": 60,
        },
        {"fileName": "diag-CB1.zip"},
    ),
    (Role.CHARGE_POINT, "GetLocalListVersion"): ({}, {"listVersion": 4}),
    (Role.CHARGE_POINT, "RemoteStartTransaction"): (
        {"idTag": "CARD15", "connectorId": 2},
        {"status": "Accepted"},
    ),
    (Role.CHARGE_POINT, "RemoteStopTransaction"): ({"transactionId": 77}, {"status": "Accepted"}),
    (Role.CHARGE_POINT, "ReserveNow"): (
        {
            "connectorId": 1,
            "expiryDate": T1,
            "idTag": "CARD15",
            "parentIdTag": "PARENT",
            "reservationId": 9,
        },
        {"status": "Occupied"},
    ),
    (Role.CHARGE_POINT, "Reset"): ({"type": "Soft"}, {"status": "Accepted"}),
    (Role.CHARGE_POINT, "SendLocalList"): (
        {
            "updateType": "Full",
            "listVersion": 5,
            "localAuthorisationList": [
                {"idTag": "CARD15", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "CARD16"},
            ],
        },
        {"status": "Accepted"},
    ),
    (Role.CHARGE_POINT, "UnlockConnector"): ({"connectorId": 1}, {"status": "Accepted"}),
    (Role.CHARGE_POINT, "UpdateFirmware"): (
        {"retrieveDate": T0, "location": "https://fw.example/1.5.4.bin", "retries": 2},
        {},
    ),
}


def sample_id(key: tuple[Role, str]) -> str:
    return f"{key[0].value}.{key[1]}"
