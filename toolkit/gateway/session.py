"""The per-charger shell: socket -> core -> commit -> send.

Theory of operation
-------------------
Every decision is the sans-I/O core's
(:class:`ocppkit.translators.bridge.core.BridgeCore`): which frame gets which
answer, one call at a time per side, ids, timeouts, refusals, early answers.
This module does only the I/O around it, under one lock per charger:

1. hand the core what happened (a text from either leg, a link that came or
   went, a deadline that passed) and take its
   :class:`~ocppkit.translators.bridge.effects.Effects`;
2. journal what arrived, count, log;
3. **commit before anything is acknowledged**: the new translator state and
   every call for the CSMS (and any call the poison rule gave up, as a dead
   letter) go to the store in one transaction
   (:mod:`ocppkit.toolkit.gateway.state`); the lock is held until it lands.
   Two kinds of frame go out while it is written:

   - the core's ``early`` answers (see
     :func:`ocppkit.translators.bridge.answers.answers_early`): a CSMS answer
     that becomes nothing but answers for the charger;
   - with ``overlap_commits`` (the default), the **call for the CSMS** the
     commit stores (:meth:`~BridgeCore.send_ahead`): the upstream round trip
     runs while the disk writes, so the bridge adds about the larger of the
     two, not their sum. The CSMS's answer is read by another task, which
     waits for this lock: it is taken only after the commit landed (or was
     rolled back), so the charger is answered only once both have landed.

   Everything else (answers from the charger, calls for the charger,
   refusals with a state change) is sent after its commit;
4. ask the core (:meth:`~BridgeCore.poll`) for the next calls that may
   leave, and arm one timer for the core's next deadline.

The message ids the CSMS sees are derived from stored state
(:mod:`ocppkit.translators.bridge.ids`: the store's random id and the
charger's, then a counter committed with the translator state), so a call
translated again from the same stored state gets the same id, and the same
seqNo (the translator's counters are in that state too).

What sending ahead opens, and why each case is safe
(``tests/bridge/test_commit_overlap.py`` on the virtual clock;
``tests/gateway/test_crash_overlap.py`` with real processes and kill -9):

- **the commit fails after the call went upstream**: nothing is
  acknowledged to the charger, the core rolls back (the outbox row and the
  id counter too); the charger's own retry mints the same id and seqNo, so
  the CSMS may get the call twice and recognise it. The CSMS's answer to the
  first copy frees the upstream slot and is dropped as an orphan; a retry
  that came before it is not sent again but takes that answer.
- **kill -9 between the send and the commit**: the restarted bridge has the
  state from before the call and no outbox row; the charger sends its call
  again (it never got an answer) and the CSMS gets the same id and seqNo.
- **the CSMS answers before the commit lands**: its answer waits for the
  lock, so the charger is never told about a call that is not stored.
- **the upstream link drops between the send and the commit**: the call is
  a lost call as before (the poison rule counts it); once the commit lands
  it stays at the head of the outbox and is sent again, same id, after the
  reconnect; if the commit fails, the charger's retry sends it.
- **the lease was lost** (another instance took the charger): the commit is
  refused (:class:`~ocppkit.translators.errors.LeaseLost`), nothing is
  acknowledged and the session ends, as before. The CSMS may have the call
  from the stale instance under the id the new owner mints for the
  charger's retry (the same store, the same stored counter) when the new
  owner's state has not moved on; when it has, that id may have named
  another call there. That needs a charger still sending on its old
  connection after the new instance took it over: a charger that moved
  has dropped that connection.

``overlap_commits = false`` restores the strict order: nothing but early
answers leaves before its commit.

Each input's wait for the lock (``ocppkit_bridge_queue_wait_seconds``) and
the time spent on it once its turn came (``ocppkit_bridge_work_seconds``)
are measured apart, so queueing behind a charger's own earlier input is not
mistaken for the bridge's work.

Per-charger memory is kept small, since one process holds thousands of
sessions: the deadline is a loop timer handle armed only while a call is
outstanding (no sleeping task per charger), and everything that is the
same for all chargers (services, route, validators, jitter source) is shared.

Calls for the CSMS leave through the **outbox**, one at a time and in order;
the head row is deleted in the same transaction as the translation of its
answer, so it is sent again after a reconnect or a restart until it is
answered: upstream delivery is at-least-once, and the CSMS recognises
repeats by message id (the bridge's own, never reused for another call) and
seqNo.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from ocppkit.toolkit.gateway.links import DownLink, WebSocketLink
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.routes import FORWARD, Route, charger16_state
from ocppkit.toolkit.gateway.services import Services, wire_message
from ocppkit.toolkit.gateway.state import Claimed
from ocppkit.toolkit.gateway.state.ops import (
    AddDeadLetter,
    AddOutbox,
    DeleteOutbox,
    Op,
    PutState,
    transaction_id_floor,
)
from ocppkit.toolkit.gateway.upstream import Upstream
from ocppkit.translators.bridge import BridgeCore, Effects, PoisonRule, Received, Side
from ocppkit.translators.bridge import ids as message_ids
from ocppkit.translators.bridge.ids import MessageIds
from ocppkit.translators.errors import LeaseLost
from ocppkit.translators.frames import Call, Frame, frame_from_list, serialize_frame
from ocppkit.translators.journal import Direction, Leg

DOWN, UP = Leg.DOWNSTREAM, Leg.UPSTREAM
CS_TO_CSMS, CSMS_TO_CS = Direction.CS_TO_CSMS, Direction.CSMS_TO_CS
CHARGER, CSMS = Side.CHARGER, Side.CSMS


async def fair_turn() -> None:
    """Let every other charger take a frame before this one takes its next.

    A frame answered without a commit (a local Heartbeat answer, a refusal
    beyond the in-flight cap, a malformed frame) never suspends, and a read
    whose frames are already buffered does not either: without this one
    loop turn per frame, a charger that writes 2,000 frames at once is
    served all of them before another charger's single frame (issue #16
    item 9). Counted: 1,544 to 1,816 of 2,000 then, 1 now
    (tests/gateway/test_fairness.py).
    """
    await asyncio.sleep(0)


class Session:
    """One charger: its bridge core, both links, the timer.

    Args:
        charge_point_id: the charger identity.
        svc: the bridge's shared services.
        route: the version pair bridged (default: 1.6 charger, 2.0.1 CSMS,
            with the services' translator).
        claimed: the charger's lease with its stored state and outbox
            (:meth:`~ocppkit.toolkit.gateway.state.StateStore.claim`); None:
            a charger with nothing stored.
    """

    def __init__(
        self,
        charge_point_id: str,
        svc: Services,
        route: Route = FORWARD,
        claimed: Claimed | None = None,
    ) -> None:
        self.cp_id = charge_point_id
        self.svc = svc
        self.log = svc.log
        self.route = route
        self.charger_version, self.csms_version = route.charger_version, route.csms_version
        cfg = svc.cfg
        stored = claimed.state if claimed is not None else None
        counter = 0
        if stored:
            stored, counter = message_ids.split(stored)
        state = route.restore(stored) if stored else route.new_state(charge_point_id)
        charger16 = charger16_state(state)
        if not stored and charger16 is not None:  # ids no lost store handed out (store.py)
            charger16.next_tx_id16 = charger16.next_event_id = transaction_id_floor(svc.ctx.now())
        outbox = [
            frame_from_list(row.frame, route.csms_version)
            for row in (claimed.outbox if claimed is not None else [])
        ]
        self.core: BridgeCore[Any] = BridgeCore(
            charge_point_id,
            svc.translator if route is FORWARD else route.translator,
            state,
            restore=route.restore,
            ids=MessageIds(message_ids.prefix_for(svc.store.store_id, charge_point_id), counter),
            call_timeout=cfg.call_timeout,
            charger_validator=svc.charger_validator,
            csms_validator=svc.strict_validator,
            outbox=[c for c in outbox if isinstance(c, Call)],
            charger_max_bytes=cfg.max_frame_bytes,
            csms_max_bytes=cfg.max_frame_bytes * 4,
            max_in_flight=cfg.max_in_flight,
            settings=svc.ctx.settings,
            charger_version=route.charger_version,
            csms_version=route.csms_version,
            poison=PoisonRule(cfg.poison_attempts, cfg.backoff_min, cfg.backoff_max),
        )
        self.downstream: DownLink | None = None
        self._link_generation: dict[int, int] = {}  # id(link) -> its charger generation
        self.lock = asyncio.Lock()
        self._alarm: asyncio.TimerHandle | None = None  # armed for _alarm_at
        self._alarm_at: Any = None  # the core deadline the alarm is armed for
        self._grace: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()
        self.upstream = Upstream(
            charge_point_id,
            cfg,
            svc.http,
            svc.ssl_context,
            self.on_upstream_text,
            self._upstream_changed,
            svc.metrics,
            svc.log,
            subprotocol=route.csms_version.subprotocol or "",
        )

    @property
    def state(self) -> Any:
        """The translator state (as the core holds it now)."""
        return self.core.state

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        task = asyncio.create_task(self.upstream.run())
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._event(logging.ERROR, "session_task_failed", error=repr(task.exception()))

    async def stop(self) -> None:
        """Close both links and end the session's tasks."""
        if self._grace is not None:
            self._grace.cancel()
        self._disarm()
        if self.downstream is not None:
            await self.downstream.close(1001, "bridge shutting down")
        await self.upstream.stop()
        tasks = [*self._tasks, *self._side_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Ended: break the session's cycles, so that reference counting frees
        # it and its links now, not a collection later (teardown.py).
        self._tasks.clear()
        self._side_tasks.clear()
        self.upstream.detach()
        self.downstream = None

    def _event(self, level: int, name: str, **fields: Any) -> None:
        event(self.log, level, name, cp=self.cp_id, **fields)

    @property
    def idle(self) -> bool:
        """Nothing to deliver and no charger: the session may be retired."""
        return self.downstream is None and self.core.idle and not self.lock.locked()

    async def wait_upstream(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.upstream.connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def drain(
        self, timeout: float, before_close: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Stop taking charger calls, let in-flight ones finish (SIGTERM), then
        ``before_close`` (the bridge releases the lease, so the charger is
        taken at once wherever it reconnects), then close both links."""
        self.core.draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and not (self.core.idle and not self.lock.locked()):
            if not self.upstream.connected.is_set() and not self.core.charger_queue:
                break  # nothing can move; the outbox is on disk and resumes on restart
            await asyncio.sleep(0.02)
        if before_close is not None:
            try:
                await before_close()
            except Exception as exc:  # an unreleased lease just expires
                self._event(logging.WARNING, "lease_release_failed", error=str(exc))
        await self.stop()

    # -- downstream (charger) ---------------------------------------------------

    async def attach(self, link: DownLink) -> int:
        """``link`` is now the charger's connection (newest connection wins)."""
        old, self.downstream = self.downstream, link
        generation = self.core.connect(CHARGER)
        self._link_generation[id(link)] = generation
        if old is not None and old is not link:
            self._link_generation.pop(id(old), None)
            await old.close(1000, "replaced by a newer connection")
        await self._run(self.core.poll)
        return generation

    async def detach(self, link: DownLink) -> None:
        generation = self._link_generation.pop(id(link), None)
        if self.downstream is link:
            self.downstream = None
        if generation is not None:
            await self._run(lambda now: self.core.disconnect(CHARGER, now, generation))

    async def serve(self, ws: web.WebSocketResponse) -> None:
        """Read an OCPP-J charger's WebSocket until it closes."""
        version = self.charger_version
        link = WebSocketLink(
            ws, lambda f: self.svc.journal_frame(self.cp_id, DOWN, CSMS_TO_CS, version, f), version
        )
        generation = await self.attach(link)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        await self.on_charger_text(msg.data, generation)
                    except Exception:  # a bug of ours must not cost the charger its link
                        self.log.exception(
                            "charger_frame_failed", extra={"fields": {"cp": self.cp_id}}
                        )
                elif msg.type == WSMsgType.BINARY:
                    self._event(logging.WARNING, "binary_frame_ignored")
                await fair_turn()
        finally:
            await self.detach(link)

    async def on_charger_text(self, raw: str, generation: int | None = None) -> None:
        await self._run(lambda now: self.core.receive(CHARGER, raw, now, generation=generation))

    async def on_charger_frame(self, frame: Frame) -> None:
        """A 1.6J frame from the charger, already journaled by its link (SOAP)."""
        await self._run(lambda now: self.core.receive_frame(CHARGER, frame, now), journal=False)

    # -- upstream (CSMS) --------------------------------------------------------

    def _upstream_changed(self, up: bool) -> None:
        if up:
            self.core.connect(CSMS)
            if self._grace is not None:
                self._grace.cancel()
                self._grace = None
            self._spawn(self._run(self.core.poll))
            return
        effects = self.core.disconnect(CSMS, self.svc.ctx.now())
        self._spawn(self._run(lambda now: effects))
        if self.downstream is not None and self._grace is None:
            self._grace = asyncio.create_task(self._disconnect_after_grace())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        task.add_done_callback(self._task_done)

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
        await self._run(lambda now: self.core.receive(CSMS, raw, now))

    # -- carrying out the core's effects -----------------------------------------

    async def _run(self, decide: Callable[[Any], Effects], *, journal: bool = True) -> None:
        """Ask the core under the lock, carry out its effects, then what follows."""
        asked = time.perf_counter()
        async with self.lock:
            began = time.perf_counter()
            await self._apply(decide(self.svc.ctx.now()), journal=journal)
            await self._flush()
        metrics = self.svc.metrics
        metrics.observe("ocppkit_bridge_queue_wait_seconds", began - asked)
        metrics.observe("ocppkit_bridge_work_seconds", time.perf_counter() - began)

    async def _flush(self) -> None:
        """Timeouts due and calls that may leave now (the lock is held)."""
        for _ in range(1000):  # each round commits or sends; bounded all the same
            effects = self.core.poll(self.svc.ctx.now())
            if effects.empty:
                break
            await self._apply(effects)
        self._arm()

    def _arm(self) -> None:
        """One loop timer for the core's next deadline, replacing the last one."""
        deadline = self.core.deadline
        if deadline == self._alarm_at and (deadline is None or self._alarm is not None):
            return
        self._disarm()
        if deadline is None:
            return
        wait = max(0.0, (deadline - self.svc.ctx.now()).total_seconds())
        self._alarm_at = deadline
        self._alarm = asyncio.get_running_loop().call_later(wait, self._ring)

    def _disarm(self) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
        self._alarm = self._alarm_at = None

    def _ring(self) -> None:
        self._alarm = self._alarm_at = None
        self._spawn(self._at_deadline())

    async def _at_deadline(self) -> None:
        """The core's deadline came (by the loop); poll it under the lock.

        On a clock of the caller's (a simulation) the deadline may not have
        come yet: then :meth:`_flush` finds nothing and arms the timer again.
        """
        async with self.lock:
            await self._flush()

    async def _apply(self, effects: Effects, *, journal: bool = True) -> None:
        svc = self.svc
        if effects.received is not None and journal:
            self._journal_received(effects.received)
        got = effects.received
        if svc.credentials is not None and got is not None and got.frame is not None:
            svc.credentials.seen(self.cp_id, got)  # a new key is stored ahead of this commit
        for count in effects.counters:
            svc.metrics.inc(count.name, count.value, **dict(count.labels))
        for seen in effects.observed:
            svc.metrics.observe(seen.name, seen.value, **dict(seen.labels))
        for line in effects.logs:
            self._event(line.level, line.name, **line.fields)
        commit = effects.commit
        if commit is not None:
            ops: list[Op] = [DeleteOutbox(self.cp_id, mid) for mid in commit.outbox_done]
            ops.append(PutState(self.cp_id, commit.state))
            ops += [
                AddOutbox(self.cp_id, c.message_id, [2, c.message_id, c.action, c.payload])
                for c in commit.outbox_add
            ]
            ops += [
                AddDeadLetter(self.cp_id, d.message_id, d.frame, d.attempts, d.reason)
                for d in commit.dead_letters
            ]
            try:
                stored = svc.store.submit(ops)
            except Exception as exc:
                self._not_stored(exc)
                return
            if effects.early:
                await self._send_meanwhile(effects)
            elif commit.outbox_add and svc.cfg.overlap_commits:
                # The call goes upstream while it is being stored; its answer is
                # taken under this lock, so only after the commit (module doc).
                await self._send_meanwhile(self.core.send_ahead(svc.ctx.now()))
            try:
                await stored
            except Exception as exc:
                # (After an early answer, the head of the outbox stays queued
                # and is sent again: the CSMS answers it again.)
                self._not_stored(exc)
                return
            self.core.committed()
            if effects.early:
                await self._recycle(effects)
                return
        await self._send(effects)
        await self._recycle(effects)

    async def _send_meanwhile(self, effects: Effects) -> None:
        """Send while a commit is being written (an early answer, a call sent ahead)."""
        if not (effects.to_charger or effects.to_csms):
            return
        try:
            await self._send(effects)
        except Exception:  # a send that failed must not undo a commit that lands
            self.log.exception("dispatch_failed", extra={"fields": {"cp": self.cp_id}})

    def _not_stored(self, exc: Exception) -> None:
        """Not stored, so not acknowledged: the peer's own retry will redo it.

        A write refused because another instance took the charger's lease
        (fencing, :class:`~ocppkit.translators.errors.LeaseLost`) means this
        session is stale: the charger is served there now, so it ends here.
        """
        self.core.rollback()
        if isinstance(exc, LeaseLost):
            self._event(logging.WARNING, "lease_lost_write_refused")
            self.svc.lease_lost(self.cp_id)
            return
        self.log.exception("store_commit_failed", extra={"fields": {"cp": self.cp_id}})

    def _journal_received(self, received: Received) -> None:
        charger = received.side is CHARGER
        leg, version = (DOWN, self.charger_version) if charger else (UP, self.csms_version)
        direction = CS_TO_CSMS if received.side is CHARGER else CSMS_TO_CS
        if received.frame is not None and received.error is None:
            self.svc.journal_frame(self.cp_id, leg, direction, version, received.frame)
        else:
            self.svc.journal_frame(
                self.cp_id,
                leg,
                direction,
                version,
                wire_message(received.text),
                error=received.error,
            )

    async def _send(self, effects: Effects) -> None:
        now = self.svc.ctx.now
        for frame in effects.to_charger:
            link = self.downstream
            try:
                if link is None or link.closed:
                    raise ConnectionError("charger not connected")
                if self.svc.credentials is not None:
                    self.svc.credentials.sent(self.cp_id, frame)
                await link.send(frame)
            except ConnectionError as exc:
                self._event(logging.INFO, "frame_dropped_charger_gone", error=str(exc))
                if isinstance(frame, Call):
                    await self._apply(self.core.send_failed(CHARGER, frame, now()))
        for frame in effects.to_csms:
            try:
                await self.upstream.send(serialize_frame(frame).decode())
            except ConnectionError:
                if isinstance(frame, Call):
                    # Stays at the head of the outbox; sent again after the reconnect.
                    await self._apply(self.core.send_failed(CSMS, frame, now()))
                else:
                    # The call it answers came on a link that is gone; the
                    # CSMS has given up on it already.
                    self._event(logging.INFO, "answer_dropped_upstream_down")
                continue
            self.svc.journal_frame(self.cp_id, UP, CS_TO_CSMS, self.csms_version, frame)

    async def _recycle(self, effects: Effects) -> None:
        if CSMS in effects.recycle:
            await self.upstream.recycle()
