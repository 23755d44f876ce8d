"""One clock for a simulated site: what the bridge and the CSMS stamp is on the fleet's time.

The committed sample datasets are where it shows: every frame, and every time a payload
carries, lies in the three simulated days they cover, not on the day they were made.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from ocppkit.toolkit.analysis.dataset import load
from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.demo import live_site
from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.simulator import FleetConfig, run_fleet
from ocppkit.toolkit.simulator.clock import ScaledClock
from ocppkit.toolkit.simulator.model import DEFAULT_START
from ocppkit.toolkit.simulator.samples import retime
from ocppkit.toolkit.textio import iter_lines
from ocppkit.translators.bridge import ids as message_ids
from ocppkit.translators.context import fixed_context
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.journal import JournalRecord, Leg, decode_record, format_timestamp
from ocppkit.translators.versions import OcppVersion

pytestmark = [pytest.mark.network, pytest.mark.timeout(120)]
ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2031, 7, 1, 12, tzinfo=UTC)  # far from any day this test runs on
# The sample site's period (ocppkit.toolkit.simulator.samples): three days from the default start.
# The margin covers the end of the run, when the chargers' queues drain and all disconnect.
SAMPLE_START, SAMPLE_END = DEFAULT_START, DEFAULT_START + timedelta(days=3, minutes=30)
TIME_KEYS = frozenset({"timestamp", "generatedAt", "currentTime"})


def journal(directory: Path) -> list[JournalRecord]:
    return [
        decode_record(line)
        for path in sorted(directory.glob("journal-*.jsonl*"))
        for _, line in iter_lines(str(path))
    ]


def payload_times(value: Any) -> Iterator[str]:
    """Every time a payload carries: top-level stamps, ``meterValue[].timestamp``, ..."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in TIME_KEYS and isinstance(item, str):
                yield item
            else:
                yield from payload_times(item)
    elif isinstance(value, list):
        for item in value:
            yield from payload_times(item)


async def call(
    ws: aiohttp.ClientWebSocketResponse, message_id: str, action: str, payload: Any
) -> list[Any]:
    """Send a 1.6 call as a charger and return its answer (refusing any call meanwhile)."""
    await ws.send_str(orjson.dumps([2, message_id, action, payload]).decode())
    while True:
        frame = orjson.loads(await asyncio.wait_for(ws.receive_str(), 10))
        if frame[0] == 2:
            await ws.send_str(orjson.dumps([4, frame[1], "NotSupported", "", {}]).decode())
        elif frame[1] == message_id:
            return list(frame)


def test_bridge_stamps_journal_records_and_translations_with_the_clock_it_was_handed(
    tmp_path: Path,
) -> None:
    cp = "CP-CLOCK"

    async def main() -> None:
        csms = Csms(CsmsSettings())  # on the wall clock: its answers are not the bridge's stamps
        await csms.start("127.0.0.1", 0)
        cfg = BridgeConfig(
            upstream=csms.url,
            listen="127.0.0.1:0",
            state=str(tmp_path / "bridge.db"),
            journal=str(tmp_path / "journal"),
            ping_interval=0,
        ).check()
        bridge = Bridge(cfg, ctx=fixed_context(MOMENT, "bridge"))
        try:
            await bridge.start()
            url = f"ws://127.0.0.1:{bridge.port}/ocpp/{cp}"
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(url, protocols=("ocpp1.6",)) as ws,
            ):
                boot = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox-1"}
                assert (await call(ws, "1", "BootNotification", boot))[0] == 3
                # No timestamp of its own: the bridge stamps the 2.0.1 StatusNotification,
                # and the error becomes a NotifyEvent the bridge mints (generatedAt, id).
                fault = {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}
                assert (await call(ws, "2", "StatusNotification", fault))[0] == 3
        finally:
            await bridge.stop()
            await csms.stop()

    asyncio.run(main())
    records = journal(tmp_path / "journal")
    stamp = format_timestamp(MOMENT)
    assert {r.timestamp for r in records} == {stamp}
    up = {
        r.message[2]: r.message
        for r in records
        if r.leg is Leg.UPSTREAM and isinstance(r.message, list) and r.message[0] == 2
    }
    assert up["StatusNotification"][3]["timestamp"] == stamp
    assert up["NotifyEvent"][3]["generatedAt"] == stamp
    # The bridge's upstream ids come from its stored state, not from the handed id
    # source, so that a call translated again after a crash keeps its id (#21).
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        (store_id,) = db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
    assert up["NotifyEvent"][1].startswith(message_ids.prefix_for(store_id, cp))


def test_a_bridge_handed_no_clock_stamps_the_wall_clock(tmp_path: Path) -> None:
    cfg = BridgeConfig(upstream="ws://127.0.0.1:9/ocpp", state=str(tmp_path / "b.db")).check()
    before = datetime.now(UTC)
    stamped = Bridge(cfg).ctx.now()
    assert before <= stamped <= datetime.now(UTC)


def test_live_site_runs_the_csms_and_the_bridge_on_the_fleet_clock(tmp_path: Path) -> None:
    start = datetime(2030, 1, 7, tzinfo=UTC)
    fleet = FleetConfig(
        chargers=2,
        mix=((OcppVersion.V16, 0.5), (OcppVersion.V15, 0.5)),
        seed=3,
        start=start,
        duration=timedelta(hours=3),
        id_prefix="CLK",
        sessions_per_connector_day=8,
        faults_per_charger_day=4,
    )
    truth, violations = asyncio.run(
        live_site(tmp_path, fleet, 2000.0, csms_journal=tmp_path / "csms-journal")
    )
    assert truth.ok and violations == 0
    bridge_records, csms_records = journal(tmp_path / "journal"), journal(tmp_path / "csms-journal")
    assert bridge_records and csms_records
    # At 2,000x the machine's processing time is stretched (10 ms is 20 s): allow an hour.
    end = start + fleet.duration + timedelta(hours=1)
    for r in bridge_records + csms_records:
        assert start <= datetime.fromisoformat(r.timestamp) <= end, r
        if isinstance(r.message, list):
            for text in payload_times(r.message):
                assert start <= datetime.fromisoformat(text) <= end, r


def test_a_fleet_refuses_a_shared_clock_that_starts_elsewhere() -> None:
    fleet = FleetConfig(chargers=1)
    clock = ScaledClock(fleet.start + timedelta(hours=1), 2000.0)
    with pytest.raises(ConfigError, match="clock starts"):
        asyncio.run(run_fleet(fleet, "ws://127.0.0.1:9/ocpp", clock=clock))


@pytest.mark.parametrize("dataset", ["sample-dataset-2.0.1", "sample-dataset-legacy"])
def test_every_frame_of_the_committed_sample_datasets_lies_in_the_simulated_period(
    dataset: str,
) -> None:
    frames = load(ROOT / "datasets" / dataset).frames
    assert len(frames)
    outside = frames[(frames["timestamp"] < SAMPLE_START) | (frames["timestamp"] > SAMPLE_END)]
    assert outside.empty, outside[["timestamp", "charge_point_id", "action"]].head(10)
    times = [
        (t, row)
        for row in frames[frames["payload"].notna()].itertuples(index=False)
        for t in payload_times(orjson.loads(row.payload))
    ]
    assert times
    late = [
        (t, row.charge_point_id, row.action)
        for t, row in times
        if not SAMPLE_START <= datetime.fromisoformat(t) <= SAMPLE_END
    ]
    assert late == []


def _record(t: str, leg: str, message: Any) -> dict[str, Any]:
    return {"timestamp": t, "charge_point_id": "CP", "leg": leg, "message": message}


def test_retime_gives_answers_their_real_latency_and_calls_their_own_time() -> None:
    records = [
        # A 1.6 call with its own time, journalled 4 s later (2 ms at 2,000x).
        _record("2026-03-02T10:00:04Z", "downstream", [2, "a", "MeterValues", {
            "connectorId": 1, "meterValue": [{"timestamp": "2026-03-02T10:00:00Z"}]}]),
        _record("2026-03-02T10:00:14Z", "downstream", [3, "a", {}]),  # 10 s: 5 ms
        # A call without a time keeps its spacing after the previous call on its leg...
        _record("2026-03-02T10:05:04Z", "downstream", [2, "b", "Heartbeat", {}]),
        # ... and a leg is placed from its own records only.
        _record("2026-03-02T10:05:10Z", "upstream", [2, "b", "Heartbeat", {}]),
        _record("2026-03-02T10:05:12Z", "upstream", [3, "b", {"currentTime": "x"}]),
        # A 1.5 SOAP answer names its request in wsa:RelatesTo.
        _record("2026-03-02T10:06:04Z", "downstream",
                "<s><wsa:MessageID>urn:1</wsa:MessageID><timestamp>2026-03-02T10:06:00Z"
                "</timestamp></s>"),
        _record("2026-03-02T10:06:06Z", "downstream",
                "<s><wsa:MessageID>urn:2</wsa:MessageID><wsa:RelatesTo>urn:1</wsa:RelatesTo></s>"),
    ]  # fmt: skip
    retime(records, speed=2_000.0)
    assert [r["timestamp"] for r in records] == [
        "2026-03-02T10:00:00.000Z",
        "2026-03-02T10:00:00.005Z",
        "2026-03-02T10:05:00.000Z",
        "2026-03-02T10:05:10.000Z",
        "2026-03-02T10:05:10.001Z",
        "2026-03-02T10:06:00.000Z",
        "2026-03-02T10:06:00.001Z",
    ]
