"""What both password-rotation tests share: a CSMS that records auth headers.

The forward test (a 1.6 charger behind a 2.0.1 CSMS) and the reverse test (a
2.0.1 station behind a 1.6 CSMS) differ only in the subprotocol the CSMS
speaks, the command it sends and the BootNotification the charger offers.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import orjson
import websockets
import websockets.exceptions
from aiohttp import web

from ocppkit.toolkit.gateway.server import Bridge


def basic(cp_id: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{cp_id}:{password}".encode()).decode()}


class RecordingCsms:
    """Answers BootNotification, sends one command on request, records auth headers."""

    def __init__(self, subprotocol: str) -> None:
        self.subprotocol = subprotocol
        self.auth: list[str | None] = []
        self.ws: web.WebSocketResponse | None = None
        self.answers: asyncio.Queue[Any] = asyncio.Queue()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ocpp/{id}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"ws://127.0.0.1:{self.runner.addresses[0][1]}/ocpp"

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.auth.append(request.headers.get("Authorization"))
        ws = self.ws = web.WebSocketResponse(protocols=(self.subprotocol,))
        await ws.prepare(request)
        async for msg in ws:
            frame = orjson.loads(msg.data)
            if frame[0] == 2:
                answer: dict[str, Any] = {}
                if frame[2] == "BootNotification":
                    answer = {"currentTime": "2026-01-01T00:00:00.000Z", "interval": 60,
                              "status": "Accepted"}  # fmt: skip
                await ws.send_str(orjson.dumps([3, frame[1], answer]).decode())
            else:
                await self.answers.put(frame)
        return ws

    async def command(self, message_id: str, action: str, payload: dict[str, Any]) -> Any:
        """Send one CALL to the connected bridge and return the answer frame."""
        assert self.ws is not None
        await self.ws.send_str(orjson.dumps([2, message_id, action, payload]).decode())
        return await asyncio.wait_for(self.answers.get(), 10)


async def connect(bridge: Bridge, cp_id: str, subprotocol: str, password: str) -> Any:
    return await websockets.connect(
        f"ws://127.0.0.1:{bridge.port}/ocpp/{cp_id}",
        subprotocols=[subprotocol],
        additional_headers=basic(cp_id, password),
    )


async def refused(bridge: Bridge, cp_id: str, subprotocol: str, password: str) -> int | None:
    """The HTTP status the handshake was refused with, or None when it was accepted."""
    try:
        ws = await connect(bridge, cp_id, subprotocol, password)
    except websockets.exceptions.InvalidStatus as exc:
        return exc.response.status_code
    await ws.close()
    return None


async def booted(ws: Any, boot: dict[str, Any]) -> Any:
    """Send a BootNotification and return its answer, which must be a CALLRESULT."""
    await ws.send(orjson.dumps([2, "b", "BootNotification", boot]).decode())
    answer = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    assert answer[0] == 3
    return answer
