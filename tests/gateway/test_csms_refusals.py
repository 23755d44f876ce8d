"""A CSMS that refuses a station's handshake (issue #16 item 14, first point).

401/403/404 from the CSMS must not reach the charger as 503 (which it retries
at once, for ever): the charger gets 403/404 with a long Retry-After, and the
bridge's own reconnects for it back off to the longest delay.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import websockets
import websockets.exceptions
from aiohttp import web

from ocppkit.toolkit.gateway.refusals import REFUSED_RETRY_AFTER
from ocppkit.toolkit.gateway.server import Bridge
from tests.gateway.test_e2e_session import bridge_config
from tests.gateway.test_hardening import captured_logger

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("csms_status", "charger_status", "reason"),
    [
        (401, 403, "csms_refused_credentials"),
        (403, 403, "csms_forbidden"),
        (404, 404, "csms_unknown_charger"),
        (500, 503, "upstream_unreachable"),
    ],
)
def test_a_csms_refusal_reaches_the_charger_as_a_refusal_it_does_not_retry_hot(
    tmp_path: Path, csms_status: int, charger_status: int, reason: str
) -> None:
    log, seen = captured_logger(f"refusal{csms_status}")

    async def main() -> tuple[int, str | None]:
        async def refuse(request: web.Request) -> web.Response:
            return web.Response(status=csms_status, text="no")

        app = web.Application()
        app.router.add_get("/ocpp/{id}", refuse)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"ws://127.0.0.1:{runner.addresses[0][1]}/ocpp"
        bridge = Bridge(bridge_config(url, tmp_path, connect_timeout=1), log=log)
        await bridge.start()
        try:
            with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
                await websockets.connect(
                    f"ws://127.0.0.1:{bridge.port}/ocpp/CP1", subprotocols=["ocpp1.6"]
                )
            response = refused.value.response
            return response.status_code, response.headers.get("Retry-After")
        finally:
            await bridge.stop()
            await runner.cleanup()

    status, retry_after = asyncio.run(main())
    assert status == charger_status
    failed = seen.events("upstream_connect_failed")
    assert failed
    if charger_status == 503:
        assert retry_after == "10"
        assert failed[0]["retry_in"] <= 0.5  # an unreachable CSMS is retried soon
    else:
        assert retry_after == str(REFUSED_RETRY_AFTER)
        assert failed[0]["retry_in"] >= 15.0  # half of backoff_max at least
    assert [e["reason"] for e in seen.events("charger_refused")] == [reason]


def test_a_csms_that_closes_each_link_at_once_is_retried_ever_more_slowly(tmp_path: Path) -> None:
    # CitrineOS 1.8.3, its message broker channel lost, accepted every handshake and
    # closed it at once (1011); the bridge, taking each open link as a success,
    # reconnected some three times a second for minutes.
    log, seen = captured_logger("closes-at-once")

    async def main() -> None:
        async def accept_and_close(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse(protocols=("ocpp2.0.1",))
            await ws.prepare(request)
            await ws.close(code=1011, message=b"internal error")
            return ws

        app = web.Application()
        app.router.add_get("/ocpp/{id}", accept_and_close)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"ws://127.0.0.1:{runner.addresses[0][1]}/ocpp"
        cfg = bridge_config(url, tmp_path, backoff_min=0.01, backoff_max=4.0, upstream_grace=30)
        bridge = Bridge(cfg, log=log)
        await bridge.start()
        try:
            async with websockets.connect(
                f"ws://127.0.0.1:{bridge.port}/ocpp/CP1", subprotocols=["ocpp1.6"]
            ):
                while len(seen.events("upstream_down")) < 6:
                    await asyncio.sleep(0.05)
        finally:
            await bridge.stop()
            await runner.cleanup()

    asyncio.run(main())
    downs = seen.events("upstream_down")[:6]
    assert {e["code"] for e in downs} == {1011}
    for attempt, down in enumerate(downs):  # backoff_delay's bounds for attempt 0, 1, 2...
        step = min(4.0, 0.01 * 2**attempt)
        assert step / 2 - 0.001 <= down["retry_in"] <= step + 0.001
