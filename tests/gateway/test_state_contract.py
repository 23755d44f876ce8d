"""The state store contract: the same tests on SQLite and on a real PostgreSQL.

Each test opens one or two stores on one database: two stores are two bridge
instances sharing it (with SQLite, two processes' worth of connections on one
file; with PostgreSQL, the deployment the backend exists for).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ocppkit.toolkit.gateway.dead_letters import acknowledge, list_dead_letters
from ocppkit.toolkit.gateway.state import StateStore, open_store, parse_state
from ocppkit.toolkit.gateway.state.ops import (
    AddDeadLetter,
    AddOutbox,
    DeleteOutbox,
    PutPassword,
    PutState,
)
from ocppkit.translators.errors import ConfigError, LeaseLost, StoreError
from tests.gateway.pg import pg_server, pg_url, require_pg  # noqa: F401

Opener = Callable[..., Awaitable[StateStore]]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'bridge.db'}"
    else:
        require_pg()
        url = request.getfixturevalue("pg_url")

    async def open_(owner: str = "A", lease_seconds: float = 30.0) -> StateStore:
        return await open_store(url, owner=owner, lease_seconds=lease_seconds)

    open_.url = url  # type: ignore[attr-defined]
    return open_


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def hb(mid: str, cp: str = "CP1") -> AddOutbox:
    return AddOutbox(cp, mid, [2, mid, "Heartbeat", {}])


def test_state_and_outbox_survive_reopening_in_order(opener: Opener) -> None:
    async def main() -> Any:
        store = await opener()
        assert await store.claim("CP1") is not None
        await store.commit([PutState("CP1", orjson.dumps({"n": 1}))])
        await store.commit([hb(f"m{i}") for i in range(5)])
        await store.commit([DeleteOutbox("CP1", "m2"), PutState("CP1", orjson.dumps({"n": 2}))])
        await store.aclose()
        again = await opener()
        try:
            return await again.claim("CP1"), await again.claim("CP2"), await again.orphans()
        finally:
            await again.aclose()

    cp1, cp2, orphans = run(main())
    assert cp1.state == {"n": 2}
    assert [r.message_id for r in cp1.outbox] == ["m0", "m1", "m3", "m4"]
    assert cp1.outbox[0].frame == [2, "m0", "Heartbeat", {}]
    assert cp2.state is None and cp2.outbox == []
    assert orphans == []  # CP1 is claimed by the store that was asked


def test_concurrent_commits_are_grouped_into_fewer_transactions(opener: Opener) -> None:
    async def main() -> tuple[int, list[Any]]:
        store = await opener()
        await asyncio.gather(*(store.commit([PutState(f"CP{i}", b"{}")]) for i in range(200)))
        batches = store.batches
        claimed = [await store.claim(f"CP{i}") for i in range(200)]
        await store.aclose()
        return batches, claimed

    batches, claimed = run(main())
    assert all(c is not None and c.state == {} for c in claimed)
    assert batches < 200


def test_a_batch_from_many_chargers_keeps_each_outbox_in_order_and_the_newest_state(
    opener: Opener,
) -> None:
    async def main() -> list[Any]:
        store = await opener()
        futures = []
        for round_ in range(4):
            for cp in ("CP1", "CP2", "CP3"):
                state = PutState(cp, orjson.dumps({"r": round_}))
                futures.append(store.submit([hb(f"{cp}-{round_}", cp), state]))
        await asyncio.gather(*futures)
        # (A call is stored before it is sent, so its delete comes in a later batch.)
        await asyncio.gather(*(store.submit([DeleteOutbox("CP2", f"CP2-{i}")]) for i in range(4)))
        claimed = [await store.claim(cp) for cp in ("CP1", "CP2", "CP3")]
        await store.aclose()
        return claimed

    cp1, cp2, cp3 = run(main())
    assert [r.message_id for r in cp1.outbox] == [f"CP1-{i}" for i in range(4)]
    assert cp2.outbox == []
    assert [r.message_id for r in cp3.outbox] == [f"CP3-{i}" for i in range(4)]
    assert cp1.state == cp2.state == cp3.state == {"r": 3}


def test_a_new_owner_takes_over_state_and_outbox_and_the_old_owners_late_write_is_refused(
    opener: Opener,
) -> None:
    async def main() -> Any:
        a, b = await opener("A"), await opener("B")
        try:
            first = await a.claim("CP1")
            await a.claim("OTHER")
            await a.commit([hb("m1"), PutState("CP1", b'{"tx": 7}')])
            await a.commit([PutState("OTHER", b'{"x": 1}')])
            taken = await b.claim("CP1")  # the charger reconnected to B
            with pytest.raises(LeaseLost):
                await a.commit([DeleteOutbox("CP1", "m1"), PutState("CP1", b'{"tx": 8}')])
            # In one batch, the refused charger does not take the others with it.
            late = a.submit([PutState("CP1", b'{"tx": 9}')])
            other = a.submit([PutState("OTHER", b'{"x": 2}')])
            results = await asyncio.gather(late, other, return_exceptions=True)
            await b.commit([DeleteOutbox("CP1", "m1"), PutState("CP1", b'{"tx": 10}')])
            seen = await b.claim("CP1")
            return first, taken, results, seen, a, b, await b.claim("OTHER", steal=False)
        finally:
            await a.aclose()
            await b.aclose()

    first, taken, results, seen, a, b, other = run(main())
    assert taken.token > first.token and taken.previous == "live"
    assert taken.state == {"tx": 7} and [r.message_id for r in taken.outbox] == ["m1"]
    assert isinstance(results[0], LeaseLost) and results[1] is None
    assert seen.state == {"tx": 10} and seen.outbox == []
    assert a.fencing_rejections == 2 and b.fencing_rejections == 0
    assert b.takeovers == 1 and a.takeovers == 0
    assert other is None  # A holds it, live: B may not take it without the charger


def test_without_steal_a_live_lease_is_refused_and_an_expired_one_adopted(opener: Opener) -> None:
    async def main() -> Any:
        a, b = await opener("A", lease_seconds=0.5), await opener("B", lease_seconds=0.5)
        try:
            await a.claim("CP1")
            await a.commit([hb("m1")])
            refused = await b.claim("CP1", steal=False)
            orphans_live = await b.orphans()
            await asyncio.sleep(0.7)  # A stopped renewing (it died)
            orphans_expired = await b.orphans()
            adopted = await b.claim("CP1", steal=False)
            lost = await a.renew()
            return refused, orphans_live, orphans_expired, adopted, lost, a.holds("CP1")
        finally:
            await a.aclose()
            await b.aclose()

    refused, live, expired, adopted, lost, a_holds = run(main())
    assert refused is None and live == []
    assert expired == ["CP1"]
    assert adopted is not None and adopted.previous == "expired"
    assert [r.message_id for r in adopted.outbox] == ["m1"]
    assert lost == {"CP1"} and not a_holds


def test_renewal_keeps_a_lease_alive_and_release_frees_it_at_once(opener: Opener) -> None:
    async def main() -> Any:
        a, b = await opener("A", lease_seconds=0.6), await opener("B", lease_seconds=0.6)
        try:
            first = await a.claim("CP1")
            for _ in range(4):
                await asyncio.sleep(0.2)
                assert await a.renew() == set()
            kept = await b.claim("CP1", steal=False)
            owned = a.owned()
            await a.release(["CP1"])
            freed = await b.claim("CP1", steal=False)
            return first, kept, owned, freed, a.owned()
        finally:
            await a.aclose()
            await b.aclose()

    first, kept, owned, freed, owned_after = run(main())
    assert kept is None and owned == 1 and owned_after == 0
    assert freed is not None and freed.previous == "" and freed.token > first.token


def test_fencing_tokens_only_grow_even_across_release_and_reclaim(opener: Opener) -> None:
    async def main() -> list[int]:
        a = await opener("A")
        tokens = []
        for _ in range(3):
            c = await a.claim("CP1")
            assert c is not None
            tokens.append(c.token)
            await a.release(["CP1"])
        await a.aclose()
        return tokens

    tokens = run(main())
    assert tokens == sorted(tokens) and len(set(tokens)) == 3


def test_passwords_round_trip(opener: Opener) -> None:
    async def main() -> Any:
        store = await opener()
        await store.claim("CP1")
        await store.commit([PutPassword("CP1", "downstream", "new", "old"),
                            PutPassword("CP1", "upstream", "new", None)])  # fmt: skip
        await store.commit([PutPassword("CP1", "downstream", "new", None)])
        await store.aclose()
        again = await opener()
        try:
            return await again.passwords(), await again.check()
        finally:
            await again.aclose()

    stored, problem = run(main())
    assert stored == {("CP1", "downstream"): ("new", None), ("CP1", "upstream"): ("new", None)}
    assert problem is None


def test_dead_letters_are_listed_and_acknowledged_by_the_operator_on_either_backend(
    opener: Opener,
) -> None:
    url = opener.url  # type: ignore[attr-defined]

    async def main() -> tuple[int, int]:
        store = await opener()
        await store.claim("CP1")
        await store.commit([hb("m1"), hb("m2")])
        await store.commit([
            DeleteOutbox("CP1", "m1"),
            AddDeadLetter("CP1", "m1", [2, "m1", "Heartbeat", {}], 5, "link lost 5 times"),
        ])  # fmt: skip
        await store.commit([
            DeleteOutbox("CP1", "m2"),
            AddDeadLetter("CP1", "m2", [2, "m2", "DataTransfer", {"vendorId": "V"}], 5, "lost"),
        ])  # fmt: skip
        before = await store.unacknowledged_dead_letters()
        # The operator's command reads and acknowledges with its own connection,
        # beside the open store (as beside a running bridge).
        rows = list_dead_letters(url)
        assert [(r.message_id, r.action, r.attempts) for r in rows] == [
            ("m1", "Heartbeat", 5),
            ("m2", "DataTransfer", 5),
        ]
        assert rows[1].frame == [2, "m2", "DataTransfer", {"vendorId": "V"}]
        assert acknowledge(url, [rows[0].id]) == 1
        assert acknowledge(url, [rows[0].id]) == 0  # already acknowledged
        assert [r.message_id for r in list_dead_letters(url)] == ["m2"]
        assert len(list_dead_letters(url, include_acknowledged=True)) == 2
        after = await store.unacknowledged_dead_letters()
        await store.aclose()
        return before, after

    assert run(main()) == (2, 1)


def test_a_plain_path_is_sqlite_and_an_unknown_scheme_is_one_clear_error() -> None:
    assert parse_state("/var/lib/ocppkit/bridge.db") == ("sqlite", "/var/lib/ocppkit/bridge.db")
    assert parse_state("bridge.db") == ("sqlite", "bridge.db")
    assert parse_state("sqlite:///var/lib/b.db") == ("sqlite", "/var/lib/b.db")
    assert parse_state("postgresql://u@h/db")[0] == "postgresql"
    with pytest.raises(ConfigError, match="mysql:// is not a known backend"):
        parse_state("mysql://h/db")


def test_postgres_refuses_a_schema_newer_than_it_knows(pg_url: str) -> None:  # noqa: F811
    import psycopg

    async def main() -> None:
        store = await open_store(pg_url)
        await store.aclose()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("INSERT INTO ocppkit_schema (version) VALUES (99)")
        await open_store(pg_url)

    with pytest.raises(StoreError, match="schema version 99"):
        run(main())


def test_postgres_unreachable_is_one_readable_store_error(tmp_path: Path) -> None:
    require_pg()
    url = f"postgresql://nobody@/postgres?host={tmp_path}&port=1"
    started = time.monotonic()
    with pytest.raises(StoreError, match="cannot be used"):
        run(open_store(url))
    assert time.monotonic() - started < 30


def test_the_store_id_is_made_once_and_shared_by_every_instance(opener: Opener) -> None:
    """The prefix of the bridge's message ids: the same after a restart and on a peer."""

    async def main() -> tuple[str, str, str]:
        first = await opener("A")
        made = first.store_id
        await first.aclose()
        again, peer = await opener("A"), await opener("B")
        try:
            return made, again.store_id, peer.store_id
        finally:
            await again.aclose()
            await peer.aclose()

    made, again, peer = run(main())
    assert len(made) == 32 and made == again == peer


def test_an_sqlite_file_of_an_earlier_version_gets_a_store_id(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)  # schema version 2: meta without a store id
    db.executescript(
        "CREATE TABLE chargers (charge_point_id TEXT PRIMARY KEY, state BLOB, updated REAL);"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('clean', '1'); PRAGMA user_version=2;"
    )
    db.close()

    async def main() -> tuple[str, str]:
        store = await open_store(str(path))
        made = store.store_id
        await store.aclose()
        again = await open_store(str(path))
        await again.aclose()
        return made, again.store_id

    made, again = run(main())
    assert len(made) == 32 and made == again
