"""The built-in CSMS as a conformance-test partner: tokens, strict checks, passwords, admin API."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ocppkit.toolkit.csms import CsmsSettings
from ocppkit.toolkit.csms.admin import AdminApi, openapi
from ocppkit.toolkit.csms.auth import load_passwords, password_ok
from ocppkit.toolkit.csms.checks import check
from ocppkit.toolkit.csms.tokens import parse_tokens
from ocppkit.translators.errors import ConfigError, ErrorCode, FrameError
from ocppkit.translators.j16_to_201.commands import CSMS_TO_STATION
from ocppkit.translators.schemas import actions
from ocppkit.translators.versions import OcppVersion
from tests.csms.station import connected, running_csms, wait_for

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TOML = """
[[token]]
id = "TAG-001"
status = "Accepted"
[[token]]
id = "100000C06"
status = "Blocked"
[[token]]
id = "100000C07"
status = "Accepted"
expiry = "2026-01-01T00:00:00Z"
[[token]]
id = "MASTERC47"
group = "GROUP001"
expiry = "2030-01-01T00:00:00Z"
[[token]]
id = "04A2B3C4"
type = "ISO14443"
status = "ConcurrentTx"
"""
CSV = "id,status,type,group,expiry\nTAG-001,Accepted,,,\n100000C02,Invalid,,,\n"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _tok(value: str, type_: str = "Central") -> dict[str, str]:
    return {"idToken": value, "type": type_}


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (_tok("TAG-001"), {"status": "Accepted"}),
        (_tok("100000C06"), {"status": "Blocked"}),
        (_tok("100000C07"), {"status": "Expired",
                             "cacheExpiryDateTime": "2026-01-01T00:00:00.000Z"}),
        (_tok("MASTERC47"), {"status": "Accepted",
                             "cacheExpiryDateTime": "2030-01-01T00:00:00.000Z",
                             "groupIdToken": {"idToken": "GROUP001", "type": "Central"}}),
        (_tok("04A2B3C4", "ISO14443"), {"status": "ConcurrentTx"}),
        (_tok("04A2B3C4", "Local"), {"status": "Unknown"}),  # matched by value and type
        (_tok("STRANGER"), {"status": "Unknown"}),
    ],
)  # fmt: skip
def test_token_store_answers_each_status(token: dict[str, str], expected: dict[str, Any]) -> None:
    assert parse_tokens(TOML, "toml").info(token, NOW) == expected


def test_csv_token_file_reads_like_toml() -> None:
    store = parse_tokens(CSV, "csv")
    assert len(store) == 2
    assert store.info(_tok("100000C02"), NOW) == {"status": "Invalid"}


@pytest.mark.parametrize(
    ("text", "kind", "where"),
    [
        ('[[token]]\nid = "A"\nstatus = "Fine"\n', "toml", "token 1"),
        ('[[token]]\nid = "A"\ntype = "RFID"\n', "toml", "token 1"),
        ('[[token]]\nid = "A"\n[[token]]\nid = "A"\n', "toml", "listed twice"),
        ("id,status\nA,Accepted\nB,Nope\n", "csv", "tokens:3"),
        ("token\nA\n", "csv", "first line"),
        ('[[token]]\nid = "A"\nexpiry = "soon"\n', "toml", "not a date-time"),
    ],
)
def test_bad_token_files_are_refused_with_their_place(text: str, kind: str, where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        parse_tokens(text, kind)


def test_millisecond_rule_and_iso14443_shape_are_checked() -> None:
    check({"timestamp": "2026-03-02T03:41:33.383Z"}, strict_tokens=True)
    with pytest.raises(FrameError) as fine:
        check({"meterValue": [{"timestamp": "2026-03-02T03:41:33.383026Z"}]}, strict_tokens=False)
    assert fine.value.code is ErrorCode.FORMAT_VIOLATION
    assert "$.meterValue[0].timestamp" in fine.value.description
    check({"idToken": _tok("TAG-A1", "ISO14443")}, strict_tokens=False)
    for good in ("04A2B3C4", "04A2B3C4D5E6F7"):
        check({"idToken": _tok(good, "ISO14443")}, strict_tokens=True)
    with pytest.raises(FrameError) as shape:
        check({"idToken": _tok("TAG-A1", "ISO14443")}, strict_tokens=True)
    assert shape.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_station_passwords(tmp_path: Path) -> None:
    path = tmp_path / "stations.toml"
    path.write_text('[stations]\nCP-1 = "s3cret"\n', encoding="utf-8")
    passwords = load_passwords(path)

    assert password_ok(_basic("CP-1", "s3cret"), "CP-1", passwords)
    assert not password_ok(_basic("CP-1", "wrong"), "CP-1", passwords)
    assert not password_ok(_basic("CP-2", "s3cret"), "CP-1", passwords)
    assert not password_ok(_basic("CP-2", "s3cret"), "CP-2", passwords)
    assert not password_ok("Basic !!!", "CP-1", passwords)
    path.write_text("CP-1 = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_passwords(path)


def test_openapi_names_every_csms_command_and_every_answer() -> None:
    doc = openapi()
    post = doc["paths"]["/v1/stations/{stationId}/calls/{action}"]["post"]
    (action,) = [p for p in post["parameters"] if p["name"] == "action"]
    assert set(action["schema"]["enum"]) == CSMS_TO_STATION <= actions(OcppVersion.V201)
    assert set(post["responses"]) == {"200", "400", "401", "404", "502", "504"}
    assert doc["security"] == [{"bearer": []}]


@pytest.mark.network
@pytest.mark.timeout(60)
def test_strict_csms_refuses_what_citrineos_refuses_and_counts_it() -> None:
    async def scenario() -> None:
        settings = CsmsSettings(token_store=parse_tokens(TOML, "toml"), strict_tokens=True)
        async with running_csms(settings) as csms, connected(csms) as station:
            frame = await station.call("Authorize", {"idToken": _tok("TAG-A1", "ISO14443")})
            assert frame[0] == 4 and frame[2] == "PropertyConstraintViolation"
            frame = await station.call("Heartbeat", {})
            assert frame[0] == 3
            status = {"timestamp": "2026-03-02T03:41:33.383026Z", "connectorStatus": "Available",
                      "evseId": 1, "connectorId": 1}  # fmt: skip
            frame = await station.call("StatusNotification", status)
            assert frame[0] == 4 and frame[2] == "FormatViolation"
            frame = await station.call("Authorize", {"idToken": _tok("100000C06")})
            assert frame[2] == {"idTokenInfo": {"status": "Blocked"}}
            assert csms.violations == 2

    asyncio.run(scenario())


@pytest.mark.network
@pytest.mark.timeout(60)
def test_station_without_its_password_is_refused_at_the_handshake() -> None:
    async def scenario() -> None:
        settings = CsmsSettings(station_passwords={"CP-1": "s3cret"})
        async with running_csms(settings) as csms, aiohttp.ClientSession() as http:
            url, protocols = f"{csms.url}/CP-1", ("ocpp2.0.1",)
            for headers in ({}, {"Authorization": _basic("CP-1", "nope")}):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(url, protocols=protocols, headers=headers)
                assert refused.value.status == 401
            good = {"Authorization": _basic("CP-1", "s3cret")}
            async with http.ws_connect(url, protocols=protocols, headers=good) as ws:
                assert not ws.closed

    asyncio.run(scenario())


@pytest.mark.network
@pytest.mark.timeout(60)
def test_admin_api_sends_a_command_and_returns_the_answer() -> None:
    async def scenario() -> None:
        async with running_csms() as csms:
            api = AdminApi(csms, "t0ken")
            await api.start()
            try:
                async with connected(csms, "CP-7") as station, aiohttp.ClientSession() as http:
                    seen: list[tuple[str, dict[str, Any]]] = []

                    def answer(action: str, payload: dict[str, Any]) -> Any:
                        seen.append((action, payload))
                        if action == "Reset":
                            return {"status": "Accepted"}
                        return ("NotSupported", "no")

                    serving = asyncio.create_task(station.serve(answer))
                    await wait_for(lambda: "CP-7" in csms.connected_stations())
                    auth = {"Authorization": "Bearer t0ken"}
                    base = f"{api.url}/v1/stations"

                    async def post(path: str, body: Any, headers: dict[str, str] = auth) -> Any:
                        async with http.post(f"{base}/{path}", json=body, headers=headers) as r:
                            return r.status, await r.json()

                    assert await post("CP-7/calls/Reset", {"type": "Immediate"}) == (
                        200, {"payload": {"status": "Accepted"}})  # fmt: skip
                    assert seen == [("Reset", {"type": "Immediate"})]
                    code, body = await post("CP-7/calls/ClearCache", {})
                    assert (code, body["errorCode"]) == (502, "NotSupported")
                    assert (await post("CP-7/calls/Reset", {"type": "Now"}))[0] == 400
                    assert (await post("CP-7/calls/Heartbeat", {}))[0] == 400
                    assert (await post("CP-9/calls/Reset", {"type": "Immediate"}))[0] == 404
                    bad = {"Authorization": "Bearer nope"}
                    assert (await post("CP-7/calls/Reset", {"type": "Immediate"}, bad))[0] == 401
                    assert len(seen) == 2  # nothing refused was sent
                    async with http.get(base, headers=auth) as r:
                        assert await r.json() == {"stations": [{"id": "CP-7", "connected": True}]}
                    async with http.get(f"{api.url}/openapi.json") as r:
                        assert (await r.json())["openapi"] == "3.1.0"
                    serving.cancel()
            finally:
                await api.stop()

    asyncio.run(scenario())
