"""Calls awaiting their answer: the bookkeeping both session translators share.

A CALLRESULT carries only a message id, so a session translator remembers,
per side, what each outstanding call was (:class:`Pending`, kept in its
state under :func:`pending_key`) to translate the answer when it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ocppkit.translators.frames import Call


class Side(StrEnum):
    CHARGER = "charger"
    CSMS = "csms"


@dataclass(slots=True)
class Pending:
    """A call sent to one side whose answer is still due.

    Attributes:
        action: the action of the call as sent (the target version's name).
        origin_action: the action of the call that caused it (source version).
        origin_id: message id of the originating call on the other side, or
            None when the translator originated it (nothing to answer).
        data: whatever the result translation needs (plain data).
    """

    action: str
    origin_action: str
    origin_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


class HasPending(Protocol):
    """A translator state: it keeps outstanding calls by :func:`pending_key`."""

    pending: dict[str, Pending]


def pending_key(side: Side, message_id: str) -> str:
    # str + str: a StrEnum member concatenates as its value, without the
    # (slow) Enum.value lookup.
    return side + ":" + message_id


def expect_answer(
    state: HasPending,
    side: Side,
    call: Call,
    *,
    origin_action: str,
    origin_id: str | None,
    data: dict[str, Any] | None = None,
) -> None:
    """Remember that ``call`` was sent to ``side`` and its answer is due."""
    state.pending[pending_key(side, call.message_id)] = Pending(
        action=call.action, origin_action=origin_action, origin_id=origin_id, data=data or {}
    )
