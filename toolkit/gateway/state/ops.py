"""What a commit writes, the same for every backend: ops, rows and their grouping.

A session hands the store a list of ops; the store writes them in one
transaction. Each op kind is one row in :data:`WRITES`: the table it touches
and the row it becomes. A backend only renders each :class:`Write` into its
own SQL dialect once, so adding an op kind is a dataclass, a ``WRITES`` entry
and, when it needs a new table, a migration in each backend.

Rows of one kind in one batch are written with one statement (a statement is
a moment the SQLite writer thread needs the GIL back from the event loop), so
:func:`group` sorts a batch into per-kind row lists, keeping only the newest
state of each charger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

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


@dataclass(frozen=True, slots=True)
class Write:
    """How one op kind is written.

    Attributes:
        table: the table it touches.
        columns: the columns of its row, in ``row``'s order.
        verb: ``insert`` (a new row), ``upsert`` (replace the row with the same
            ``key``) or ``delete`` (the row matching every column).
        key: the primary key columns (``upsert`` only).
        row: the op and the commit time -> the row's values.
        order: statements run in this order within a transaction.
        newest_only: keep only the last op per ``key`` in a batch.
    """

    table: str
    columns: tuple[str, ...]
    verb: str
    row: Callable[[Any, float], tuple[Any, ...]]
    key: tuple[str, ...] = ()
    order: int = 0
    newest_only: bool = False


# A call is added (and committed) before it is sent, so a batch never deletes
# an outbox row it adds: the order of the groups is free; deletes go first.
WRITES: dict[type, Write] = {
    DeleteOutbox: Write(
        "outbox", ("charge_point_id", "message_id"), "delete",
        lambda op, now: (op.charge_point_id, op.message_id), order=0,
    ),
    AddOutbox: Write(
        "outbox", ("charge_point_id", "message_id", "frame", "created"), "insert",
        lambda op, now: (op.charge_point_id, op.message_id, orjson.dumps(op.frame), now),
        order=1,
    ),
    PutState: Write(
        "chargers", ("charge_point_id", "state", "updated"), "upsert",
        lambda op, now: (op.charge_point_id, op.state, now),
        key=("charge_point_id",), order=2, newest_only=True,
    ),
    PutPassword: Write(
        "passwords", ("charge_point_id", "leg", "value", "previous", "updated"), "upsert",
        lambda op, now: (op.charge_point_id, op.leg, op.value, op.previous, now),
        key=("charge_point_id", "leg"), order=3,
    ),
    AddDeadLetter: Write(
        "dead_letters",
        ("charge_point_id", "message_id", "frame", "attempts", "reason", "created"), "insert",
        lambda op, now: (op.charge_point_id, op.message_id, orjson.dumps(op.frame), op.attempts,
                         op.reason, now),
        order=4,
    ),
}  # fmt: skip


@dataclass
class Grouped:
    """One batch sorted into rows per op kind (see :func:`group`)."""

    rows: dict[type, list[tuple[Any, ...]]] = field(default_factory=dict)
    chargers: set[str] = field(default_factory=set)

    def statements(self) -> Iterable[tuple[type, Write, list[tuple[Any, ...]]]]:
        """(op kind, how, rows) per op kind present, in write order."""
        for kind in sorted(self.rows, key=lambda k: WRITES[k].order):
            yield kind, WRITES[kind], self.rows[kind]


def group(ops: Iterable[Any], now: float) -> Grouped:
    """Sort ops into rows per kind; the newest of a ``newest_only`` key wins."""
    out = Grouped()
    newest: dict[type, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    for op in ops:
        kind = type(op)
        how = WRITES[kind]
        row = how.row(op, now)
        out.chargers.add(op.charge_point_id)
        if how.newest_only:
            key = tuple(row[how.columns.index(c)] for c in how.key)
            newest.setdefault(kind, {})[key] = row
        else:
            out.rows.setdefault(kind, []).append(row)
    for kind, by_key in newest.items():
        out.rows[kind] = list(by_key.values())
    return out


def render(how: Write, placeholder: Callable[[int], str]) -> str:
    """The statement for ``how`` in a dialect whose n-th parameter is ``placeholder(n)``."""
    cols = how.columns
    params = ", ".join(placeholder(i) for i in range(len(cols)))
    if how.verb == "delete":
        where = " AND ".join(f"{c} = {placeholder(i)}" for i, c in enumerate(cols))
        return f"DELETE FROM {how.table} WHERE {where}"
    sql = f"INSERT INTO {how.table} ({', '.join(cols)}) VALUES ({params})"
    if how.verb == "upsert":
        rest = [c for c in cols if c not in how.key]
        sets = ", ".join(f"{c} = excluded.{c}" for c in rest)
        sql += f" ON CONFLICT ({', '.join(how.key)}) DO UPDATE SET {sets}"
    return sql


def only_chargers(ops: Sequence[Any], chargers: set[str]) -> list[Any]:
    return [op for op in ops if op.charge_point_id in chargers]
