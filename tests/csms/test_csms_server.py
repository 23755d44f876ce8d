"""The built-in 2.0.1 CSMS over real sockets on 127.0.0.1, with a real aiohttp client."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ocppkit.toolkit.csms import CallRejected, CsmsError, CsmsSettings
from ocppkit.toolkit.tariff import tariff_from_simple
from ocppkit.toolkit.textio import iter_lines
from ocppkit.translators.errors import FrameError, ValidationFailed
from ocppkit.translators.journal import Direction, decode_record
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion
from tests.csms.station import Station, connected, running_csms, wait_for

pytestmark = [pytest.mark.timeout(30), pytest.mark.network]
V201 = OcppVersion.V201
VALIDATOR = Validator()

# 0.30/kWh + 0.50 per session, 21% VAT, no time or parking price.
TARIFF = tariff_from_simple(
    {"currency": "EUR", "vat_percent": 21, "energy_per_kwh": "0.30", "session_fee": "0.50"}
)


def answered(frame: list[Any], action: str) -> dict[str, Any]:
    """Assert ``frame`` is a CALLRESULT whose payload validates; return the payload."""
    assert frame[0] == 3, frame
    VALIDATOR.validate(V201, action, Kind.RESPONSE, frame[2])
    payload: dict[str, Any] = frame[2]
    return payload


def tx_event(event: str, seq: int, at: str, energy: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "eventType": event,
        "timestamp": at,
        "triggerReason": {"Started": "Authorized", "Updated": "MeterValuePeriodic"}.get(
            event, "EVCommunicationLost"
        ),
        "seqNo": seq,
        "transactionInfo": {"transactionId": "TX-1", **extra.pop("info", {})},
        "meterValue": [
            {
                "timestamp": at,
                "sampledValue": [{"measurand": "Energy.Active.Import.Register", **energy}],
            }
        ],
        **extra,
    }


async def full_session(station: Station) -> list[dict[str, Any]]:
    boot = await station.call(
        "BootNotification",
        {"chargingStation": {"model": "M1", "vendorName": "V"}, "reason": "PowerUp"},
    )
    out = [answered(boot, "BootNotification")]
    status = {
        "timestamp": "2026-03-02T09:59:00.000Z",
        "connectorStatus": "Occupied",
        "evseId": 1,
        "connectorId": 1,
    }
    out.append(answered(await station.call("StatusNotification", status), "StatusNotification"))
    token = {"idToken": "TAG-1", "type": "ISO14443"}
    out.append(answered(await station.call("Authorize", {"idToken": token}), "Authorize"))
    started = tx_event(
        "Started",
        0,
        "2026-03-02T10:00:00.000Z",
        {"value": 0, "context": "Transaction.Begin"},
        idToken=token,
        evse={"id": 1, "connectorId": 1},
        info={"chargingState": "Charging"},
    )
    out.append(answered(await station.call("TransactionEvent", started), "TransactionEvent"))
    # 5.5 kWh after 30 min, reported in kWh.
    updated = tx_event(
        "Updated",
        1,
        "2026-03-02T10:30:00.000Z",
        {"value": 5.5, "unitOfMeasure": {"unit": "kWh"}},
    )
    out.append(answered(await station.call("TransactionEvent", updated), "TransactionEvent"))
    out.append(answered(await station.call("TransactionEvent", updated), "TransactionEvent"))
    ended = tx_event(
        "Ended",
        2,
        "2026-03-02T11:00:00.000Z",
        {"value": 11000, "context": "Transaction.End"},
        info={"stoppedReason": "EVDisconnected"},
    )
    out.append(answered(await station.call("TransactionEvent", ended), "TransactionEvent"))
    return out


def test_full_session_is_answered_validly_and_priced_from_the_tariff(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = CsmsSettings(tokens=frozenset({"TAG-1"}), tariff=TARIFF, heartbeat_interval=60)
        async with running_csms(settings, tmp_path / "journal") as csms:
            async with connected(csms) as station:
                boot, _, auth, started, updated, again, ended = await full_session(station)
                assert (boot["status"], boot["interval"]) == ("Accepted", 60)
                assert auth["idTokenInfo"]["status"] == "Accepted"
                assert started["idTokenInfo"]["status"] == "Accepted"
                assert "totalCost" not in started
                # 30 min: 5.5 x 0.30 + 0.50 = 2.15, VAT 0.4515 -> 0.45: 2.60.
                assert updated["totalCost"] == 2.60 and again == updated
                # 11 kWh: 3.30 + 0.50 = 3.80, VAT 0.798 -> 0.80: 4.60.
                assert ended["totalCost"] == 4.60
            await wait_for(lambda: not csms.connected_stations())
            tx = csms.transactions["TX-1"]
            assert tx.seq_nos == [0, 1, 2] and tx.duplicates == 1
            assert tx.event_types == ["Started", "Updated", "Ended"]
            assert tx.energy_wh == Decimal(11000) and tx.ended and tx.evse_id == 1
            assert tx.stopped_reason == "EVDisconnected" and tx.id_token == "TAG-1"
            assert tx.cost is not None and tx.cost.total == Decimal("4.60")
            assert csms.stations["CP-1"].statuses == {(1, 1): "Occupied"}
            assert csms.stations["CP-1"].boot is not None
            assert csms.violations == 0 and csms.internal_errors == []

    asyncio.run(scenario())
    records = [decode_record(line) for _, line in iter_lines(*(tmp_path / "journal").iterdir())]
    assert len(records) == 14  # 7 CALLs, 7 answers
    assert {r.direction for r in records} == {Direction.CS_TO_CSMS, Direction.CSMS_TO_CS}
    assert all(r.ocpp_version is V201 and r.leg is None for r in records)
    assert all(r.charge_point_id == "CP-1" for r in records)
    assert [r.seq for r in records] == list(range(14))


def test_unknown_token_is_answered_unknown() -> None:
    async def scenario() -> None:
        async with running_csms(CsmsSettings(tokens=frozenset({"TAG-1"}))) as csms:
            async with connected(csms) as station:
                frame = await station.call(
                    "Authorize", {"idToken": {"idToken": "STRANGER", "type": "ISO14443"}}
                )
                assert answered(frame, "Authorize")["idTokenInfo"]["status"] == "Unknown"
            assert csms.violations == 0

    asyncio.run(scenario())


MALFORMED = [
    # (frame, expected CALLERROR code; None: no readable id, so no answer)
    ("this is not json", None),
    ('[2,"m-a","NoSuchAction",{}]', "NotImplemented"),
    ('[2,"m-b","Heartbeat",{"unexpected":1}]', "FormatViolation"),
    ('[2,"m-c","BootNotification",{"reason":"PowerUp"}]', "OccurrenceConstraintViolation"),
    ('[2,"m-d","Heartbeat",null]', "FormatViolation"),
    ('[9,"m-e","Heartbeat",{}]', "MessageTypeNotSupported"),
    ('[2,"m-f","DataTransfer",{"vendorId":"V","data":"' + "x" * 5000 + '"}]', "FormatViolation"),
    ('[2,"m-g","Reset",{"type":"Immediate"}]', "NotSupported"),  # valid, but CSMS-bound only
]


def test_malformed_frames_get_the_right_callerror_and_the_connection_stays_up() -> None:
    async def scenario() -> None:
        async with running_csms(CsmsSettings(max_frame_bytes=4096)) as csms:
            async with connected(csms) as station:
                for text, code in MALFORMED:
                    await station.send(text)
                    if code is None:
                        continue
                    frame = await station.receive()
                    assert frame[0] == 4 and frame[2] == code, (text[:60], frame)
                    assert frame[1] == text.split('"')[1]
                    assert len(frame[3]) <= 255 and frame[4] == {}
                # Still connected and serving.
                beat = await station.call("Heartbeat", {})
                assert "currentTime" in answered(beat, "Heartbeat")
            # Every malformed frame but the NotSupported one is the peer's fault.
            assert csms.violations == len(MALFORMED) - 1

    asyncio.run(scenario())


@pytest.mark.parametrize("protocols", [("ocpp1.6",), ()], ids=["ocpp1.6", "none"])
def test_handshake_without_ocpp201_subprotocol_is_refused(protocols: tuple[str, ...]) -> None:
    async def scenario() -> None:
        async with running_csms() as csms:
            with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
                async with connected(csms, protocols=protocols):
                    pass
            assert caught.value.status == 400
            assert csms.connected_stations() == set()

    asyncio.run(scenario())


def test_negotiated_subprotocol_is_ocpp201_and_station_id_is_last_segment() -> None:
    async def scenario() -> None:
        async with running_csms() as csms, connected(csms, "site-7/CP-42") as station:
            assert station.ws.protocol == "ocpp2.0.1"
            await wait_for(lambda: "CP-42" in csms.connected_stations())

    asyncio.run(scenario())


def test_csms_initiated_calls_round_trip_and_station_errors_are_raised() -> None:
    seen: list[str] = []

    def answer(
        action: str, payload: dict[str, Any]
    ) -> dict[str, Any] | tuple[str, str] | str | None:
        seen.append(action)
        if action == "GetVariables":
            item = payload["getVariableData"][0]
            return {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "300",
                        "component": item["component"],
                        "variable": item["variable"],
                    }
                ]
            }
        if action == "Reset":
            return ("NotSupported", "no reset here")
        if action == "TriggerMessage":
            return {"status": "Maybe"}  # not a TriggerMessageStatusEnumType value
        if action == "SetChargingProfile":
            return "null"  # a CALLRESULT whose payload is not an object
        return None  # RequestStopTransaction: stays silent

    async def scenario() -> None:
        async with running_csms() as csms, connected(csms) as station:
            server = asyncio.create_task(station.serve(answer))
            await wait_for(lambda: "CP-1" in csms.connected_stations())
            query = {
                "getVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    }
                ]
            }
            result = await csms.call("CP-1", "GetVariables", query)
            assert result["getVariableResult"][0]["attributeValue"] == "300"
            with pytest.raises(CallRejected) as rejected:
                await csms.call("CP-1", "Reset", {"type": "Immediate"})
            assert rejected.value.error.error_code == "NotSupported"
            with pytest.raises(ValidationFailed):
                await csms.call("CP-1", "TriggerMessage", {"requestedMessage": "Heartbeat"})
            with pytest.raises(FrameError, match="payload is not a JSON object"):
                await csms.call("CP-1", "SetChargingProfile", PROFILE)
            with pytest.raises(TimeoutError):
                await csms.call(
                    "CP-1", "RequestStopTransaction", {"transactionId": "TX-1"}, timeout=0.2
                )
            with pytest.raises(ValidationFailed):  # our own bad request is never sent
                await csms.call("CP-1", "Reset", {"type": "Sometime"})
            with pytest.raises(CsmsError):
                await csms.call("CP-9", "Reset", {"type": "Immediate"})
            assert seen == [
                "GetVariables",
                "Reset",
                "TriggerMessage",
                "SetChargingProfile",
                "RequestStopTransaction",
            ]
            # The invalid TriggerMessage and SetChargingProfile answers; the
            # broken CALLRESULT got no CALLERROR back (the station saw none).
            assert csms.violations == 2 and station.not_calls == []
            server.cancel()

    asyncio.run(scenario())


PROFILE = {
    "evseId": 1,
    "chargingProfile": {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
    },
}


@pytest.mark.parametrize("strict", [False, True], ids=["recorded", "refused"])
def test_second_call_while_one_is_unanswered_is_recorded_or_refused(strict: bool) -> None:
    async def scenario() -> None:
        settings = CsmsSettings(answer_delay=0.2, strict_one_call=strict)
        async with running_csms(settings) as csms, connected(csms) as station:
            await station.send([2, "first", "Heartbeat", {}])
            await station.send([2, "second", "Heartbeat", {}])
            frames = {f[1]: f for f in [await station.receive(), await station.receive()]}
            assert frames["first"][0] == 3
            if strict:
                assert frames["second"][:3] == [4, "second", "RpcFrameworkError"]
            else:
                assert frames["second"][0] == 3
            assert csms.stations["CP-1"].concurrent_calls == 1 and csms.violations == 1
            # One at a time is fine, however slow the answers.
            assert (await station.call("Heartbeat", {}))[0] == 3
            assert (await station.call("Heartbeat", {}))[0] == 3
            assert csms.stations["CP-1"].concurrent_calls == 1

    asyncio.run(scenario())


def test_reconnect_replaces_the_old_connection() -> None:
    async def scenario() -> None:
        async with (
            running_csms() as csms,
            connected(csms) as first,
            connected(csms) as second,
        ):
            closed = await first.ws.receive(timeout=5)
            assert closed.type is aiohttp.WSMsgType.CLOSE
            assert answered(await second.call("Heartbeat", {}), "Heartbeat")
            assert csms.stations["CP-1"].connects == 2
            assert csms.connected_stations() == {"CP-1"}

    asyncio.run(scenario())
