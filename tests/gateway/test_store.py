"""The durable store: atomic group commits, outbox order, survives reopening."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import orjson
import pytest

from ocppkit.toolkit.gateway.store import AddOutbox, DeleteOutbox, PutState, Store


def test_state_and_outbox_survive_reopening_in_order(tmp_path: Path) -> None:
    path = tmp_path / "b.db"

    async def write() -> None:
        store = Store(path)
        await store.commit([PutState("CP1", orjson.dumps({"n": 1}))])
        await store.commit(
            [AddOutbox("CP1", f"m{i}", [2, f"m{i}", "Heartbeat", {}]) for i in range(5)]
        )
        await store.commit([DeleteOutbox("CP1", "m2"), PutState("CP1", orjson.dumps({"n": 2}))])
        store.close()

    asyncio.run(write())
    store = Store(path)
    assert store.load_state("CP1") == {"n": 2}
    assert [r.message_id for r in store.load_outbox("CP1")] == ["m0", "m1", "m3", "m4"]
    assert store.chargers_with_outbox() == ["CP1"]
    assert store.load_state("CP2") is None
    store.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_concurrent_commits_are_grouped_into_fewer_transactions(tmp_path: Path) -> None:
    async def run() -> tuple[int, int]:
        store = Store(tmp_path / "b.db", sync="normal")
        await asyncio.gather(*(store.commit([PutState(f"CP{i}", b"{}")]) for i in range(200)))
        batches = store.batches
        count = len([i for i in range(200) if store.load_state(f"CP{i}") == {}])
        store.close()
        return batches, count

    batches, count = asyncio.run(run())
    assert count == 200
    assert batches < 200


def test_a_failed_commit_stores_nothing_of_it(tmp_path: Path) -> None:
    async def run() -> Store:
        store = Store(tmp_path / "b.db")
        await store.commit([PutState("CP1", b'{"ok": 1}')])
        # A state that is not bytes makes SQLite fail mid-transaction.
        with pytest.raises(sqlite3.Error):
            await store.commit(
                [AddOutbox("CP1", "m1", [2, "m1", "Heartbeat", {}]), PutState("CP1", object())]
            )  # type: ignore[arg-type]
        return store

    store = asyncio.run(run())
    assert store.load_outbox("CP1") == []
    assert store.load_state("CP1") == {"ok": 1}
    store.close()


def test_within_one_batch_the_newest_state_of_a_charger_is_the_one_kept(tmp_path: Path) -> None:
    async def run() -> None:
        store = Store(tmp_path / "b.db")
        # Submitted together, so the writer takes them as one transaction.
        futures = [store.submit([PutState("CP1", orjson.dumps({"n": n}))]) for n in range(50)]
        futures.append(store.submit([PutState("CP2", orjson.dumps({"n": "other"}))]))
        await asyncio.gather(*futures)
        assert store.batches < 51
        assert store.load_state("CP1") == {"n": 49}
        assert store.load_state("CP2") == {"n": "other"}
        store.close()

    asyncio.run(run())


def test_a_batch_of_adds_and_deletes_from_many_chargers_keeps_each_outbox_in_order(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        store = Store(tmp_path / "b.db")
        await store.commit(
            [AddOutbox(cp, f"{cp}-m{i}", [2, f"{cp}-m{i}", "Heartbeat", {}])
             for cp in ("A", "B") for i in range(3)]
        )  # fmt: skip
        await asyncio.gather(
            store.submit([DeleteOutbox("A", "A-m0"), AddOutbox("A", "A-m3", [2, "A-m3", "X", {}])]),
            store.submit([DeleteOutbox("B", "B-m1")]),
            store.submit([AddOutbox("B", "B-m3", [2, "B-m3", "X", {}])]),
        )
        assert [r.message_id for r in store.load_outbox("A")] == ["A-m1", "A-m2", "A-m3"]
        assert [r.message_id for r in store.load_outbox("B")] == ["B-m0", "B-m2", "B-m3"]
        store.close()

    asyncio.run(run())


def test_a_version_2_database_is_migrated_to_the_current_one_and_keeps_what_it_held(
    tmp_path: Path,
) -> None:
    """Schema 3 adds dead_letters, 4 leases; a database written by schema 2 gains them in place."""
    from ocppkit.toolkit.gateway.dead_letters import acknowledge, list_dead_letters
    from ocppkit.toolkit.gateway.state.sqlite import MIGRATIONS
    from ocppkit.toolkit.gateway.store import SCHEMA_VERSION, AddDeadLetter

    SCHEMA = MIGRATIONS[1] + MIGRATIONS[2]

    path = tmp_path / "b.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    old.executescript(SCHEMA)  # the version-2 tables
    old.execute("PRAGMA user_version=2")
    old.execute("INSERT INTO chargers VALUES ('CP1', '{\"n\": 7}', 0)")
    old.execute("INSERT INTO meta VALUES ('clean', '1')")
    old.close()
    assert list_dead_letters(path) == []  # no table yet: nothing to list

    async def run() -> None:
        store = Store(path)
        assert store.load_state("CP1") == {"n": 7}
        await store.claim("CP1")
        frame = [2, "bridge-9", "DataTransfer", {"vendorId": "X"}]
        await store.commit([AddDeadLetter("CP1", "bridge-9", frame, 5, "link_lost_every_attempt")])
        assert await store.unacknowledged_dead_letters() == 1
        (row,) = list_dead_letters(path)  # beside the open store, as the CLI runs
        assert (row.charge_point_id, row.action, row.attempts) == ("CP1", "DataTransfer", 5)
        assert acknowledge(path, [row.id]) == 1 and acknowledge(path, [row.id]) == 0
        assert await store.unacknowledged_dead_letters() == 0
        assert list_dead_letters(path) == []
        assert [r.id for r in list_dead_letters(path, include_acknowledged=True)] == [row.id]
        store.close()

    asyncio.run(run())
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION == 4
