"""1.5 SOAP callbacks (issue #16 items 2, 3 and the Content-Type of item 14).

A 1.5 charger is played with envelopes built by the project's codec and sent
over real HTTP on 127.0.0.1; its own service, which the bridge calls back, is
a small aiohttp server whose behaviour each test chooses (accept, redirect,
an endless body). The CSMS is the built-in strict one.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.csms.server import CallRejected
from ocppkit.toolkit.gateway.callbacks import CALLBACK_FAILED, callback_refusal, callback_rules
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.translators.soap15 import build_request, build_response, parse_request
from ocppkit.translators.soap15.operations import Role
from tests.gateway.test_server import running

pytestmark = pytest.mark.timeout(60)
CP = "CP15"
SOAP = "application/soap+xml; charset=utf-8"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def service(handler: Handler, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """The charger's 1.5 service on ``host``; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    try:
        yield f"http://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def accepting(seen: list[str]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        msg = parse_request(await request.read(), Role.CHARGE_POINT)
        seen.append(f"{request.path}:{msg.operation}")
        body = build_response(msg, {"status": "Accepted"})
        return web.Response(body=body, content_type="application/soap+xml")

    return handle


async def boot(port: int, from_address: str) -> int:
    """A 1.5 BootNotification announcing ``from_address``; the HTTP status."""
    envelope = build_request(
        Role.CENTRAL_SYSTEM,
        "BootNotification",
        {"chargePointVendor": "Acme", "chargePointModel": "W15"},
        charge_box_identity=CP,
        to=f"http://127.0.0.1:{port}/ocpp/soap15",
        message_id=f"urn:uuid:{uuid.uuid4()}",
        from_address=from_address,
    )
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/ocpp/soap15"
        async with http.post(url, data=envelope, headers={"Content-Type": SOAP}) as resp:
            await resp.read()
            return resp.status


async def reset_through(csms: Csms) -> tuple[str, str]:
    """The CSMS asks for a Reset; what it got back: ("ok", status) or ("error", text)."""
    try:
        answer = await csms.call(CP, "Reset", {"type": "Immediate"}, timeout=10)
    except CallRejected as exc:
        return "error", exc.error.error_description
    return "ok", str(answer["status"])


def run(tmp: Path, body: Callable[[Csms, Bridge], Awaitable[None]], **extra: Any) -> None:
    async def main() -> None:
        async with running(tmp, CsmsSettings(strict_one_call=True), **extra) as (csms, bridge, _):
            await body(csms, bridge)

    asyncio.run(main())


# -- item 3: server-side request forgery through wsa:From ---------------------------


def test_by_default_callbacks_go_only_to_the_chargers_own_source_address(tmp_path: Path) -> None:
    seen: list[str] = []

    async def body(csms: Csms, bridge: Bridge) -> None:
        async with service(accepting(seen)) as here, service(accepting(seen), "127.0.0.2") as there:
            assert await boot(bridge.port, f"{there}/cp") == 200
            assert await reset_through(csms) == ("error", CALLBACK_FAILED)
            assert await boot(bridge.port, f"{here}/cp") == 200
            assert await reset_through(csms) == ("ok", "Accepted")
        refused = bridge.metrics.value(
            "ocppkit_bridge_soap_callbacks_refused_total", reason="address_not_allowed"
        )
        assert refused == 1

    run(tmp_path, body)
    assert seen == ["/cp:Reset"]  # 127.0.0.2 was never called


def test_callbacks_to_an_allowed_network_are_made(tmp_path: Path) -> None:
    seen: list[str] = []

    async def body(csms: Csms, bridge: Bridge) -> None:
        async with service(accepting(seen), "127.0.0.2") as there:
            assert await boot(bridge.port, f"{there}/cp") == 200
            assert await reset_through(csms) == ("ok", "Accepted")

    run(tmp_path, body, soap_callback_allow=("127.0.0.0/8",))
    assert seen == ["/cp:Reset"]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("http://user:secret@{host}/cp", "credentials_in_address"),
        ("ftp://{host}/cp", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://localhost.example/cp", "host_not_allowed"),
    ],
)
def test_callback_addresses_with_credentials_other_schemes_or_unlisted_names_are_refused(
    tmp_path: Path, address: str, reason: str
) -> None:
    seen: list[str] = []

    async def body(csms: Csms, bridge: Bridge) -> None:
        async with service(accepting(seen)) as here:
            host = here.removeprefix("http://")
            assert await boot(bridge.port, address.format(host=host)) == 200
            assert await reset_through(csms) == ("error", CALLBACK_FAILED)
        assert (
            bridge.metrics.value("ocppkit_bridge_soap_callbacks_refused_total", reason=reason) == 1
        )

    run(tmp_path, body)
    assert seen == []


def test_a_redirect_is_not_followed(tmp_path: Path) -> None:
    seen: list[str] = []

    async def body(csms: Csms, bridge: Bridge) -> None:
        async def redirect(request: web.Request) -> web.StreamResponse:
            if request.path == "/cp":
                raise web.HTTPTemporaryRedirect("/internal")
            seen.append(request.path)
            return web.Response(text="secret")

        async with service(redirect) as here:
            assert await boot(bridge.port, f"{here}/cp") == 200
            assert await reset_through(csms) == ("error", CALLBACK_FAILED)
        assert (
            bridge.metrics.value("ocppkit_bridge_soap_callbacks_refused_total", reason="redirect")
            == 1
        )

    run(tmp_path, body)
    assert seen == []


def test_a_closed_port_and_an_open_non_soap_port_get_the_same_answer(tmp_path: Path) -> None:
    async def body(csms: Csms, bridge: Bridge) -> None:
        async def not_soap(request: web.Request) -> web.Response:
            return web.Response(status=500, text="SSH-2.0-OpenSSH_9.6 admin console")

        async with service(not_soap) as open_port:
            assert await boot(bridge.port, f"{open_port}/cp") == 200
            on_open = await reset_through(csms)
        # The same port, now closed.
        assert await boot(bridge.port, f"{open_port}/cp") == 200
        on_closed = await reset_through(csms)
        assert on_open == on_closed == ("error", CALLBACK_FAILED)

    run(tmp_path, body)


# -- item 2: the charger's answer is read with the request limit ------------------------


def test_an_oversized_callback_answer_is_cut_off_at_the_limit_not_read_whole(
    tmp_path: Path,
) -> None:
    sent = [0]
    total = 64 * 1024 * 1024  # what the charger would send; the limit here is 64 KiB

    async def body(csms: Csms, bridge: Bridge) -> None:
        async def endless(request: web.Request) -> web.StreamResponse:
            resp = web.StreamResponse(headers={"Content-Type": SOAP})  # chunked: no length
            await resp.prepare(request)
            chunk = b"<x>" + b"a" * 65533
            with contextlib.suppress(ConnectionError, RuntimeError):
                while sent[0] < total:
                    await resp.write(chunk)
                    sent[0] += len(chunk)
            return resp

        async with service(endless) as here:
            assert await boot(bridge.port, f"{here}/cp") == 200
            assert await reset_through(csms) == ("error", CALLBACK_FAILED)
        assert (
            bridge.metrics.value(
                "ocppkit_bridge_soap_callbacks_refused_total", reason="answer_too_large"
            )
            == 1
        )

    run(tmp_path, body, max_frame_bytes=16 * 1024)
    assert sent[0] < total // 4  # the bridge hung up long before the end


def test_a_declared_oversized_answer_is_refused_before_reading(tmp_path: Path) -> None:
    async def body(csms: Csms, bridge: Bridge) -> None:
        async def big(request: web.Request) -> web.Response:
            return web.Response(body=b"<x/>" * (40 * 1024), content_type="application/soap+xml")

        async with service(big) as here:
            assert await boot(bridge.port, f"{here}/cp") == 200
            assert await reset_through(csms) == ("error", CALLBACK_FAILED)
        assert (
            bridge.metrics.value(
                "ocppkit_bridge_soap_callbacks_refused_total", reason="answer_too_large"
            )
            == 1
        )

    run(tmp_path, body, max_frame_bytes=16 * 1024)


def test_an_oversized_request_from_a_charger_is_refused_with_413(tmp_path: Path) -> None:
    async def body(csms: Csms, bridge: Bridge) -> None:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{bridge.port}/ocpp/soap15"
            data = b"<x>" + b"a" * (70 * 1024) + b"</x>"
            async with http.post(url, data=data, headers={"Content-Type": SOAP}) as resp:
                assert resp.status == 413

    run(tmp_path, body, max_frame_bytes=16 * 1024)


# -- item 14: the SOAP Content-Type ----------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/xml; charset=utf-8", "application/json", "application/soap+xml; charset=latin-1"],
)
def test_a_request_that_is_not_soap_12_utf8_gets_415_and_a_sender_fault(
    tmp_path: Path, content_type: str
) -> None:
    async def body(csms: Csms, bridge: Bridge) -> None:
        envelope = build_request(
            Role.CENTRAL_SYSTEM, "Heartbeat", {}, charge_box_identity=CP,
            to="http://x/", message_id="urn:uuid:1",
        )  # fmt: skip
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{bridge.port}/ocpp/soap15"
            async with http.post(url, data=envelope, headers={"Content-Type": content_type}) as r:
                assert r.status == 415
                text = await r.text()
                assert "Sender" in text and "Fault" in text
        assert bridge.sessions == {}

    run(tmp_path, body)


# -- the policy itself, without sockets ------------------------------------------------------


def test_the_callback_policy_table() -> None:
    none = callback_rules(())
    nets = callback_rules(("10.0.0.0/8", "cp.example", "2001:db8::/32"))
    cases = [
        ("http://10.1.2.3:8080/cp", "10.1.2.3", none, None),
        ("http://10.1.2.3:8080/cp", "10.9.9.9", none, "address_not_allowed"),
        ("http://10.1.2.3:8080/cp", "192.0.2.1", nets, None),
        ("http://169.254.169.254/latest", "192.0.2.1", nets, "address_not_allowed"),
        ("https://cp.example/ocpp", None, nets, None),
        ("https://CP.example./ocpp", None, nets, None),
        ("http://[2001:db8::5]/cp", None, nets, None),
        ("http://[::1]/cp", "127.0.0.1", none, "address_not_allowed"),
        ("http://a:b@10.1.2.3/cp", "10.1.2.3", none, "credentials_in_address"),
        ("gopher://10.1.2.3/", "10.1.2.3", none, "scheme"),
        ("http://10.1.2.3:99999/", "10.1.2.3", none, "malformed_address"),
        ("http:///nohost", None, none, "no_host"),
    ]
    for address, source, rules, expected in cases:
        assert callback_refusal(address, source, rules) == expected, address
    with pytest.raises(ValueError):
        callback_rules(("http://x/",))
