"""Security profiles on both legs, with real certificates made by openssl.

Upstream: Basic auth as the station id (profile 1), the CSMS verified against
a CA bundle (profile 2), a client certificate (profile 3). Downstream: TLS
on the listening port. The CSMS here is a minimal TLS WebSocket server that
records what it was shown and answers BootNotification.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from aiohttp import web

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.gateway.upstream import backoff_delay
from tests.gateway.harness import connected

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_pki(d: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate for CPS."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=ocppkit test CA", cwd=d)  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, subject in (("server", "/CN=127.0.0.1"), ("client", "/CN=CPS")):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
                cwd=d)  # fmt: skip
        extra = ("-extfile", "san.ext") if name == "server" else ()
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *extra, cwd=d)  # fmt: skip


async def tls_csms(pki: Path, seen: dict[str, Any]) -> tuple[web.AppRunner, int]:
    async def handle(request: web.Request) -> web.StreamResponse:
        seen["authorization"] = request.headers.get("Authorization")
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        seen["client_cn"] = dict(x[0] for x in peer["subject"])["commonName"] if peer else None
        ws = web.WebSocketResponse(protocols=("ocpp2.0.1",))
        await ws.prepare(request)
        async for msg in ws:
            frame = orjson.loads(msg.data)
            if frame[0] == 2 and frame[2] == "BootNotification":
                answer = {"currentTime": "2026-01-01T00:00:00.000Z", "interval": 60,
                          "status": "Accepted"}  # fmt: skip
                await ws.send_str(orjson.dumps([3, frame[1], answer]).decode())
        return ws

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.pem"))
    ctx.load_cert_chain(pki / "server.pem", pki / "server.key")
    ctx.verify_mode = ssl.CERT_REQUIRED  # profile 3: the station shows a certificate
    app = web.Application()
    app.router.add_get("/ocpp/{id}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    return runner, runner.addresses[0][1]


def test_upstream_profiles_1_to_3_and_downstream_tls(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    seen: dict[str, Any] = {}

    async def main() -> dict[str, Any]:
        runner, port = await tls_csms(pki, seen)
        cfg = BridgeConfig(
            upstream=f"wss://127.0.0.1:{port}/ocpp",
            listen="127.0.0.1:0",
            state=str(tmp_path / "b.db"),
            upstream_ca=str(pki / "ca.pem"),
            upstream_cert=str(pki / "client.pem"),
            upstream_key=str(pki / "client.key"),
            upstream_passwords={"CPS": "s3cret"},
            tls_cert=str(pki / "server.pem"),
            tls_key=str(pki / "server.key"),
        ).check()
        bridge = Bridge(cfg)
        await bridge.start()
        client_tls = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        try:
            async with websockets.connect(
                f"wss://127.0.0.1:{bridge.port}/ocpp/CPS", subprotocols=["ocpp1.6"],
                ssl=client_tls,
            ) as ws:  # fmt: skip
                boot = {"chargePointModel": "M", "chargePointVendor": "V"}
                await ws.send(orjson.dumps([2, "b", "BootNotification", boot]).decode())
                seen["answer"] = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            # Plain ws:// to a TLS port does not get through.
            with pytest.raises((OSError, websockets.exceptions.InvalidMessage, TimeoutError)):
                async with connected(f"ws://127.0.0.1:{bridge.port}/ocpp", "CPS", attempts=1):
                    pass
        finally:
            await bridge.stop()
            await runner.cleanup()
        return seen

    got = asyncio.run(main())
    assert got["answer"][:2] == [3, "b"] and got["answer"][2]["status"] == "Accepted"
    assert got["authorization"] == "Basic Q1BTOnMzY3JldA=="  # CPS:s3cret
    assert got["client_cn"] == "CPS"


def test_an_upstream_with_an_untrusted_certificate_is_never_used(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    other = tmp_path / "other"
    other.mkdir()
    make_pki(other)  # a different CA: the CSMS cannot be verified

    async def main() -> int:
        runner, port = await tls_csms(pki, {})
        cfg = BridgeConfig(
            upstream=f"wss://127.0.0.1:{port}/ocpp", listen="127.0.0.1:0",
            state=str(tmp_path / "b.db"), upstream_ca=str(other / "ca.pem"),
            upstream_cert=str(pki / "client.pem"), upstream_key=str(pki / "client.key"),
            connect_timeout=1,
        ).check()  # fmt: skip
        bridge = Bridge(cfg)
        await bridge.start()
        try:
            try:
                async with websockets.connect(
                    f"ws://127.0.0.1:{bridge.port}/ocpp/CPS", subprotocols=["ocpp1.6"]
                ):
                    return 101
            except websockets.exceptions.InvalidStatus as exc:
                return exc.response.status_code
        finally:
            await bridge.stop()
            await runner.cleanup()

    assert asyncio.run(main()) == 503


def test_reconnect_delays_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(a, 0.5, 30.0, rng) for a in range(12)]
    for attempt, delay in enumerate(delays):
        step = min(30.0, 0.5 * 2**attempt)
        assert step / 2 <= delay <= step
    assert max(delays) <= 30.0
    assert len({round(d, 6) for d in delays[8:]}) > 1  # capped, yet not in lockstep
