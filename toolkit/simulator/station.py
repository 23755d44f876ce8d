"""A charger's connection to its CSMS: connect, boot, deliver, wait, answer.

Theory of operation. Only the charger's own task sends CALLs (one outstanding call per
charger, OCPP-J §4.1.1); CSMS commands are answered by the link's reader task, and any work
they ask for (a remote stop, a reset, a triggered message) is queued as *urgent* and run by
the charger's task before its next planned step.

Delivery. Transaction messages (1.6 StartTransaction/MeterValues/StopTransaction, 2.0.1
TransactionEvent) go through an in-order queue and are delivered at least once: a message
whose answer is lost is resent, identical (same message id and fields), after the
reconnect, as chargers with a persistent queue do (1.6 §4.7 "transaction-related
messages"; 2.0.1 E12). Other messages are sent only while online and are dropped offline;
current connector statuses are re-sent once back online. Unplanned disconnections are
retried with jittered exponential backoff (wall clock); planned outages end at a simulated
time.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import ClassVar

import aiohttp

from ocppkit.toolkit.simulator.clock import Clock
from ocppkit.toolkit.simulator.link import CallRejected, CallTimeout, Link, LinkDown, not_supported
from ocppkit.toolkit.simulator.model import ChargerPlan, Status
from ocppkit.toolkit.simulator.state import (
    Connector,
    DriverSettings,
    Live,
    Outgoing,
    Payload,
    Record,
)
from ocppkit.translators.errors import ErrorCode, FrameError
from ocppkit.translators.frames import Call
from ocppkit.translators.schemas import actions
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

# Connection attempts during which a virtual clock waits for the CSMS to come back.
PAUSE_ATTEMPTS = 6


class Station(ABC):
    """Connection, delivery and command dispatch; :class:`~.runner.Charger` adds the plan."""

    version: ClassVar[OcppVersion]
    schema_version: ClassVar[OcppVersion]  # whose JSON schemas the payloads follow
    HANDLERS: ClassVar[dict[str, str]] = {}  # CSMS action -> method name

    def __init__(
        self,
        plan: ChargerPlan,
        *,
        clock: Clock,
        http: aiohttp.ClientSession,
        csms_url: str,
        validator: Validator,
        end: datetime,
        settings: DriverSettings,
        seed: int = 0,
    ) -> None:
        self.plan, self.spec, self.clock, self.end = plan, plan.spec, clock, end
        self.settings = settings
        self.profiles: set[int] = set()  # charging profile ids installed by the CSMS
        self.link = self.make_link(http, csms_url, validator, settings.call_timeout)
        self.link.after_answer = self._after_answer
        self.link.on_lost = self._lost
        self.connectors = {i: Connector(i) for i in range(1, plan.spec.connectors + 1)}
        self.queue: deque[Outgoing] = deque()
        self.urgent: deque[Callable[[], Awaitable[None]]] = deque()
        # Work each command asked for, keyed by the task answering it (answers may overlap).
        self.followups: dict[object, list[Callable[[], Awaitable[None]]]] = {}
        self.wake = asyncio.Event()
        self.record = Record()
        self.need_boot, self.boot_reason = True, "PowerUp"
        self.heartbeat_s = settings.default_heartbeat_s
        self.last_sent = clock.now()
        self.blocked_until: datetime | None = None
        self._ids = 0
        # Backoff jitter only; the plan's randomness is elsewhere and already spent.
        self._jitter = random.Random(f"{seed}:{plan.spec.charge_point_id}")
        self._backoff = settings.backoff_initial
        self._next_try = 0.0
        self._failures = 0  # consecutive failed connection attempts
        # Why the last connection attempt failed (None: it did not). A charger retries
        # for ever; the run reports this at the end if it still stands.
        self.connect_failure: str | None = None

    def make_link(
        self, http: aiohttp.ClientSession, csms_url: str, validator: Validator, timeout: float
    ) -> Link:
        """The connection: OCPP-J WebSocket to ``{csms_url}/{charger id}`` by default."""
        url = f"{csms_url.rstrip('/')}/{self.plan.spec.charge_point_id}"
        return Link(http, url, self.version, validator, self._handle, timeout=timeout)

    @abstractmethod
    def boot_payload(self) -> Payload:
        """The BootNotification payload of this version."""

    @abstractmethod
    def status_payload(self, c: Connector, at: datetime) -> Payload:
        """The StatusNotification payload of this version for connector ``c``."""

    # -- waiting on the simulated clock --------------------------------------------------

    async def _wait_until(self, at: datetime) -> None:
        while True:
            while self.urgent:
                await self.urgent.popleft()()
            if not self.link.online:
                await self._try_online()
            target = at
            online = self.link.online and not self.need_boot
            beat = self.last_sent + timedelta(seconds=self.heartbeat_s)
            if online and beat < at:
                target = beat
            if self._blocked() and self.blocked_until is not None:
                target = min(target, self.blocked_until)  # back online as soon as allowed
            delay = max(0.0, self._next_try - asyncio.get_running_loop().time())
            if self.link.online or self._blocked():
                woke = await self.clock.sleep_until(target, self.wake)
            elif not self.clock.paced and self._failures <= PAUSE_ATTEMPTS:
                # A virtual clock stands still while the link is down (for a few attempts),
                # or the whole plan would run offline in an instant.
                await asyncio.sleep(delay)
                continue
            else:  # offline: come back to retry the connection after the backoff
                try:
                    woke = await asyncio.wait_for(self.clock.sleep_until(target, self.wake), delay)
                except TimeoutError:
                    continue
            if woke:
                self.wake.clear()
                continue
            if target < at:
                if online and target == beat:
                    await self.send("Heartbeat", dict, self._on_heartbeat)
                continue
            return

    async def _drain(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.settings.drain_timeout
        while self.queue and asyncio.get_running_loop().time() < deadline:
            if not await self._try_online():
                await asyncio.sleep(min(self._backoff, 0.2))
        for item in self.queue:
            self.record.errors.append(f"{item.action} never acknowledged")

    # -- connection and delivery ---------------------------------------------------------

    def _blocked(self) -> bool:
        return self.blocked_until is not None and self.clock.now() < self.blocked_until

    async def _try_online(self) -> bool:
        if self.link.online and not self.need_boot:
            return True
        if self._blocked() or asyncio.get_running_loop().time() < self._next_try:
            return False
        if not self.link.online:
            try:
                await self.link.connect()
            except LinkDown as exc:
                self.connect_failure = str(exc)
                self._backoff_more()
                return False
            self.connect_failure = None
        if self.need_boot and not await self._boot():
            return False
        self._backoff, self._failures = self.settings.backoff_initial, 0
        await self._flush()
        await self._resend_statuses()
        return self.link.online

    def _backoff_more(self) -> None:
        # Jittered exponential backoff, as chargers do to avoid reconnect storms.
        self._failures += 1
        loop_now = asyncio.get_running_loop().time()
        self._next_try = loop_now + self._backoff * (0.5 + self._jitter.random())
        self._backoff = min(self.settings.backoff_max, self._backoff * 2)

    async def _boot(self) -> bool:
        try:
            answer = await self.link.call(self._new_call("BootNotification", self.boot_payload()))
        except (LinkDown, CallTimeout, CallRejected) as exc:
            self.record.errors.append(f"BootNotification: {exc}")
            self._backoff_more()
            await self.link.close()
            return False
        self.last_sent = self.clock.now()
        interval = int(answer.get("interval", 0))
        if answer.get("status") != "Accepted":
            # Pending/Rejected: retry after the interval the CSMS gave (1.6 §4.2, 2.0.1 B02).
            self.blocked_until = self.clock.now() + timedelta(seconds=max(interval, 10))
            await self.link.close()
            return False
        if interval > 0:
            self.heartbeat_s = interval
        self.need_boot = False
        for c in self.connectors.values():
            c.sent = None
        return True

    def _lost(self) -> None:
        # The CSMS or the network closed the connection: retry after a wall-clock backoff
        # (a planned outage instead ends at `blocked_until`, in simulated time).
        self.record.unplanned_drops += 1
        self._backoff_more()
        self.wake.set()

    def _new_call(self, action: str, payload: Payload) -> Call:
        self._ids += 1
        return self.link.new_call(str(self._ids), action, payload)

    async def send(
        self,
        action: str,
        build: Callable[[], Payload | None],
        on_result: Callable[[Payload], None] | None = None,
        *,
        tx: Live | None = None,
    ) -> None:
        """Send a CALL; transaction messages (``tx`` given) are queued and sent at least once."""
        item = Outgoing(action, build, on_result)
        if tx is not None:
            tx.undelivered += 1
            item.on_result = self._settle(tx, on_result)
            self.queue.append(item)
            await self._flush()
            return
        if self.need_boot or not self.link.online:
            return
        await self._flush()
        if not self.queue:
            await self._deliver(item, transactional=False)

    def _settle(
        self, live: Live, inner: Callable[[Payload], None] | None
    ) -> Callable[[Payload], None]:
        def done(payload: Payload) -> None:
            live.undelivered -= 1
            if inner is not None:
                inner(payload)

        return done

    async def _flush(self) -> None:
        while self.queue and self.link.online and not self.need_boot:
            if not await self._deliver(self.queue[0], transactional=True):
                return
            self.queue.popleft()

    async def _deliver(self, item: Outgoing, *, transactional: bool) -> bool:
        """Send one item; True when done with it (answered or given up), False if offline."""
        if item.call is None:
            payload = item.build()
            if payload is None:
                return True
            item.call = self._new_call(item.action, payload)
        item.attempts += 1
        try:
            answer = await self.link.call(item.call)
        except LinkDown:
            await self.link.close()  # already counted by _lost
            return not transactional
        except CallTimeout as exc:
            if transactional and item.attempts < self.settings.max_attempts:
                await self.link.close()  # reconnect, then resend
                self._lost()
                return False
            self.record.errors.append(f"{exc} (gave up)")
            return True
        except CallRejected as exc:
            self.record.errors.append(f"{item.action} rejected: {exc}")
            return True
        self.last_sent = self.clock.now()
        if item.on_result is not None:
            item.on_result(answer)
        return True

    def _on_heartbeat(self, _answer: Payload) -> None:  # noqa: B027 - an optional hook
        pass

    # -- connector status ----------------------------------------------------------------

    def wire_state(self, c: Connector) -> tuple[str, str]:
        """What a StatusNotification would say about ``c`` (2.0.1 folds some statuses)."""
        return c.status.value, c.error_code

    async def set_status(
        self, c: Connector, status: Status, at: datetime, error_code: str = "NoError"
    ) -> None:
        before = self.wire_state(c)
        c.status, c.error_code = status, error_code
        if self.wire_state(c) != before or c.sent != before:
            await self._send_status(c, at)

    async def _send_status(self, c: Connector, at: datetime) -> None:
        state = self.wire_state(c)

        def sent(_answer: Payload, c: Connector = c) -> None:
            c.sent = state

        await self.send("StatusNotification", lambda: self.status_payload(c, at), sent)

    async def _resend_statuses(self) -> None:
        for c in self.connectors.values():
            if c.sent != self.wire_state(c) and self.link.online:
                await self._send_status(c, self.clock.now())

    # -- CSMS calls ----------------------------------------------------------------------

    async def _handle(self, action: str, payload: Payload) -> Payload:
        name = self.HANDLERS.get(action)
        if name is None:
            if action in actions(self.schema_version):
                raise not_supported(action)
            raise FrameError(ErrorCode.NOT_IMPLEMENTED, f"unknown action {action!r}")
        result: Payload = await getattr(self, name)(payload)
        return result

    # Answers that read the same in 1.6 and 2.0.1 (HANDLERS name them).
    async def accepted(self, p: Payload) -> Payload:
        return {"status": "Accepted"}

    async def rejected(self, p: Payload) -> Payload:
        return {"status": "Rejected"}

    async def data_transfer(self, p: Payload) -> Payload:
        return {"status": "UnknownVendorId"}

    async def clear_charging_profile(self, p: Payload) -> Payload:
        if not self.profiles:
            return {"status": "Unknown"}
        self.profiles.clear()
        return {"status": "Accepted"}

    def later(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` on the charger's task once the current answer has been sent."""
        self.followups.setdefault(asyncio.current_task(), []).append(work)

    def _after_answer(self) -> None:
        self.urgent.extend(self.followups.pop(asyncio.current_task(), []))
        self.wake.set()

    def now(self) -> datetime:
        """The simulated time, for events the CSMS caused rather than the plan."""
        return self.clock.now()
