"""Fault tests with the bridge as a real process: kill -9, a CSMS cut, reconnect
storms, SIGTERM, floods of malformed frames. Nothing the charger reported may be
lost: every transaction is on the CSMS exactly once, ended, with its energy.

The defaults are the issue's figures (a 30 s cut, 100 reconnects, 10,000
malformed frames: about 50 s in all, most of it the cut, run beside the other
tests); the environment variables ``OCPPKIT_TEST_CUT_SECONDS``,
``OCPPKIT_TEST_RECONNECTS`` and ``OCPPKIT_TEST_MALFORMED`` scale them for a
soak run or a quick local check.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
import websockets
from ocpp.v16 import call as call16

from ocppkit.toolkit.csms import Csms, CsmsSettings
from tests.gateway.harness import BridgeProcess, connected, journal_records, now, retry

pytestmark = pytest.mark.timeout(90)

CUT_SECONDS = float(os.environ.get("OCPPKIT_TEST_CUT_SECONDS", "30"))
RECONNECTS = int(os.environ.get("OCPPKIT_TEST_RECONNECTS", "100"))
MALFORMED = int(os.environ.get("OCPPKIT_TEST_MALFORMED", "10000"))
FAST_RECONNECT = {"OCPPKIT_BRIDGE_CONNECT_TIMEOUT": "1", "OCPPKIT_BRIDGE_BACKOFF_MAX": "1"}


def assert_exactly_once(csms: Csms, energy_wh: Decimal) -> None:
    assert csms.violations == 0, csms.violation_log
    txs = list(csms.transactions.values())
    assert len(txs) == 1, txs
    tx = txs[0]
    assert tx.ended, tx.event_types
    assert tx.event_types.count("Started") == 1 and tx.event_types.count("Ended") == 1
    assert tx.seq_nos == sorted(tx.seq_nos)
    assert tx.energy_wh == energy_wh


async def start_session(ch: object, meter_start: int) -> int:
    await ch.boot()  # type: ignore[attr-defined]
    await ch.status(1, "Preparing")  # type: ignore[attr-defined]
    start = await ch.call(  # type: ignore[attr-defined]
        call16.StartTransaction(
            connector_id=1, id_tag="TAG1", meter_start=meter_start, timestamp=now()
        )
    )
    await ch.status(1, "Charging")  # type: ignore[attr-defined]
    return int(start.transaction_id)


def stop(tx: int, wh: int) -> call16.StopTransaction:
    return call16.StopTransaction(
        transaction_id=tx, meter_stop=wh, timestamp=now(), reason="Local", id_tag="TAG1"
    )


def test_kill_9_mid_call_then_restart_resumes_the_transaction(tmp_path: Path) -> None:
    async def main() -> Csms:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal")
        await bridge.start()
        try:
            async with connected(bridge.url, "CPK") as ch:
                tx = await start_session(ch, 10_000)
                await ch.meter(1, tx, 10_500)
                # The CSMS is slow to answer the next one; the bridge dies
                # with it stored and in flight.
                csms.settings = replace(csms.settings, answer_delay=3.0)
                in_flight = asyncio.create_task(ch.meter(1, tx, 11_000))
                await asyncio.sleep(0.8)
                bridge.kill()
                await bridge.wait_killed()
                in_flight.cancel()
            csms.settings = replace(csms.settings, answer_delay=0.0)
            await bridge.start()  # same port, same database
            async with connected(bridge.url, "CPK") as ch:
                # The charger never got its answer: it sends the sample again,
                # then the Stop -- for the transaction id from before the crash.
                await retry(lambda: ch.meter(1, tx, 11_000))
                await retry(lambda: ch.call(stop(tx, 12_000)))
            assert await bridge.terminate() == 0
        finally:
            await csms.stop()
        assert "resuming_outbox" in bridge.log_text()
        return csms

    csms = asyncio.run(main())
    assert_exactly_once(csms, Decimal(2000))


def test_csms_cut_mid_session_charger_queues_and_nothing_is_lost(tmp_path: Path) -> None:
    async def main() -> tuple[Csms, list[int]]:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        port = csms.port
        bridge = BridgeProcess(
            csms.url, tmp_path / "b.db", tmp_path / "journal", env=FAST_RECONNECT
        )
        await bridge.start()
        refusals: list[int] = []
        try:
            async with connected(bridge.url, "CPC") as ch:
                tx = await start_session(ch, 500)
                await ch.meter(1, tx, 1000)
                await csms.stop()  # the cut
                ws = ch._connection
                # Offline policy: the bridge drops the charger after the grace time ...
                await asyncio.wait_for(ws.wait_closed(), 15)
                assert ws.close_code == 1013
            # ... and refuses it while the CSMS is away, so it stays offline and queues.
            loop = asyncio.get_running_loop()
            back_at = loop.time() + CUT_SECONDS
            while loop.time() < back_at:
                try:
                    async with websockets.connect(f"{bridge.url}/CPC", subprotocols=["ocpp1.6"]):
                        refusals.append(101)
                except websockets.exceptions.InvalidStatus as exc:
                    refusals.append(exc.response.status_code)
                await asyncio.sleep(0.2)
            await csms.start(port=port)
            async with connected(bridge.url, "CPC") as ch:
                # The queue, in order, as a 1.6 charger delivers it when back online.
                for wh in (1500, 2000):
                    await retry(lambda wh=wh: ch.meter(1, tx, wh))
                await retry(lambda: ch.call(stop(tx, 2500)))
            assert await bridge.terminate() == 0
        finally:
            await csms.stop()
        return csms, refusals

    csms, refusals = asyncio.run(main())
    assert refusals and set(refusals) == {503}
    assert_exactly_once(csms, Decimal(2000))


def test_a_short_csms_outage_is_bridged_without_the_charger_noticing(tmp_path: Path) -> None:
    async def main() -> tuple[Csms, bool]:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        port = csms.port
        bridge = BridgeProcess(
            csms.url,
            tmp_path / "b.db",
            tmp_path / "journal",
            "--upstream-grace",
            "10",
            env=FAST_RECONNECT,
        )
        await bridge.start()
        try:
            async with connected(bridge.url, "CPB") as ch:
                tx = await start_session(ch, 100)
                await csms.stop()
                # Sent while the CSMS is away: stored in the outbox, answered after.
                sample = asyncio.create_task(ch.meter(1, tx, 400))
                await asyncio.sleep(1.5)
                assert not sample.done()
                await csms.start(port=port)
                await asyncio.wait_for(sample, 15)
                await ch.call(stop(tx, 700))
                stayed = ch._connection.close_code is None
            assert await bridge.terminate() == 0
        finally:
            await csms.stop()
        return csms, stayed

    csms, stayed = asyncio.run(main())
    assert stayed
    assert_exactly_once(csms, Decimal(600))


def test_a_charger_reconnecting_many_times_keeps_its_transaction(tmp_path: Path) -> None:
    async def main() -> tuple[Csms, BridgeProcess]:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal")
        await bridge.start()
        try:
            async with connected(bridge.url, "CPR") as ch:
                tx = await start_session(ch, 0)
            for i in range(RECONNECTS):
                async with connected(bridge.url, "CPR") as ch:
                    await ch.meter(1, tx, 10 * (i + 1))
            # A new connection while the old one is still open replaces it.
            async with (
                connected(bridge.url, "CPR") as old,
                connected(bridge.url, "CPR") as ch,
            ):
                await asyncio.wait_for(old._connection.wait_closed(), 5)
                await ch.call(stop(tx, 10 * RECONNECTS + 10))
            assert await bridge.terminate() == 0
        finally:
            await csms.stop()
        return csms, bridge

    csms, bridge = asyncio.run(main())
    assert_exactly_once(csms, Decimal(10 * RECONNECTS + 10))
    assert "level=error" not in bridge.log_text()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_thousands_of_malformed_frames_are_answered_and_memory_stays_flat(tmp_path: Path) -> None:
    frames = [
        '[2,"{i}","Heartbeat",null]',  # the null-payload Heartbeat real chargers send
        '[2,"{i}","MeterValues",{{"connectorId":1,"transactionId":"x","meterValue":[]}}]',
        '[2,"{i}","Teleport",{{}}]',
        "[2,",
    ]
    expected = ["FormationViolation", "TypeConstraintViolation", "NotImplemented", None]

    async def flood(ws: object, start: int) -> None:
        for i in range(start, start + MALFORMED):
            k = i % len(frames)
            await ws.send(frames[k].format(i=i))  # type: ignore[attr-defined]
            if expected[k] is not None:
                answer = orjson.loads(await asyncio.wait_for(ws.recv(), 5))  # type: ignore[attr-defined]
                assert answer[:3] == [4, str(i), expected[k]], answer

    async def main() -> tuple[int, int]:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal")
        await bridge.start()
        assert bridge.proc is not None
        try:
            async with websockets.connect(f"{bridge.url}/CPM", subprotocols=["ocpp1.6"]) as ws:
                await flood(ws, 0)
                after_first = rss_kib(bridge.proc.pid)
                await flood(ws, MALFORMED)
                after_second = rss_kib(bridge.proc.pid)
                hb = await asyncio.wait_for(
                    ws.send(
                        '[2,"alive","BootNotification",{"chargePointModel":"M",'
                        '"chargePointVendor":"V"}]'
                    ),
                    5,
                )
                del hb
                answer = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                assert answer[:2] == [3, "alive"]
            assert await bridge.terminate() == 0
        finally:
            await csms.stop()
        assert csms.violations == 0
        return after_first, after_second

    first, second = asyncio.run(main())
    assert second - first < 4096, (first, second)  # KiB: no per-frame growth
    records = journal_records(tmp_path / "journal")
    assert sum(1 for r in records if r.meta.get("error")) >= MALFORMED // 2


def test_sigterm_drains_the_call_in_flight_before_exiting(tmp_path: Path) -> None:
    async def main() -> tuple[object, int, str]:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal")
        await bridge.start()
        try:
            async with connected(bridge.url, "CPT") as ch:
                await ch.boot()
                csms.settings = replace(csms.settings, answer_delay=1.0)
                pending = asyncio.create_task(ch.call(call16.Heartbeat()))
                await asyncio.sleep(0.3)
                assert bridge.proc is not None
                bridge.proc.terminate()  # SIGTERM while the Heartbeat is upstream
                answer = await asyncio.wait_for(pending, 10)
            code = await bridge.terminate()
        finally:
            await csms.stop()
        return answer, code, bridge.log_text()

    answer, code, log = asyncio.run(main())
    assert answer.current_time  # type: ignore[attr-defined]
    assert code == 0
    assert "event=bridge_draining" in log and "event=bridge_stopped" in log
