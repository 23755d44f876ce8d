"""The golden cases of the charger-side translator, as data.

Each case: a prelude (frames run first, to build ``state_before``) and the
input frames under test. ``("charger", [2, ...])`` is a frame the 1.6
charger sends, ``("csms", [3, ...])`` one the 2.0.1 CSMS sends. The files
in tests/golden/charger16_csms201/<Action>/<case>.json are written from these by
``OCPPKIT_REGEN_GOLDEN=1 pytest tests/translators/charger16_csms201/test_golden.py``.
"""

from __future__ import annotations

from typing import Any

Frames = list[tuple[str, list[Any]]]
T0 = "2026-03-02T08:00:00.000Z"
T1 = "2026-03-02T08:15:00.000Z"
T2 = "2026-03-02T09:00:00.000Z"


def charger(mid: str, action: str, payload: dict[str, Any]) -> tuple[str, list[Any]]:
    return ("charger", [2, mid, action, payload])


def csms(mid: str, payload: dict[str, Any]) -> tuple[str, list[Any]]:
    return ("csms", [3, mid, payload])


def csms_error(mid: str, code: str, text: str) -> tuple[str, list[Any]]:
    return ("csms", [4, mid, code, text, {}])


BOOT = {"chargePointVendor": "Keba", "chargePointModel": "P30", "firmwareVersion": "1.2.3"}
START = {"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 1200, "timestamp": T0}
STARTED_OK = {"idTokenInfo": {"status": "Accepted"}}
STOP = {
    "transactionId": 1,
    "meterStop": 9600,
    "timestamp": T2,
    "reason": "Local",
    "idTag": "04A2B3C4",
}
SAMPLE_MV = {
    "connectorId": 1,
    "transactionId": 1,
    "meterValue": [
        {
            "timestamp": T1,
            "sampledValue": [
                {
                    "value": "4321",
                    "context": "Sample.Periodic",
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                    "location": "Outlet",
                },
                {
                    "value": "10.8",
                    "context": "Sample.Periodic",
                    "measurand": "Power.Active.Import",
                    "unit": "kW",
                },
                {
                    "value": "16.0",
                    "context": "Sample.Periodic",
                    "measurand": "Current.Import",
                    "unit": "A",
                    "phase": "L1",
                },
            ],
        }
    ],
}

# A started, acknowledged transaction 1 on connector 1, charging.
IN_TRANSACTION: Frames = [
    charger(
        "p1",
        "StatusNotification",
        {"connectorId": 1, "status": "Preparing", "errorCode": "NoError", "timestamp": T0},
    ),
    csms("p1", {}),
    charger("p2", "StartTransaction", START),
    csms("p2", STARTED_OK),
]


CASES: dict[tuple[str, str], tuple[Frames, Frames]] = {
    ("BootNotification", "accepted"): (
        [],
        [
            charger("b1", "BootNotification", BOOT),
            csms("b1", {"currentTime": T0, "interval": 300, "status": "Accepted"}),
        ],
    ),
    ("BootNotification", "serials_and_meter_in_custom_data"): (
        [],
        [
            charger(
                "b1",
                "BootNotification",
                {
                    **BOOT,
                    "chargePointSerialNumber": "CP-1",
                    "chargeBoxSerialNumber": "BOX-9",
                    "iccid": "8931",
                    "imsi": "2620",
                    "meterType": "EMH",
                    "meterSerialNumber": "M-7",
                },
            ),
            csms("b1", {"currentTime": T0, "interval": 60, "status": "Pending"}),
        ],
    ),
    ("BootNotification", "rejected_status_info_lost"): (
        [],
        [
            charger("b1", "BootNotification", BOOT),
            csms(
                "b1",
                {
                    "currentTime": T0,
                    "interval": 600,
                    "status": "Rejected",
                    "statusInfo": {"reasonCode": "UnknownStation"},
                },
            ),
        ],
    ),
    ("Heartbeat", "answered"): (
        [],
        [charger("h1", "Heartbeat", {}), csms("h1", {"currentTime": T1})],
    ),
    ("Authorize", "accepted_with_parent"): (
        [],
        [
            charger("a1", "Authorize", {"idTag": "04A2B3C4"}),
            csms(
                "a1",
                {
                    "idTokenInfo": {
                        "status": "Accepted",
                        "cacheExpiryDateTime": T2,
                        "groupIdToken": {"idToken": "FLEET", "type": "Central"},
                    }
                },
            ),
        ],
    ),
    ("Authorize", "no_credit_becomes_invalid"): (
        [],
        [
            charger("a1", "Authorize", {"idTag": "04A2B3C4"}),
            csms(
                "a1",
                {
                    "idTokenInfo": {
                        "status": "NoCredit",
                        "personalMessage": {"format": "UTF8", "content": "Top up"},
                    }
                },
            ),
        ],
    ),
    ("Authorize", "csms_error_relayed"): (
        [],
        [
            charger("a1", "Authorize", {"idTag": "04A2B3C4"}),
            csms_error("a1", "FormatViolation", "bad token"),
        ],
    ),
    ("DataTransfer", "string_data"): (
        [],
        [
            charger(
                "d1", "DataTransfer", {"vendorId": "com.acme", "messageId": "Ping", "data": "x"}
            ),
            csms("d1", {"status": "Accepted", "data": "pong"}),
        ],
    ),
    ("DataTransfer", "object_answer_as_json_text"): (
        [],
        [
            charger("d1", "DataTransfer", {"vendorId": "com.acme"}),
            csms("d1", {"status": "Accepted", "data": {"a": [1, 2]}}),
        ],
    ),
    ("DiagnosticsStatusNotification", "upload_failed"): (
        [],
        [
            charger("g1", "DiagnosticsStatusNotification", {"status": "UploadFailed"}),
            csms("g1", {}),
        ],
    ),
    ("FirmwareStatusNotification", "installed"): (
        [],
        [charger("f1", "FirmwareStatusNotification", {"status": "Installed"}), csms("f1", {})],
    ),
    ("LogStatusNotification", "uploading_with_request_id"): (
        [],
        [
            charger("l1", "LogStatusNotification", {"status": "Uploading", "requestId": 12}),
            csms("l1", {}),
        ],
    ),
    ("SignedFirmwareStatusNotification", "signature_verified"): (
        [],
        [
            charger(
                "s1",
                "SignedFirmwareStatusNotification",
                {"status": "SignatureVerified", "requestId": 4},
            ),
            csms("s1", {}),
        ],
    ),
    ("SecurityEventNotification", "answered"): (
        [],
        [
            charger(
                "e1",
                "SecurityEventNotification",
                {"type": "FirmwareUpdated", "timestamp": T0, "techInfo": "v1.2.3"},
            ),
            csms("e1", {}),
        ],
    ),
    ("SignCertificate", "accepted"): (
        [],
        [
            charger("c1", "SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}),
            csms("c1", {"status": "Accepted"}),
        ],
    ),
    ("StartTransaction", "answered_end_to_end"): (
        IN_TRANSACTION[:2],
        [charger("s1", "StartTransaction", START), csms("s1", STARTED_OK)],
    ),
    ("StartTransaction", "no_id_token_info_means_accepted"): (
        [],
        [charger("s1", "StartTransaction", {**START, "reservationId": 5}), csms("s1", {})],
    ),
    ("StartTransaction", "retry_while_csms_pending"): (
        [],
        [
            charger("s1", "StartTransaction", START),
            charger("s2", "StartTransaction", START),
            csms("s1", STARTED_OK),
        ],
    ),
    ("StartTransaction", "retry_after_answer_from_state"): (
        [charger("s1", "StartTransaction", START), csms("s1", STARTED_OK)],
        [charger("s2", "StartTransaction", START)],
    ),
    ("StartTransaction", "csms_error_then_retry_resends"): (
        [],
        [
            charger("s1", "StartTransaction", START),
            csms_error("s1", "InternalError", "database down"),
            charger("s2", "StartTransaction", START),
            csms("s2", STARTED_OK),
        ],
    ),
    ("StartTransaction", "remote_start"): (
        [
            (
                "csms",
                [
                    2,
                    "r1",
                    "RequestStartTransaction",
                    {
                        "idToken": {"idToken": "04A2B3C4", "type": "ISO14443"},
                        "remoteStartId": 77,
                        "evseId": 1,
                    },
                ],
            ),
            ("charger", [3, "r1", {"status": "Accepted"}]),
        ],
        [charger("s1", "StartTransaction", START), csms("s1", STARTED_OK)],
    ),
    ("MeterValues", "in_transaction"): (
        IN_TRANSACTION,
        [charger("m1", "MeterValues", SAMPLE_MV), csms("m1", {})],
    ),
    ("MeterValues", "without_transaction"): (
        [],
        [
            charger("m1", "MeterValues", {**SAMPLE_MV, "transactionId": 0, "connectorId": 0}),
            csms("m1", {}),
        ],
    ),
    ("MeterValues", "just_after_stop"): (
        [*IN_TRANSACTION, charger("p3", "StopTransaction", STOP), csms("p3", {})],
        [charger("m1", "MeterValues", SAMPLE_MV), csms("m1", {})],
    ),
    ("MeterValues", "unknown_transaction"): (
        [],
        [charger("m1", "MeterValues", {**SAMPLE_MV, "transactionId": 999}), csms("m1", {})],
    ),
    ("MeterValues", "lossy_samples_dropped"): (
        IN_TRANSACTION,
        [
            charger(
                "m1",
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": 1,
                    "meterValue": [
                        {
                            "timestamp": T1,
                            "sampledValue": [
                                {"value": "31", "measurand": "Temperature", "unit": "Celcius"},
                                {
                                    "value": "AB01CD",
                                    "format": "SignedData",
                                    "context": "Sample.Clock",
                                },
                                {"value": "n/a", "measurand": "Voltage", "unit": "V"},
                                {
                                    "value": "230.1",
                                    "measurand": "Voltage",
                                    "unit": "V",
                                    "phase": "L1-N",
                                },
                                {
                                    "value": "12.5",
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "kWh",
                                    "context": "Sample.Clock",
                                },
                            ],
                        }
                    ],
                },
            ),
            csms("m1", {}),
        ],
    ),
    ("MeterValues", "nothing_left_answered_locally"): (
        IN_TRANSACTION,
        [
            charger(
                "m1",
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": 1,
                    "meterValue": [
                        {"timestamp": T1, "sampledValue": [{"value": "3000", "measurand": "RPM"}]}
                    ],
                },
            ),
        ],
    ),
    ("StopTransaction", "with_transaction_data"): (
        IN_TRANSACTION,
        [
            charger("t1", "StopTransaction", {**STOP, "transactionData": SAMPLE_MV["meterValue"]}),
            csms("t1", {"idTokenInfo": {"status": "Accepted"}}),
        ],
    ),
    ("StopTransaction", "soft_reset_is_lossy"): (
        IN_TRANSACTION,
        [
            charger(
                "t1",
                "StopTransaction",
                {"transactionId": 1, "meterStop": 5000, "timestamp": T2, "reason": "SoftReset"},
            ),
            csms("t1", {}),
        ],
    ),
    ("StopTransaction", "unknown_transaction_answered_locally"): (
        [],
        [charger("t1", "StopTransaction", {**STOP, "transactionId": 42})],
    ),
    ("StopTransaction", "retry_answered_from_state"): (
        [*IN_TRANSACTION, charger("t1", "StopTransaction", STOP), csms("t1", {})],
        [charger("t2", "StopTransaction", STOP)],
    ),
    ("StopTransaction", "csms_error_then_retry_resends"): (
        IN_TRANSACTION,
        [
            charger("t1", "StopTransaction", STOP),
            csms_error("t1", "InternalError", "busy"),
            charger("t2", "StopTransaction", STOP),
            csms("t2", {}),
        ],
    ),
    ("StatusNotification", "preparing_without_transaction"): (
        [],
        [
            charger(
                "n1",
                "StatusNotification",
                {"connectorId": 1, "status": "Preparing", "errorCode": "NoError", "timestamp": T0},
            ),
            csms("n1", {}),
        ],
    ),
    ("StatusNotification", "charging_state_change_in_transaction"): (
        IN_TRANSACTION,
        [
            charger(
                "n1",
                "StatusNotification",
                {"connectorId": 1, "status": "Charging", "errorCode": "NoError", "timestamp": T1},
            ),
            csms("n1", {}),
            csms("id-2", {}),
        ],
    ),
    ("StatusNotification", "faulted_then_cleared"): (
        [],
        [
            charger(
                "n1",
                "StatusNotification",
                {
                    "connectorId": 2,
                    "status": "Faulted",
                    "errorCode": "GroundFailure",
                    "info": "RCD tripped",
                    "vendorErrorCode": "E42",
                    "timestamp": T0,
                },
            ),
            csms("n1", {}),
            charger(
                "n2",
                "StatusNotification",
                {"connectorId": 2, "status": "Available", "errorCode": "NoError", "timestamp": T1},
            ),
        ],
    ),
    ("StatusNotification", "connector_zero_as_notify_event"): (
        [],
        [
            charger(
                "n1",
                "StatusNotification",
                {
                    "connectorId": 0,
                    "status": "Unavailable",
                    "errorCode": "WeakSignal",
                    "timestamp": T0,
                },
            ),
            csms("n1", {}),
        ],
    ),
    ("StatusNotification", "finishing_before_stop"): (
        [
            *IN_TRANSACTION,
            charger(
                "p3",
                "StatusNotification",
                {"connectorId": 1, "status": "Charging", "errorCode": "NoError", "timestamp": T1},
            ),
        ],
        [
            charger(
                "n1",
                "StatusNotification",
                {"connectorId": 1, "status": "Finishing", "errorCode": "NoError", "timestamp": T2},
            ),
            charger("t1", "StopTransaction", STOP),
            csms("t1", {}),
        ],
    ),
    ("Refused", "charger_sends_a_central_system_action"): (
        [],
        [charger("x1", "RemoteStartTransaction", {"idTag": "04A2B3C4"})],
    ),
    ("Refused", "unknown_action"): ([], [charger("x1", "MakeCoffee", {})]),
    ("Refused", "orphan_result"): ([], [csms("nobody", {"currentTime": T0})]),
}
