"""The bridge's state store, by its earlier names (see :mod:`ocppkit.toolkit.gateway.state`).

``Store`` is the SQLite backend; the ops, the outbox row and the transaction
id floor are the backend-neutral ones of :mod:`ocppkit.toolkit.gateway.state.ops`.
"""

from __future__ import annotations

from ocppkit.toolkit.gateway.state import Claimed, StateStore, open_store, parse_state
from ocppkit.toolkit.gateway.state.ops import (
    TRANSACTION_ID_EPOCH,
    AddDeadLetter,
    AddOutbox,
    DeleteOutbox,
    Op,
    OutboxRow,
    PutPassword,
    PutState,
    transaction_id_floor,
)
from ocppkit.toolkit.gateway.state.sqlite import (
    FAILED_COMMIT_BACKOFF_MAX,
    SCHEMA_VERSION,
    SqliteStore,
    Store,
)

__all__ = [
    "FAILED_COMMIT_BACKOFF_MAX",
    "SCHEMA_VERSION",
    "TRANSACTION_ID_EPOCH",
    "AddDeadLetter",
    "AddOutbox",
    "Claimed",
    "DeleteOutbox",
    "Op",
    "OutboxRow",
    "PutPassword",
    "PutState",
    "SqliteStore",
    "StateStore",
    "Store",
    "open_store",
    "parse_state",
    "transaction_id_floor",
]
