"""Hardening of the bridge's listening side and its disks (issue #16, items 1, 7, 8, 13).

Real sockets on 127.0.0.1 and real small filesystems (tmpfs, mounted here as
root; skipped with the reason where that is impossible). Every wait and every
flood is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import websockets
import websockets.exceptions

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.logs import KeyValueFormatter
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.gateway.store import Store, transaction_id_floor
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.context import Context
from ocppkit.translators.errors import StoreError
from ocppkit.translators.journal import Direction, JournalRecord, Leg
from ocppkit.translators.versions import OcppVersion
from tests.gateway.hardening_kit import fill, raw_handshake, remount, small_filesystem
from tests.gateway.harness import REPO, BridgeProcess, journal_records, now
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(90)


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [getattr(r, "fields", {}) for r in self.records if r.getMessage() == name]


def captured_logger(name: str) -> tuple[logging.Logger, Captured]:
    log = logging.getLogger(f"ocppkit.test.{name}")
    handler = Captured()
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    return log, handler


@contextlib.asynccontextmanager
async def bridged(tmp: Path, log: logging.Logger | None = None, csms: Csms | None = None,
                  ctx: Context | None = None, **extra: Any,
                  ) -> AsyncIterator[tuple[Csms, Bridge]]:  # fmt: skip
    own = csms is None
    csms = csms or Csms(CsmsSettings())
    if own:
        await csms.start()
    bridge = Bridge(bridge_config(csms.url, tmp, **extra), log=log, ctx=ctx)
    await bridge.start()
    try:
        yield csms, bridge
    finally:
        await bridge.stop()
        if own:
            await csms.stop()


async def call(ws: Any, message_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
    await ws.send(orjson.dumps([2, message_id, action, payload]).decode())
    return list(orjson.loads(await asyncio.wait_for(ws.recv(), 10)))


async def healthz(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as r:
        return r.status, await r.json()


async def until(predicate: Any, seconds: float = 10.0) -> None:
    """Wait, bounded, for ``predicate()`` (sync or async) to hold."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W1"}


# -- item 1: a full journal disk never blocks traffic ------------------------------------


def test_a_full_journal_disk_drops_and_counts_records_but_every_call_is_answered(
    tmp_path: Path,
) -> None:
    log, seen = captured_logger("journal_full")
    with small_filesystem(tmp_path / "journal") as disk:

        async def main() -> None:
            async with bridged(tmp_path, log=log, journal=str(disk)) as (_csms, bridge):
                filler = fill(disk)
                url = f"ws://127.0.0.1:{bridge.port}/ocpp/CPJ"
                async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
                    boot = await call(ws, "boot", "BootNotification", BOOT)
                    assert boot[0] == 3
                    answers = [await call(ws, f"hb{i}", "Heartbeat", {}) for i in range(60)]
                    assert [a[:2] for a in answers] == [[3, f"hb{i}"] for i in range(60)]
                    status, body = await healthz(bridge.port)
                    assert status == 200 and body["status"] == "degraded"
                    assert "journal_unwritable" in body["problems"]
                    dropped = bridge.metrics.value("ocppkit_bridge_journal_dropped_total")
                    assert dropped >= 120  # 60 calls and 60 answers, at least, on the leg
                    assert body["journal_dropped"] == dropped
                    assert bridge.metrics.value("ocppkit_bridge_journal_writable") == 0
                    assert "ocppkit_bridge_journal_dropped_total" in bridge.metrics.render()
                    # Space returns: the journal resumes by itself.
                    filler.unlink()

                    async def resumed() -> bool:
                        await call(ws, "probe", "Heartbeat", {})
                        return (await healthz(bridge.port))[1]["status"] == "ok"

                    await until(resumed)
                    await call(ws, "after", "Heartbeat", {})
            ids = [r.message[1] for r in journal_records(disk) if isinstance(r.message, list)]
            assert "after" in ids  # written, and readable by the project's own reader
            assert not any(f"hb{i}" in ids for i in range(5, 60))

        asyncio.run(main())
    assert len(seen.events("journal_write_failed")) == 1  # once per minute, not per record
    assert seen.events("journal_resumed")[0]["dropped"] >= 120


def test_the_journal_writer_reports_trouble_once_a_minute_on_its_clock(tmp_path: Path) -> None:
    reports: list[tuple[str | None, int]] = []
    clock = [0.0]
    with small_filesystem(tmp_path / "j", size="128k") as disk:
        writer = JournalWriter(
            disk,
            on_trouble=lambda e, n: reports.append((e and e.strerror, n)),
            clock=lambda: clock[0],
        )
        filler = fill(disk)
        record = JournalRecord(
            timestamp="2026-01-01T00:00:00.000Z", charge_point_id="CP1",
            direction=Direction.CS_TO_CSMS, ocpp_version=OcppVersion.V16,
            message=[2, "x" * 40, "Heartbeat", {}], leg=Leg.DOWNSTREAM,
        )  # fmt: skip
        for second in range(150):  # 2.5 virtual minutes, one record a second
            clock[0] = float(second)
            writer.write(record)  # never raises
        assert writer.dropped == 150 and not writer.healthy
        assert [n for _, n in reports] == [1, 61, 121]
        filler.unlink()
        clock[0] = 200.0
        writer.write(record)
        writer.close()
        assert writer.healthy and reports[-1] == (None, 150)
        assert len(journal_records(disk)) == 1


# -- item 7: a damaged state database is never taken for a fresh one ------------------


def _made_store(path: Path) -> None:
    async def main() -> None:
        store = Store(path)
        await store.commit([])
        from ocppkit.toolkit.gateway.store import PutState

        await store.commit([PutState("CP1", b'{"charge_point_id":"CP1","next_tx_id16":7}')])
        store.close()

    asyncio.run(main())


def test_a_truncated_state_database_refuses_to_start_unless_recovering(tmp_path: Path) -> None:
    db = tmp_path / "bridge.db"
    _made_store(db)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="--recover"):
        Store(db)
    store = Store(db, recover=True)
    try:
        assert store.recovered_from is not None and store.recovered_from.exists()
        assert store.recovered_from.read_bytes() == data[: len(data) // 2]  # kept aside
        assert store.load_state("CP1") is None
    finally:
        store.close()


def test_a_lost_write_ahead_log_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "bridge.db"
    _made_store(db)
    # A process had it open and died; then its -wal went missing.
    proc = subprocess.run(
        [sys.executable, "-c", (
            "import os, sys; from ocppkit.toolkit.gateway.store import Store; "
            f"s = Store({str(db)!r}); os._exit(0)"
        )],
        cwd=REPO, capture_output=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    wal = db.with_name(db.name + "-wal")
    assert wal.exists()
    wal.unlink()
    with pytest.raises(StoreError, match="write-ahead log"):
        Store(db)


def test_a_clean_close_and_a_kill_are_both_reopened(tmp_path: Path) -> None:
    db = tmp_path / "bridge.db"
    _made_store(db)  # clean close
    proc = subprocess.run(
        [sys.executable, "-c", (
            "import os; from ocppkit.toolkit.gateway.store import Store; "
            f"s = Store({str(db)!r}); os.kill(os.getpid(), 9)"
        )],
        cwd=REPO, capture_output=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == -9
    store = Store(db)  # after a kill -9 the -wal is there: fine
    try:
        assert store.load_state("CP1") == {"charge_point_id": "CP1", "next_tx_id16": 7}
    finally:
        store.close()


def test_a_state_database_of_an_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "bridge.db"
    _made_store(db)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version=99")
    with pytest.raises(StoreError, match="schema version 99"):
        Store(db)


def test_a_read_only_state_database_refuses_to_start(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "state", size="4m") as disk:
        _made_store(disk / "bridge.db")
        remount(disk, "ro")
        try:
            with pytest.raises(StoreError, match="cannot be written"):
                Store(disk / "bridge.db")
        finally:
            remount(disk, "rw")
        Store(disk / "bridge.db").close()  # the same file, writable again: fine


def test_failing_commits_make_the_bridge_unhealthy_and_unacknowledging_until_they_land(
    tmp_path: Path,
) -> None:
    with small_filesystem(tmp_path / "state", size="1m") as disk:

        async def main() -> None:
            async with bridged(tmp_path, state=str(disk / "bridge.db")) as (_csms, bridge):
                url = f"ws://127.0.0.1:{bridge.port}/ocpp/CPR"
                async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
                    assert (await call(ws, "b1", "BootNotification", BOOT))[0] == 3
                    filler = fill(disk)
                    unanswered = None
                    # A call that is never answered locally (a Heartbeat is, while
                    # the outbox head is being resent after a failed commit).
                    status_call = (
                        '"StatusNotification",'
                        '{"connectorId":1,"errorCode":"NoError","status":"Available"}'
                    )
                    for n in range(200):  # until the log has no room left
                        await ws.send(f'[2,"hb{n}",{status_call}]')
                        try:
                            await asyncio.wait_for(ws.recv(), 2)
                        except TimeoutError:
                            unanswered = n  # not stored, so not acknowledged
                            break
                    assert unanswered is not None
                    status, body = await healthz(bridge.port)
                    assert status == 503 and body["status"] == "unhealthy"
                    assert "store_commit_failed" in body["problems"]
                    assert "full" in body["store_error"]
                    assert bridge.metrics.value("ocppkit_bridge_store_writable") == 0
                    filler.unlink()
                    # The charger sends it again (1.6 §4.7); now it is answered. (Calls
                    # whose CALL was stored and only the answer's commit failed are
                    # answered late, once the commit lands.)
                    await ws.send('[2,"again","Heartbeat",{}]')
                    frames: list[Any] = []
                    while not frames or frames[-1][1] != "again":
                        assert len(frames) <= unanswered + 1, frames
                        frames.append(orjson.loads(await asyncio.wait_for(ws.recv(), 10)))
                    assert frames[-1][:2] == [3, "again"]
                    late = {f"hb{k}" for k in range(unanswered + 1)}
                    assert all(f[0] == 3 and f[1] in late for f in frames[:-1]), frames
                    for _ in range(50):  # the writer backs off up to 1 s between tries
                        status, body = await healthz(bridge.port)
                        if status == 200:
                            break
                        await asyncio.sleep(0.2)
                    assert status == 200 and "store_commit_failed" not in body["problems"]

        asyncio.run(main())


def test_transaction_ids_after_a_lost_store_never_repeat_earlier_ones(tmp_path: Path) -> None:
    """The store is deleted between two runs; the second run mints ids anew."""
    moment = [datetime(2026, 5, 1, 12, 0, tzinfo=UTC)]
    ctx = Context(now=lambda: moment[0], new_id=lambda: "id")

    async def one_run(csms: Csms) -> list[int]:
        async with bridged(tmp_path, csms=csms, ctx=ctx) as (_, bridge):
            url = f"ws://127.0.0.1:{bridge.port}/ocpp/CPT"
            ids = []
            async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
                await call(ws, "b", "BootNotification", BOOT)
                for n in range(3):
                    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 0,
                             "timestamp": now()}  # fmt: skip
                    answer = await call(ws, f"s{n}", "StartTransaction", start)
                    tx = answer[2]["transactionId"]
                    ids.append(tx)
                    stop = {"transactionId": tx, "meterStop": 10, "timestamp": now()}
                    await call(ws, f"e{n}", "StopTransaction", stop)
            return ids

    async def main() -> tuple[list[int], list[int]]:
        csms = Csms(CsmsSettings())
        await csms.start()
        try:
            first = await one_run(csms)
            for p in tmp_path.glob("bridge.db*"):
                p.unlink()  # the store is lost
            moment[0] += timedelta(minutes=1)
            second = await one_run(csms)
        finally:
            await csms.stop()
        return first, second

    first, second = asyncio.run(main())
    assert first == [transaction_id_floor(datetime(2026, 5, 1, 12, 0, tzinfo=UTC)) + n
                     for n in range(3)]  # fmt: skip
    assert min(second) > max(first)
    assert max(second) < 2**31  # still an int32 for chargers that store one


def test_event_ids_after_a_lost_store_never_repeat_earlier_ones(tmp_path: Path) -> None:
    """CitrineOS keeps NotifyEvent eventIds unique per station and refuses a repeat."""
    moment = [datetime(2026, 5, 1, 12, 0, tzinfo=UTC)]
    ctx = Context(now=lambda: moment[0], new_id=lambda: "id")
    available = {"connectorId": 0, "errorCode": "NoError", "status": "Available"}

    async def one_run(csms: Csms) -> None:
        async with bridged(tmp_path, csms=csms, ctx=ctx) as (_, bridge):
            url = f"ws://127.0.0.1:{bridge.port}/ocpp/CPE"
            async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
                await call(ws, "b", "BootNotification", BOOT)
                for n in range(2):  # station-wide status: a NotifyEvent each
                    assert (await call(ws, f"s{n}", "StatusNotification", available))[0] == 3

    def event_ids() -> list[int]:
        return [
            data["eventId"]
            for rec in journal_records(tmp_path / "journal")
            if rec.leg is Leg.UPSTREAM and rec.message[0] == 2 and rec.message[2] == "NotifyEvent"
            for data in rec.message[3]["eventData"]
        ]

    async def main() -> tuple[list[int], list[int]]:
        csms = Csms(CsmsSettings())
        await csms.start()
        try:
            await one_run(csms)
            first = event_ids()
            for p in tmp_path.glob("bridge.db*"):
                p.unlink()  # the store is lost
            moment[0] += timedelta(minutes=1)
            await one_run(csms)
        finally:
            await csms.stop()
        return first, event_ids()[len(first) :]

    first, second = asyncio.run(main())
    assert len(first) == len(second) == 2
    assert min(second) > max(first)


# -- item 8: slowloris ---------------------------------------------------------------


def test_silent_and_trickling_connections_are_closed_and_capped_per_source(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        extra = {"header_timeout": 0.5, "handshake_timeout": 6.0,
                 "max_unauthenticated_per_source": 8}  # fmt: skip
        async with bridged(tmp_path, **extra) as (_csms, bridge):
            port = bridge.port
            junk: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
            for n in range(20):  # from another loopback address than the real charger
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=("127.0.0.2", 0)
                )
                if n % 2:
                    writer.write(b"GET /ocpp/CPX HTTP/1.1\r\nHost: x\r\n")  # never finished
                junk.append((reader, writer))

            async def closed(reader: asyncio.StreamReader) -> bool:
                try:
                    return await asyncio.wait_for(reader.read(), 5) == b""
                except ConnectionError:
                    return True

            # Meanwhile a real charger and /healthz are served.
            url = f"ws://127.0.0.1:{port}/ocpp/CPOK"
            async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
                assert (await call(ws, "b", "BootNotification", BOOT))[0] == 3
                assert (await healthz(port))[0] == 200
                results = await asyncio.gather(*(closed(r) for r, _ in junk))
                assert all(results)
                assert (await call(ws, "hb", "Heartbeat", {}))[:2] == [3, "hb"]
            for _, writer in junk:
                writer.close()
            m = bridge.metrics
            capped = m.value("ocppkit_bridge_connections_closed_total", reason="per_source_cap")
            timed = m.value("ocppkit_bridge_connections_closed_total", reason="header_timeout")
            assert capped == 12 and timed >= 8
            await until(lambda: bridge.guard.unadmitted("127.0.0.2") == 0)

    asyncio.run(main())


def test_a_trickled_request_after_its_headers_hits_the_handshake_timeout(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with bridged(tmp_path, header_timeout=5.0, handshake_timeout=5.5,
                           connect_timeout=5.0) as (_csms, bridge):  # fmt: skip
            reader, writer = await asyncio.open_connection("127.0.0.1", bridge.port)
            writer.write(
                b"POST /ocpp/soap15 HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/soap+xml\r\nContent-Length: 100000\r\n\r\n<"
            )
            await writer.drain()
            for _ in range(40):  # a byte every 0.25 s: up to 10 s, beyond the limit
                try:
                    writer.write(b"x")
                    await writer.drain()
                except ConnectionError:
                    break
                if reader.at_eof():
                    break
                await asyncio.sleep(0.25)
            data = await asyncio.wait_for(reader.read(), 5)
            assert data == b""  # closed without an answer
            writer.close()
            assert (
                bridge.metrics.value(
                    "ocppkit_bridge_connections_closed_total", reason="handshake_timeout"
                )
                == 1
            )

    asyncio.run(main())


def test_the_descriptor_limit_is_raised_to_the_hard_limit() -> None:
    code = (
        "import resource; from ocppkit.toolkit.gateway.server import raise_descriptor_limit;"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE);"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard));"
        "before, after = raise_descriptor_limit();"
        "print(before, after, hard, resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=30, check=True).stdout.split()  # fmt: skip
    before, after, hard, soft_now = map(int, out)
    assert before == 256 and after == soft_now
    assert soft_now == (hard if hard != -1 else 1 << 20)


# -- item 13: charger ids -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/ocpp/x%2FVICTIM", "percent_encoded"),
        ("/ocpp/CP%00", "percent_encoded"),
        ("/ocpp/%43P1", "percent_encoded"),
        ("/ocpp/" + "A" * 49, "too_long"),
        ("/ocpp/CP\x1b1", None),  # refused by the HTTP parser already
        ("/ocpp/CP%0D1", "percent_encoded"),
        ("/ocpp/CP~1", "bad_characters"),
    ],
)
def test_charger_ids_outside_ocpp_j_are_refused_at_the_handshake(
    tmp_path: Path, path: str, reason: str | None
) -> None:
    log, seen = captured_logger("ids")

    async def main() -> None:
        async with bridged(tmp_path, log=log) as (csms, bridge):
            head = await raw_handshake(bridge.port, path, "Sec-WebSocket-Protocol: ocpp1.6\r\n")
            assert head.split("\r\n")[0].split(" ")[1] == "400", head
            refused = bridge.metrics.value("ocppkit_bridge_refused_total", reason="bad_identity")
            assert refused == (0 if reason is None else 1)
            assert csms.responder.stations == {}  # nothing reached the CSMS

    asyncio.run(main())
    if reason is not None:
        assert [e["detail"] for e in seen.events("charger_refused")] == [reason]


def test_ids_of_the_identifier_string_set_up_to_the_limit_are_accepted(tmp_path: Path) -> None:
    ids = ["A" * 48, "cp-1_x=y:z+w|v@u.t*s", "X" * 60]

    async def main() -> list[str]:
        async with bridged(tmp_path, charger_id_max_length=60) as (_csms, bridge):
            return [
                await raw_handshake(
                    bridge.port, f"/ocpp/{cp}", "Sec-WebSocket-Protocol: ocpp1.6\r\n"
                )
                for cp in ids
            ]

    heads = asyncio.run(main())
    assert all(h.startswith("HTTP/1.1 101") for h in heads), heads


def test_control_characters_in_log_fields_are_escaped() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "charger_refused", None, None)
    record.fields = {"cp": "evil\r\nts=forged level=info\x1b[2J\x00"}  # type: ignore[attr-defined]
    line = KeyValueFormatter().format(record)
    assert "\r" not in line and "\n" not in line and "\x1b" not in line and "\x00" not in line
    assert "\\r\\nts=forged" in line and "\\x1b[2J\\x00" in line


# -- #15 item 9h: no supported subprotocol offered ---------------------------------------


def test_a_handshake_offering_no_subprotocol_is_completed_without_one_then_closed(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with bridged(tmp_path) as (_csms, bridge):
            head = await raw_handshake(bridge.port, "/ocpp/CPN")
            assert head.startswith("HTTP/1.1 101")
            assert "sec-websocket-protocol" not in head.lower()
            async with websockets.connect(f"ws://127.0.0.1:{bridge.port}/ocpp/CPN") as ws:
                assert ws.subprotocol is None
                with pytest.raises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
            assert bridge.metrics.value("ocppkit_bridge_refused_total", reason="subprotocol") == 2

    asyncio.run(main())


# -- /healthz when the CSMS is unreachable --------------------------------------------------


def test_healthz_is_degraded_while_a_charger_has_no_csms_link(tmp_path: Path) -> None:
    async def main() -> None:
        csms = Csms(CsmsSettings())
        await csms.start()
        async with bridged(tmp_path, csms=csms, upstream_grace=30) as (_, bridge):
            url = f"ws://127.0.0.1:{bridge.port}/ocpp/CPU"
            async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
                await call(ws, "b", "BootNotification", BOOT)
                assert (await healthz(bridge.port))[1]["status"] == "ok"
                await csms.stop()

                async def degraded() -> bool:
                    status, body = await healthz(bridge.port)
                    return status == 200 and body["problems"] == ["upstream_unreachable"]

                await until(degraded)
                assert (await healthz(bridge.port))[1]["status"] == "degraded"

    asyncio.run(main())


def test_the_bridge_command_refuses_a_damaged_state_in_one_line_and_recovers_on_request(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bridge.db"
    db.write_bytes(b"SQLite format 3\0" + b"\xff" * 200)
    args = [sys.executable, "-m", "ocppkit.toolkit.gateway", "--upstream", "ws://127.0.0.1:9/ocpp",
            "--state", str(db), "--listen", "127.0.0.1:0"]  # fmt: skip
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("ocppkit: error:")]
    assert errors == [f"ocppkit: error: state database {db} is damaged (file is not a database);"
                      " start with --recover"]  # fmt: skip

    async def recovered() -> str:
        bridge = BridgeProcess("ws://127.0.0.1:9/ocpp", db, tmp_path / "journal", "--recover")
        await bridge.start()
        await bridge.terminate()  # (SIGTERM may land before its handler is set)
        return bridge.log_text()

    text = asyncio.run(recovered())
    assert "event=state_recovered_fresh" in text
    assert [p.name for p in tmp_path.glob("bridge.db.damaged-*")]
