"""One call at a time towards a peer: the queue both legs of a session use.

OCPP-J allows one outstanding CALL per direction (1.6 §4.1.1; 2.0.1 Part 4
§4.1.1 "SHALL NOT send a CALL ... before the previous one has been responded
to"), and strict CSMSs enforce it. A :class:`CallPump` sends the head of its
queue, waits for the answer (:meth:`answered`), the link's loss
(:meth:`link_lost`) or the timeout, and only then looks at the next call.

The pump never removes calls itself: whoever handles the answer (or the
timeout) removes the head, after committing what the answer changed. That
is what makes the upstream queue durable: a call leaves the outbox in the
same transaction as the translation of its answer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from ocppkit.translators.frames import Call

CallAction = Callable[[Call], Awaitable[None]]


class CallPump:
    """Sends queued calls one at a time over one leg.

    Args:
        timeout: seconds the peer has to answer each call.
        ready: awaited before each send; False skips sending (the call was
            dealt with, e.g. the peer is gone) and the loop looks again.
        send: sends a call; raises ConnectionError when the link is down.
        on_timeout: the peer did not answer in time.
        on_lost: the link dropped before the answer came.
        on_latency: told each answered call's round trip, in seconds.
    """

    def __init__(
        self,
        timeout: float,
        *,
        ready: Callable[[Call], Awaitable[bool]],
        send: CallAction,
        on_timeout: CallAction,
        on_lost: CallAction,
        on_latency: Callable[[float], None] = lambda _: None,
    ) -> None:
        self.queue: deque[Call] = deque()
        self.timeout = timeout
        self._ready, self._send = ready, send
        self._on_timeout, self._on_lost, self._on_latency = on_timeout, on_lost, on_latency
        self._changed = asyncio.Event()
        self._waiting: tuple[str, asyncio.Future[None]] | None = None

    def push(self, call: Call) -> None:
        self.queue.append(call)
        self._changed.set()

    def remove(self, message_id: str) -> bool:
        """Drop the queued call with this id; True if there was one."""
        for call in self.queue:
            if call.message_id == message_id:
                self.queue.remove(call)
                self._changed.set()
                return True
        return False

    def answered(self, message_id: str) -> None:
        """The answer to the call on the wire has been handled: move on."""
        waiting = self._waiting
        if waiting is not None and waiting[0] == message_id and not waiting[1].done():
            waiting[1].set_result(None)

    def link_lost(self) -> None:
        if self._waiting is not None and not self._waiting[1].done():
            self._waiting[1].set_exception(ConnectionError("link lost"))

    def kick(self) -> None:
        """Look at the queue again (a peer came or went)."""
        self._changed.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self.queue:
                self._changed.clear()
                await self._changed.wait()
                continue
            call = self.queue[0]
            if not await self._ready(call):
                continue
            future: asyncio.Future[None] = loop.create_future()
            self._waiting = (call.message_id, future)
            try:
                await self._send(call)
                sent = loop.time()
                await asyncio.wait_for(asyncio.shield(future), self.timeout)
                self._on_latency(loop.time() - sent)
            except ConnectionError:
                await self._on_lost(call)
            except TimeoutError:
                await self._on_timeout(call)
            finally:
                self._waiting = None
