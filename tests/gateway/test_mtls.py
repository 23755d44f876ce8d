"""Security profile 3 towards chargers: mutual TLS (issue #16 item 15).

Certificates are made for each test by ``tests/gateway/pki.py``
(``cryptography``). The bridge listens with TLS on 127.0.0.1; chargers are
``websockets`` clients showing a certificate or not; the CSMS is a minimal
2.0.1 server that also signs the charger's renewal CSR.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
import websockets.exceptions
from aiohttp import web

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.translators.errors import ConfigError
from tests.gateway.pki import Issued, Pki
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(60)
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W1"}


def client_tls(pki: Pki, issued: Issued | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_path))
    if issued is not None:
        ctx.load_cert_chain(issued.cert, issued.key)
    return ctx


async def attempt(bridge: Bridge, cp_id: str, ctx: ssl.SSLContext, **kw: Any) -> str:
    """Connect as ``cp_id`` and boot; "ok", or why the connection failed."""
    url = f"wss://127.0.0.1:{bridge.port}/ocpp/{cp_id}"
    try:
        async with websockets.connect(url, subprotocols=["ocpp1.6"], ssl=ctx, **kw) as ws:
            await ws.send(orjson.dumps([2, "b", "BootNotification", BOOT]).decode())
            answer = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            return "ok" if answer[0] == 3 else f"answer {answer}"
    except websockets.exceptions.InvalidStatus as exc:
        return f"http {exc.response.status_code} {exc.response.body.decode().strip()}"
    except (
        OSError,  # ssl.SSLError, ConnectionError
        websockets.exceptions.ConnectionClosed,
        websockets.exceptions.InvalidMessage,  # TLS 1.3: the refusal comes after the handshake
    ) as exc:
        return f"tls {type(exc).__name__}"


@contextlib.asynccontextmanager
async def tls_bridge(tmp: Path, pki: Pki, upstream: str, **extra: Any) -> AsyncIterator[Bridge]:
    server = pki.server()
    cfg = bridge_config(
        upstream, tmp, tls_cert=str(server.cert), tls_key=str(server.key),
        tls_client_ca=str(pki.ca_path), **extra,
    )  # fmt: skip
    bridge = Bridge(cfg)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()


def test_client_certificates_bind_the_charger_id_and_are_required_where_configured(
    tmp_path: Path,
) -> None:
    pki = Pki(tmp_path / "pki")
    cp1, cp2, cp4 = pki.client("CP1"), pki.client("CP2"), pki.client("CP4")

    async def main() -> dict[str, str]:
        csms = Csms(CsmsSettings())
        await csms.start()
        out: dict[str, str] = {}
        try:
            extra = {"tls_client_required": ("CP1",), "charger_passwords": {"CP4": "pw4"}}
            async with tls_bridge(tmp_path, pki, csms.url, **extra) as bridge:
                out["cp1 with its certificate"] = await attempt(bridge, "CP1", client_tls(pki, cp1))
                out["cp1 without one"] = await attempt(bridge, "CP1", client_tls(pki, None))
                out["cp2's certificate as cp1"] = await attempt(bridge, "CP1", client_tls(pki, cp2))
                out["cp4 with its certificate"] = await attempt(bridge, "CP4", client_tls(pki, cp4))
                out["cp4 with basic auth"] = await attempt(
                    bridge, "CP4", client_tls(pki, None),
                    additional_headers={"Authorization": "Basic Q1A0OnB3NA=="},  # CP4:pw4
                )  # fmt: skip
                out["cp4 with nothing"] = await attempt(bridge, "CP4", client_tls(pki, None))
                stranger = Pki(tmp_path / "other").client("CP4", "stranger")
                out["cp4 from another CA"] = await attempt(bridge, "CP4", client_tls(pki, stranger))
        finally:
            await csms.stop()
        return out

    out = asyncio.run(main())
    assert out == {
        "cp1 with its certificate": "ok",
        "cp1 without one": "http 403 certificate_required",
        "cp2's certificate as cp1": "http 403 certificate_not_for_charger",
        "cp4 with its certificate": "ok",  # profile 3: no password needed
        "cp4 with basic auth": "ok",  # optional for CP4: profile 2 still works
        "cp4 with nothing": "http 401 unauthorised",
        "cp4 from another CA": out["cp4 from another CA"],
    }
    assert out["cp4 from another CA"].startswith("tls ")


def test_a_revoked_certificate_is_refused_and_a_new_crl_is_picked_up_while_running(
    tmp_path: Path,
) -> None:
    pki = Pki(tmp_path / "pki")
    cp1, cp3 = pki.client("CP1"), pki.client("CP3")
    crl = pki.crl(cp3.serial)

    async def main() -> list[str]:
        csms = Csms(CsmsSettings())
        await csms.start()
        seen = []
        try:
            extra = {"tls_client_crl": str(crl), "tls_client_required": ("*",)}
            async with tls_bridge(tmp_path, pki, csms.url, **extra) as bridge:
                seen.append(await attempt(bridge, "CP3", client_tls(pki, cp3)))
                seen.append(await attempt(bridge, "CP1", client_tls(pki, cp1)))
                pki.crl(cp3.serial, cp1.serial)  # CP1 revoked too, file rewritten
                for _ in range(50):  # the bridge rereads it within a second or two
                    result = await attempt(bridge, "CP1", client_tls(pki, cp1))
                    if result != "ok":
                        break
                    await asyncio.sleep(0.2)
                seen.append(result)
                seen.append(await attempt(bridge, "CP1", client_tls(pki, None)))
        finally:
            await csms.stop()
        return seen

    revoked3, ok1, revoked1, without = asyncio.run(main())
    assert revoked3.startswith("tls ") and revoked1.startswith("tls ")
    assert ok1 == "ok"
    assert without.startswith("tls ")  # "*": the TLS handshake itself demands one


async def signing_csms(pki: Pki, seen: dict[str, Any]) -> tuple[web.AppRunner, str]:
    """A 2.0.1 CSMS that accepts SignCertificate and answers with CertificateSigned."""

    async def handle(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("ocpp2.0.1",))
        await ws.prepare(request)
        async for msg in ws:
            frame = orjson.loads(msg.data)
            if frame[0] == 2 and frame[2] == "BootNotification":
                answer = {"currentTime": "2026-01-01T00:00:00.000Z", "interval": 60,
                          "status": "Accepted"}  # fmt: skip
                await ws.send_str(orjson.dumps([3, frame[1], answer]).decode())
            elif frame[0] == 2 and frame[2] == "SignCertificate":
                seen["csr"] = frame[3]["csr"]
                await ws.send_str(orjson.dumps([3, frame[1], {"status": "Accepted"}]).decode())
                chain = pki.sign_csr(frame[3]["csr"])
                seen["chain"] = chain
                signed = {
                    "certificateChain": chain,
                    "certificateType": "ChargingStationCertificate",
                }
                await ws.send_str(orjson.dumps([2, "cs-1", "CertificateSigned", signed]).decode())
            elif frame[0] == 3 and frame[1] == "cs-1":
                seen["certificate_signed_answer"] = frame[2]
            elif frame[0] == 2:
                await ws.send_str(orjson.dumps([3, frame[1], {}]).decode())
        return ws

    app = web.Application()
    app.router.add_get("/ocpp/{id}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"ws://127.0.0.1:{runner.addresses[0][1]}/ocpp"


def test_a_renewed_certificate_from_sign_certificate_is_honoured_on_reconnect(
    tmp_path: Path,
) -> None:
    pki = Pki(tmp_path / "pki")
    first = pki.client("CP1")
    csr, new_key = Pki.csr("CP1")

    async def main() -> tuple[dict[str, Any], list[Any], str]:
        seen: dict[str, Any] = {}
        runner, url = await signing_csms(pki, seen)
        try:
            async with tls_bridge(tmp_path, pki, url, tls_client_required=("*",)) as bridge:
                ws_url = f"wss://127.0.0.1:{bridge.port}/ocpp/CP1"
                async with websockets.connect(ws_url, subprotocols=["ocpp1.6"],
                                              ssl=client_tls(pki, first)) as ws:  # fmt: skip
                    await ws.send(orjson.dumps([2, "b", "BootNotification", BOOT]).decode())
                    await asyncio.wait_for(ws.recv(), 10)
                    await ws.send(orjson.dumps([2, "s", "SignCertificate", {"csr": csr}]).decode())
                    signed_ack = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                    command = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                    await ws.send(orjson.dumps([3, command[1], {"status": "Accepted"}]).decode())
                    for _ in range(50):
                        if "certificate_signed_answer" in seen:
                            break
                        await asyncio.sleep(0.1)
                # The charger installs the new certificate and reconnects with it.
                renewed = Issued(tmp_path / "renewed.pem", tmp_path / "renewed.key", 0)
                renewed.cert.write_text(command[3]["certificateChain"])
                renewed.key.write_bytes(new_key)
                result = await attempt(bridge, "CP1", client_tls(pki, renewed))
        finally:
            await runner.cleanup()
        return seen, [signed_ack, command], result

    seen, (signed_ack, command), result = asyncio.run(main())
    assert signed_ack == [3, "s", {"status": "Accepted"}]
    assert seen["csr"] == csr  # the CSR reached the CSMS unchanged
    assert command[2] == "CertificateSigned"
    assert command[3]["certificateChain"] == seen["chain"]
    assert seen["certificate_signed_answer"] == {"status": "Accepted"}
    assert result == "ok"


def test_mutual_tls_settings_are_checked() -> None:
    base = {"upstream": "ws://x/ocpp"}
    with pytest.raises(ConfigError, match="needs tls_cert"):
        BridgeConfig(**base, tls_client_ca="ca.pem").check()
    with pytest.raises(ConfigError, match="need tls_client_ca"):
        BridgeConfig(**base, tls_client_required=("*",)).check()
