"""A minimal OCPP 2.0.1 station for the CSMS tests: a real aiohttp WebSocket client."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.journal_writer import JournalWriter

# A CALLRESULT payload, a (code, description) CALLERROR, raw JSON text for the
# CALLRESULT payload, or None for silence.
Answer = Callable[[str, dict[str, Any]], dict[str, Any] | tuple[str, str] | str | None]


class Station:
    """Sends CALLs and reads frames; optionally answers the CSMS's CALLs."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self.not_calls: list[list[Any]] = []  # frames other than CALLs seen by serve()

    async def send(self, frame: list[Any] | str) -> None:
        await self.ws.send_str(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    async def receive(self, timeout: float = 5.0) -> list[Any]:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        frame: list[Any] = orjson.loads(msg.data)
        return frame

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CALL and return the frame that answers it."""
        message_id = f"m{next(self._ids)}"
        await self.send([2, message_id, action, payload])
        frame = await self.receive()
        assert frame[1] == message_id, frame
        return frame

    async def serve(self, answer: Answer) -> None:
        """Answer every CSMS CALL with ``answer(action, payload)`` until closed."""
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frame = orjson.loads(msg.data)
            if frame[0] != 2:
                self.not_calls.append(frame)
                continue
            reply = answer(frame[2], frame[3])
            if isinstance(reply, dict):
                await self.send([3, frame[1], reply])
            elif isinstance(reply, str):
                await self.send(f'[3,"{frame[1]}",{reply}]')
            elif reply is not None:
                await self.send([4, frame[1], reply[0], reply[1], {}])


@asynccontextmanager
async def running_csms(
    settings: CsmsSettings | None = None, journal_dir: Path | None = None
) -> AsyncIterator[Csms]:
    journal = JournalWriter(journal_dir) if journal_dir else None
    csms = Csms(settings, journal=journal)
    await csms.start("127.0.0.1", 0)
    try:
        yield csms
    finally:
        await csms.stop()
        if journal is not None:
            journal.close()


@asynccontextmanager
async def connected(
    csms: Csms, station_id: str = "CP-1", protocols: tuple[str, ...] = ("ocpp2.0.1",)
) -> AsyncIterator[Station]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{csms.url}/{station_id}", protocols=protocols) as ws,
    ):
        yield Station(ws)


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
