"""The operator's view of dead letters: ``ocppkit bridge dead-letters --state PATH``.

A dead letter is a call for the CSMS the poison rule gave up
(:mod:`ocppkit.translators.bridge.poison`): the CSMS dropped the link each time
it was sent, ``poison_attempts`` times. The bridge stores it in the state
database's ``dead_letters`` table (:mod:`ocppkit.toolkit.gateway.store`) in
the commit that takes it out of the outbox, and ``/healthz`` reports
``degraded`` (problem ``dead_letters``) while any is not acknowledged.

This module reads that table, and marks rows acknowledged, with its own
connection, so it can run beside bridges that have the database open. For
SQLite (a path or ``sqlite://``), WAL allows one writer at a time and readers
alongside; the acknowledgement is one short transaction that waits up to five
seconds for the bridge's writer. For PostgreSQL (``postgresql://``, several
bridges sharing one database) it is one psycopg connection. It never opens
the database as the bridge's store does: that would mark an SQLite database
in use, run the start-up checks and take part in leases.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from ocppkit.toolkit.gateway.state import parse_state
from ocppkit.translators.errors import StoreError

BUSY_TIMEOUT = 5.0  # seconds an acknowledgement waits for the bridge's writer


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    """One row of ``dead_letters``."""

    id: int
    charge_point_id: str
    message_id: str
    frame: list[Any]
    attempts: int
    reason: str
    created: float
    acknowledged: float | None

    @property
    def action(self) -> str:
        return str(self.frame[2]) if len(self.frame) > 2 else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "charge_point_id": self.charge_point_id,
            "message_id": self.message_id,
            "action": self.action,
            "attempts": self.attempts,
            "reason": self.reason,
            "created": _stamp(self.created),
            "acknowledged": None if self.acknowledged is None else _stamp(self.acknowledged),
            "frame": self.frame,
        }


class _Db(Protocol):
    """What both backends' DB-API connections offer this module."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...


@contextlib.contextmanager
def _connect(state: str, *, write: bool) -> Iterator[tuple[_Db, str]]:
    """A connection to the state database ``state`` names, and its placeholder."""
    kind, target = parse_state(state)
    if kind == "postgresql":
        with _connect_postgres(target, write=write) as db:
            yield db, "%s"
        return
    with _connect_sqlite(Path(target), write=write) as sq:
        yield sq, "?"


@contextlib.contextmanager
def _connect_postgres(url: str, *, write: bool) -> Iterator[_Db]:
    try:
        import psycopg
    except ImportError:
        raise StoreError("a postgresql:// state needs psycopg: pip install 'ocppkit[ha]'") from None
    try:
        db = psycopg.connect(url, connect_timeout=int(BUSY_TIMEOUT), autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"state database cannot be reached: {_first_line(exc)}") from None
    try:
        if not write:
            db.execute("SET default_transaction_read_only = on")
        yield db
    except psycopg.errors.UndefinedTable:
        raise _NoTable from None
    except psycopg.Error as exc:
        raise StoreError(f"state database: {_first_line(exc)}") from None
    finally:
        db.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def _connect_sqlite(path: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        raise StoreError(f"state database {path} does not exist")
    uri = f"{path.resolve().as_uri()}?mode={'rw' if write else 'ro'}"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"state database {path} cannot be opened: {exc}") from None
    try:
        yield db
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise _NoTable from None
        raise StoreError(f"state database {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"state database {path} cannot be read: {exc}") from None
    finally:
        db.close()


class _NoTable(Exception):
    """A database from before schema version 3: it has no dead letters."""


def list_dead_letters(
    state: str | Path, *, include_acknowledged: bool = False
) -> list[DeadLetterRow]:
    """The dead letters in the state database ``state`` (a path or URL), oldest first.

    Raises:
        StoreError: the database is missing, unreachable or not a state database.
    """
    sql = (
        "SELECT id, charge_point_id, message_id, frame, attempts, reason, created, acknowledged"
        " FROM dead_letters"
        + ("" if include_acknowledged else " WHERE acknowledged IS NULL")
        + " ORDER BY id"
    )
    try:
        with _connect(str(state), write=False) as (db, _):
            rows = db.execute(sql).fetchall()
    except _NoTable:
        return []
    return [
        DeadLetterRow(i, cp, mid, orjson.loads(bytes(frame)), n, reason, created, ack)
        for i, cp, mid, frame, n, reason, created, ack in rows
    ]


def acknowledge(state: str | Path, ids: list[int]) -> int:
    """Mark the dead letters ``ids`` acknowledged; returns how many changed.

    Raises:
        StoreError: the database is missing, not a state database, or stays locked.
    """
    if not ids:
        return 0
    now = time.time()
    try:
        with _connect(str(state), write=True) as (db, mark):
            marks = ",".join([mark] * len(ids))
            cur = db.execute(
                f"UPDATE dead_letters SET acknowledged = {mark} WHERE acknowledged IS NULL"
                f" AND id IN ({marks})",
                (now, *ids),
            )
            return int(cur.rowcount)
    except _NoTable:
        return 0


def format_table(rows: list[DeadLetterRow]) -> str:
    """One line per dead letter, for a terminal."""
    if not rows:
        return "no dead letters"
    head = ("id", "charger", "action", "message id", "attempts", "given up", "acknowledged")
    body = [
        (
            str(r.id),
            r.charge_point_id,
            r.action,
            r.message_id,
            str(r.attempts),
            _stamp(r.created),
            "" if r.acknowledged is None else _stamp(r.acknowledged),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in (head, *body)
    )


def _stamp(seconds: float) -> str:
    when = datetime.fromtimestamp(seconds, UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")
