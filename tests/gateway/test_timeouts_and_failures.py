"""Translator and store failures through the real process parts: the waiting side
gets its CALLERROR, the state stays as committed, and the connection stays up.

The protocol rules themselves (timeouts, silent peers, refusals, ids and
connection generations) are tested without sockets in ``tests/bridge``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.gateway.store import DeleteOutbox, Op
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.toolkit.textio import iter_lines
from ocppkit.translators.charger16_csms201 import session as real_translator
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.frames import Call, Frame
from ocppkit.translators.journal import decode_record
from ocppkit.translators.outcome import Step
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(60)
BOOT = {"chargePointModel": "M", "chargePointVendor": "V"}


async def recv(ws: Any) -> list[Any]:
    return list(orjson.loads(await asyncio.wait_for(ws.recv(), 10)))


class FailsOnHeartbeat:
    """The real translator, with a fault injected: Heartbeat crashes it mid-way."""

    def from_charger(self, state: BridgeState, frame: Frame, ctx: Context) -> Step:
        if isinstance(frame, Call) and frame.action == "Heartbeat":
            state.next_tx_id16 += 1000  # half-done work that must not survive
            raise RuntimeError("secret internal detail")
        return real_translator.from_charger(state, frame, ctx)

    def from_csms(self, state: BridgeState, frame: Frame, ctx: Context) -> Step:
        return real_translator.from_csms(state, frame, ctx)


def test_a_translator_crash_is_an_internal_error_without_details_and_undone(
    tmp_path: Path,
) -> None:
    async def main() -> tuple[list[Any], list[Any], int, str]:
        csms = Csms(CsmsSettings())
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path), translator=FailsOnHeartbeat())
        await bridge.start()
        try:
            async with websockets.connect(f"ws://127.0.0.1:{bridge.port}/ocpp/CPX",
                                          subprotocols=["ocpp1.6"]) as ws:  # fmt: skip
                first_id = bridge.sessions["CPX"].state.next_tx_id16
                await ws.send('[2,"hb","Heartbeat",{}]')
                crashed = await recv(ws)
                await ws.send(orjson.dumps([2, "boot", "BootNotification", BOOT]).decode())
                boot = await recv(ws)
                next_id = bridge.sessions["CPX"].state.next_tx_id16
            text = bridge.metrics.render()
        finally:
            await bridge.stop()
            await csms.stop()
        return crashed, boot, next_id - first_id, text

    crashed, boot, moved, text = asyncio.run(main())
    assert crashed == [4, "hb", "InternalError", "internal error", {}]
    assert boot[:2] == [3, "boot"]
    assert moved == 0  # the half-done change (+1000) was rolled back
    assert 'ocppkit_bridge_translation_errors_total{reason="RuntimeError"} 1' in text


def test_an_answer_sent_before_its_commit_failed_is_redone_from_the_outbox(
    tmp_path: Path,
) -> None:
    """The charger has its answer at once; the commit of the CSMS's answer fails;
    the call stays at the head of the outbox, goes to the CSMS again, and the
    second answer is committed: the state ends as if nothing had failed."""

    async def main() -> tuple[list[Any], list[Any], list[str], int, int]:
        journal = JournalWriter(tmp_path / "csms-journal")
        csms = Csms(CsmsSettings(), journal=journal)
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path))
        await bridge.start()
        store = bridge.svc.store
        real_write = store._write
        failures: list[int] = []

        def write_failing_once(batch: list[tuple[list[Op], Any]]) -> set[str]:
            ops = [op for submitted, _ in batch for op in submitted]
            if not failures and any(isinstance(op, DeleteOutbox) for op in ops):
                failures.append(1)
                raise sqlite3.OperationalError("disk I/O error (injected)")
            return real_write(batch)

        store._write = write_failing_once  # type: ignore[method-assign]
        try:
            async with websockets.connect(f"ws://127.0.0.1:{bridge.port}/ocpp/CPF",
                                          subprotocols=["ocpp1.6"]) as ws:  # fmt: skip
                await ws.send(orjson.dumps([2, "boot", "BootNotification", BOOT]).decode())
                boot = await recv(ws)
                # The failed commit leaves the call queued: it is sent again and
                # answered again (the charger ignores the second answer).
                session = bridge.sessions["CPF"]

                async def settled() -> int:
                    # The charger's answer may come before its commit lands: wait
                    # (bounded) for the outbox to drain rather than read it at once.
                    for _ in range(200):
                        if not session.core.outbox and store.outbox_depth() == 0:
                            break
                        await asyncio.sleep(0.05)
                    return store.outbox_depth()

                await settled()
                await ws.send('[2,"hb","Heartbeat",{}]')
                heartbeat = await recv(ws)
                while heartbeat[1] != "hb":  # the repeated boot answer, if it came first
                    heartbeat = await recv(ws)
                depth = await settled()
        finally:
            await bridge.stop()
            await csms.stop()
            journal.close()
        received = [
            r.message[2]
            for path in sorted((tmp_path / "csms-journal").glob("journal-*"))
            for _, line in iter_lines(path)
            if (r := decode_record(line)).direction == "cs_to_csms" and r.message[0] == 2
        ]
        return boot, heartbeat, received, depth, len(failures)

    boot, heartbeat, received, depth, failures = asyncio.run(main())
    assert failures == 1
    assert boot[:2] == [3, "boot"] and boot[2]["status"] == "Accepted"
    assert heartbeat[:2] == [3, "hb"]
    assert received == ["BootNotification", "BootNotification", "Heartbeat"]
    assert depth == 0
