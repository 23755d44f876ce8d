"""kill -9 after a call went upstream but before its commit landed (``overlap_commits``).

The bridge sends a charger's call to the CSMS while its commit is being written
(``session.py``). To make the kill land in that window every time, the test slows
the store down for real: it holds the database's write lock itself (SQLite: a
``BEGIN IMMEDIATE`` of its own on the file; PostgreSQL: ``LOCK TABLE chargers``
in a transaction of its own), so the bridge's commit waits. Then:

1. the charger sends a MeterValues inside a transaction;
2. the CSMS receives the translated TransactionEvent (seqNo 1): it went ahead;
   the charger has no answer (the commit has not landed);
3. the bridge is killed with SIGKILL, the lock released, the bridge restarted on
   the same database: it has the state from before the MeterValues;
4. the charger sends its MeterValues again; the CSMS receives it a second time
   with the same message id and the same seqNo, so it records it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.bridge.ids import MAX_ID_LENGTH
from ocppkit.translators.journal import Direction
from tests.gateway.harness import BridgeProcess, ResendingLink, journal_records, meter, now
from tests.gateway.pg import pg_server, pg_url, require_pg  # noqa: F401

pytestmark = pytest.mark.timeout(120)

CP = "OVERLAP1"
FAST_RECONNECT = {"OCPPKIT_BRIDGE_CONNECT_TIMEOUT": "1", "OCPPKIT_BRIDGE_BACKOFF_MAX": "1"}


class SqliteWriter:
    """Another writer on the file: while it holds the lock, the bridge's commits wait.

    Its connection stays open until the bridge is back: the last connection to
    close a WAL database checkpoints it and removes the ``-wal`` file, which the
    restarted bridge would take for a lost log (the killed one never closed).
    """

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            self.db.execute("ROLLBACK")

    def queued(self) -> int:
        """The charger's calls still in the outbox, as the bridge last committed them."""
        (n,) = self.db.execute(
            "SELECT count(*) FROM outbox WHERE charge_point_id = ?", (CP,)
        ).fetchone()
        return int(n)

    def close(self) -> None:
        self.db.close()


class PostgresWriter:
    """A transaction that holds the chargers table: the bridge's commits wait for it."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        import psycopg

        with psycopg.connect(self.url) as conn:
            conn.execute("LOCK TABLE chargers IN EXCLUSIVE MODE")
            try:
                yield
            finally:
                conn.rollback()

    def queued(self) -> int:
        """The charger's calls still in the outbox, as the bridge last committed them."""
        import psycopg

        with psycopg.connect(self.url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM outbox WHERE charge_point_id = %s", (CP,)
            ).fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        pass


async def until(what: Callable[[], bool], why: str, bound: float = 30.0) -> None:
    """Wait (bounded, not timed) until ``what`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not what():
        assert loop.time() < deadline, why
        await asyncio.sleep(0.01)


def seen(csms: Csms, seq_no: int) -> bool:
    return any(tx.station_id == CP and seq_no in tx.seq_nos for tx in csms.transactions.values())


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Any]:
    """The bridge's ``--state`` and how the test makes its commits wait."""
    if request.param == "sqlite":
        path = tmp_path / "bridge.db"
        return str(path), lambda: SqliteWriter(path)
    require_pg()
    url = request.getfixturevalue("pg_url")
    return url, lambda: PostgresWriter(url)


def test_a_kill_between_the_upstream_send_and_its_commit_resends_a_recognisable_duplicate(
    tmp_path: Path, store: tuple[str, Any]
) -> None:
    state, writer_for = store
    events = tmp_path / "csms-journal"

    async def main() -> tuple[Csms, list[bool]]:
        journal = JournalWriter(events)
        csms = Csms(CsmsSettings(strict_one_call=True), journal=journal)
        await csms.start()
        bridge = BridgeProcess(csms.url, state, tmp_path / "j", env=FAST_RECONNECT)  # type: ignore[arg-type]
        link = ResendingLink(lambda: bridge.url, CP, rounds=60)
        answered_before_kill: list[bool] = []
        try:
            await bridge.start()
            await link.send(
                call16.BootNotification(charge_point_model="Wallbox-1", charge_point_vendor="Acme")
            )
            started = await link.send(
                call16.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0,
                                        timestamp=now())
            )  # fmt: skip
            tx = int(started.transaction_id)
            await until(lambda: seen(csms, 0), "the Started event never reached the CSMS")
            writer = writer_for()  # the bridge has made the database by now
            # The Started event's answer is committed (its outbox row deleted)
            # before the lock is taken: a commit of it held up would hold the
            # charger's session, and the MeterValues could not go ahead at all.
            await until(
                lambda: writer.queued() == 0, "the Started event's answer was never committed"
            )
            with writer.held():  # the disk is slow from here on
                sending = asyncio.ensure_future(link.send(meter(tx, 500)))
                await until(lambda: seen(csms, 1), "the call did not go ahead of its commit")
                answered_before_kill.append(sending.done())
                bridge.kill()
                await bridge.wait_killed()
            await bridge.start()  # same database, the commit never landed
            writer.close()
            await asyncio.wait_for(sending, 60)  # the charger's resend is answered
            await link.send(
                call16.StopTransaction(transaction_id=tx, meter_stop=1000, timestamp=now(),
                                       reason="Local", id_tag="TAG1")
            )  # fmt: skip
            await link.close()
            assert await bridge.terminate() == 0
        finally:
            await link.close()
            if bridge.proc is not None and bridge.proc.returncode is None:
                bridge.kill()
            await csms.stop()
            journal.close()
        return csms, answered_before_kill

    csms, answered_before_kill = asyncio.run(main())
    assert answered_before_kill == [False]  # nothing acknowledged before its commit
    (tx,) = [t for t in csms.transactions.values() if t.station_id == CP]
    assert tx.seq_nos == [0, 1, 2] and tx.event_types == ["Started", "Updated", "Ended"]
    assert tx.duplicates == 1  # the resend, recognised
    assert tx.energy_wh == 1000
    updates = [
        r.message
        for r in journal_records(events)
        if r.direction is Direction.CS_TO_CSMS
        and isinstance(r.message, list)
        and r.message[0] == 2
        and r.message[2] == "TransactionEvent"
        and r.message[3]["seqNo"] == 1
    ]
    assert len(updates) == 2
    first, again = updates
    assert first[1] == again[1] and len(first[1]) <= MAX_ID_LENGTH  # the same message id
    assert first[3] == again[3]  # the same event: seqNo, transactionId, meter reading
    assert csms.violations == 0, csms.violation_log


def test_a_commit_that_fails_after_the_upstream_send_is_not_acknowledged_and_resent_the_same(
    tmp_path: Path,
) -> None:
    """SQLite: the test holds the write lock past the bridge's busy timeout (5 s)."""
    state = tmp_path / "bridge.db"
    events = tmp_path / "csms-journal"

    async def main() -> tuple[Csms, list[bool]]:
        journal = JournalWriter(events)
        csms = Csms(CsmsSettings(strict_one_call=True), journal=journal)
        await csms.start()
        bridge = BridgeProcess(csms.url, state, tmp_path / "j", env=FAST_RECONNECT)
        link = ResendingLink(lambda: bridge.url, CP, rounds=60)
        answered_while_failing: list[bool] = []
        try:
            await bridge.start()
            await link.send(
                call16.BootNotification(charge_point_model="Wallbox-1", charge_point_vendor="Acme")
            )
            started = await link.send(
                call16.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0,
                                        timestamp=now())
            )  # fmt: skip
            tx = int(started.transaction_id)
            await until(lambda: seen(csms, 0), "the Started event never reached the CSMS")
            writer = SqliteWriter(state)
            await until(
                lambda: writer.queued() == 0, "the Started event's answer was never committed"
            )
            with writer.held():
                sending = asyncio.ensure_future(link.send(meter(tx, 500)))
                await until(lambda: seen(csms, 1), "the call did not go ahead of its commit")
                await until(
                    lambda: "event=store_commit_failed" in bridge.log_text(),
                    "the commit did not fail",
                )
                answered_while_failing.append(sending.done())
            await asyncio.wait_for(sending, 60)  # the charger's own retry is answered
            writer.close()
            await link.send(
                call16.StopTransaction(transaction_id=tx, meter_stop=1000, timestamp=now(),
                                       reason="Local", id_tag="TAG1")
            )  # fmt: skip
            await link.close()
            assert await bridge.terminate() == 0
        finally:
            await link.close()
            if bridge.proc is not None and bridge.proc.returncode is None:
                bridge.kill()
            await csms.stop()
            journal.close()
        return csms, answered_while_failing

    csms, answered_while_failing = asyncio.run(main())
    assert answered_while_failing == [False]  # not stored, so not acknowledged
    (tx,) = [t for t in csms.transactions.values() if t.station_id == CP]
    assert tx.seq_nos == [0, 1, 2] and tx.duplicates == 1 and tx.energy_wh == 1000
    updates = [
        r.message
        for r in journal_records(events)
        if r.direction is Direction.CS_TO_CSMS
        and isinstance(r.message, list)
        and r.message[0] == 2
        and r.message[2] == "TransactionEvent"
        and r.message[3]["seqNo"] == 1
    ]
    assert len(updates) == 2 and updates[0][1] == updates[1][1], updates
    assert updates[0][3] == updates[1][3]
    assert csms.violations == 0, csms.violation_log
