"""Rules of the bridge process: what may be answered before its commit, the GC policy."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import websockets

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.translators.bridge.answers import answers_early as _answers_early
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Side
from tests.gateway.harness import BridgeProcess

RESULT = CallResult("m1", {})
ERROR = CallError("m1", "InternalError", "no", {})
CALL = Call("m2", "Heartbeat", {})


@pytest.mark.parametrize(
    ("side", "frame", "step", "early"),
    [
        # The CSMS answered an outbox call; the charger only gets answers: early.
        (Side.CSMS, RESULT, Step(to_charger=(CallResult("c1", {}),)), True),
        (Side.CSMS, ERROR, Step(to_charger=(CallError("c1", "InternalError", "", {}),)), True),
        (Side.CSMS, RESULT, Step(), True),
        # Anything that makes a call waits for its commit (ids, outbox rows).
        (Side.CSMS, RESULT, Step(to_csms=(CALL,)), False),
        (Side.CSMS, RESULT, Step(to_charger=(CallResult("c1", {}), CALL)), False),
        # A call from either side, and a charger's answer, are committed first.
        (Side.CSMS, CALL, Step(to_charger=(CALL,)), False),
        (Side.CHARGER, CALL, Step(to_charger=(CallResult("m2", {}),)), False),
        (Side.CHARGER, RESULT, Step(to_csms=(CallResult("u1", {}),)), False),
    ],
)
def test_only_csms_answers_that_become_answers_skip_waiting_for_the_commit(
    side: Side, frame: CallResult | CallError | Call, step: Step, early: bool
) -> None:
    assert _answers_early(side, frame, step) is early


def test_the_bridge_heap_policy_freezes_start_up_objects_and_collects_young_less_often() -> None:
    code = (
        "import gc\n"
        "import ocppkit.toolkit.gateway.server\n"  # what a bridge process has loaded
        "from ocppkit.toolkit.gateway.gc_policy import YOUNG_THRESHOLD, settle_heap\n"
        "tracked = len(gc.get_objects())\n"
        "settle_heap()\n"
        "assert gc.get_threshold()[0] == YOUNG_THRESHOLD > 700, gc.get_threshold()\n"
        "assert gc.get_freeze_count() > tracked // 2, (gc.get_freeze_count(), tracked)\n"
        "assert len(gc.get_objects()) < tracked // 10, len(gc.get_objects())\n"
        "pauses = []\n"
        "settle_heap(lambda seconds, generation: pauses.append((generation, seconds)))\n"
        "gc.collect()\n"
        "assert pauses and pauses[-1][0] == 2 and 0 <= pauses[-1][1] < 5, pauses\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_the_bridge_process_exports_its_gc_pauses_as_a_histogram(tmp_path: Path) -> None:
    async def main() -> str:
        csms = Csms(CsmsSettings())
        await csms.start()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal")
        await bridge.start()
        try:
            # Young collections follow the growth of live objects, not traffic:
            # chargers connecting (a session each) are what makes them happen.
            async with contextlib.AsyncExitStack() as stack:
                for i in range(150):
                    ws = await stack.enter_async_context(
                        websockets.connect(f"{bridge.url}/CPG{i}", subprotocols=["ocpp1.6"])
                    )
                    await ws.send('[2,"hb","Heartbeat",{}]')
                    await asyncio.wait_for(ws.recv(), 10)
                async with (
                    aiohttp.ClientSession() as http,
                    http.get(f"http://127.0.0.1:{bridge.port}/metrics") as response,
                ):
                    text = await response.text()
            assert await bridge.terminate() == 0
        finally:
            await csms.stop()
        return text

    text = asyncio.run(main())
    assert "# TYPE ocppkit_bridge_gc_pause_seconds histogram" in text
    assert 'ocppkit_bridge_gc_pause_seconds_count{generation="0"}' in text
