"""The shared backend: bridge state in PostgreSQL, for several bridge instances.

Same tables as the SQLite backend (``chargers``, ``outbox``, ``passwords``,
``leases``, ``meta`` with the store's random ``store_id``; frames and states
as ``bytea``), created and migrated at start by :data:`MIGRATIONS`, recorded
in ``ocppkit_schema``; instances starting together take an advisory lock, so
one migrates and the others wait.

Writes are group-committed as with SQLite: one writer task on its own
connection takes everything queued while the previous transaction ran and
writes it as one transaction, one pipelined ``executemany`` per op kind, after
the fencing check (``SELECT ... FOR SHARE`` on the batch's lease rows, so a
claim by another instance waits for this commit and then reads what it wrote).
Claims, renewals and reads use a small pool of further connections. Lease
times are the server's clock (``clock_timestamp()``), so instances on hosts
whose clocks differ agree on expiry.

``sync = "normal"`` sets ``synchronous_commit = off`` on the writer: a commit
returns before the WAL reaches the disk, which survives a crash of the bridge
but not of the database server.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import socket
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
import psycopg

from ocppkit.toolkit.gateway.state import LEASE_SECONDS, Claimed, LeaseRow, claim_verdict, fenced
from ocppkit.toolkit.gateway.state.ops import WRITES, Op, OutboxRow, group, render
from ocppkit.translators.errors import LeaseLost, StoreError

FAILED_COMMIT_BACKOFF_MAX = 1.0
POOL = 4  # connections for claims, renewals and reads (the writer has its own)
CONNECT_TIMEOUT = 10  # seconds
NOW = "extract(epoch from clock_timestamp())"

MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE chargers (
    charge_point_id text PRIMARY KEY,
    state bytea NOT NULL,
    updated double precision NOT NULL
);
CREATE TABLE outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charge_point_id text NOT NULL,
    message_id text NOT NULL,
    frame bytea NOT NULL,
    created double precision NOT NULL
);
CREATE INDEX outbox_by_charger ON outbox (charge_point_id, seq);
CREATE TABLE passwords (
    charge_point_id text NOT NULL,
    leg text NOT NULL,
    value text NOT NULL,
    previous text,
    updated double precision NOT NULL,
    PRIMARY KEY (charge_point_id, leg)
);
CREATE TABLE dead_letters (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charge_point_id text NOT NULL,
    message_id text NOT NULL,
    frame bytea NOT NULL,
    attempts integer NOT NULL,
    reason text NOT NULL,
    created double precision NOT NULL,
    acknowledged double precision
);
CREATE TABLE leases (
    charge_point_id text PRIMARY KEY,
    owner text NOT NULL,
    token bigint NOT NULL,
    expires double precision NOT NULL
);
""",
    2: """
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
""",
}
SCHEMA_VERSION = max(MIGRATIONS)
STATEMENTS = {kind: render(how, lambda i: "%s") for kind, how in WRITES.items()}


def _where(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://..."
    host, db = info.get("host", "localhost"), info.get("dbname", "")
    return f"postgresql database {db} on {host}"


class PostgresStore:
    """The bridge state in a PostgreSQL database several instances share.

    Open with :meth:`open` (connects and migrates).
    """

    kind = "postgresql"

    def __init__(self, url: str, *, sync: str, owner: str, lease_seconds: float) -> None:
        self.url = url
        self.where = _where(url)
        self.sync = sync
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}"
        self.lease_seconds = lease_seconds
        self.error: str | None = None
        self.batches = 0
        self.takeovers = 0
        self.fencing_rejections = 0
        self.recovered_from: Path | None = None
        self.store_id = ""  # read from meta by open()
        self._held: dict[str, int] = {}
        self._queue: list[tuple[Sequence[Op], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._writer_conn: psycopg.AsyncConnection[Any] | None = None
        self._pool: asyncio.Queue[psycopg.AsyncConnection[Any] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, url: str, *, sync: str = "full", owner: str = "", lease_seconds: float = LEASE_SECONDS
    ) -> PostgresStore:
        """Connect, migrate, start the writer.

        Raises:
            StoreError: the server cannot be reached, or its schema is newer.
        """
        self = cls(url, sync=sync, owner=owner, lease_seconds=lease_seconds)
        try:
            conn = await self._connect()
            await self._migrate(conn)
            self._pool.put_nowait(conn)
            for _ in range(POOL - 1):
                self._pool.put_nowait(None)  # connected on first use
            self._writer_conn = await self._connect(writer=True)
        except psycopg.Error as exc:
            await self.aclose()
            raise StoreError(f"{self.where} cannot be used: {_one_line(exc)}") from None
        self._task = asyncio.create_task(self._writer())
        return self

    async def _connect(self, *, writer: bool = False) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
        )
        if writer and self.sync == "normal":
            await conn.execute("SET synchronous_commit = off")
        return conn

    async def _migrate(self, conn: psycopg.AsyncConnection[Any]) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ocppkit_schema'))")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS ocppkit_schema"
                " (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT coalesce(max(version), 0) FROM ocppkit_schema")
            row = await cur.fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.where} has schema version {version}, newer than this ocppkit"
                    f" knows ({SCHEMA_VERSION})"
                )
            for v in sorted(MIGRATIONS):
                if v > version:
                    await conn.execute(MIGRATIONS[v])
                    await conn.execute("INSERT INTO ocppkit_schema (version) VALUES (%s)", (v,))
            await conn.execute(
                "INSERT INTO meta VALUES ('store_id', %s) ON CONFLICT DO NOTHING",
                (secrets.token_hex(16),),
            )
            cur = await conn.execute("SELECT value FROM meta WHERE key = 'store_id'")
            found = await cur.fetchone()
            assert found is not None
            self.store_id = str(found[0])

    @contextlib.asynccontextmanager
    async def _conn(self) -> Any:
        """A pooled connection; a broken one is replaced on its next use."""
        conn = await self._pool.get()
        try:
            if conn is None or conn.closed or conn.broken:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                conn = None
                conn = await self._connect()
            yield conn
        finally:
            self._pool.put_nowait(conn)

    # -- reads -------------------------------------------------------------------

    async def passwords(
        self, charge_point_id: str | None = None
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        sql = "SELECT charge_point_id, leg, value, previous FROM passwords"
        async with self._conn() as conn:
            cur = await (
                conn.execute(sql)
                if charge_point_id is None
                else conn.execute(sql + " WHERE charge_point_id = %s", (charge_point_id,))
            )
            return {(cp, leg): (value, prev) for cp, leg, value, prev in await cur.fetchall()}

    async def unacknowledged_dead_letters(self) -> int:
        async with self._conn() as conn:
            cur = await conn.execute("SELECT count(*) FROM dead_letters WHERE acknowledged IS NULL")
            row = await cur.fetchone()
            return int(row[0]) if row else 0

    async def outbox_rows(self) -> int:
        async with self._conn() as conn:
            cur = await conn.execute("SELECT count(*) FROM outbox")
            row = await cur.fetchone()
            return int(row[0]) if row else 0

    async def check(self) -> str | None:
        try:
            async with self._conn() as conn:
                await asyncio.wait_for(conn.execute("SELECT 1"), 5)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            return f"{self.where} unreachable: {_one_line(exc)}"
        return self.error

    # -- leases --------------------------------------------------------------------

    def holds(self, charge_point_id: str) -> bool:
        return charge_point_id in self._held

    def owned(self) -> int:
        return len(self._held)

    async def claim(self, charge_point_id: str, *, steal: bool = True) -> Claimed | None:
        cp = charge_point_id
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO leases VALUES (%s, '', 0, 0) ON CONFLICT DO NOTHING", (cp,)
            )
            cur = await conn.execute(
                f"SELECT owner, token, expires < {NOW} FROM leases"
                " WHERE charge_point_id = %s FOR UPDATE",
                (cp,),
            )
            found = await cur.fetchone()
            assert found is not None
            owner, token, expired = found
            row = LeaseRow(owner, int(token), -math.inf if expired else math.inf)
            previous = claim_verdict(row, self.owner, 0.0, steal)
            if previous is None:
                return None
            token = int(token) + 1
            await conn.execute(
                f"UPDATE leases SET owner = %s, token = %s, expires = {NOW} + %s"
                " WHERE charge_point_id = %s",
                (self.owner, token, self.lease_seconds, cp),
            )
            cur = await conn.execute("SELECT state FROM chargers WHERE charge_point_id = %s", (cp,))
            state = await cur.fetchone()
            cur = await conn.execute(
                "SELECT seq, message_id, frame FROM outbox WHERE charge_point_id = %s ORDER BY seq",
                (cp,),
            )
            outbox = await cur.fetchall()
        self._held[cp] = token
        if previous in ("live", "expired"):
            self.takeovers += 1
        return Claimed(
            token,
            dict(orjson.loads(state[0])) if state else None,
            [OutboxRow(int(seq), mid, orjson.loads(frame)) for seq, mid, frame in outbox],
            previous,
        )

    async def release(self, charge_point_ids: Iterable[str]) -> None:
        gone = [(cp, self._held.pop(cp)) for cp in charge_point_ids if cp in self._held]
        if not gone:
            return
        async with self._conn() as conn, conn.cursor() as cur:
            await cur.executemany(
                "UPDATE leases SET owner = '', expires = 0"
                " WHERE charge_point_id = %s AND token = %s",
                gone,
            )

    async def renew(self) -> set[str]:
        async with self._conn() as conn:
            cur = await conn.execute(
                f"UPDATE leases SET expires = {NOW} + %s WHERE owner = %s"
                " RETURNING charge_point_id, token",
                (self.lease_seconds, self.owner),
            )
            current = {cp: int(token) for cp, token in await cur.fetchall()}
        lost = {cp for cp, token in list(self._held.items()) if current.get(cp) != token}
        for cp in lost:
            self._held.pop(cp, None)
        return lost

    async def orphans(self) -> list[str]:
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT DISTINCT o.charge_point_id FROM outbox o"
                " LEFT JOIN leases l ON l.charge_point_id = o.charge_point_id"
                f" WHERE l.charge_point_id IS NULL OR l.owner IN ('', %s) OR l.expires < {NOW}"
                " ORDER BY 1",
                (self.owner,),
            )
            rows = await cur.fetchall()
        return [r[0] for r in rows if r[0] not in self._held]

    # -- writes (group commit) -----------------------------------------------------------

    async def commit(self, ops: Sequence[Op]) -> None:
        """Write ``ops`` atomically.

        Raises:
            psycopg.Error: the write failed (nothing of ``ops`` was stored).
            LeaseLost: another instance holds the charger now (nothing stored).
        """
        await self.submit(ops)

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not ops:
            fut.set_result(None)
            return fut
        if self._closed:
            raise StoreError("store is closed")
        self._queue.append((ops, fut))
        self._wake.set()
        return fut

    async def _writer(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._queue:
                if self._closed:
                    return
                continue
            batch, self._queue = self._queue, []
            error: BaseException | None = None
            refused: set[str] = set()
            try:
                refused = await self._write(batch)
            except (psycopg.Error, OSError) as exc:
                error = exc
            self.error = None if error is None else f"{type(error).__name__}: {_one_line(error)}"
            failures = 0 if error is None else failures + 1
            for ops, fut in batch:
                if fut.done():
                    continue
                if error is not None:
                    fut.set_exception(error)
                elif any(op.charge_point_id in refused for op in ops):
                    cps = sorted({op.charge_point_id for op in ops})
                    fut.set_exception(
                        LeaseLost(f"lease of {', '.join(cps)} is held by another instance")
                    )
                else:
                    fut.set_result(None)
            if failures:
                await asyncio.sleep(
                    min(FAILED_COMMIT_BACKOFF_MAX, 0.05 * 2 ** min(failures - 1, 10))
                )
            if self._queue:
                self._wake.set()

    async def _write(self, batch: list[tuple[Sequence[Op], asyncio.Future[None]]]) -> set[str]:
        conn = self._writer_conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            self._writer_conn = None
            self._writer_conn = conn = await self._connect(writer=True)
        chargers = sorted({op.charge_point_id for ops, _ in batch for op in ops})
        async with conn.transaction():
            cur = await conn.execute(
                f"SELECT charge_point_id, owner, token, expires >= {NOW} FROM leases"
                " WHERE charge_point_id = ANY(%s) ORDER BY charge_point_id FOR SHARE",
                (chargers,),
            )
            rows = {
                cp: LeaseRow(owner, int(token), math.inf if live else -math.inf)
                for cp, owner, token, live in await cur.fetchall()
            }
            refused = fenced(chargers, rows, self._held, self.owner, 0.0)
            if refused:
                refused |= {
                    op.charge_point_id
                    for ops, _ in batch
                    if any(o.charge_point_id in refused for o in ops)
                    for op in ops
                }
            grouped = group(
                (op for ops, _ in batch if not refused & {o.charge_point_id for o in ops}
                 for op in ops),
                time.time(),  # the row's "updated" only: leases use the server's clock
            )  # fmt: skip
            async with conn.cursor() as wcur:
                for kind, _, values in grouped.statements():
                    await wcur.executemany(STATEMENTS[kind], values)
        self.batches += 1
        if refused:
            self.fencing_rejections += sum(
                1 for ops, _ in batch if any(op.charge_point_id in refused for op in ops)
            )
            for cp in refused:
                self._held.pop(cp, None)
        return refused

    async def aclose(self) -> None:
        """Finish queued writes, release the leases held, close the connections."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        if self._held and self._pool.qsize():
            with contextlib.suppress(psycopg.Error, OSError):
                await self.release(list(self._held))
        conns = [self._writer_conn]
        while not self._pool.empty():
            conns.append(self._pool.get_nowait())
        for conn in conns:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    def close(self) -> None:  # the SQLite backend's synchronous form is not offered
        raise TypeError("PostgresStore is closed with `await store.aclose()`")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
