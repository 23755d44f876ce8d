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
  send upstream, in ``seq`` order per charger, deleted when answered;
- ``passwords(charge_point_id, leg, value, previous, updated)`` -- Basic auth
  passwords changed at run time (:mod:`ocppkit.toolkit.gateway.credentials`);
- ``dead_letters(id, charge_point_id, message_id, frame, attempts, reason,
  created, acknowledged)`` -- calls for the CSMS given up by the poison rule
  (:mod:`ocppkit.translators.bridge.poison`), added in the commit that takes
  them out of the outbox; ``acknowledged`` is set by ``ocppkit bridge
  dead-letters --ack`` (:mod:`ocppkit.toolkit.gateway.dead_letters`);
- ``meta(key, value)`` -- ``clean``: ``0`` while a process has the database
  open, ``1`` after a clean close.

A database that cannot be trusted is never silently replaced by a fresh one
(a fresh bridge forgets running transactions and answers their
StopTransaction without telling the CSMS). :meth:`Store.__init__` checks,
before anything else runs:

- ``PRAGMA integrity_check`` passes (a truncated or overwritten file fails);
- the schema version (``PRAGMA user_version``) is one this code knows;
- the write-ahead log was not lost: the main file says ``clean = 0`` (a
  process had it open and did not close it) but no ``-wal`` file exists, so
  the commits since the last checkpoint are gone;
- the database takes a write (a read-only file or directory fails).

Each failure raises :class:`~ocppkit.translators.errors.StoreError`, unless
``recover=True`` (``ocppkit bridge --recover``): then the damaged files are
moved aside as ``<name>.damaged-<UTC time>`` and a new database is started.
While the process runs, a commit that fails makes :attr:`Store.error` say
why (``/healthz`` reports ``unhealthy``) until a commit succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ocppkit.translators.errors import StoreError

SCHEMA_VERSION = 3  # 1: chargers + outbox; 2: + passwords, meta; 3: + dead_letters
FAILED_COMMIT_BACKOFF_MAX = 1.0  # seconds the writer waits after failed batches in a row

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
CREATE TABLE IF NOT EXISTS passwords (
    charge_point_id TEXT NOT NULL,
    leg TEXT NOT NULL,
    value TEXT NOT NULL,
    previous TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (charge_point_id, leg)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# What each schema version adds to the one before it, applied in order to a
# database of an older version (and to a new one, after SCHEMA).
MIGRATIONS: dict[int, str] = {
    3: """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_point_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    frame BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created REAL NOT NULL,
    acknowledged REAL
);
""",
}

# 1.6 transaction ids (and 2.0.1 NotifyEvent eventIds) minted for a charger the
# store has no state for start here, at the seconds elapsed since this moment,
# so a bridge whose store was lost (and recovered fresh) never hands out an id
# it handed out before. CSMSs keep eventIds unique per station: CitrineOS
# 1.8.3 refuses a repeated one (EventData_stationId_eventId_key).
TRANSACTION_ID_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def transaction_id_floor(now: datetime) -> int:
    """The first 1.6 transaction id for a charger with no stored state.

    Seconds since 2020 stay below 2**31 (the int32 many chargers store) until
    2088; a charger that starts more than one transaction per second on
    average is the only way ids minted from a lost store could meet old ones.
    """
    return max(1, int((now - TRANSACTION_ID_EPOCH).total_seconds()))


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


@dataclass(frozen=True, slots=True)
class PutPassword:
    charge_point_id: str
    leg: str  # "downstream" (the charger's) or "upstream" (towards the CSMS)
    value: str
    previous: str | None  # still accepted downstream until the new one is seen


@dataclass(frozen=True, slots=True)
class AddDeadLetter:
    """A call given up by the poison rule (its outbox row goes in the same commit)."""

    charge_point_id: str
    message_id: str
    frame: list[Any]
    attempts: int
    reason: str


Op = PutState | AddOutbox | DeleteOutbox | PutPassword | AddDeadLetter


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
        recover: move a damaged database aside and start a new one instead of
            refusing (see the module text).

    Raises:
        StoreError: the database is damaged, lost its log, is of an unknown
            version or cannot be written (and ``recover`` is false).
    """

    def __init__(self, path: str | Path, *, sync: str = "full", recover: bool = False) -> None:
        self.path = Path(path)
        if self.path.parent != Path():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.recovered_from: Path | None = None  # where --recover put the damaged file
        try:
            self._db = _open_checked(self.path, sync)
        except StoreError:
            if not recover:
                raise
            self.recovered_from = _move_aside(self.path)
            self._db = _open_checked(self.path, sync)
        self.error: str | None = None  # why the last commit failed; None while commits land
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

    def passwords(self) -> dict[tuple[str, str], tuple[str, str | None]]:
        """Every stored password: (charger, leg) -> (value, previous)."""
        rows = self._read("SELECT charge_point_id, leg, value, previous FROM passwords", ())
        return {(cp, leg): (value, previous) for cp, leg, value, previous in rows}

    def unacknowledged_dead_letters(self) -> int:
        """Dead letters no operator acknowledged yet (``/healthz`` is degraded meanwhile)."""
        sql = "SELECT COUNT(*) FROM dead_letters WHERE acknowledged IS NULL"
        return int(self._read(sql, ())[0][0])

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
        failures = 0  # failed batches in a row
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
            self.error = None if error is None else f"{type(error).__name__}: {error}"
            failures = 0 if error is None else failures + 1
            # One wake-up of the event loop for the whole batch.
            futures = [fut for _, fut in batch]
            futures[0].get_loop().call_soon_threadsafe(_settle, futures, error)
            if failures:
                # A disk that refuses writes refuses the next one too: whatever
                # retries (a peer resending, the outbox head) is slowed to the
                # pace of this back-off instead of spinning; queued ops meanwhile
                # make one batch.
                time.sleep(min(FAILED_COMMIT_BACKOFF_MAX, 0.05 * 2 ** min(failures - 1, 10)))

    def _write(self, ops: list[Op]) -> None:
        """One transaction, at most three statements: every statement is a
        moment the writer needs the GIL back from the event loop, so rows are
        grouped per statement instead of executed one by one."""
        now = time.time()
        states: dict[str, bytes] = {}  # the newest state per charger is the one kept
        added: list[tuple[str, str, bytes, float]] = []
        deleted: list[tuple[str, str]] = []
        passwords: list[tuple[str, str, str, str | None, float]] = []
        dead: list[tuple[str, str, bytes, int, str, float]] = []
        for op in ops:
            if isinstance(op, AddDeadLetter):
                frame = orjson.dumps(op.frame)
                dead.append((op.charge_point_id, op.message_id, frame, op.attempts, op.reason, now))
            elif isinstance(op, PutState):
                states[op.charge_point_id] = op.state
            elif isinstance(op, PutPassword):
                passwords.append((op.charge_point_id, op.leg, op.value, op.previous, now))
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
            if passwords:
                db.executemany("INSERT OR REPLACE INTO passwords VALUES (?, ?, ?, ?, ?)", passwords)
            if dead:
                db.executemany(
                    "INSERT INTO dead_letters (charge_point_id, message_id, frame, attempts,"
                    " reason, created) VALUES (?, ?, ?, ?, ?, ?)",
                    dead,
                )
            db.execute("COMMIT")
            self.batches += 1
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # no transaction left to roll back
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Finish queued writes, then close the database."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        with contextlib.suppress(sqlite3.Error):  # a read-only disk keeps clean = 0: fine
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('clean', '1')")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _open_checked(path: Path, sync: str) -> sqlite3.Connection:
    """Open the database and prove it sound and writable (see the module text)."""
    existed = path.exists() and path.stat().st_size > 0
    wal_present = _sidecars(path)[0].exists()
    # The log and index files beside it must be creatable too (os.access
    # honours a read-only mount even for root).
    for needed in (path, path.parent) if path.exists() else (path.parent,):
        if not os.access(needed, os.W_OK):
            raise StoreError(f"state database {path} cannot be written: {needed} is read-only")
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"state database {path} cannot be opened: {exc}") from None
    try:
        _check(db, path, existed=existed, wal_present=wal_present)
        db.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
    except BaseException:
        db.close()
        raise
    return db


def _check(db: sqlite3.Connection, path: Path, *, existed: bool, wal_present: bool) -> None:
    where = f"state database {path}"
    try:
        if existed:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise StoreError(f"{where} is damaged ({verdict}); start with --recover")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and "chargers" in tables:
            version = 1  # written before the version was recorded
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{where} has schema version {version}, newer than this ocppkit"
                f" knows ({SCHEMA_VERSION})"
            )
        if "meta" in tables:
            clean = db.execute("SELECT value FROM meta WHERE key = 'clean'").fetchone()
            if clean is not None and clean[0] == "0" and not wal_present:
                raise StoreError(
                    f"{where} lost its write-ahead log ({path.name}-wal): the last"
                    " commits are gone; start with --recover"
                )
        db.execute("PRAGMA journal_mode=WAL")
        # The tables, each migration this file is behind on, and the new
        # version land in one transaction: a crash leaves the old version.
        steps = "".join(MIGRATIONS[v] for v in sorted(MIGRATIONS) if v > version)
        db.executescript(f"BEGIN;{SCHEMA}{steps}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
        # Proof of a write, made durable in the main file at once: from now
        # on a lost -wal is told apart from a clean close.
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clean', '0')")
        db.execute("PRAGMA wal_checkpoint(FULL)")
    except sqlite3.Error as exc:
        if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
            raise StoreError(f"{where} cannot be written: {exc}") from None
        raise StoreError(f"{where} is damaged ({exc}); start with --recover") from None


def _move_aside(path: Path) -> Path:
    """Keep the damaged files for inspection; the path is free for a new database."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    for src in (path, *_sidecars(path)):
        if src.exists():
            src.rename(src.with_name(kept.name + src.name.removeprefix(path.name)))
    return kept


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futures:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
