"""The per-charger loop: frames in from both legs, through the translator, out.

Theory of operation
-------------------
Every frame from either leg is parsed, journaled, checked, then handed to the
translator (``from_charger`` / ``from_csms``) under the session lock. The
resulting :class:`~ocppkit.translators.outcome.Step` is **committed before anything
is sent**: the new translator state and every call for the CSMS go to SQLite
in one transaction (:mod:`ocppkit.toolkit.gateway.store`). Only then are the step's
frames sent. So nothing is acknowledged that is not stored, and a kill -9 at
any instant leaves either the old state or the new one with its outbox.
One exception, which keeps that promise: a CSMS answer that becomes nothing
but answers for the charger is sent while its commit is written (see
:func:`_answers_early`); the charger's call it answers was stored already.

Calls for the CSMS leave through the **outbox**, one at a time and in order
(strict CSMSs refuse concurrent calls; OCPP-J 1.6 §4.1.1 and 2.0.1 Part 4
§4.1.1 allow one outstanding call per direction). The head row is deleted in
the same transaction as the translation of its answer, so it is sent again
after a reconnect or a restart until it is answered: upstream delivery is
at-least-once, and the CSMS recognises repeats by message id and seqNo.
A charger's call is answered when the translator says so: normally when the
CSMS answered the call it became (end-to-end acknowledgement).

Calls for the charger leave one at a time too (not durable: a charger that
disconnects cannot answer, so the CSMS gets a CALLERROR at once).

Unanswered calls: after ``call_timeout`` the bridge answers the waiting side
itself with the CALLERROR ``InternalError`` (the receiver "was not able to
process the requested Action", OCPP-J 1.6 §4.2.3 / 2.0.1 Part 4 §4.3), fed
through the translator so its pending calls stay consistent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from ocppkit.toolkit.gateway.answers import AnswerBook, error_frame, failure_step, refusal
from ocppkit.toolkit.gateway.links import DownLink, WebSocketLink
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.pumps import CallPump
from ocppkit.toolkit.gateway.services import Services, wire_message
from ocppkit.toolkit.gateway.store import AddOutbox, DeleteOutbox, Op, PutState
from ocppkit.toolkit.gateway.upstream import Upstream
from ocppkit.translators.errors import ErrorCode, FrameError, OcppkitError
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    call_error_for,
    frame_from_list,
    parse_frame,
    serialize_frame,
)
from ocppkit.translators.j16_to_201.handlers import Side, pending_key
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.journal import Direction, Leg
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.settings import DANGLING_RULES
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
DOWN, UP = Leg.DOWNSTREAM, Leg.UPSTREAM
CS_TO_CSMS, CSMS_TO_CS = Direction.CS_TO_CSMS, Direction.CSMS_TO_CS
_CHARGER_PENDING = pending_key(Side.CHARGER, "")


def _answers_early(side: Side, frame: Frame, step: Step) -> bool:
    """May ``step`` go out while its commit is being written?

    Only when the CSMS answered a call from the outbox and the translation is
    nothing but answers for the charger. Everything the charger is told was
    fixed when its call was committed (ids are minted then; see
    ``ocppkit.translators.j16_to_201.transactions``), and the outbox row that call
    left stays until this commit lands: if the bridge dies first, the row is
    sent again after the restart and the CSMS's new answer redoes this step
    (the charger ignores an answer to a call it no longer waits for). So the
    one disk write per message that nothing depends on is taken off the
    round trip. Every other step (calls, and answers from the charger, whose
    state is not re-derivable) is committed before anything leaves.
    """
    return (
        side is Side.CSMS
        and not isinstance(frame, Call)
        and not any(isinstance(f, Call) for f in (*step.to_csms, *step.to_charger))
    )


# Translator rules counted in /metrics (Note.rule), by rule family.
_RULE_METRICS = {
    **{r: "ocppkit_bridge_dangling_transactions_total" for r in DANGLING_RULES},
    "reason": "ocppkit_bridge_inferred_reasons_total",
}


class Session:
    """One charger: its translator state, both links, both call queues.

    Args:
        charge_point_id: the charger identity.
        svc: the bridge's shared services.
    """

    def __init__(self, charge_point_id: str, svc: Services) -> None:
        self.cp_id = charge_point_id
        self.svc = svc
        self.log = svc.log
        stored = svc.store.load_state(charge_point_id)
        self.state = (
            BridgeState.from_dict(stored)
            if stored
            else BridgeState(charge_point_id=charge_point_id)
        )
        # Calls sent to a charger connection of an earlier process can never be
        # answered; their CSMS callers are gone with that process's links.
        for key in [k for k in self.state.pending if k.startswith(_CHARGER_PENDING)]:
            del self.state.pending[key]
        self._committed = orjson.dumps(self.state)
        timeout = svc.cfg.call_timeout
        self.up = CallPump(  # the durable outbox, mirrored in memory
            timeout,
            ready=self._upstream_ready,
            send=self._send_up,
            on_timeout=self._upstream_timeout,
            on_lost=self._upstream_lost,
            on_latency=lambda s: svc.metrics.observe("ocppkit_bridge_upstream_latency_seconds", s),
        )
        for row in svc.store.load_outbox(charge_point_id):
            frame = frame_from_list(row.frame, V201)
            assert isinstance(frame, Call)
            self.up.push(frame)
        self.down = CallPump(
            timeout,
            ready=self._charger_ready,
            send=self._send_down,
            on_timeout=self._charger_timeout,
            on_lost=self._charger_lost,
        )
        self.downstream: DownLink | None = None
        self.lock = asyncio.Lock()
        self.draining = False
        self.answers = AnswerBook(charge_point_id, svc.strict_validator, svc.metrics, svc.log)
        self._down_generation = 0
        self._grace: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.upstream = Upstream(
            charge_point_id,
            svc.cfg,
            svc.http,
            svc.ssl_context,
            self.on_upstream_text,
            self._upstream_changed,
            svc.metrics,
            svc.log,
        )

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        for coro in (self.upstream.run(), self.up.run(), self.down.run()):
            task = asyncio.create_task(coro)
            task.add_done_callback(self._task_done)
            self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._event(logging.ERROR, "session_task_failed", error=repr(task.exception()))

    async def stop(self) -> None:
        """Close both links and end the session's tasks."""
        if self._grace is not None:
            self._grace.cancel()
        if self.downstream is not None:
            await self.downstream.close(1001, "bridge shutting down")
        await self.upstream.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _event(self, level: int, name: str, **fields: Any) -> None:
        event(self.log, level, name, cp=self.cp_id, **fields)

    @property
    def idle(self) -> bool:
        """Nothing to deliver and no charger: the session may be retired."""
        return (
            self.downstream is None
            and not self.up.queue
            and not self.down.queue
            and not self.lock.locked()
        )

    async def wait_upstream(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.upstream.connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def drain(self, timeout: float) -> None:
        """Stop taking charger calls, let in-flight ones finish (SIGTERM)."""
        self.draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and (self.up.queue or self.down.queue or self.lock.locked()):
            if not self.upstream.connected.is_set() and not self.down.queue:
                break  # nothing can move; the outbox is on disk and resumes on restart
            await asyncio.sleep(0.02)
        await self.stop()

    # -- downstream (charger) ---------------------------------------------------

    async def attach(self, link: DownLink) -> None:
        """``link`` is now the charger's connection (newest connection wins)."""
        old, self.downstream = self.downstream, link
        self._down_generation += 1
        self.answers.forget(DOWN)  # answers due on an earlier connection are never sent
        if old is not None and old is not link:
            await old.close(1000, "replaced by a newer connection")

    def detach(self, link: DownLink) -> None:
        if self.downstream is link:
            self.downstream = None
            self.down.link_lost()
            self.down.kick()

    async def serve(self, ws: web.WebSocketResponse) -> None:
        """Read a 1.6J charger's WebSocket until it closes."""
        link = WebSocketLink(
            ws, lambda f: self.svc.journal_frame(self.cp_id, DOWN, CSMS_TO_CS, V16, f)
        )
        await self.attach(link)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        await self.on_charger_text(msg.data)
                    except Exception:  # a bug of ours must not cost the charger its link
                        self.log.exception(
                            "charger_frame_failed", extra={"fields": {"cp": self.cp_id}}
                        )
                elif msg.type == WSMsgType.BINARY:
                    self._event(logging.WARNING, "binary_frame_ignored")
        finally:
            self.detach(link)

    async def on_charger_text(self, raw: str) -> None:
        try:
            frame = parse_frame(raw, V16, max_bytes=self.svc.cfg.max_frame_bytes)
        except FrameError as exc:
            await self._malformed(DOWN, raw, exc, V16)
            return
        self.svc.journal_frame(self.cp_id, DOWN, CS_TO_CSMS, V16, frame)
        await self.on_charger_frame(frame)

    async def on_charger_frame(self, frame: Frame) -> None:
        """A 1.6J frame from the charger, already journaled by its link."""
        if isinstance(frame, Call):
            await self._charger_call(frame)
        else:
            await self._charger_answer(frame)

    async def _malformed(self, leg: Leg, raw: str, exc: FrameError, version: OcppVersion) -> None:
        direction = CS_TO_CSMS if leg is DOWN else CSMS_TO_CS
        self.svc.journal_frame(
            self.cp_id, leg, direction, version, wire_message(raw), error=exc.description
        )
        self.svc.metrics.inc("ocppkit_bridge_frame_errors_total", leg=leg.value, code=exc.code)
        self._event(
            logging.WARNING,
            "malformed_frame",
            leg=leg.value,
            code=exc.code.value,
            reason=exc.description[:200],
        )
        answer = call_error_for(exc, version)
        if answer is not None:
            await (self._send_down(answer) if leg is DOWN else self._send_up(answer))

    async def _charger_call(self, call: Call) -> None:
        if self.draining:
            # Not answered: the charger sends it again to the next bridge process.
            self._event(logging.INFO, "call_deferred_draining", action=call.action)
            return
        try:
            found = self.svc.charger_validator.validate(
                V16, call.action, Kind.REQUEST, call.payload, message_id=call.message_id
            )
        except FrameError as exc:
            self.svc.metrics.inc(
                "ocppkit_bridge_frame_errors_total", leg="downstream", code=exc.code
            )
            self._event(
                logging.WARNING, "invalid_call", action=call.action, reason=exc.description[:200]
            )
            await self._send_down(refusal(exc, call.message_id, V16))
            return
        if found:
            self._event(logging.INFO, "lenient_violations", action=call.action, count=len(found))
        self.answers.expect(DOWN, call, self._down_generation)
        await self._step(Side.CHARGER, call)

    async def _charger_answer(self, frame: CallResult | CallError) -> None:
        self.down.remove(frame.message_id)
        pending = self.state.pending.get(pending_key(Side.CHARGER, frame.message_id))
        if isinstance(frame, CallResult) and pending is not None:
            try:
                self.svc.charger_validator.validate(
                    V16, pending.action, Kind.RESPONSE, frame.payload
                )
            except FrameError as exc:
                # A result cannot be refused (no answer to an answer): the CSMS
                # gets the CALLERROR instead of a translation of bad data.
                frame = refusal(exc, frame.message_id, V16)
        await self._step(Side.CHARGER, frame)
        self.down.answered(frame.message_id)

    # -- upstream (CSMS) --------------------------------------------------------

    def _upstream_changed(self, up: bool) -> None:
        if up:
            if self._grace is not None:
                self._grace.cancel()
                self._grace = None
            return
        self.up.link_lost()
        if self.downstream is not None and self._grace is None:
            self._grace = asyncio.create_task(self._disconnect_after_grace())

    async def _disconnect_after_grace(self) -> None:
        """The offline policy: refuse, so the charger queues (see server.py)."""
        await asyncio.sleep(self.svc.cfg.upstream_grace)
        self._grace = None
        link = self.downstream
        if link is not None and not self.upstream.connected.is_set():
            self._event(logging.WARNING, "charger_disconnected_csms_unreachable")
            # 1013 Try Again Later (RFC 6455 §7.4.1 registry).
            await link.close(1013, "CSMS unreachable")

    async def on_upstream_text(self, raw: str) -> None:
        try:
            frame = parse_frame(raw, V201, max_bytes=self.svc.cfg.max_frame_bytes * 4)
        except FrameError as exc:
            await self._malformed(UP, raw, exc, V201)
            return
        self.svc.journal_frame(self.cp_id, UP, CSMS_TO_CS, V201, frame)
        if isinstance(frame, Call):
            try:
                self.svc.strict_validator.validate(
                    V201, frame.action, Kind.REQUEST, frame.payload, message_id=frame.message_id
                )
            except FrameError as exc:
                self.svc.metrics.inc(
                    "ocppkit_bridge_frame_errors_total", leg="upstream", code=exc.code
                )
                await self._send_up(refusal(exc, frame.message_id, V201))
                return
            self.answers.expect(UP, frame, self.upstream.generation)
            await self._step(Side.CSMS, frame)
        else:
            await self._csms_answer(frame)

    async def _csms_answer(self, frame: CallResult | CallError) -> None:
        stored = any(c.message_id == frame.message_id for c in self.up.queue)
        pending = self.state.pending.get(pending_key(Side.CSMS, frame.message_id))
        if isinstance(frame, CallResult) and pending is not None:
            try:
                self.svc.strict_validator.validate(
                    V201, pending.action, Kind.RESPONSE, frame.payload
                )
            except FrameError as exc:
                frame = refusal(exc, frame.message_id, V201)
        done = [DeleteOutbox(self.cp_id, frame.message_id)] if stored else []
        await self._step(Side.CSMS, frame, done)
        self.up.answered(frame.message_id)

    # -- the translation step -----------------------------------------------------

    async def _step(self, side: Side, frame: Frame, extra: Sequence[Op] = ()) -> None:
        """Translate, commit, then send: the only path frames take across."""
        translate = (
            self.svc.translator.from_charger
            if side is Side.CHARGER
            else self.svc.translator.from_csms
        )
        async with self.lock:
            try:
                step = translate(self.state, frame, self.svc.ctx)
            except Exception as exc:  # one except chain: every failure becomes a CALLERROR
                step = self._failed(side, frame, exc)
            # orjson writes the dataclasses itself, to the same JSON as
            # ``to_dict()`` (checked by the tests) at a fifteenth of the cost.
            state = orjson.dumps(self.state)
            ops: list[Op] = [*extra, PutState(self.cp_id, state)]
            ops += [
                AddOutbox(self.cp_id, f.message_id, [2, f.message_id, f.action, f.payload])
                for f in step.to_csms
                if isinstance(f, Call)
            ]
            early = _answers_early(side, frame, step)
            try:
                stored = self.svc.store.submit(ops)
            except Exception:
                self._not_stored()
                return
            if early:
                try:
                    await self._dispatch(step)
                except Exception:  # a send that failed must not undo a commit that lands
                    self.log.exception("dispatch_failed", extra={"fields": {"cp": self.cp_id}})
            try:
                await stored
            except Exception:
                # (After an early answer, the head of the outbox stays queued
                # and is sent again: the CSMS answers it again.)
                self._not_stored()
                return
            self._committed = state
            for op in extra:
                if isinstance(op, DeleteOutbox):
                    self.up.remove(op.message_id)
            if not early:
                await self._dispatch(step)

    def _not_stored(self) -> None:
        """Not stored, so not acknowledged: the peer's own retry will redo it."""
        self.state = BridgeState.from_dict(orjson.loads(self._committed))
        self.log.exception("store_commit_failed", extra={"fields": {"cp": self.cp_id}})

    def _failed(self, side: Side, frame: Frame, exc: Exception) -> Step:
        """Undo a failed translation and say so to whoever waits for an answer."""
        self.state = BridgeState.from_dict(orjson.loads(self._committed))
        level = logging.WARNING if isinstance(exc, OcppkitError) else logging.ERROR
        self.log.log(
            level,
            "translation_failed",
            extra={"fields": {"cp": self.cp_id, "side": side.value, "error": repr(exc)}},
            exc_info=not isinstance(exc, OcppkitError),
        )
        self.svc.metrics.inc("ocppkit_bridge_translation_errors_total", reason=type(exc).__name__)
        return failure_step(self.state, side, frame, exc)

    async def _dispatch(self, step: Step) -> None:
        for note in step.notes:
            self.svc.metrics.inc("ocppkit_bridge_translation_notes_total", kind=note.kind.value)
            metric = _RULE_METRICS.get(note.rule.partition(":")[0]) if note.rule else None
            if metric is not None:
                self.svc.metrics.inc(metric, rule=note.rule)
            self._event(logging.DEBUG, "translation_note", **note.as_dict())
        for f in step.to_csms:
            if isinstance(f, Call):
                self.up.push(f)
            else:
                try:
                    await self._send_up(f)
                except ConnectionError:
                    # The call it answers came on a link that is gone; the
                    # CSMS has given up on it already.
                    self._event(logging.INFO, "answer_dropped_upstream_down")
        for f in step.to_charger:
            if isinstance(f, Call):
                self.down.push(f)
            else:
                await self._send_down(f)

    # -- sending -------------------------------------------------------------------

    def _generation(self, leg: Leg) -> int:
        return self._down_generation if leg is DOWN else self.upstream.generation

    async def _send_down(self, frame: Frame) -> None:
        link = self.downstream
        if not self.answers.release(DOWN, frame, V16, self._down_generation):
            return
        try:
            if link is None or link.closed:
                raise ConnectionError("charger not connected")
            await link.send(frame)
        except ConnectionError as exc:
            self._event(logging.INFO, "frame_dropped_charger_gone", error=str(exc))
            if isinstance(frame, Call):
                raise  # the down pump answers the CSMS for the charger

    async def _send_up(self, frame: Frame) -> None:
        if not self.answers.release(UP, frame, V201, self.upstream.generation):
            return
        await self.upstream.send(serialize_frame(frame).decode())
        self.svc.journal_frame(self.cp_id, UP, CS_TO_CSMS, V201, frame)

    # -- what the two pumps do when a peer stays silent -----------------------------

    async def _upstream_ready(self, call: Call) -> bool:
        await self.upstream.connected.wait()
        return True

    async def _upstream_lost(self, call: Call) -> None:
        await asyncio.sleep(0.05)  # stays at the head; resent after the reconnect

    async def _upstream_timeout(self, call: Call) -> None:
        self.svc.metrics.inc("ocppkit_bridge_timeouts_total", leg="upstream")
        text = f"CSMS did not answer {call.action} within {self.up.timeout:g} s"
        await self._csms_answer(error_frame(call.message_id, ErrorCode.INTERNAL_ERROR, V201, text))

    async def _charger_ready(self, call: Call) -> bool:
        if self.downstream is None:
            await self._charger_silent(call, "charging station is not connected")
            return False
        return True

    async def _charger_lost(self, call: Call) -> None:
        await self._charger_silent(call, "charging station disconnected")

    async def _charger_timeout(self, call: Call) -> None:
        self.svc.metrics.inc("ocppkit_bridge_timeouts_total", leg="downstream")
        await self._charger_silent(call, f"no answer within {self.down.timeout:g} s")

    async def _charger_silent(self, call: Call, why: str) -> None:
        self.down.remove(call.message_id)
        await self._step(
            Side.CHARGER, error_frame(call.message_id, ErrorCode.INTERNAL_ERROR, V16, why)
        )
