"""Durable bridge state in SQLite (WAL): translator state per charger and the outbox.

Rule: nothing is acknowledged to a peer before the state that acknowledgement
depends on is committed here. The session therefore awaits :meth:`Store.commit`
after every translation step and only then sends the step's frames.

Writes go through one writer thread that **group-commits**: every change
queued while the previous transaction was being written lands in the next
single transaction, so a thousand chargers cost one fsync per batch, not one
per message, and the event loop never blocks on the disk.

Tables:

- ``chargers(charge_point_id, state, updated)`` -- the translator state
  (``BridgeState.to_dict()`` as JSON), replaced on every step;
- ``outbox(seq, charge_point_id, message_id, frame, created)`` -- calls to
  send upstream, in ``seq`` order per charger, deleted when answered.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS chargers (
    charge_point_id TEXT PRIMARY KEY,
    state BLOB NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_point_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    frame BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_charger ON outbox (charge_point_id, seq);
"""


@dataclass(frozen=True, slots=True)
class PutState:
    charge_point_id: str
    state: bytes  # BridgeState.to_dict() as JSON


@dataclass(frozen=True, slots=True)
class AddOutbox:
    charge_point_id: str
    message_id: str
    frame: list[Any]


@dataclass(frozen=True, slots=True)
class DeleteOutbox:
    charge_point_id: str
    message_id: str


Op = PutState | AddOutbox | DeleteOutbox


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    message_id: str
    frame: list[Any]


class Store:
    """The bridge database.

    Args:
        path: SQLite file (created when missing).
        sync: ``full`` or ``normal`` (SQLite ``PRAGMA synchronous`` in WAL mode).
    """

    def __init__(self, path: str | Path, *, sync: str = "full") -> None:
        self.path = Path(path)
        if self.path.parent != Path():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
        self._db.executescript(SCHEMA)
        self._cond = threading.Condition()  # guards the queue
        self._db_lock = threading.Lock()  # guards the connection
        self._queue: list[tuple[Sequence[Op], asyncio.Future[None]]] = []
        self._closed = False
        self.batches = 0  # transactions written (for metrics and the benchmark)
        self._thread = threading.Thread(target=self._writer, name="bridge-store", daemon=True)
        self._thread.start()

    # -- reads (startup, synchronous) ----------------------------------------

    def load_state(self, charge_point_id: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT state FROM chargers WHERE charge_point_id = ?", (charge_point_id,)
        )
        return dict(orjson.loads(rows[0][0])) if rows else None

    def load_outbox(self, charge_point_id: str) -> list[OutboxRow]:
        rows = self._read(
            "SELECT seq, message_id, frame FROM outbox WHERE charge_point_id = ? ORDER BY seq",
            (charge_point_id,),
        )
        return [OutboxRow(seq, mid, orjson.loads(frame)) for seq, mid, frame in rows]

    def chargers_with_outbox(self) -> list[str]:
        rows = self._read("SELECT DISTINCT charge_point_id FROM outbox ORDER BY 1", ())
        return [r[0] for r in rows]

    def outbox_depth(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM outbox", ())[0][0])

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self._db_lock:  # the connection is shared with the writer thread
            return self._db.execute(sql, args).fetchall()

    # -- writes (group commit) -----------------------------------------------

    async def commit(self, ops: Sequence[Op]) -> None:
        """Write ``ops`` atomically; returns once they are on disk.

        Raises:
            sqlite3.Error: the write failed (nothing of ``ops`` was stored).
        """
        await self.submit(ops)

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Queue ``ops`` as one atomic write now; the future settles once they
        are on disk (or with the ``sqlite3.Error`` that kept them off it).

        Writes land in the order they were submitted, so a caller may submit,
        do other work, and await the future later.
        """
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not ops:
            fut.set_result(None)
            return fut
        with self._cond:
            if self._closed:
                raise sqlite3.ProgrammingError("store is closed")
            self._queue.append((ops, fut))
            self._cond.notify()
        return fut

    def _writer(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue and self._closed:
                    return
                batch, self._queue = self._queue, []
            # Writing outside the condition: callers keep queueing the next batch.
            error: BaseException | None = None
            try:
                with self._db_lock:
                    self._write([op for ops, _ in batch for op in ops])
            except sqlite3.Error as exc:
                error = exc
            # One wake-up of the event loop for the whole batch.
            futures = [fut for _, fut in batch]
            futures[0].get_loop().call_soon_threadsafe(_settle, futures, error)

    def _write(self, ops: list[Op]) -> None:
        """One transaction, at most three statements: every statement is a
        moment the writer needs the GIL back from the event loop, so rows are
        grouped per statement instead of executed one by one."""
        now = time.time()
        states: dict[str, bytes] = {}  # the newest state per charger is the one kept
        added: list[tuple[str, str, bytes, float]] = []
        deleted: list[tuple[str, str]] = []
        for op in ops:
            if isinstance(op, PutState):
                states[op.charge_point_id] = op.state
            elif isinstance(op, AddOutbox):
                added.append((op.charge_point_id, op.message_id, orjson.dumps(op.frame), now))
            else:
                deleted.append((op.charge_point_id, op.message_id))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            # A call is added (and committed) before it is sent, so a batch
            # never deletes a row it adds: the order of the groups is free.
            if deleted:
                db.executemany(
                    "DELETE FROM outbox WHERE charge_point_id = ? AND message_id = ?", deleted
                )
            if added:
                db.executemany(
                    "INSERT INTO outbox (charge_point_id, message_id, frame, created)"
                    " VALUES (?, ?, ?, ?)",
                    added,
                )
            if states:
                db.executemany(
                    "INSERT INTO chargers VALUES (?, ?, ?) ON CONFLICT(charge_point_id)"
                    " DO UPDATE SET state = excluded.state, updated = excluded.updated",
                    [(cp, state, now) for cp, state in states.items()],
                )
            db.execute("COMMIT")
            self.batches += 1
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Finish queued writes, then close the database."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        self._db.close()


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futures:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
