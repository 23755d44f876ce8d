"""One flooding charger must not hold up the others (#16 item 9, fair scheduling).

Measured by order, never by time: the bridge runs in the test's own event
loop, and the test writes a flooding charger's frames and then a quiet
charger's one frame straight into their sockets before it yields, so both
arrive in the same turn of the loop. The journal then says in which order
the bridge took them (it is written as each frame is handled).

- A flood of frames the bridge answers without a commit (local Heartbeat
  answers while the charger's CSMS slot is busy, refusals beyond the
  in-flight cap) used to be read and handled in one go: 2,000 frames before
  the quiet charger's single one. The bridge now takes one frame per charger
  per turn of the loop.
- A flood of frames that each need a commit: a charger has one commit in
  flight at a time, so the quiet charger's commit goes into the next group
  commit, not behind the flood.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.translators.bridge import Side
from ocppkit.translators.journal import Direction, Leg
from tests.gateway.hardening_kit import UPGRADE
from tests.gateway.harness import journal_records
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(90)
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W1"}
NOW = "2026-01-01T00:00:00.000Z"
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
FLOOD = 2000


class RawCharger:
    """A WebSocket client that writes frames without yielding to the loop."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, cp_id: str) -> RawCharger:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        extra = "Sec-WebSocket-Protocol: ocpp1.6\r\n"
        writer.write(UPGRADE.format(path=f"/ocpp/{cp_id}", extra=extra).encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def put(self, frame: list[Any]) -> None:
        """One masked text frame into the socket, now (the mask key 0 keeps the bytes)."""
        data = orjson.dumps(frame)
        size = len(data)
        head = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0xFE]) + size.to_bytes(2)
        self.writer.write(head + b"\0\0\0\0" + data)

    async def recv(self) -> list[Any]:
        """The next text frame from the bridge (server frames are not masked)."""
        b0, b1 = await asyncio.wait_for(self.reader.readexactly(2), 20)
        size = b1 & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2))
        elif size == 127:
            size = int.from_bytes(await self.reader.readexactly(8))
        data = await self.reader.readexactly(size)
        assert b0 & 0x0F == 1, b0
        return list(orjson.loads(data))

    async def call(self, frame: list[Any]) -> list[Any]:
        self.put(frame)
        return await self.recv()

    async def drain_answers(self, count: int) -> list[list[Any]]:
        return [await self.recv() for _ in range(count)]

    def close(self) -> None:
        self.writer.close()


@contextlib.asynccontextmanager
async def slow_csms() -> AsyncIterator[str]:
    """A 2.0.1 CSMS that answers at once, except DataTransfer, which it never answers."""

    async def handle(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("ocpp2.0.1",))
        await ws.prepare(request)
        async for msg in ws:
            frame = orjson.loads(msg.data)
            if frame[0] != 2 or frame[2] == "DataTransfer":
                continue
            answer: dict[str, Any] = {}
            if frame[2] == "BootNotification":
                answer = {"currentTime": NOW, "interval": 60, "status": "Accepted"}
            elif frame[2] == "Heartbeat":
                answer = {"currentTime": NOW}
            await ws.send_str(orjson.dumps([3, frame[1], answer]).decode())
        return ws

    app = web.Application()
    app.router.add_get("/ocpp/{id}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"ws://127.0.0.1:{runner.addresses[0][1]}/ocpp"
    finally:
        await runner.cleanup()


def taken(tmp: Path) -> list[tuple[str, str]]:
    """(charger, message id) of every charger call, in the order the bridge handled them."""
    return [
        (r.charge_point_id, r.message[1])
        for r in journal_records(tmp / "journal")
        if r.leg is Leg.DOWNSTREAM
        and r.direction is Direction.CS_TO_CSMS
        and isinstance(r.message, list)
        and r.message[0] == 2
    ]


def sent_up(tmp: Path) -> list[tuple[str, str]]:
    """(charger, action) of every call sent to the CSMS, in order."""
    return [
        (r.charge_point_id, r.message[2])
        for r in journal_records(tmp / "journal")
        if r.leg is Leg.UPSTREAM
        and r.direction is Direction.CS_TO_CSMS
        and isinstance(r.message, list)
        and r.message[0] == 2
    ]


async def flood_and_one(
    tmp: Path, flood: list[list[Any]], *, hold: bool, answered: int, fill: bool = False
) -> int:
    """A floods, Q sends one StatusNotification in the same loop turn; A's frames taken before Q's.

    ``hold``: A's CSMS slot is kept busy first; ``fill``: and its outbox filled to the cap.
    """
    async with slow_csms() as url:
        cfg = bridge_config(
            url, tmp, call_timeout=30, upstream_grace=30, max_in_flight=50, drain_timeout=0.5
        )
        bridge = Bridge(cfg)
        await bridge.start()
        flooder = quiet = None
        try:
            flooder = await RawCharger.connect(bridge.port, "FLOOD")
            quiet = await RawCharger.connect(bridge.port, "QUIET")
            for ch in (flooder, quiet):
                assert (await ch.call([2, "boot", "BootNotification", BOOT]))[0] == 3
            if hold:  # the flooder's CSMS slot stays busy: its Heartbeats are answered locally
                flooder.put([2, "held", "DataTransfer", {"vendorId": "X"}])
                core = bridge.sessions["FLOOD"].core
                while not core.endpoints[Side.CSMS].busy:
                    await asyncio.sleep(0.01)
                if fill:
                    for i in range(core.max_in_flight - 1):
                        flooder.put([2, f"fill{i}", "StatusNotification", STATUS])
                    while len(core.outbox) < core.max_in_flight:
                        await asyncio.sleep(0.01)
            for frame in flood:
                flooder.put(frame)
            quiet.put([2, "q", "StatusNotification", STATUS])  # no await in between
            assert (await quiet.recv())[:2] == [3, "q"]
            answers = await flooder.drain_answers(answered)
            assert all(a[0] in (3, 4) for a in answers)
        finally:
            for ch in (flooder, quiet):
                if ch is not None:
                    ch.close()
            await bridge.stop()
    order = taken(tmp)
    flood_ids = {f[1] for f in flood}
    position = order.index(("QUIET", "q"))
    return sum(1 for cp, mid in order[:position] if cp == "FLOOD" and mid in flood_ids)


def test_a_quiet_charger_is_not_held_behind_a_flood_of_locally_answered_heartbeats(
    tmp_path: Path,
) -> None:
    flood = [[2, f"hb{i}", "Heartbeat", {}] for i in range(FLOOD)]
    before = asyncio.run(flood_and_one(tmp_path, flood, hold=True, answered=FLOOD))
    assert before <= 3, f"{before} of the flood's {FLOOD} frames were handled first"


def test_a_quiet_charger_is_not_held_behind_a_flood_refused_beyond_the_in_flight_cap(
    tmp_path: Path,
) -> None:
    flood = [[2, f"s{i}", "StatusNotification", STATUS] for i in range(FLOOD)]
    # The outbox is full (the held call and 49 behind it): every one is refused at once.
    before = asyncio.run(flood_and_one(tmp_path, flood, hold=True, answered=FLOOD, fill=True))
    assert before <= 3, f"{before} of the flood's {FLOOD} frames were handled first"


def test_a_quiet_chargers_commit_goes_up_before_a_flood_that_commits_every_frame(
    tmp_path: Path,
) -> None:
    """Every flood frame needs a commit here (the CSMS answers at once, the cap is not reached)."""
    flood = [[2, f"s{i}", "StatusNotification", STATUS] for i in range(40)]
    asyncio.run(flood_and_one(tmp_path, flood, hold=False, answered=len(flood)))
    up = sent_up(tmp_path)
    position = up.index(("QUIET", "StatusNotification"))
    flood_sent_first = sum(
        1 for cp, action in up[:position] if cp == "FLOOD" and action != "BootNotification"
    )
    # Q's frame arrived with the flood's first: at most the flood's one commit
    # in flight and the one in the same batch as Q's go before it.
    assert flood_sent_first <= 2, up[: position + 1]
