"""The ocpp-rpc oracle really is strict, and never silent.

Hand-written frames it must refuse (each answered with the right CALLERROR and reported),
answers to its commands it must flag, handshakes it must refuse, and OCPP-J usage it must
notice. The other tests in this folder rely on all of that.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.oracles.ocpp_rpc.oracle import OcppRpcOracle, OracleCallError

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("ocpp_rpc_installed")]

V201, V16 = "ocpp2.0.1", "ocpp1.6"
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "Acme"}}

INVALID_CALLS = {
    "boot-without-vendor": (V201, "BootNotification",
                            {"reason": "PowerUp", "chargingStation": {"model": "M1"}},
                            "OccurenceConstraintViolation", "required"),
    "boot-with-unknown-property": (V201, "BootNotification", {**BOOT, "colour": "red"},
                                   "PropertyConstraintViolation", "additionalProperties"),
    "boot-with-unknown-reason": (V201, "BootNotification", {**BOOT, "reason": "Bored"},
                                 "FormatViolation", "enum"),
    "boot-vendor-too-long": (V201, "BootNotification",
                             {**BOOT, "chargingStation": {"model": "M1", "vendorName": "V" * 51}},
                             "FormatViolation", "maxLength"),
    "heartbeat-null-payload": (V201, "Heartbeat", None, "TypeConstraintViolation", "type"),
    "status-timestamp-not-a-date": (V201, "StatusNotification",
                                    {"timestamp": "yesterday", "connectorStatus": "Available",
                                     "evseId": 1, "connectorId": 1},
                                    "FormatViolation", "format"),
    "transaction-event-1.6-shape": (V201, "TransactionEvent",
                                    {"connectorId": 1, "idTag": "T", "meterStart": 0,
                                     "timestamp": "2026-03-02T00:00:00Z"},
                                    "OccurenceConstraintViolation", "required"),
    # 1.6 spells the codes as its errata says (OCPP-J 1.6 errata §5): FormationViolation.
    "start-transaction-1.6-meter-as-string": (V16, "StartTransaction",
                                              {"connectorId": 1, "idTag": "T",
                                               "meterStart": "100",
                                               "timestamp": "2026-03-02T00:00:00Z"},
                                              "TypeConstraintViolation", "type"),
    "start-transaction-1.6-missing-meter": (V16, "StartTransaction",
                                            {"connectorId": 1, "idTag": "T",
                                             "timestamp": "2026-03-02T00:00:00Z"},
                                            "OccurrenceConstraintViolation", "required"),
}  # fmt: skip


async def _exchange(url: str, protocol: str, frames: list[Any]) -> list[Any]:
    """Send raw frames one by one on a hand-written client; return each reply."""
    replies = []
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=(protocol,), timeout=aiohttp.ClientWSTimeout(5)) as ws,
    ):
        assert ws.protocol == protocol
        for frame in frames:
            await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
            replies.append(json.loads(await ws.receive_str(timeout=5)))
    return replies


@pytest.mark.parametrize(
    ("protocol", "action", "payload", "code", "keyword"),
    INVALID_CALLS.values(),
    ids=INVALID_CALLS.keys(),
)
def test_invalid_call_gets_a_callerror_and_is_reported_as_a_violation(
    protocol: str, action: str, payload: Any, code: str, keyword: str
) -> None:
    async def scenario() -> tuple[list[Any], OcppRpcOracle]:
        async with OcppRpcOracle((V201, V16)) as oracle:
            replies = await _exchange(f"{oracle.url}/CP-BAD", protocol,
                                      [[2, "bad-1", action, payload]])  # fmt: skip
            await oracle.wait_for(lambda e: e["event"] == "violation")
        return replies, oracle

    (reply,), oracle = asyncio.run(scenario())

    assert reply[:3] == [4, "bad-1", code], reply
    (violation,) = oracle.violations
    assert violation["station"] == "CP-BAD" and violation["protocol"] == protocol
    assert (violation["action"], violation["messageId"]) == (action, "bad-1")
    assert (violation["direction"], violation["frame"]) == ("station->csms", "call")
    assert keyword in {e["keyword"] for e in violation["errors"]}, violation
    # The call is still on record, and no handler ever saw it.
    assert [c["action"] for c in oracle.calls] == [action]
    assert oracle.of("unhandled") == []


def test_valid_calls_are_answered_schema_valid_and_leave_no_violation() -> None:
    frames = [
        [2, "ok-1", "BootNotification", BOOT],
        [2, "ok-2", "Heartbeat", {}],
        [2, "ok-3", "Authorize", {"idToken": {"idToken": "TAG1", "type": "ISO14443"}}],
        [2, "ok-4", "DataTransfer", {"vendorId": "acme"}],
    ]

    async def scenario() -> tuple[list[Any], OcppRpcOracle]:
        async with OcppRpcOracle() as oracle:
            return await _exchange(f"{oracle.url}/CP-OK", V201, frames), oracle

    replies, oracle = asyncio.run(scenario())

    assert [r[:2] for r in replies] == [[3, f"ok-{i}"] for i in (1, 2, 3, 4)], replies
    assert replies[0][2]["status"] == "Accepted"
    assert replies[2][2] == {"idTokenInfo": {"status": "Accepted"}}
    assert oracle.violations == []
    assert [(c["station"], c["action"]) for c in oracle.calls] == [("CP-OK", f[2]) for f in frames]


def test_frames_that_are_not_ocpp_j_are_reported_as_bad_messages() -> None:
    async def scenario() -> tuple[list[Any], OcppRpcOracle]:
        async with OcppRpcOracle() as oracle:
            replies = await _exchange(f"{oracle.url}/CP-JUNK", V201,
                                      ["not json", [2, 17, "Heartbeat", {}]])  # fmt: skip
        return replies, oracle

    replies, oracle = asyncio.run(scenario())

    assert [r[0] for r in replies] == [4, 4]
    assert {r[2] for r in replies} == {"RpcFrameworkError"}
    assert [v["event"] for v in oracle.violations] == ["bad_message", "bad_message"]


def test_a_call_sent_before_the_previous_one_was_answered_is_flagged() -> None:
    async def scenario() -> OcppRpcOracle:
        async with (
            OcppRpcOracle(answer_delay=0.3) as oracle,
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{oracle.url}/CP-EAGER", protocols=(V201,)) as ws,
        ):
            for n in (1, 2):  # OCPP-J 4.1.1: the second should wait for the first answer
                await ws.send_str(json.dumps([2, f"m{n}", "Heartbeat", {}]))
            for _ in (1, 2):
                await ws.receive_str(timeout=5)
            await ws.send_str(json.dumps([2, "m3", "Heartbeat", {}]))  # after both answers
            await ws.receive_str(timeout=5)
        return oracle

    oracle = asyncio.run(scenario())

    assert [(c["messageId"], c["outstanding"]) for c in oracle.calls] == [
        ("m1", 0), ("m2", 1), ("m3", 0)]  # fmt: skip
    assert oracle.violations == []  # schema-valid: a protocol-usage finding, not a violation


def test_a_station_offering_no_supported_subprotocol_is_refused_and_reported() -> None:
    async def scenario() -> tuple[int, OcppRpcOracle]:
        async with OcppRpcOracle() as oracle, aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{oracle.url}/CP-OLD", protocols=(V16,))
            await oracle.wait_for(lambda e: e["event"] == "refused")
        return refused.value.status, oracle

    status, oracle = asyncio.run(scenario())

    assert status == 400
    assert oracle.violations == [{"event": "refused", "station": "CP-OLD", "offered": [V16]}]


def test_an_invalid_answer_to_a_csms_command_fails_the_command_and_is_reported() -> None:
    async def station(url: str, answer: dict[str, Any]) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(url, protocols=(V201,), timeout=aiohttp.ClientWSTimeout(5)) as ws,
        ):
            call = json.loads(await ws.receive_str(timeout=10))
            await ws.send_str(json.dumps([3, call[1], answer]))
            await ws.receive(timeout=10)  # until the oracle closes

    async def scenario() -> tuple[OracleCallError, dict[str, Any], OcppRpcOracle]:
        async with OcppRpcOracle() as oracle:
            url = f"{oracle.url}/CP-ANS"
            # A missing required field: rejected by ocpp-rpc, never handed to the test.
            task = asyncio.create_task(station(url, {"getVariableResult": [{}]}))
            await oracle.wait_for(lambda e: e["event"] == "connect")
            request = {
                "getVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    }
                ]
            }
            with pytest.raises(OracleCallError) as failed:
                await oracle.send("CP-ANS", "GetVariables", request)
            # The same station, an invalid CALL *from* the oracle is refused before sending.
            with pytest.raises(OracleCallError) as refused:
                await oracle.send("CP-ANS", "Reset", {"type": "Sometime"})
        await asyncio.wait_for(task, 10)
        return failed.value, {"code": refused.value.code}, oracle

    failed, refused, oracle = asyncio.run(scenario())

    assert failed.code == "OccurenceConstraintViolation"
    assert refused["code"] == "FormatViolation"
    answer, outgoing = oracle.violations
    assert (answer["action"], answer["direction"], answer["frame"]) == (
        "GetVariables", "station->csms", "result")  # fmt: skip
    assert (outgoing["action"], outgoing["direction"], outgoing["frame"]) == (
        "Reset", "csms->station", "call")  # fmt: skip
