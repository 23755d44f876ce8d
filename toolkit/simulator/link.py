"""One charger's OCPP-J WebSocket: one outstanding call, strict validation, CSMS calls answered.

The OCPP-J rules (one outstanding call, answers matched by id and connection, which frame
gets which CALLERROR, answers never answered) are the project's one sans-I/O endpoint,
:class:`ocppkit.translators.bridge.Endpoint`; this module does the I/O around it.

A real charger sends one CALL and waits for its answer before the next (OCPP-J 1.6 §4.1.1 /
2.0.1 Part 4 §4.1.1: "at most one outstanding CALL"), so :meth:`Link.call` is only ever used
by the charger's own task. A reader task answers the CSMS's calls as they come, through the
charger's handler. Every frame we send passes :class:`Validator` in strict mode first: a
simulator that emits an invalid frame is a bug, so that raises instead of sending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ocppkit.translators.bridge import (
    AnswerArrived,
    BadFrame,
    CallArrived,
    Endpoint,
    EndpointBusy,
    StrayFrame,
    error_frame,
    refusal,
)
from ocppkit.translators.errors import ErrorCode, FrameError
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    serialize_frame,
)
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion

# (action, payload) of a CSMS call -> our answer's payload; raise FrameError to refuse.
Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class LinkDown(Exception):
    """The WebSocket is closed (or never opened)."""


class CallTimeout(Exception):
    """The CSMS did not answer in time."""


class CallRejected(Exception):
    """The CSMS answered with a CALLERROR."""

    def __init__(self, error: CallError) -> None:
        super().__init__(f"{error.error_code}: {error.error_description}")
        self.error = error


@dataclass
class LinkStats:
    """Counters a link keeps (shared by reconnections of the same charger)."""

    sent: dict[str, int] = field(default_factory=dict)  # our CALLs by action
    answered: dict[str, int] = field(default_factory=dict)  # CSMS CALLs we answered
    csms_violations: int = 0  # CSMS frames that broke the schema (we answered or ignored)
    connects: int = 0
    latencies: list[float] = field(default_factory=list)  # wall seconds, when recording
    bugs: list[str] = field(default_factory=list)  # our own invalid answers (must stay empty)


class Link:
    """A charger's connection to ``{csms_url}/{charge_point_id}``.

    Args:
        session: the aiohttp session (shared by the fleet).
        url: full URL including the charger id.
        version: 1.6 or 2.0.1 (the subprotocol offered).
        validator: a strict validator shared by the fleet.
        handler: answers the CSMS's calls.
        timeout: seconds to wait for a connection or an answer.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        version: OcppVersion,
        validator: Validator,
        handler: Handler,
        *,
        timeout: float = 10.0,
        stats: LinkStats | None = None,
        record_latency: bool = False,
    ) -> None:
        assert validator.mode is ValidationMode.STRICT
        self.session, self.url, self.version = session, url, version
        self.validator, self.handler, self.timeout = validator, handler, timeout
        self.stats = stats or LinkStats()
        self.record_latency = record_latency
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self.endpoint = Endpoint(version, call_timeout=timeout)
        self._waiting: asyncio.Future[Frame] | None = None  # the answer to our outstanding call
        self._answering: set[asyncio.Task[None]] = set()
        # Called after each answer to the CSMS went out (work the command asked for follows
        # its answer on the wire, e.g. StopTransaction after RemoteStopTransaction.conf).
        self.after_answer: Callable[[], None] | None = None
        # Called when the peer or the network closed the connection (not on close()).
        self.on_lost: Callable[[], None] | None = None

    @property
    def online(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def connect(self) -> None:
        """Open the WebSocket with the version's subprotocol; raise LinkDown on failure."""
        await self.close()
        subprotocol = self.version.subprotocol
        assert subprotocol is not None
        try:
            ws = await asyncio.wait_for(
                self.session.ws_connect(self.url, protocols=(subprotocol,), autoping=True),
                self.timeout,
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise LinkDown(f"connect {self.url}: handshake refused, HTTP {exc.status}") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise LinkDown(f"connect {self.url}: {type(exc).__name__} {exc}".rstrip()) from None
        if ws.protocol != subprotocol:
            await ws.close()
            raise LinkDown(f"CSMS did not accept subprotocol {subprotocol}")
        self._ws = ws
        self.stats.connects += 1
        generation = self.endpoint.open()
        self._reader = asyncio.create_task(self._read(ws, generation))

    async def close(self) -> None:
        ws, reader = self._ws, self._reader
        self._ws, self._reader = None, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        self._fail_pending()

    def new_call(self, message_id: str, action: str, payload: dict[str, Any]) -> Call:
        """Build and strictly validate a CALL (raises ValidationFailed: a simulator bug)."""
        self.validator.validate(self.version, action, Kind.REQUEST, payload, message_id=message_id)
        return Call(message_id, action, payload)

    async def call(self, call: Call) -> dict[str, Any]:
        """Send ``call`` and wait for its answer.

        Raises:
            LinkDown: the connection is (or went) down before the answer.
            CallTimeout: no answer within ``timeout``.
            CallRejected: the CSMS answered with a CALLERROR.
        """
        ws = self._ws
        if ws is None or ws.closed:
            raise LinkDown("offline")
        try:
            self.endpoint.send_call(call, datetime.now(UTC))
        except EndpointBusy as exc:
            raise AssertionError(f"one outstanding call at a time: {exc}") from None
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting = future
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        try:
            await ws.send_str(serialize_frame(call).decode())
            self.stats.sent[call.action] = self.stats.sent.get(call.action, 0) + 1
            answer = await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError:
            # A charger gives up and moves on (its late answer is dropped, as chargers do).
            self.endpoint.abandon()
            raise CallTimeout(f"{call.action} {call.message_id}: no answer") from None
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            self.endpoint.abandon()
            raise LinkDown(repr(exc)) from None
        finally:
            self._waiting = None
        if self.record_latency:
            self.stats.latencies.append(loop.time() - sent_at)
        if isinstance(answer, CallError):
            raise CallRejected(answer)
        assert isinstance(answer, CallResult)
        if not self.validator.is_valid(self.version, call.action, Kind.RESPONSE, answer.payload):
            self.stats.csms_violations += 1
        return answer.payload

    def _fail_pending(self) -> None:
        self.endpoint.close()
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_exception(LinkDown("connection closed"))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, generation: int) -> None:
        try:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                await self._on_text(ws, msg.data, generation)
        finally:
            self._fail_pending()
            for task in list(self._answering):
                task.cancel()
            if self._ws is ws:  # not closed by us: close() forgets the socket first
                self._ws = None
                if self.on_lost is not None:
                    self.on_lost()

    async def _on_text(
        self, ws: aiohttp.ClientWebSocketResponse, text: str, generation: int
    ) -> None:
        if generation != self.endpoint.generation:
            return  # the reader of a connection already replaced
        event = self.endpoint.receive(text, datetime.now(UTC))
        if isinstance(event, BadFrame):
            self.stats.csms_violations += 1
            if event.reply is not None:
                await self._answer(ws, event.reply)
        elif isinstance(event, StrayFrame):
            # A late answer (after a timeout) is dropped, as chargers do; a broken one is
            # the CSMS's violation. Neither is ever answered.
            if event.error is not None:
                self.stats.csms_violations += 1
        elif isinstance(event, CallArrived):
            # Answer in a task: a handler may wait (e.g. for the charger to be idle).
            task = asyncio.create_task(self._serve(ws, event.call, event.generation))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        elif isinstance(event, AnswerArrived) and self._waiting and not self._waiting.done():
            self._waiting.set_result(event.answer)

    async def _serve(
        self, ws: aiohttp.ClientWebSocketResponse, call: Call, generation: int
    ) -> None:
        out: CallResult | CallError
        try:
            self.validator.validate(
                self.version, call.action, Kind.REQUEST, call.payload, message_id=call.message_id
            )
        except FrameError as exc:
            self.stats.csms_violations += 1
            out = refusal(exc, call.message_id, self.version)
        else:
            try:
                payload = await self.handler(call.action, call.payload)
            except FrameError as exc:
                out = refusal(exc, call.message_id, self.version)
            else:
                # Our own answer must be valid too; a failure is a simulator bug: it is
                # recorded (the run reports it) and the CSMS gets an InternalError.
                try:
                    self.validator.validate(self.version, call.action, Kind.RESPONSE, payload)
                except FrameError as exc:
                    self.stats.bugs.append(f"invalid {call.action} answer: {exc.description}")
                    out = error_frame(call.message_id, ErrorCode.INTERNAL_ERROR, self.version, "")
                else:
                    out = CallResult(call.message_id, payload)
                    self.stats.answered[call.action] = self.stats.answered.get(call.action, 0) + 1
        released = self.endpoint.answer(out, generation)  # only on the link the call came on
        if released is not None:
            await self._answer(ws, released)
        if self.after_answer is not None:
            self.after_answer()

    async def _answer(self, ws: aiohttp.ClientWebSocketResponse, frame: Frame) -> None:
        with contextlib.suppress(ConnectionError, aiohttp.ClientError, RuntimeError):
            await ws.send_str(serialize_frame(frame).decode())


def not_supported(action: str) -> FrameError:
    """The CALLERROR for an action we know but do not implement (OCPP-J: NotSupported)."""
    return FrameError(ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this simulator")
