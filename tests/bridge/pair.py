"""``BridgePair``: a charger, the bridge core and a CSMS in memory, on a virtual clock.

In the style of h11's ``ConnectionPair``: no sockets, no sleeps, no threads.
Each peer holds its own OCPP-J :class:`Endpoint` (so it notices a stray
answer, a second concurrent call, an answer on the wrong connection); the
core's :class:`Effects` are carried out by a small in-memory shell that keeps
the committed state and outbox the way the gateway's SQLite store does.
Time moves only when a test calls :meth:`BridgePair.advance`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ocppkit.toolkit.gateway.routes import FORWARD, Route
from ocppkit.translators.bridge import (
    AnswerArrived,
    BridgeCore,
    CallArrived,
    Commit,
    DeadLetter,
    Effects,
    Endpoint,
    Event,
    LogLine,
    PoisonRule,
    Side,
)
from ocppkit.translators.bridge.ids import MessageIds, split
from ocppkit.translators.frames import AnyFrame, Call, CallError, CallResult, Frame, serialize_frame
from ocppkit.translators.outcome import Note
from ocppkit.translators.validation import Validator

CHARGER, CSMS = Side.CHARGER, Side.CSMS
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class VirtualClock:
    def __init__(self) -> None:
        self.now = START

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Peer:
    """One peer of the bridge: its endpoint, what reached it, its connection number."""

    endpoint: Endpoint
    clock: VirtualClock
    wire: list[list[Any]] = field(default_factory=list)  # every frame received, as arrays
    events: list[Event] = field(default_factory=list)

    def deliver(self, frame: AnyFrame) -> None:
        text = serialize_frame(frame).decode()
        self.wire.append(orjson.loads(text))
        self.events.append(self.endpoint.receive(text, self.clock.now))

    def calls(self, action: str | None = None) -> list[Call]:
        return [
            e.call
            for e in self.events
            if isinstance(e, CallArrived) and (action is None or e.call.action == action)
        ]

    def answers(self) -> list[CallResult | CallError]:
        return [e.answer for e in self.events if isinstance(e, AnswerArrived)]

    def answer_to(self, message_id: str) -> CallResult | CallError:
        found = [a for a in self.answers() if a.message_id == message_id]
        assert len(found) == 1, (message_id, self.wire)
        return found[0]


class BridgePair:
    """Charger endpoint <-> bridge core <-> CSMS endpoint, in memory.

    Args:
        call_timeout: seconds each side has to answer.
        route: the version pair (default: 1.6 charger, 2.0.1 CSMS).
        translator: replaces the route's translator (fault injection).
        charger_validator: how the charger's frames are checked.
        poison: the poison-message rule (default: the core's).
        id_prefix: the core mints its ids as the gateway does (a stored
            counter behind this prefix, :mod:`ocppkit.translators.bridge.ids`);
            None: ``bridge-1``, ``bridge-2``... from a counter of the test's.
        overlap: the outbox head goes upstream while its commit is written
            (the gateway's ``overlap_commits``, on by default there too).
    """

    def __init__(
        self,
        *,
        call_timeout: float = 30,
        route: Route = FORWARD,
        translator: Any = None,
        charger_validator: Validator | None = None,
        poison: PoisonRule | None = None,
        id_prefix: str | None = None,
        overlap: bool = True,
    ) -> None:
        self.id_prefix = id_prefix
        self.overlap = overlap  # the outbox head goes ahead of its commit (session.py)
        # Commits are written at once unless ``hold_commits``: then the one in
        # flight waits for :meth:`land`, and inputs wait behind it, in order,
        # as behind the gateway's per-charger lock.
        self.hold_commits = False
        self.held: Effects | None = None
        self.waiting: list[tuple[Side, str]] = []
        self.clock = VirtualClock()
        counter = itertools.count(1)
        self.ids = lambda: f"bridge-{next(counter)}"
        self.route = route
        self.translator = translator or route.translator
        self.call_timeout = call_timeout
        self.charger_validator = charger_validator or Validator()
        self.poison = poison or PoisonRule()
        self.charger = Peer(Endpoint(route.charger_version, call_timeout=call_timeout), self.clock)
        self.csms = Peer(Endpoint(route.csms_version, call_timeout=call_timeout), self.clock)
        self.stored_state: bytes | None = None  # what the store holds
        self.stored_outbox: dict[str, Call] = {}
        self.dead_letters: list[DeadLetter] = []  # what the store's dead_letters table holds
        self.fail_commits = 0  # the next N commits fail
        self.commits: list[Commit] = []
        self.logs: list[LogLine] = []
        self.notes: list[Note] = []
        self.counters: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.effects: list[Effects] = []
        self.recycled: list[Side] = []
        self.core = self._new_core(route.new_state("CP1"), [])

    def _new_core(self, state: Any, outbox: list[Call], counter: int = 0) -> BridgeCore[Any]:
        prefix = self.id_prefix
        return BridgeCore(
            "CP1",
            self.translator,
            state,
            restore=self.route.restore,
            new_id=self.ids if prefix is None else None,
            ids=None if prefix is None else MessageIds(prefix, counter),
            call_timeout=self.call_timeout,
            charger_validator=self.charger_validator,
            csms_validator=Validator(),
            charger_version=self.route.charger_version,
            csms_version=self.route.csms_version,
            outbox=outbox,
            poison=self.poison,
        )

    @property
    def now(self) -> datetime:
        return self.clock.now

    # -- links -------------------------------------------------------------------

    def connect(self, side: Side) -> None:
        self.peer(side).endpoint.open()
        self.core.connect(side)
        self.settle()

    def disconnect(self, side: Side) -> None:
        self.peer(side).endpoint.close()
        self.apply(self.core.disconnect(side, self.now))
        self.settle()

    def restart(self) -> None:
        """kill -9 and start again: a new core from what the store holds."""
        assert self.stored_state is not None
        self.held, self.waiting = None, []  # the commit in flight never landed
        stored, counter = split(orjson.loads(self.stored_state))
        state = self.route.restore(stored)
        self.core = self._new_core(state, list(self.stored_outbox.values()), counter)
        for peer in (self.charger, self.csms):
            peer.endpoint.close()

    def peer(self, side: Side) -> Peer:
        return self.charger if side is CHARGER else self.csms

    # -- frames ------------------------------------------------------------------

    def send(self, side: Side, frame: Frame | str) -> None:
        """``side`` puts ``frame`` (or raw text) on its link to the bridge."""
        if isinstance(frame, Call) and self.peer(side).endpoint.ready:
            self.peer(side).endpoint.send_call(frame, self.now)
        text = frame if isinstance(frame, str) else serialize_frame(frame).decode()
        if self.held is not None:
            self.waiting.append((side, text))  # behind the commit in flight
            return
        self.apply(self.core.receive(side, text, self.now))
        self.settle()

    def land(self, *, ok: bool = True) -> None:
        """The commit in flight lands (or fails), then the inputs that waited run."""
        effects, self.held = self.held, None
        assert effects is not None, "no commit in flight"
        if ok:
            self._land(effects)
        else:
            self.core.rollback()
        self.settle()
        while self.waiting and self.held is None:
            side, text = self.waiting.pop(0)
            self.apply(self.core.receive(side, text, self.now))
            self.settle()

    def answer(self, side: Side, call: Call, payload: dict[str, Any]) -> None:
        """``side`` answers the bridge's ``call`` with a CALLRESULT."""
        self.send(side, CallResult(call.message_id, payload))

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.settle()

    # -- the shell -----------------------------------------------------------------

    def settle(self) -> None:
        if self.held is not None:
            return  # polled once the commit in flight lands
        for _ in range(100):
            effects = self.core.poll(self.now)
            if effects.empty:
                return
            self.apply(effects)
        raise AssertionError("the core keeps producing effects")

    def apply(self, effects: Effects) -> None:
        self.effects.append(effects)
        self.logs += effects.logs
        self.notes += effects.notes
        for c in effects.counters:
            self.counters[(c.name, c.labels)] += 1
        commit = effects.commit
        if commit is not None:
            if effects.early:
                self._send(effects)
            elif self.overlap and commit.outbox_add:
                ahead = self.core.send_ahead(self.now)
                self.effects.append(ahead)
                self._send(ahead)
            if self.hold_commits:
                self.held = effects
                return
            self._land(effects)
            return
        self._send(effects)
        self.recycled += effects.recycle

    def _land(self, effects: Effects) -> None:
        commit = effects.commit
        assert commit is not None
        if self.fail_commits:
            self.fail_commits -= 1
            self.core.rollback()
            return
        self.stored_state = commit.state
        for mid in commit.outbox_done:
            self.stored_outbox.pop(mid, None)
        for call in commit.outbox_add:
            self.stored_outbox[call.message_id] = call
        self.dead_letters += commit.dead_letters
        self.commits.append(commit)
        self.core.committed()
        if not effects.early:
            self._send(effects)
        self.recycled += effects.recycle

    def _send(self, effects: Effects) -> None:
        for frame in effects.to_charger:
            self.charger.deliver(frame)
        for frame in effects.to_csms:
            self.csms.deliver(frame)

    # -- reading what happened ---------------------------------------------------------

    def count(self, name: str, **labels: str) -> int:
        key = (name, tuple(sorted(labels.items())))
        return self.counters[key]

    def logged(self, name: str) -> list[LogLine]:
        return [line for line in self.logs if line.name == name]
