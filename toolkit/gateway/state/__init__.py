"""Where the bridge keeps its state: one protocol, two backends.

:class:`StateStore` is what a bridge needs from its database: translator
state and outbox per charger, rotated passwords, group-committed atomic
writes, and **leases**: which bridge instance drives which charger.

Backends (chosen by :func:`open_store` from ``--state``):

- :mod:`~ocppkit.toolkit.gateway.state.sqlite` -- the embedded default, one
  process per file (WAL, group commit in a writer thread);
- :mod:`~ocppkit.toolkit.gateway.state.postgres` -- several bridges sharing one
  PostgreSQL database (psycopg 3, async), so a charger may reconnect to any
  instance behind a TCP load balancer.

Leases and fencing
------------------
Exactly one instance drives a charger at a time. :meth:`StateStore.claim`
takes the charger's lease row (``leases(charge_point_id, owner, token,
expires)``) and, in the same transaction, reads its state and outbox. Every
claim increases ``token``; the store remembers the token it holds, and each
commit checks, in its own transaction, that the lease row still carries that
token: a bridge whose lease another instance took (the charger reconnected
there) has its late writes rejected (:class:`~ocppkit.translators.errors.LeaseLost`,
counted in ``fencing_rejections``) and so acknowledges nothing it did not
store. A charger connecting is claimed with ``steal=True``: its newest
connection wins, as within one process, so a charger that failed over does
not wait for the dead instance's lease to expire. Calls stored for chargers
that do not reconnect are adopted (``steal=False``) once their owner's lease
expired (:meth:`StateStore.orphans`); the owner renews its leases every
third of ``lease_seconds`` and releases them when it drains.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ocppkit.toolkit.gateway.state.ops import Op, OutboxRow
from ocppkit.translators.errors import ConfigError

LEASE_SECONDS = 10.0  # default: an instance silent this long loses its chargers' calls


@dataclass(frozen=True, slots=True)
class Claimed:
    """A charger's lease, taken, with what was stored for it at that moment.

    Attributes:
        token: the fencing token this store now holds for the charger.
        state: the translator state (JSON form), or None for a new charger.
        outbox: calls stored for the CSMS, in order.
        previous: whose lease it was: ``""`` (none, or released), ``"self"``,
            ``"expired"`` (another instance's, run out) or ``"live"`` (taken
            from another instance that still held it).
    """

    token: int
    state: dict[str, Any] | None
    outbox: list[OutboxRow]
    previous: str


@dataclass(frozen=True, slots=True)
class LeaseRow:
    owner: str
    token: int
    expires: float


def claim_verdict(row: LeaseRow | None, owner: str, now: float, steal: bool) -> str | None:
    """Whose lease ``row`` is, as :attr:`Claimed.previous` says; None: not ours to take."""
    if row is None or row.owner == "":
        return ""
    if row.owner == owner:
        return "self"
    if row.expires < now:
        return "expired"
    return "live" if steal else None


def fenced(
    chargers: Iterable[str],
    rows: dict[str, LeaseRow],
    held: dict[str, int],
    owner: str,
    now: float,
) -> set[str]:
    """The chargers a commit may not write for.

    A charger whose lease this store holds must still carry its token; one it
    does not hold may be written only when no other instance holds it live.
    """
    out: set[str] = set()
    for cp in chargers:
        row, token = rows.get(cp), held.get(cp)
        if token is not None:
            if row is None or row.token != token:
                out.add(cp)
        elif row is not None and row.owner not in ("", owner) and row.expires >= now:
            out.add(cp)
    return out


class StateStore(Protocol):
    """What the bridge needs from its database (both backends pass one contract)."""

    kind: str  # "sqlite" or "postgresql"
    owner: str  # this instance's name in the lease table
    error: str | None  # why the last commit failed; None while commits land
    batches: int  # transactions written
    takeovers: int  # claims that took another instance's lease
    fencing_rejections: int  # commits refused because the lease was taken
    recovered_from: Path | None  # where --recover put a damaged SQLite file
    store_id: str  # random, made with the database: the prefix of the bridge's message ids

    async def claim(self, charge_point_id: str, *, steal: bool = True) -> Claimed | None:
        """Take the charger's lease and read its state; None: held live elsewhere."""
        ...

    async def release(self, charge_point_ids: Iterable[str]) -> None:
        """Give these leases up now, so any instance may take them at once."""
        ...

    async def renew(self) -> set[str]:
        """Extend every lease held; return the chargers whose lease was taken."""
        ...

    async def orphans(self) -> list[str]:
        """Chargers with stored calls and no live owner but possibly this instance."""
        ...

    async def passwords(
        self, charge_point_id: str | None = None
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        """The stored passwords, every charger's or one's: (charger, leg) -> (value, previous)."""
        ...

    async def unacknowledged_dead_letters(self) -> int:
        """Dead letters no operator acknowledged yet."""
        ...

    async def check(self) -> str | None:
        """None when the database answers now, else why not (readiness)."""
        ...

    def holds(self, charge_point_id: str) -> bool: ...

    def owned(self) -> int:
        """How many leases this store holds."""
        ...

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Queue ``ops`` as one atomic write; the future settles once stored."""
        ...

    async def commit(self, ops: Sequence[Op]) -> None: ...

    async def aclose(self) -> None:
        """Finish queued writes, then close."""
        ...


def parse_state(url: str) -> tuple[str, str]:
    """``--state`` -> (kind, target): a plain path or ``sqlite://PATH`` is SQLite
    (``sqlite:///var/lib/b.db`` is absolute), ``postgresql://`` a libpq URL."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", url
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        if not path:
            raise ConfigError("--state sqlite:// needs a path: sqlite:///var/lib/ocppkit/bridge.db")
        return "sqlite", path
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme is not None:
        raise ConfigError(
            f"--state {scheme.group(1)}:// is not a known backend (a path, sqlite:// or postgresql://)"
        )
    return "sqlite", url


async def open_store(
    url: str,
    *,
    sync: str = "full",
    recover: bool = False,
    owner: str = "",
    lease_seconds: float = LEASE_SECONDS,
) -> StateStore:
    """Open (and migrate) the store ``url`` names (see :func:`parse_state`).

    Raises:
        StoreError: the database cannot be used (damaged, unreachable, newer).
        ConfigError: an unknown scheme, or PostgreSQL without psycopg installed.
    """
    kind, target = parse_state(url)
    if kind == "sqlite":
        from ocppkit.toolkit.gateway.state.sqlite import SqliteStore

        return SqliteStore(
            target, sync=sync, recover=recover, owner=owner or "local", lease_seconds=lease_seconds
        )
    try:
        from ocppkit.toolkit.gateway.state.postgres import PostgresStore
    except ImportError as exc:
        raise ConfigError(
            f"--state postgresql:// needs psycopg 3: pip install 'ocppkit[ha]' ({exc})"
        ) from None
    return await PostgresStore.open(target, sync=sync, owner=owner, lease_seconds=lease_seconds)
