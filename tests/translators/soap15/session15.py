"""A recorded OCPP 1.5 charger session as journal records (deterministic).

Boot, authorize, status Occupied, start, meter values, stop, status
Available: each request from the charger and the central system's response,
as the gateway journals them (``message`` = the SOAP envelope).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ocppkit.translators.journal import Direction, JournalRecord, format_timestamp
from ocppkit.translators.soap15 import Addressing, build_request, build_response, parse_request
from ocppkit.translators.soap15.operations import Role
from ocppkit.translators.versions import OcppVersion

CP = "CB-15"
START = datetime(2026, 3, 5, 9, 0, 0, tzinfo=UTC)
READ = {"measurand": "Energy.Active.Import.Register", "unit": "Wh"}

EXCHANGES: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
    (
        "BootNotification",
        {"chargePointVendor": "Acme", "chargePointModel": "Wallbox 15", "firmwareVersion": "1.5.3"},
        {"status": "Accepted", "currentTime": "2026-03-05T09:00:00Z", "heartbeatInterval": 300},
    ),
    ("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError"}, {}),
    ("Authorize", {"idTag": "CARD15"}, {"idTagInfo": {"status": "Accepted"}}),
    ("StatusNotification", {"connectorId": 1, "status": "Occupied", "errorCode": "NoError"}, {}),
    (
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "CARD15",
            "timestamp": "2026-03-05T09:00:06Z",
            "meterStart": 5000,
        },
        {"transactionId": 77, "idTagInfo": {"status": "Accepted"}},
    ),
    ("StatusNotification", {"connectorId": 1, "status": "Occupied", "errorCode": "NoError"}, {}),
    (
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 77,
            "values": [
                {
                    "timestamp": "2026-03-05T09:15:00Z",
                    "value": [
                        {"value": "6200", **READ},
                        {"value": "16", "unit": "Amp", "measurand": "Current.Import"},
                    ],
                }
            ],
        },
        {},
    ),
    (
        "StopTransaction",
        {
            "transactionId": 77,
            "idTag": "CARD15",
            "timestamp": "2026-03-05T09:30:00Z",
            "meterStop": 11200,
            "transactionData": [
                {
                    "values": [
                        {"timestamp": "2026-03-05T09:30:00Z", "value": [{"value": "11200", **READ}]}
                    ]
                }
            ],
        },
        {"idTagInfo": {"status": "Accepted"}},
    ),
    ("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError"}, {}),
)


def session_records(*, addressing: bool = True) -> list[JournalRecord]:
    """The session's records; without ``addressing`` the responses carry no RelatesTo."""
    out: list[JournalRecord] = []
    for i, (action, request, response) in enumerate(EXCHANGES):
        mid = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        req = build_request(
            Role.CENTRAL_SYSTEM, action, request, charge_box_identity=CP,
            to="http://csms.example/ocpp15", message_id=mid,
            from_address="http://10.0.0.7:8080/ocpp",
        )  # fmt: skip
        incoming = parse_request(req, Role.CENTRAL_SYSTEM)
        if not addressing:
            incoming = replace(incoming, addressing=Addressing())
        res = build_response(incoming, response)
        at = START + timedelta(seconds=10 * i)
        for seq, (direction, text) in enumerate(
            ((Direction.CS_TO_CSMS, req), (Direction.CSMS_TO_CS, res)), start=2 * i
        ):
            out.append(
                JournalRecord(
                    timestamp=format_timestamp(at + timedelta(milliseconds=100 * (seq % 2))),
                    charge_point_id=CP,
                    direction=direction,
                    ocpp_version=OcppVersion.V15,
                    message=text.decode("utf-8"),
                    seq=seq,
                )
            )
    return out
