"""Crash consistency: the bridge killed with SIGKILL at random points, again and again.

Several bridge processes run side by side on 127.0.0.1, one 1.6 charger each, all
in front of the built-in strict 2.0.1 CSMS. Each charger runs transactions
(StartTransaction, MeterValues, StopTransaction), queueing and re-sending every
unanswered transaction message across disconnections as a 1.6 charger does
(1.6 §4.7). While it does, the bridge is killed: after a randomly chosen message
of the cycle has been sent and a random few milliseconds more, so the kill lands
before, during or after the CSMS round trip. The bridge is restarted on the same
database and the charger carries on.

Afterwards, for every transaction the charger ran: the CSMS has it exactly once,
with one Started and one Ended, its seqNo contiguous from 0, its energy exact.

The random points come from a seed: ``OCPPKIT_TEST_CRASH_SEED`` replays a run
(the seed is in every failure message). ``OCPPKIT_TEST_CRASH_CYCLES`` (default
52, in all) and ``OCPPKIT_TEST_CRASH_LANES`` (default 4 bridges) scale it.
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from ocpp.v16 import call as call16

from ocppkit.toolkit.csms import Csms, CsmsSettings
from tests.gateway.harness import BridgeProcess, ResendingLink, meter, now

pytestmark = pytest.mark.timeout(240)

CYCLES = int(os.environ.get("OCPPKIT_TEST_CRASH_CYCLES", "52"))
LANES = int(os.environ.get("OCPPKIT_TEST_CRASH_LANES", "4"))
SEED = int(os.environ.get("OCPPKIT_TEST_CRASH_SEED", str(random.SystemRandom().randrange(2**32))))
METER_SAMPLES = 2  # per transaction, between Start and Stop
FAST_RECONNECT = {"OCPPKIT_BRIDGE_CONNECT_TIMEOUT": "1", "OCPPKIT_BRIDGE_BACKOFF_MAX": "1"}


@dataclass
class Planned:
    """One transaction as the charger ran it."""

    meter_start: int
    meter_stop: int
    tx_id: int | None = None


@dataclass
class Lane:
    """One bridge process and its charger."""

    index: int
    bridge: BridgeProcess
    rng: random.Random
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    sends: int = 0
    planned: list[Planned] = field(default_factory=list)
    kills: int = 0
    resends: int = 0

    @property
    def cp_id(self) -> str:
        return f"CRASH{self.index}"

    def note_send(self) -> None:
        self.sends += 1
        self.sent.set()  # the killer may strike from here on

    def note_resend(self) -> None:
        self.resends += 1


async def run_lane(lane: Lane, cycles: int) -> None:
    link = ResendingLink(
        lambda: lane.bridge.url,
        lane.cp_id,
        rounds=200,
        on_send=lane.note_send,
        on_resend=lane.note_resend,
    )
    try:
        await link.send(
            call16.BootNotification(charge_point_model="Wallbox-1", charge_point_vendor="Acme")
        )
        for cycle in range(cycles):
            start_wh = lane.index * 10_000_000 + cycle * 10_000
            plan = Planned(
                start_wh, start_wh + 1000 * (METER_SAMPLES + 1) + lane.rng.randrange(999)
            )
            lane.planned.append(plan)
            # Where this cycle's kill lands: after message `at` is sent, `delay` later.
            at = lane.rng.randrange(METER_SAMPLES + 2)
            delay = lane.rng.uniform(0.0, 0.04)
            killer = asyncio.create_task(kill_after(lane, lane.sends + at + 1, delay))
            started = await link.send(
                call16.StartTransaction(
                    connector_id=1, id_tag="TAG1", meter_start=start_wh, timestamp=now()
                )
            )
            plan.tx_id = int(started.transaction_id)
            for k in range(METER_SAMPLES):
                await link.send(meter(plan.tx_id, start_wh + 1000 * (k + 1)))
            await link.send(
                call16.StopTransaction(transaction_id=plan.tx_id, meter_stop=plan.meter_stop,
                                       timestamp=now(), reason="Local", id_tag="TAG1")
            )  # fmt: skip
            await killer  # the cycle ends after its kill and restart
        await link.send(call16.Heartbeat())  # the last restart is up before SIGTERM
    finally:
        await link.close()


async def kill_after(lane: Lane, sends: int, delay: float) -> None:
    while lane.sends < sends:
        lane.sent.clear()
        await asyncio.wait_for(lane.sent.wait(), 60)
    await asyncio.sleep(delay)
    lane.bridge.kill()
    await lane.bridge.wait_killed()
    lane.kills += 1
    await lane.bridge.start()  # same port, same database


def test_random_kill_9_points_lose_or_double_no_transaction(tmp_path: Path) -> None:
    why = f"OCPPKIT_TEST_CRASH_SEED={SEED}"
    root = random.Random(SEED)
    per_lane = [CYCLES // LANES + (1 if i < CYCLES % LANES else 0) for i in range(LANES)]

    async def main() -> tuple[Csms, list[Lane]]:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        lanes = [
            Lane(i, BridgeProcess(csms.url, tmp_path / f"b{i}.db", tmp_path / f"j{i}",
                                  env=FAST_RECONNECT), random.Random(root.getrandbits(64)))
            for i in range(LANES)
        ]  # fmt: skip
        try:
            await asyncio.gather(*(lane.bridge.start() for lane in lanes))
            await asyncio.gather(
                *(run_lane(lane, n) for lane, n in zip(lanes, per_lane, strict=True))
            )
            for lane in lanes:
                assert await lane.bridge.terminate() == 0, why
        finally:
            for lane in lanes:
                if lane.bridge.proc is not None and lane.bridge.proc.returncode is None:
                    lane.bridge.kill()
            await csms.stop()
        return csms, lanes

    csms, lanes = asyncio.run(main())
    assert sum(lane.kills for lane in lanes) == CYCLES >= 1, why
    assert csms.violations == 0, (why, csms.violation_log)
    for lane in lanes:
        seen = [tx for tx in csms.transactions.values() if tx.station_id == lane.cp_id]
        by_start = {min((wh for _, wh in tx.meter), default=None): tx for tx in seen}
        assert len(seen) == len(lane.planned) == len(by_start), (why, lane.cp_id, seen)
        for plan in lane.planned:
            tx = by_start.get(Decimal(plan.meter_start))
            assert tx is not None, (why, lane.cp_id, plan)
            assert tx.event_types.count("Started") == 1, (why, tx)
            assert tx.event_types.count("Ended") == 1 and tx.event_types[-1] == "Ended", (why, tx)
            assert sorted(tx.seq_nos) == list(range(len(tx.seq_nos))), (why, tx)
            assert tx.energy_wh == Decimal(plan.meter_stop - plan.meter_start), (why, tx)
        ids = [plan.tx_id for plan in lane.planned]
        assert len(set(ids)) == len(ids), (why, lane.cp_id, ids)
