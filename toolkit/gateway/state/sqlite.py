"""The embedded backend: durable bridge state in SQLite (WAL), one process per file.

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
  open, ``1`` after a clean close; ``store_id``: random, made when the file
  is (or, for an older file, first opened by this version), the prefix of
  the bridge's message ids (:mod:`ocppkit.translators.bridge.ids`);
- ``leases(charge_point_id, owner, token, expires)`` -- which instance drives
  the charger (see :mod:`ocppkit.toolkit.gateway.state`); with SQLite the one
  process is the owner (``local``), and a restarted process takes its leases
  back at once.

The schema is versioned (``PRAGMA user_version``); :data:`MIGRATIONS` brings
an older file up to :data:`SCHEMA_VERSION` at start, in one transaction.

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
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ocppkit.toolkit.gateway.state import (
    LEASE_SECONDS,
    Claimed,
    LeaseRow,
    claim_verdict,
    fenced,
)
from ocppkit.toolkit.gateway.state.ops import WRITES, Op, OutboxRow, group, render
from ocppkit.translators.errors import LeaseLost, StoreError

FAILED_COMMIT_BACKOFF_MAX = 1.0  # seconds the writer waits after failed batches in a row
MAX_PARAMS = 900  # per IN (...) list, under SQLite's limit on bound parameters

# version -> the script that brings the version before it to this one
MIGRATIONS: dict[int, str] = {
    1: """
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
""",
    2: """
CREATE TABLE IF NOT EXISTS passwords (
    charge_point_id TEXT NOT NULL,
    leg TEXT NOT NULL,
    value TEXT NOT NULL,
    previous TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (charge_point_id, leg)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""",
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
    4: """
CREATE TABLE IF NOT EXISTS leases (
    charge_point_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires REAL NOT NULL
);
""",
}
SCHEMA_VERSION = max(MIGRATIONS)
STATEMENTS = {kind: render(how, lambda i: "?") for kind, how in WRITES.items()}


class SqliteStore:
    """The bridge database in one SQLite file.

    Args:
        path: SQLite file (created when missing).
        sync: ``full`` or ``normal`` (SQLite ``PRAGMA synchronous`` in WAL mode).
        recover: move a damaged database aside and start a new one instead of
            refusing (see the module text).
        owner: this instance's name in the lease table.
        lease_seconds: how long a lease lasts unless renewed.

    Raises:
        StoreError: the database is damaged, lost its log, is of an unknown
            version or cannot be written (and ``recover`` is false).
    """

    kind = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        sync: str = "full",
        recover: bool = False,
        owner: str = "local",
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
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
        self.store_id = _store_id(self._db)
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.error: str | None = None  # why the last commit failed; None while commits land
        self._cond = threading.Condition()  # guards the queue
        self._db_lock = threading.Lock()  # guards the connection
        self._queue: list[tuple[Sequence[Op], asyncio.Future[None]]] = []
        self._closed = False
        self._held: dict[str, int] = {}  # charger -> the fencing token this store holds
        self.batches = 0  # transactions written (for metrics and the benchmark)
        self.takeovers = 0
        self.fencing_rejections = 0
        self._thread = threading.Thread(target=self._writer, name="bridge-store", daemon=True)
        self._thread.start()

    # -- reads (synchronous; the file is local) --------------------------------

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

    def stored_passwords(
        self, charge_point_id: str | None = None
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        sql = "SELECT charge_point_id, leg, value, previous FROM passwords"
        rows = (
            self._read(sql, ())
            if charge_point_id is None
            else self._read(sql + " WHERE charge_point_id = ?", (charge_point_id,))
        )
        return {(cp, leg): (value, previous) for cp, leg, value, previous in rows}

    async def passwords(
        self, charge_point_id: str | None = None
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        return await asyncio.to_thread(self.stored_passwords, charge_point_id)

    async def unacknowledged_dead_letters(self) -> int:
        """Dead letters no operator acknowledged yet (``/healthz`` is degraded meanwhile)."""
        sql = "SELECT COUNT(*) FROM dead_letters WHERE acknowledged IS NULL"
        return int((await asyncio.to_thread(self._read, sql, ()))[0][0])

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self._db_lock:  # the connection is shared with the writer thread
            return self._db.execute(sql, args).fetchall()

    async def check(self) -> str | None:
        return self.error

    # -- leases ------------------------------------------------------------------

    def holds(self, charge_point_id: str) -> bool:
        return charge_point_id in self._held

    def owned(self) -> int:
        return len(self._held)

    async def claim(self, charge_point_id: str, *, steal: bool = True) -> Claimed | None:
        return await asyncio.to_thread(self._claim, charge_point_id, steal)

    def _claim(self, cp: str, steal: bool) -> Claimed | None:
        with self._db_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                found = db.execute(
                    "SELECT owner, token, expires FROM leases WHERE charge_point_id = ?", (cp,)
                ).fetchone()
                row = LeaseRow(*found) if found else None
                previous = claim_verdict(row, self.owner, now, steal)
                if previous is None:
                    db.execute("ROLLBACK")
                    return None
                token = (row.token if row else 0) + 1
                db.execute(
                    "INSERT INTO leases VALUES (?, ?, ?, ?) ON CONFLICT (charge_point_id)"
                    " DO UPDATE SET owner = excluded.owner, token = excluded.token,"
                    " expires = excluded.expires",
                    (cp, self.owner, token, now + self.lease_seconds),
                )
                state = db.execute(
                    "SELECT state FROM chargers WHERE charge_point_id = ?", (cp,)
                ).fetchone()
                outbox = db.execute(
                    "SELECT seq, message_id, frame FROM outbox WHERE charge_point_id = ?"
                    " ORDER BY seq",
                    (cp,),
                ).fetchall()
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        self._held[cp] = token
        if previous in ("live", "expired"):
            self.takeovers += 1
        return Claimed(
            token,
            dict(orjson.loads(state[0])) if state else None,
            [OutboxRow(seq, mid, orjson.loads(frame)) for seq, mid, frame in outbox],
            previous,
        )

    async def release(self, charge_point_ids: Iterable[str]) -> None:
        gone = [(cp, self._held.pop(cp)) for cp in charge_point_ids if cp in self._held]
        if gone:
            await asyncio.to_thread(self._release, gone)

    def _release(self, gone: list[tuple[str, int]]) -> None:
        with self._db_lock:
            self._db.executemany(
                "UPDATE leases SET owner = '', expires = 0 WHERE charge_point_id = ? AND token = ?",
                gone,
            )

    async def renew(self) -> set[str]:
        return await asyncio.to_thread(self._renew)

    def _renew(self) -> set[str]:
        with self._db_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "UPDATE leases SET expires = ? WHERE owner = ?",
                    (time.time() + self.lease_seconds, self.owner),
                )
                rows = db.execute(
                    "SELECT charge_point_id, token FROM leases WHERE owner = ?", (self.owner,)
                ).fetchall()
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        current = dict(rows)
        lost = {cp for cp, token in list(self._held.items()) if current.get(cp) != token}
        for cp in lost:
            self._held.pop(cp, None)
        return lost

    async def orphans(self) -> list[str]:
        rows = self._read(
            "SELECT DISTINCT o.charge_point_id FROM outbox o"
            " LEFT JOIN leases l ON l.charge_point_id = o.charge_point_id"
            " WHERE l.charge_point_id IS NULL OR l.owner IN ('', ?) OR l.expires < ?"
            " ORDER BY 1",
            (self.owner, time.time()),
        )
        return [r[0] for r in rows if r[0] not in self._held]

    # -- writes (group commit) -----------------------------------------------

    async def commit(self, ops: Sequence[Op]) -> None:
        """Write ``ops`` atomically; returns once they are on disk.

        Raises:
            sqlite3.Error: the write failed (nothing of ``ops`` was stored).
            LeaseLost: another instance holds the charger now (nothing stored).
        """
        await self.submit(ops)

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Queue ``ops`` as one atomic write now; the future settles once they
        are on disk (or with the ``sqlite3.Error`` that kept them off it, or
        :class:`LeaseLost`).

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
            refused: set[str] = set()
            try:
                with self._db_lock:
                    refused = self._write(batch)
            except sqlite3.Error as exc:
                error = exc
            self.error = None if error is None else f"{type(error).__name__}: {error}"
            failures = 0 if error is None else failures + 1
            # One wake-up of the event loop for the whole batch.
            futures = [fut for _, fut in batch]
            outcome = [
                error
                if error is not None
                else (_lost(ops) if any(op.charge_point_id in refused for op in ops) else None)
                for ops, _ in batch
            ]
            futures[0].get_loop().call_soon_threadsafe(_settle, futures, outcome)
            if failures:
                # A disk that refuses writes refuses the next one too: whatever
                # retries (a peer resending, the outbox head) is slowed to the
                # pace of this back-off instead of spinning; queued ops meanwhile
                # make one batch.
                time.sleep(min(FAILED_COMMIT_BACKOFF_MAX, 0.05 * 2 ** min(failures - 1, 10)))

    def _write(self, batch: list[tuple[Sequence[Op], asyncio.Future[None]]]) -> set[str]:
        """One transaction: the fencing check, then one statement per op kind
        (every statement is a moment the writer needs the GIL back from the
        event loop, so rows are grouped per statement instead of executed one
        by one). Returns the chargers whose ops were refused (lease taken)."""
        now = time.time()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            chargers = sorted({op.charge_point_id for ops, _ in batch for op in ops})
            rows: dict[str, LeaseRow] = {}
            for i in range(0, len(chargers), MAX_PARAMS):
                part = chargers[i : i + MAX_PARAMS]
                for cp, owner, token, expires in db.execute(
                    "SELECT charge_point_id, owner, token, expires FROM leases"
                    f" WHERE charge_point_id IN ({', '.join('?' * len(part))})",
                    part,
                ):
                    rows[cp] = LeaseRow(owner, token, expires)
            refused = fenced(chargers, rows, self._held, self.owner, now)
            if refused:
                # A submission is atomic: any of its chargers refused refuses it whole.
                refused |= {
                    op.charge_point_id
                    for ops, _ in batch
                    if any(o.charge_point_id in refused for o in ops)
                    for op in ops
                }
            grouped = group(
                (op for ops, _ in batch if not refused & {o.charge_point_id for o in ops}
                 for op in ops),
                now,
            )  # fmt: skip
            for kind, _, values in grouped.statements():
                db.executemany(STATEMENTS[kind], values)
            db.execute("COMMIT")
            self.batches += 1
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # no transaction left to roll back
                db.execute("ROLLBACK")
            raise
        if refused:
            self.fencing_rejections += sum(
                1 for ops, _ in batch if any(op.charge_point_id in refused for op in ops)
            )
            for cp in refused:
                self._held.pop(cp, None)
        return refused

    def close(self) -> None:
        """Finish queued writes, then close the database."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        with contextlib.suppress(sqlite3.Error):  # a read-only disk keeps clean = 0: fine
            if self._held:
                self._release(list(self._held.items()))
                self._held.clear()
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('clean', '1')")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)


Store = SqliteStore  # the name this class had before the PostgreSQL backend


def _lost(ops: Sequence[Op]) -> LeaseLost:
    cps = sorted({op.charge_point_id for op in ops})
    return LeaseLost(f"lease of {', '.join(cps)} is held by another instance: write refused")


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
        pending = [MIGRATIONS[v] for v in sorted(MIGRATIONS) if v > version]
        if pending:  # one transaction: a crash mid-way leaves the old version whole
            db.executescript(
                "BEGIN;" + "".join(pending) + f"PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
        # Proof of a write, made durable in the main file at once: from now
        # on a lost -wal is told apart from a clean close.
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clean', '0')")
        db.execute("PRAGMA wal_checkpoint(FULL)")
    except sqlite3.Error as exc:
        if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
            raise StoreError(f"{where} cannot be written: {exc}") from None
        raise StoreError(f"{where} is damaged ({exc}); start with --recover") from None


def _store_id(db: sqlite3.Connection) -> str:
    """This database's random id (made once, kept in ``meta``)."""
    db.execute("INSERT OR IGNORE INTO meta VALUES ('store_id', ?)", (secrets.token_hex(16),))
    return str(db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()[0])


def _move_aside(path: Path) -> Path:
    """Keep the damaged files for inspection; the path is free for a new database."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    for src in (path, *_sidecars(path)):
        if src.exists():
            src.rename(src.with_name(kept.name + src.name.removeprefix(path.name)))
    return kept


def _settle(futures: list[asyncio.Future[None]], outcome: list[BaseException | None]) -> None:
    for fut, error in zip(futures, outcome, strict=True):
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
