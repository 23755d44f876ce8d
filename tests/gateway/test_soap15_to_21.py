"""A 1.5 SOAP charger onto a 2.1 CSMS: lifted to 1.6, then the chain 1.6 -> 2.0.1 -> 2.1.

The charger's requests are built with the project's 1.5 codec and POSTed to the bridge
(``upstream_version = "2.1"``); the built-in CSMS in 2.1 mode checks every frame against
the 2.1 schemas. Real sockets on 127.0.0.1, every wait bounded.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.translators.soap15 import build_request, parse_response
from ocppkit.translators.soap15.operations import Role
from ocppkit.translators.versions import OcppVersion
from tests.gateway.harness import journal_records
from tests.gateway.test_e2e_session import bridge_config

pytestmark = [pytest.mark.timeout(60), pytest.mark.network]
CP = "CP15-21"
SOAP = "application/soap+xml; charset=utf-8"


async def request(port: int, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/ocpp/soap15"
    envelope = build_request(
        Role.CENTRAL_SYSTEM, operation, payload, charge_box_identity=CP, to=url,
        message_id=f"urn:uuid:{uuid.uuid4()}", from_address="http://127.0.0.1:9/cp",
    )  # fmt: skip
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=envelope, headers={"Content-Type": SOAP}) as resp,
    ):
        body = await resp.read()
        assert resp.status == 200, body[:300]
    answer = parse_response(body, Role.CENTRAL_SYSTEM)
    payload_out: dict[str, Any] = answer.payload  # type: ignore[union-attr]
    return payload_out


def test_a_15_soap_charger_charges_on_a_strict_21_csms(tmp_path: Path) -> None:
    async def main() -> tuple[Csms, dict[str, Any]]:
        seen: dict[str, Any] = {}
        csms = Csms(CsmsSettings(ocpp_version=OcppVersion.V21))
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path, upstream_version="2.1"))
        await bridge.start()
        try:
            port = bridge.port
            boot = {"chargePointVendor": "Acme", "chargePointModel": "W15"}
            seen["boot"] = await request(port, "BootNotification", boot)
            seen["auth"] = await request(port, "Authorize", {"idTag": "CARD15"})
            start = await request(port, "StartTransaction", {
                "connectorId": 1, "idTag": "CARD15", "timestamp": "2026-03-05T09:00:06Z",
                "meterStart": 5000,
            })  # fmt: skip
            await request(port, "StopTransaction", {
                "transactionId": start["transactionId"], "idTag": "CARD15",
                "timestamp": "2026-03-05T09:15:00Z", "meterStop": 11200,
            })  # fmt: skip
        finally:
            await bridge.stop()
            await csms.stop()
        return csms, seen

    csms, seen = asyncio.run(main())
    assert seen["boot"]["status"] == "Accepted"
    assert seen["auth"]["idTagInfo"]["status"] == "Accepted"
    assert csms.violations == 0, csms.violation_log
    assert csms.internal_errors == []
    (tx,) = csms.transactions.values()
    assert tx.ended and tx.id_token == "CARD15"
    assert tx.energy_wh == Decimal(6200)
    versions = {r.ocpp_version for r in journal_records(tmp_path / "journal")}
    assert versions == {OcppVersion.V15, OcppVersion.V21}
