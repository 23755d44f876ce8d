"""A 1.5 SOAP charger through the bridge to the strict 2.0.1 CSMS.

The charger's requests are made by zeep from the official OCA 1.5 Central
System WSDL (read from ../shared, skipped when absent); its own service, which
the bridge calls back at its wsa:From address, is a small aiohttp server.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import zeep
from aiohttp import web
from lxml import etree
from zeep.helpers import serialize_object
from zeep.transports import Transport

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.translators.soap15 import build_response, parse_request
from ocppkit.translators.soap15.normalize import to_zeep
from ocppkit.translators.soap15.operations import Role, service_for
from ocppkit.translators.versions import OcppVersion
from tests.gateway.harness import journal_records
from tests.gateway.test_e2e_session import bridge_config

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "ocpp15-soap"
CS_WSDL = REFERENCE / "ocpp_centralsystemservice_1.5_final.wsdl"
WSA = "http://www.w3.org/2005/08/addressing"
CP = "CP15"
pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not CS_WSDL.is_file(), reason="official OCPP 1.5 WSDL not available"),
]


class AnnounceFrom(zeep.Plugin):
    """Adds wsa:From, as 1.5 chargers do to tell the central system where they listen."""

    def __init__(self, address: str) -> None:
        self.address = address

    def egress(self, envelope: Any, http_headers: Any, operation: Any, options: Any) -> Any:
        header = envelope.find("{http://www.w3.org/2003/05/soap-envelope}Header")
        frm = etree.SubElement(header, f"{{{WSA}}}From")
        etree.SubElement(frm, f"{{{WSA}}}Address").text = self.address
        return envelope, http_headers


class OfflineTransport(Transport):
    def load(self, url: str) -> bytes:
        if url.startswith(("http://", "https://")):
            raise RuntimeError("refusing network fetch: " + url)
        return bytes(super().load(url))


def charger_client(bridge_url: str, callback: str) -> Any:
    client = zeep.Client(
        str(CS_WSDL), transport=OfflineTransport(timeout=15), plugins=[AnnounceFrom(callback)]
    )
    svc = service_for(Role.CENTRAL_SYSTEM)
    return client.create_service(f"{{{svc.namespace}}}{svc.binding}", bridge_url)


async def charger_service(received: list[tuple[str, dict[str, Any]]]) -> tuple[web.AppRunner, str]:
    """The charger's own 1.5 service: accepts every command, records it."""

    async def handle(request: web.Request) -> web.Response:
        msg = parse_request(await request.read(), Role.CHARGE_POINT)
        received.append((msg.operation, msg.payload))
        body = build_response(msg, {"status": "Accepted"})
        return web.Response(body=body, content_type="application/soap+xml")

    app = web.Application()
    app.router.add_post("/cp", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/cp"


def call(service: Any, op: str, **plain: Any) -> dict[str, Any]:
    fields = service_for(Role.CENTRAL_SYSTEM).operation(op).request
    result = getattr(service, op)(**to_zeep(fields, plain), _soapheaders={"ChargeBoxIdentity": CP})
    return dict(serialize_object(result, dict) or {})


def test_a_15_soap_charger_session_and_commands_cross_the_bridge(tmp_path: Path) -> None:
    received: list[tuple[str, dict[str, Any]]] = []

    async def main() -> tuple[Csms, dict[str, Any]]:
        seen: dict[str, Any] = {}
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path))
        await bridge.start()
        runner, callback = await charger_service(received)
        try:
            cs = charger_client(f"http://127.0.0.1:{bridge.port}/ocpp/soap15", callback)

            def run(op: str, **plain: Any) -> Any:
                return asyncio.to_thread(call, cs, op, **plain)

            seen["boot"] = await run(
                "BootNotification", chargePointVendor="Acme", chargePointModel="Wallbox 15"
            )
            await run("StatusNotification", connectorId=1, status="Available", errorCode="NoError")
            seen["auth"] = await run("Authorize", idTag="CARD15")
            start = await run(
                "StartTransaction",
                connectorId=1,
                idTag="CARD15",
                timestamp="2026-03-05T09:00:06Z",
                meterStart=5000,
            )
            tx = start["transactionId"]
            reading = {
                "value": "6200",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
                "context": "Sample.Periodic",
            }
            await run(
                "MeterValues",
                connectorId=1,
                transactionId=tx,
                values=[{"timestamp": "2026-03-05T09:05:00Z", "value": [reading]}],
            )
            id201 = next(iter(csms.transactions))
            seen["stop_cmd"] = await csms.call(
                CP, "RequestStopTransaction", {"transactionId": id201}
            )
            await run(
                "StopTransaction",
                transactionId=tx,
                idTag="CARD15",
                timestamp="2026-03-05T09:15:00Z",
                meterStop=11200,
            )
            seen["reset"] = await csms.call(CP, "Reset", {"type": "Immediate"})
            seen["tx"] = tx
        finally:
            await bridge.stop()
            await runner.cleanup()
            await csms.stop()
        return csms, seen

    csms, seen = asyncio.run(main())
    assert seen["boot"]["status"] == "Accepted"
    assert seen["auth"]["status"] == "Accepted"  # zeep unwraps the single idTagInfo child
    assert csms.violations == 0, csms.violation_log
    assert csms.stations[CP].concurrent_calls == 0
    (tx,) = csms.transactions.values()
    assert tx.ended and tx.id_token == "CARD15"
    assert tx.energy_wh == Decimal(6200)  # 5000 Wh -> 11200 Wh
    assert seen["stop_cmd"]["status"] == "Accepted" and seen["reset"]["status"] == "Accepted"
    assert received[0] == ("RemoteStopTransaction", {"transactionId": seen["tx"]})
    assert received[1] == ("Reset", {"type": "Hard"})
    # The journal keeps the envelopes of the 1.5 leg as they crossed the wire.
    soap = [r for r in journal_records(tmp_path / "journal") if r.ocpp_version is OcppVersion.V15]
    assert len(soap) == 2 * 6 + 2 * 2  # six charger requests, two callbacks, each answered
    assert all(isinstance(r.message, str) and "Envelope" in r.message for r in soap)


def test_a_malformed_envelope_gets_a_sender_fault_and_no_session(tmp_path: Path) -> None:
    async def main() -> tuple[int, str, int]:
        csms = Csms(CsmsSettings())
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path))
        await bridge.start()
        try:
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{bridge.port}/ocpp/soap15"
                headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
                async with http.post(url, data=b"<not-soap/>", headers=headers) as resp:
                    status, text = resp.status, await resp.text()
            sessions = len(bridge.sessions)
        finally:
            await bridge.stop()
            await csms.stop()
        return status, text, sessions

    status, text, sessions = asyncio.run(main())
    assert status == 400
    assert "env:Sender" in text and "Fault" in text
    assert sessions == 0
