"""The handler contract of the 2.0.1-station / 1.6-CSMS session translator.

Mirrors :mod:`translators.j16_to_201.handlers` with the roles swapped: the
session (:mod:`translators.j201_to_16.session`) dispatches every frame through
tables of handlers keyed by action:

- a **call handler** translates a CALL arriving from one side and returns the
  :class:`Step` (frames for each side); a call it sends on that needs an
  answer is registered with :func:`expect_answer`;
- a **result handler** translates the CALLRESULT or CALLERROR answering a
  call registered that way; it receives the :class:`Pending` record.

The charger side speaks 2.0.1, the CSMS side 1.6.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from translators.context import Context
from translators.frames import Call, CallError, CallResult
from translators.j201_to_16.state import Pending, StationState
from translators.outcome import Step


class Side(StrEnum):
    CHARGER = "charger"
    CSMS = "csms"


CallHandler = Callable[[StationState, Call, Context], Step]
ResultHandler = Callable[[StationState, Pending, CallResult | CallError, Context], Step]


def pending_key(side: Side, message_id: str) -> str:
    return f"{side.value}:{message_id}"


def expect_answer(
    state: StationState,
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
