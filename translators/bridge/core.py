"""The per-charger bridge core, sans-I/O: ``receive(side, text, now) -> Effects``.

One :class:`BridgeCore` per charger holds an OCPP-J :class:`Endpoint` for
each side, the translator state, the outbox (calls for the CSMS, durable)
and the queue of calls for the charger (not durable: a charger that is gone
cannot answer, so the CSMS is told at once). Everything the bridge decides
happens here; the shell (``ocppkit.toolkit.gateway.session``) only moves
bytes and carries out the :class:`~ocppkit.translators.bridge.effects.Effects`.

Rules
-----
- **The bridge's own message ids.** Every call that arrives, from either
  side, is handed to the translator under a fresh id (``ids``: a stored
  counter behind a per-store, per-charger prefix, see
  :mod:`~ocppkit.translators.bridge.ids`); the answer is mapped back to the
  peer's id. So the ids the CSMS sees are the bridge's, unique per charger
  for ever (a charger that reuses ``"2"`` after a reboot cannot collide with
  its earlier ``"2"``), the translator's pending calls never collide either,
  and a call translated again from the same stored state (after a crash, or
  a commit that failed) gets the same id as the first time.
- **An answer goes only to the connection that sent the call.** The
  mapping remembers the connection generation; an answer for an earlier
  connection is dropped and logged, never delivered on a newer one.
- **One call at a time per side**, by the endpoints; calls leave in order,
  from the outbox (CSMS) or the charger queue, from :meth:`poll`, which the
  shell calls after each commit has landed, or for the CSMS from
  :meth:`send_ahead`, while the commit that stored the call is being
  written (the answer it brings is taken only after that commit: the shell
  handles one input at a time per charger).
- **Sending ahead** costs nothing when the commit lands. When it fails,
  :meth:`rollback` takes the call out of the outbox and the id counter
  back, so the charger's own retry mints the same id (and the translator,
  rolled back too, the same seqNo): the CSMS may see that call twice and
  recognise it. An answer to the call that was rolled back still matches
  the CSMS slot and frees it; it is translated against a state without
  the call, which drops it (an ``orphan`` note). A retry that comes before
  that answer is not sent again: the slot is busy, and the answer, which
  carries the same id, is the retry's.
- **Timeouts** come back from :meth:`poll` when the shell calls it at
  :attr:`deadline`: the waiting side gets ``InternalError`` (the receiver
  "was not able to process the requested Action", OCPP-J 1.6 §4.2.3 /
  2.0.1 Part 4 §4.3), fed through the translator so its pending calls stay
  consistent. The slot stays busy until the late answer comes; an
  upstream that never answers is recycled (``Effects.recycle``).
- **Refusals**: a call that fails its schema is answered with the code the
  validator names; a translation that raises is undone and answered by
  :func:`~ocppkit.translators.bridge.answers.failure_step`. A CSMS answer
  that fails its schema reaches the charger as ``InternalError`` with a
  neutral text (the charger's payload was fine), and the CSMS's fault is
  logged. A CALLERROR from the CSMS is logged at info.
- **A charger's Heartbeat never waits behind the CSMS**: when the upstream
  call slot is busy, or the CSMS awaits an answer from us, or the link is
  down with calls queued, it is answered from ``now`` (a local answer, noted)
  and still counts as a sign of life (:attr:`last_seen`).
- **A per-charger cap** (``max_in_flight``) on the calls queued for the
  CSMS: beyond it a charger call is refused ``GenericError``, so one
  flooding charger cannot fill the store and slow the others down.
- **Early answers** (:func:`~ocppkit.translators.bridge.answers.answers_early`).
- **Poison messages** (:mod:`~ocppkit.translators.bridge.poison`): a call the
  CSMS drops the link on is resent after a growing wait, and after
  ``poison.attempts`` losses given up as a dead letter (in its commit) and
  answered to its caller as an ``InternalError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

import orjson

from ocppkit.translators.bridge import ids as message_ids
from ocppkit.translators.bridge.answers import answers_early, error_frame, failure_step, refusal
from ocppkit.translators.bridge.effects import (
    DEBUG,
    ERROR,
    INFO,
    WARNING,
    Commit,
    Count,
    Effects,
    LogLine,
    Received,
)
from ocppkit.translators.bridge.endpoint import (
    AnswerArrived,
    BadFrame,
    CallArrived,
    CallLost,
    CallTimedOut,
    Endpoint,
    Event,
    RecycleDue,
    ResultErrorArrived,
    SendArrived,
    StrayFrame,
)
from ocppkit.translators.bridge.poison import (
    DEAD_LETTER_TEXT,
    DEFAULT_POISON_RULE,
    DeadLetter,
    PoisonRule,
    PoisonWatch,
)
from ocppkit.translators.context import Context
from ocppkit.translators.errors import ErrorCode, FrameError, OcppkitError
from ocppkit.translators.frames import (
    DEFAULT_MAX_FRAME_BYTES,
    AnyFrame,
    Call,
    CallError,
    CallResult,
    Frame,
    call_result_error,
)
from ocppkit.translators.jsontext import dumps_bytes
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import HasPending, Side
from ocppkit.translators.schemas import Kind
from ocppkit.translators.settings import DANGLING_RULES, DEFAULT_SETTINGS, Settings
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

CHARGER, CSMS = Side.CHARGER, Side.CSMS
LEG = {CHARGER: "downstream", CSMS: "upstream"}
NEUTRAL_ANSWER_TEXT = "the central system's answer could not be used"

S = TypeVar("S", bound=HasPending)

# Translator rules (Note.rule) counted in /metrics, by rule family.
RULE_METRICS = {
    **{rule: "ocppkit_bridge_dangling_transactions_total" for rule in DANGLING_RULES},
    "reason": "ocppkit_bridge_inferred_reasons_total",
}


class Translator(Protocol):
    """A session translator (e.g. ``ocppkit.translators.charger16_csms201.session``)."""

    def from_charger(self, state: Any, frame: Frame, ctx: Context) -> Step: ...

    def from_csms(self, state: Any, frame: Frame, ctx: Context) -> Step: ...


@dataclass(slots=True)
class _Origin:
    side: Side
    peer_id: str  # the id the peer used
    generation: int


@dataclass
class _Acc:
    """Effects being gathered by one core method."""

    received: Received | None = None
    stepped: bool = False
    early: bool = True
    outbox_add: list[Call] = field(default_factory=list)
    outbox_done: list[str] = field(default_factory=list)
    down_add: list[Call] = field(default_factory=list)
    to: dict[Side, list[AnyFrame]] = field(default_factory=lambda: {CHARGER: [], CSMS: []})
    notes: list[Note] = field(default_factory=list)
    counters: list[Count] = field(default_factory=list)
    observed: list[Count] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    recycle: list[Side] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def count(self, name: str, **labels: str) -> None:
        self.counters.append(Count(name, tuple(sorted(labels.items()))))

    def log(self, level: int, name: str, **fields: Any) -> None:
        self.logs.append(LogLine(level, name, fields))


class BridgeCore(Generic[S]):
    """One charger's bridge, as data.

    Args:
        charge_point_id: the charger identity (for logs).
        translator: the session translator of the version pair.
        state: the translator state, as last committed.
        restore: rebuilds a state from its JSON form (``BridgeState.from_dict``).
        new_id: the id source (36 characters at most, unique), when ``ids``
            is not given.
        ids: the bridge's ids derived from stored state
            (:mod:`~ocppkit.translators.bridge.ids`): its counter is
            committed with the state and rolled back with it, so a call
            translated again after a crash gets the same id.
        call_timeout: seconds each peer has to answer a call.
        charger_validator: checks the charger's frames (as configured).
        csms_validator: checks the CSMS's frames and everything sent (strict).
        charger_version: the version spoken to the charger.
        csms_version: the version spoken to the CSMS.
        outbox: calls for the CSMS left from an earlier process, in order.
        charger_max_bytes: largest frame taken from the charger.
        csms_max_bytes: largest frame taken from the CSMS.
        max_in_flight: calls for the CSMS this charger may have queued; a
            charger call beyond it is refused ``GenericError`` (0: no cap).
            A 1.6 charger waits for each answer, so only a flood reaches it.
        settings: the operator's translator rules (token typing, dangling
            transactions), handed to the translator with every Context.
        poison: when a call the CSMS keeps dropping the link on is given up.
    """

    def __init__(
        self,
        charge_point_id: str,
        translator: Translator | ModuleType,
        state: S,
        *,
        restore: Callable[[dict[str, Any]], S],
        new_id: Callable[[], str] | None = None,
        ids: message_ids.MessageIds | None = None,
        call_timeout: float,
        charger_validator: Validator,
        csms_validator: Validator,
        charger_version: OcppVersion = OcppVersion.V16,
        csms_version: OcppVersion = OcppVersion.V201,
        outbox: Iterable[Call] = (),
        charger_max_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        csms_max_bytes: int = DEFAULT_MAX_FRAME_BYTES * 4,
        max_in_flight: int = 50,
        settings: Settings = DEFAULT_SETTINGS,
        poison: PoisonRule = DEFAULT_POISON_RULE,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.poison = PoisonWatch(poison)
        self.settings = settings
        self.cp_id = charge_point_id
        self.translator = translator
        self.state = state
        self._restore = restore
        self.ids = ids
        self.new_id: Callable[[], str]
        if ids is not None:
            self.new_id = ids
        elif new_id is not None:
            self.new_id = new_id
        else:
            raise TypeError("BridgeCore needs ids or new_id")
        self.validators = {CHARGER: charger_validator, CSMS: csms_validator}
        self.versions = {CHARGER: charger_version, CSMS: csms_version}
        self.endpoints = {
            CHARGER: Endpoint(
                charger_version, call_timeout=call_timeout, max_bytes=charger_max_bytes
            ),
            CSMS: Endpoint(csms_version, call_timeout=call_timeout, max_bytes=csms_max_bytes),
        }
        # Calls sent to a charger connection of an earlier process can never be
        # answered; their CSMS callers are gone with that process's links.
        prefix = f"{CHARGER.value}:"
        for key in [k for k in state.pending if k.startswith(prefix)]:
            del state.pending[key]
        self._committed = self._snapshot()
        self._last = self._committed
        self._uncommitted: _Acc | None = None
        # Lists, not deques: both hold a call or two at a time, at most
        # max_in_flight; an empty deque costs 760 bytes, an empty list 56.
        self.outbox: list[Call] = list(outbox)
        self.charger_queue: list[Call] = []
        self._origin: dict[str, _Origin] = {}
        # Charger calls outstanding on a connection replaced before it was
        # reported gone: answered with a CALLERROR by the next poll.
        self._lost: list[Call] = []
        self.draining = False
        self.last_seen: dict[Side, datetime] = {}

    # -- what the shell asks ------------------------------------------------------------

    @property
    def deadline(self) -> datetime | None:
        """When :meth:`poll` must run next (a timeout is due), or None."""
        found = [d for ep in self.endpoints.values() if (d := ep.deadline) is not None]
        csms = self.endpoints[CSMS]
        if self.outbox and csms.ready:
            held = self.poison.held(self.outbox[0].message_id)
            if held is not None:
                found.append(held)
        return min(found) if found else None

    @property
    def idle(self) -> bool:
        """Nothing left to deliver or wait for."""
        return not self.outbox and not self.charger_queue and not self.endpoints[CHARGER].busy

    def generation(self, side: Side) -> int:
        return self.endpoints[side].generation

    def connected(self, side: Side) -> bool:
        return self.endpoints[side].connected

    # -- links --------------------------------------------------------------------------

    def connect(self, side: Side) -> int:
        """A new connection on ``side``; returns its generation (then :meth:`poll`)."""
        ep = self.endpoints[side]
        # Answers are per connection (OCPP-J): a call still out on the earlier
        # one will never be answered, even when its close is reported later.
        lost = ep.close() if ep.connected else None
        if isinstance(lost, CallLost) and side is CHARGER and not lost.timed_out:
            self._lost.append(lost.call)
        generation = ep.open()
        for bid in [b for b, o in self._origin.items() if o.side is side]:
            del self._origin[bid]  # answers due on an earlier connection are never sent
        return generation

    def disconnect(self, side: Side, now: datetime, generation: int | None = None) -> Effects:
        """The connection on ``side`` is gone (``generation``: only if still that one)."""
        acc = _Acc()
        ep = self.endpoints[side]
        if generation is not None and generation != ep.generation:
            return self._finish(acc)
        lost = ep.close()
        if isinstance(lost, CallLost) and side is CHARGER and not lost.timed_out:
            self._charger_silent(lost.call, "charging station disconnected", now, acc)
        head = self.outbox[0] if self.outbox else None
        if isinstance(lost, CallLost) and side is CSMS and not lost.timed_out and head == lost.call:
            # A call for the CSMS stays at the head of the outbox: sent again
            # later, after the poison back-off (or given up by the next poll).
            self.poison.lost(head.message_id, now)
            acc.count("ocppkit_bridge_upstream_lost_calls_total")
            acc.log(
                WARNING,
                "upstream_lost_with_call",
                action=head.action,
                message_id=head.message_id,
                losses=self.poison.losses,
            )
        return self._finish(acc)

    def send_failed(self, side: Side, frame: Frame, now: datetime) -> Effects:
        """The shell could not put ``frame`` on ``side``'s link."""
        acc = _Acc()
        if not isinstance(frame, Call):
            acc.log(INFO, "answer_dropped_link_down", leg=LEG[side])
            return self._finish(acc)
        ep = self.endpoints[side]
        if side is CHARGER:
            ep.abandon()
            self._charger_silent(frame, "charging station disconnected", now, acc)
        else:
            ep.close()  # the link is going; the call is sent again after the reconnect
        return self._finish(acc)

    # -- frames in --------------------------------------------------------------------------

    def receive(
        self, side: Side, text: str, now: datetime, *, generation: int | None = None
    ) -> Effects:
        """One text message from ``side`` (read on connection ``generation``)."""
        ep = self.endpoints[side]
        acc = _Acc()
        if generation is not None and generation != ep.generation:
            acc.log(INFO, "frame_from_replaced_link_ignored", leg=LEG[side])
            return self._finish(acc)
        self._handle(side, ep.receive(text, now), now, acc, text)
        return self._finish(acc)

    def receive_frame(
        self, side: Side, frame: Frame, now: datetime, *, generation: int | None = None
    ) -> Effects:
        """One frame from ``side``, already parsed (a SOAP request lifted to 1.6J)."""
        ep = self.endpoints[side]
        acc = _Acc()
        if generation is not None and generation != ep.generation:
            acc.log(INFO, "frame_from_replaced_link_ignored", leg=LEG[side])
            return self._finish(acc)
        self._handle(side, ep.receive_frame(frame, now), now, acc, "")
        return self._finish(acc)

    def poll(self, now: datetime) -> Effects:
        """Timeouts due at ``now``, and the next calls that may leave."""
        acc = _Acc()
        while self._lost:
            self._charger_silent(self._lost.pop(0), "charging station reconnected", now, acc)
        for side in (CSMS, CHARGER):
            self._expire(side, now, acc)
        csms = self.endpoints[CSMS]
        if self.outbox and not csms.busy and self.poison.poisoned(self.outbox[0].message_id):
            self._give_up(self.outbox[0], now, acc)
        charger = self.endpoints[CHARGER]
        if not charger.connected:
            while self.charger_queue:
                call = self.charger_queue.pop(0)
                self._charger_silent(call, "charging station is not connected", now, acc)
        if not acc.stepped:  # calls leave only once everything before them is stored
            head = self.outbox[0] if self.outbox else None
            if csms.ready and head is not None and self.poison.may_send(head.message_id, now):
                self.poison.sent(head.message_id)
                acc.to[CSMS].append(csms.send_call(head, now))
            if charger.ready and self.charger_queue:
                acc.to[CHARGER].append(charger.send_call(self.charger_queue.pop(0), now))
        return self._finish(acc)

    def send_ahead(self, now: datetime) -> Effects:
        """The outbox head, to send while the commit that stores it is written.

        The same head :meth:`poll` would send, under the same rules (a free
        CSMS slot, the poison back-off), but also while a commit is in
        flight. Never a call for the charger: what the charger is sent
        depends on the CSMS's state, which a restart does not re-derive.
        """
        acc = _Acc()
        csms = self.endpoints[CSMS]
        # Calls the commit in flight answers (or gives up) are still listed
        # until it lands: the head is the first call that stays.
        pending = self._uncommitted
        done = () if pending is None else pending.outbox_done
        head = next((c for c in self.outbox if c.message_id not in done), None)
        if (
            head is not None
            and csms.ready
            and not self.poison.poisoned(head.message_id)
            and self.poison.may_send(head.message_id, now)
        ):
            self.poison.sent(head.message_id)
            acc.to[CSMS].append(csms.send_call(head, now))
        return self._finish(acc)

    # -- commits ------------------------------------------------------------------------------

    def committed(self) -> None:
        """The last commit handed out has landed."""
        acc, self._uncommitted = self._uncommitted, None
        if acc is None:
            return
        self._committed = self._last
        done = set(acc.outbox_done)
        if done:
            self.outbox = [c for c in self.outbox if c.message_id not in done]
            if self.poison.message_id in done:
                self.poison.forget()  # answered, timed out or given up

    def rollback(self) -> None:
        """The last commit handed out failed: back to the state before it."""
        acc, self._uncommitted = self._uncommitted, None
        state, counter = message_ids.split(_loads(self._committed))
        self.state = self._restore(state)
        if self.ids is not None:
            self.ids.next = counter  # the ids of what is undone are minted again
        self._last = self._committed
        if acc is None:
            return
        added = {id(c) for c in acc.outbox_add}
        self.outbox = [c for c in self.outbox if id(c) not in added]
        queued = {id(c) for c in acc.down_add}
        self.charger_queue = [c for c in self.charger_queue if id(c) not in queued]

    # -- the rules ------------------------------------------------------------------------------

    def _handle(self, side: Side, ev: Event, now: datetime, acc: _Acc, text: str) -> None:
        leg = LEG[side]
        if isinstance(ev, BadFrame):
            acc.received = Received(side, None, text, ev.error.description)
            acc.count("ocppkit_bridge_frame_errors_total", leg=leg, code=ev.error.code.value)
            acc.log(
                WARNING,
                "malformed_frame",
                leg=leg,
                code=ev.error.code.value,
                reason=ev.error.description[:200],
            )
            if ev.reply is not None:
                acc.to[side].append(ev.reply)
            return
        if isinstance(ev, StrayFrame):
            error = None if ev.error is None else ev.error.description
            acc.received = Received(side, ev.frame, text, error)
            acc.count("ocppkit_bridge_stray_frames_total", leg=leg)
            acc.log(INFO, "stray_frame_not_answered", leg=leg, reason=(error or ev.reason)[:200])
            return
        self.last_seen[side] = now
        if isinstance(ev, SendArrived):
            acc.received = Received(side, ev.send)
            self._on_send(side, ev, acc)
            return
        if isinstance(ev, ResultErrorArrived):
            acc.received = Received(side, ev.error)
            acc.count("ocppkit_bridge_result_errors_total", leg=leg)
            acc.log(
                WARNING,
                "peer_refused_our_result",
                leg=leg,
                code=ev.error.error_code,
                description=ev.error.error_description[:200],
            )
            return
        if isinstance(ev, CallArrived):
            acc.received = Received(side, ev.call)
            self._on_call(side, ev.call, ev.generation, now, acc)
        elif isinstance(ev, AnswerArrived):
            acc.received = Received(side, ev.answer)
            self._on_answer(side, ev, now, acc)

    def _on_call(self, side: Side, call: Call, generation: int, now: datetime, acc: _Acc) -> None:
        leg, version = LEG[side], self.versions[side]
        if side is CHARGER and self.draining:
            # Not answered: the charger sends it again to the next bridge process.
            acc.log(INFO, "call_deferred_draining", action=call.action)
            return
        try:
            found = self.validators[side].validate(
                version, call.action, Kind.REQUEST, call.payload, message_id=call.message_id
            )
        except FrameError as exc:
            acc.count("ocppkit_bridge_frame_errors_total", leg=leg, code=exc.code.value)
            acc.log(
                WARNING, "invalid_call", leg=leg, action=call.action, reason=exc.description[:200]
            )
            self._answer(side, refusal(exc, call.message_id, version), generation, acc)
            return
        if found:
            acc.log(INFO, "lenient_violations", action=call.action, count=len(found))
        if side is CHARGER and call.action == "Heartbeat" and self._upstream_busy:
            self._local_heartbeat(call, generation, now, acc)
            return
        if side is CHARGER and 0 < self.max_in_flight <= len(self.outbox):
            # One charger must not hurt the others: its flood stops here.
            text = f"too many calls in flight ({len(self.outbox)}); retry later"
            acc.count("ocppkit_bridge_in_flight_refusals_total")
            acc.log(WARNING, "call_refused_in_flight_cap", action=call.action)
            self._answer(
                side,
                error_frame(call.message_id, ErrorCode.GENERIC_ERROR, version, text),
                generation,
                acc,
            )
            return
        bid = self.new_id()
        self._origin[bid] = _Origin(side, call.message_id, generation)
        self._step(side, Call(bid, call.action, call.payload), now, acc)

    def _on_send(self, side: Side, ev: SendArrived, acc: _Acc) -> None:
        """A 2.1 SEND: checked, never answered, never passed to a 1.6 / 2.0.1 peer."""
        send, leg = ev.send, LEG[side]
        try:
            self.validators[side].validate(
                self.versions[side], send.action, Kind.REQUEST, send.payload
            )
        except FrameError as exc:
            acc.count("ocppkit_bridge_frame_errors_total", leg=leg, code=exc.code.value)
            acc.log(WARNING, "invalid_send", leg=leg, action=send.action, reason=exc.description)
            return
        target = self.versions[CSMS if side is CHARGER else CHARGER]
        detail = f"SEND {send.action}: OCPP {target} has no such message; dropped, unanswered"
        acc.notes.append(Note(NoteKind.NOT_SUPPORTED, send.action, detail))
        acc.count("ocppkit_bridge_translation_notes_total", kind=NoteKind.NOT_SUPPORTED.value)
        acc.log(INFO, "send_dropped", leg=leg, action=send.action)

    @property
    def _upstream_busy(self) -> bool:
        csms = self.endpoints[CSMS]
        if not self.outbox:
            return csms.busy or csms.owed > 0
        held = self.poison.held(self.outbox[0].message_id) is not None
        return csms.busy or csms.owed > 0 or not csms.connected or held

    def _give_up(self, call: Call, now: datetime, acc: _Acc) -> None:
        """The poison rule: ``call`` is kept as a dead letter, its caller told InternalError."""
        attempts = self.poison.losses_of(call.message_id)
        acc.dead_letters.append(DeadLetter(call.message_id, call.action, call.payload, attempts))
        acc.count("ocppkit_bridge_dead_letters_total")
        acc.log(
            ERROR,
            "dead_letter",
            action=call.action,
            message_id=call.message_id,
            attempts=attempts,
        )
        answer = error_frame(
            call.message_id, ErrorCode.INTERNAL_ERROR, self.versions[CSMS], DEAD_LETTER_TEXT
        )
        self._step(CSMS, answer, now, acc, (call.message_id,))

    def _local_heartbeat(self, call: Call, generation: int, now: datetime, acc: _Acc) -> None:
        stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        detail = "answered from the bridge's clock: the CSMS's call slot is busy"
        acc.notes.append(Note(NoteKind.LOCAL_ANSWER, call.action, detail))
        acc.count("ocppkit_bridge_translation_notes_total", kind=NoteKind.LOCAL_ANSWER.value)
        self._answer(CHARGER, CallResult(call.message_id, {"currentTime": stamp}), generation, acc)

    def _on_answer(self, side: Side, ev: AnswerArrived, now: datetime, acc: _Acc) -> None:
        leg, call = LEG[side], ev.call
        if side is CSMS:
            latency = (now - ev.sent_at).total_seconds()
            acc.observed.append(Count("ocppkit_bridge_upstream_latency_seconds", (), latency))
        if ev.late:
            acc.count("ocppkit_bridge_late_answers_total", leg=leg)
            acc.log(INFO, "late_answer_ignored", leg=leg, action=call.action)
            return
        frame: CallResult | CallError = ev.answer
        if side is CSMS and isinstance(frame, CallError):
            acc.log(
                INFO,
                "csms_call_error",
                action=call.action,
                code=frame.error_code,
                description=frame.error_description[:200],
            )
        if isinstance(frame, CallResult):
            try:
                self.validators[side].validate(
                    self.versions[side], call.action, Kind.RESPONSE, frame.payload
                )
            except FrameError as exc:
                acc.count("ocppkit_bridge_frame_errors_total", leg=leg, code=exc.code.value)
                if self.versions[side].has_extended_frames:
                    # 2.1 Part 4 §4.2.5: the receiver of an unusable CALLRESULT says so.
                    acc.to[side].append(
                        call_result_error(frame.message_id, exc.code, exc.description)
                    )
                if side is CSMS:
                    # The CSMS's fault: the charger's payload was fine, so no
                    # code that blames it (PropertyConstraintViolation...).
                    acc.log(
                        WARNING,
                        "csms_answer_invalid",
                        action=call.action,
                        reason=exc.description[:200],
                    )
                    frame = error_frame(
                        frame.message_id,
                        ErrorCode.INTERNAL_ERROR,
                        self.versions[side],
                        NEUTRAL_ANSWER_TEXT,
                    )
                else:
                    # A result cannot be refused (no answer to an answer): the
                    # CSMS gets the CALLERROR instead of a translation of bad data.
                    acc.log(
                        WARNING, "charger_answer_invalid", action=call.action,
                        reason=exc.description[:200],
                    )  # fmt: skip
                    frame = refusal(exc, frame.message_id, self.versions[side])
        done = self._outbox_done(side, frame.message_id)
        self._step(side, frame, now, acc, done)

    def _outbox_done(self, side: Side, message_id: str) -> tuple[str, ...]:
        if side is CSMS and any(c.message_id == message_id for c in self.outbox):
            return (message_id,)
        return ()

    def _expire(self, side: Side, now: datetime, acc: _Acc) -> None:
        ep = self.endpoints[side]
        ev = ep.expire(now)
        if isinstance(ev, CallTimedOut):
            acc.count("ocppkit_bridge_timeouts_total", leg=LEG[side])
            seconds = ep.call_timeout.total_seconds()
            acc.log(WARNING, "call_timed_out", leg=LEG[side], action=ev.call.action)
            if side is CSMS:
                text = f"CSMS did not answer {ev.call.action} within {seconds:g} s"
                answer = error_frame(
                    ev.call.message_id, ErrorCode.INTERNAL_ERROR, self.versions[CSMS], text
                )
                self._step(CSMS, answer, now, acc, self._outbox_done(CSMS, ev.call.message_id))
            else:
                self._charger_silent(ev.call, f"no answer within {seconds:g} s", now, acc)
        elif isinstance(ev, RecycleDue):
            acc.log(
                WARNING, "link_recycled_call_never_answered", leg=LEG[side], action=ev.call.action
            )
            if side is CSMS:
                acc.recycle.append(CSMS)  # closing frees the slot; the shell reconnects
            else:
                ep.abandon()  # a charger is not cut off for one silent call

    def _charger_silent(self, call: Call, why: str, now: datetime, acc: _Acc) -> None:
        answer = error_frame(call.message_id, ErrorCode.INTERNAL_ERROR, self.versions[CHARGER], why)
        self._step(CHARGER, answer, now, acc)

    # -- the translation step ------------------------------------------------------------------

    def _step(
        self, side: Side, frame: Frame, now: datetime, acc: _Acc, done: tuple[str, ...] = ()
    ) -> None:
        """Translate one frame; its state change joins ``acc``'s commit."""
        translate = self.translator.from_charger if side is CHARGER else self.translator.from_csms
        ctx = Context(now=lambda: now, new_id=self.new_id, settings=self.settings)
        try:
            step: Step = translate(self.state, frame, ctx)
        except Exception as exc:  # one except chain: every failure becomes a CALLERROR
            step = self._failed(side, frame, exc, acc)
        acc.stepped = True
        acc.early = acc.early and answers_early(side, frame, step)
        acc.outbox_done.extend(done)
        for note in step.notes:
            acc.notes.append(note)
            acc.count("ocppkit_bridge_translation_notes_total", kind=note.kind.value)
            rule_metric = RULE_METRICS.get(note.rule.partition(":")[0]) if note.rule else None
            if rule_metric is not None:
                acc.count(rule_metric, rule=note.rule)
            acc.log(DEBUG, "translation_note", **note.as_dict())
        for target, frames in ((CHARGER, step.to_charger), (CSMS, step.to_csms)):
            for f in frames:
                if isinstance(f, Call):
                    self._check_schema(target, f.action, Kind.REQUEST, f.payload, acc)
                    if target is CSMS:
                        acc.outbox_add.append(f)
                        self.outbox.append(f)
                    else:
                        acc.down_add.append(f)
                        self.charger_queue.append(f)
                else:
                    self._release(target, f, acc)
        self._last = self._snapshot()

    def _snapshot(self) -> bytes:
        """The state as committed: the translator's, with the id counter when ids are ours."""
        data = _snapshot(self.state)
        return data if self.ids is None else message_ids.pack(data, self.ids.next)

    def _failed(self, side: Side, frame: Frame, exc: Exception, acc: _Acc) -> Step:
        """Undo a failed translation and say so to whoever waits for an answer."""
        self.state = self._restore(message_ids.split(_loads(self._last))[0])
        ours = not isinstance(exc, OcppkitError)
        acc.count("ocppkit_bridge_translation_errors_total", reason=type(exc).__name__)
        acc.log(
            ERROR if ours else WARNING,
            "translation_failed",
            side=side.value,
            error=repr(exc)[:300],
        )
        return failure_step(self.state, side, frame, exc, self.versions)

    def _release(self, side: Side, frame: CallResult | CallError, acc: _Acc) -> None:
        """A translated answer for ``side``: back to the peer's id, on its connection."""
        origin = self._origin.pop(frame.message_id, None)
        if origin is None or origin.side is not side:
            acc.count("ocppkit_bridge_answers_dropped_total", leg=LEG[side])
            acc.log(INFO, "answer_dropped_call_unknown", leg=LEG[side])
            return
        self._answer(side, replace(frame, message_id=origin.peer_id), origin.generation, acc)

    def _answer(
        self, side: Side, frame: CallResult | CallError, generation: int, acc: _Acc
    ) -> None:
        ep = self.endpoints[side]
        action = ep.due(frame.message_id, generation)
        out = ep.answer(frame, generation)
        if out is None:
            acc.count("ocppkit_bridge_answers_dropped_total", leg=LEG[side])
            acc.log(INFO, "answer_dropped_peer_reconnected", leg=LEG[side], action=action or "")
            return
        if isinstance(out, CallResult) and action is not None:
            self._check_schema(side, action, Kind.RESPONSE, out.payload, acc)
        acc.to[side].append(out)

    def _changes_nothing(self, acc: _Acc) -> bool:
        """A step that leaves the stored state and outbox as they are needs no commit."""
        return (
            self._uncommitted is None
            and self._last == self._committed
            and not (acc.outbox_add or acc.outbox_done or acc.dead_letters)
        )

    def _check_schema(
        self, side: Side, action: str, kind: Kind, payload: dict[str, Any], acc: _Acc
    ) -> None:
        validator, version = self.validators[CSMS], self.versions[side]  # ours: strict
        if validator.is_valid(version, action, kind, payload):  # compiled fast path
            return
        found = validator.violations(version, action, kind, payload)
        acc.count("ocppkit_bridge_schema_violations_total", leg=LEG[side], action=action)
        acc.log(
            ERROR,
            "translated_frame_invalid",
            action=action,
            violations="; ".join(map(str, found[:3])),
        )

    def _finish(self, acc: _Acc) -> Effects:
        commit = None
        if acc.stepped and self._changes_nothing(acc):
            acc.stepped = False  # e.g. an answer the translator dropped: nothing to store
        if acc.stepped:
            commit = Commit(
                self._last,
                tuple(acc.outbox_add),
                tuple(acc.outbox_done),
                tuple(acc.dead_letters),
            )
            self._uncommitted = acc
        return Effects(
            received=acc.received,
            commit=commit,
            early=commit is not None and acc.early,
            to_charger=tuple(acc.to[CHARGER]),
            to_csms=tuple(acc.to[CSMS]),
            notes=tuple(acc.notes),
            counters=tuple(acc.counters),
            observed=tuple(acc.observed),
            logs=tuple(acc.logs),
            recycle=tuple(acc.recycle),
            deadline=self.deadline,
        )


def _snapshot(state: Any) -> bytes:
    """The state as JSON, in a buffer of its own size.

    orjson hands back its bytes in a 4 KiB allocation whatever the length; a
    core keeps one or two snapshots for as long as its charger is connected,
    so a copy of the ~250 bytes saves some 4 to 8 KiB per charger.
    """
    return bytes(memoryview(dumps_bytes(state)))


def _loads(data: bytes) -> dict[str, Any]:
    value = orjson.loads(data)
    assert isinstance(value, dict)
    return value
