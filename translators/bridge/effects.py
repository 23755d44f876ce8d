"""What the bridge core decides: the :class:`Effects` a shell carries out.

The core never writes, sends, logs or sleeps. Each of its methods returns an
:class:`Effects`, and the shell does, in this order:

1. journal ``received`` (what arrived, parsed or not);
2. count ``counters`` and ``observed``, log ``logs`` and ``notes``;
3. if ``commit`` is set: write it (state, outbox rows added and done, dead
   letters) --
   sending ``to_charger`` / ``to_csms`` meanwhile only when ``early``, and
   the outbox head the core's ``send_ahead`` hands out when the shell
   overlaps commits with the upstream round trip --
   then tell the core :meth:`~ocppkit.translators.bridge.core.BridgeCore.committed`
   or :meth:`~ocppkit.translators.bridge.core.BridgeCore.rollback`; a frame
   is never sent after a commit that failed, unless it went early or ahead;
4. send ``to_charger`` then ``to_csms``, in order;
5. close the links named in ``recycle``;
6. arm a timer for ``deadline`` and then call ``poll``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocppkit.translators.bridge.poison import DeadLetter
from ocppkit.translators.frames import AnyFrame, Call
from ocppkit.translators.outcome import Note
from ocppkit.translators.pending import Side

# Levels, as the standard library's logging numbers them.
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40


@dataclass(frozen=True, slots=True)
class Commit:
    """One durable transaction: all of it lands, or none.

    Attributes:
        state: the translator state as JSON.
        outbox_add: calls for the CSMS to store, in order (sent after the commit).
        outbox_done: ids of outbox calls answered (or given up) by this step.
        dead_letters: outbox calls given up by this step (the poison rule),
            to keep for the operator; their ids are in ``outbox_done`` too.
    """

    state: bytes
    outbox_add: tuple[Call, ...] = ()
    outbox_done: tuple[str, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()


@dataclass(frozen=True, slots=True)
class Count:
    """A counter increment (or a histogram observation, in ``observed``)."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()
    value: float = 1.0


@dataclass(frozen=True, slots=True)
class LogLine:
    """A structured log event: ``level`` (logging's numbers), ``name``, fields."""

    level: int
    name: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Received:
    """What arrived, for the journal: a frame, or the raw text and why it is not one."""

    side: Side
    frame: AnyFrame | None
    text: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Effects:
    """Everything one input changes (see the module doc for the order).

    Attributes:
        received: the input, for the journal (None for timers and links).
        commit: the state change to make durable, or None.
        early: the frames may be sent while ``commit`` is being written.
        to_charger: frames for the charger, in order.
        to_csms: frames for the CSMS, in order.
        notes: translator notes (lossy, local answers, refusals...).
        counters: metric increments.
        observed: histogram observations (e.g. upstream latency).
        logs: log events.
        recycle: links to close (their outstanding call is hopeless).
        deadline: when the shell must call ``poll`` next, or None.
    """

    received: Received | None = None
    commit: Commit | None = None
    early: bool = False
    to_charger: tuple[AnyFrame, ...] = ()
    to_csms: tuple[AnyFrame, ...] = ()
    notes: tuple[Note, ...] = ()
    counters: tuple[Count, ...] = ()
    observed: tuple[Count, ...] = ()
    logs: tuple[LogLine, ...] = ()
    recycle: tuple[Side, ...] = ()
    deadline: datetime | None = None

    @property
    def empty(self) -> bool:
        """Nothing to do (a deadline alone is not an action)."""
        return not (
            self.received
            or self.commit
            or self.to_charger
            or self.to_csms
            or self.notes
            or self.counters
            or self.observed
            or self.logs
            or self.recycle
        )

    def sends(self, side: Side) -> tuple[AnyFrame, ...]:
        return self.to_charger if side is Side.CHARGER else self.to_csms
