"""A charger that goes away is freed by reference counting (``teardown.py``).

Its session, core, endpoints and upstream link must not wait in reference
cycles for the cyclic collector: that collection stops the loop for all the
other chargers, and after a reconnect storm it walks a thousand sessions at
once. The bridge runs in this process on a real socket; the charger and the
CSMS are real peers. The collector's own debug mode (``DEBUG_SAVEALL``) lists
what it found unreachable.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from pathlib import Path

import orjson
import websockets

from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.gateway.teardown import forget_traceback
from tests.gateway.test_server import exchange, run

OURS = ("ocppkit.toolkit.gateway.", "ocppkit.translators.")


def _cyclic_garbage() -> Counter[str]:
    """What the collector finds unreachable now, by type (ours only)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = Counter(
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            if type(o).__module__.startswith(OURS)
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


async def _until_retired(bridge: Bridge, cp: str) -> None:
    for _ in range(200):  # bounded: the janitor retires an idle session within a second
        if cp not in bridge.sessions and cp not in bridge._retiring:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the session of {cp} was never retired")


def test_a_charger_that_disconnects_leaves_no_session_objects_in_reference_cycles(
    tmp_path: Path,
) -> None:
    found: list[Counter[str]] = []

    async def body(_: object, bridge: Bridge, where: str) -> None:
        boot = {"chargePointModel": "M", "chargePointVendor": "V"}
        gc.collect()  # what earlier tests left
        for i in range(3):
            cp = f"GONE{i}"
            async with websockets.connect(
                f"ws://{where}/ocpp/{cp}", subprotocols=["ocpp1.6"]
            ) as ws:
                answer = await exchange(
                    ws, orjson.dumps([2, "b", "BootNotification", boot]).decode()
                )
                assert answer[0] == 3
            await _until_retired(bridge, cp)
        found.append(_cyclic_garbage())

    run(tmp_path, body)
    assert found == [Counter()]


def test_forgetting_a_traceback_keeps_the_exception_and_its_chain() -> None:
    def fail() -> None:
        try:
            raise EOFError("the stream ended")
        except EOFError as first:
            raise ConnectionResetError("reset") from first

    try:
        fail()
    except ConnectionResetError as exc:
        kept = exc
    assert kept.__traceback__ is not None
    forget_traceback(kept)
    assert kept.__traceback__ is None and kept.__cause__ is not None
    assert kept.__cause__.__traceback__ is None and str(kept.__cause__) == "the stream ended"
    forget_traceback(None)  # a WebSocket closed cleanly has no exception
