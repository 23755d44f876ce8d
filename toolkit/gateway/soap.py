"""OCPP 1.5 SOAP chargers: ``POST /ocpp/soap15``, lifted to 1.6J, then bridged as usual.

1.5 -> 2.0.1 is 1.5 -> 1.6 -> 2.0.1 (``ocppkit.translators.soap15.lift``): a SOAP
request becomes a 1.6J CALL that the charger's ordinary session handles, and
the 1.6J answer goes back, lowered to 1.5, in the HTTP response of the same
exchange (SOAP is request/response over HTTP; OCPP 1.5 §3). Calls for the
charger go the other way: lowered to 1.5 and POSTed to the address the
charger announced in ``wsa:From`` of its last request; the response is
lifted and handed to the session as the charger's answer.

Idle close: HTTP leaves no connection to lose, so a 1.5 charger that has
gone away would hold its CSMS connection (and show connected in /metrics)
for ever. When it has sent nothing for ``soap_idle_timeout`` (default: three
heartbeat intervals) and no exchange is under way, its link is detached: the
session, with nothing left to deliver, is retired and its upstream closed.
Its next request opens both again.

Faults: a peer's mistake is ``env:Sender`` (HTTP 400), ours ``env:Receiver``
(HTTP 500), per SOAP 1.2 Part 2 §7.5.2.2. When the CSMS cannot be reached the
request is refused with HTTP 503, so the charger stays offline and queues
(the offline policy of :mod:`ocppkit.toolkit.gateway.server`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from typing import Protocol

import aiohttp
from aiohttp import web

from ocppkit.toolkit.gateway.callbacks import CALLBACK_FAILED, callback_refusal, callback_rules
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.routes import Route, for_16
from ocppkit.toolkit.gateway.services import Services
from ocppkit.toolkit.gateway.session import Session
from ocppkit.translators.errors import ERROR_CODE_BY_WIRE, ErrorCode, OcppkitError, SoapError
from ocppkit.translators.frames import (
    AnyFrame,
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    Send,
    call_error,
)
from ocppkit.translators.journal import Direction, Leg
from ocppkit.translators.outcome import Note
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15 import (
    SoapFault,
    SoapMessage,
    build_request,
    build_response,
    fault_envelope,
    fault_for_exception,
    lift,
    lower,
    message_id_for,
    new_message_id,
    parse_request,
    parse_response,
)
from ocppkit.translators.soap15.operations import Role
from ocppkit.translators.soap15.settings import SoapSettings
from ocppkit.translators.versions import OcppVersion

V15, V16 = OcppVersion.V15, OcppVersion.V16
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
ACCEPTED_CONTENT_TYPES = frozenset({"application/soap+xml"})  # SOAP 1.2 (OCPP 1.5 §3)

# 1.6J error codes that blame the sender -> env:Sender; the rest -> env:Receiver.
SENDER_CODES = frozenset(
    {
        ErrorCode.FORMAT_VIOLATION,
        ErrorCode.PROTOCOL_ERROR,
        ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
        ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        ErrorCode.NOT_IMPLEMENTED,
        ErrorCode.NOT_SUPPORTED,
        ErrorCode.SECURITY_ERROR,
    }
)
IDLE_HEARTBEATS = 3  # silent for this many heartbeat intervals: gone
DEFAULT_HEARTBEAT = 300.0  # seconds, until the charger's BootNotification answer says
# A charger's Fault, as the 1.6J CALLERROR the session understands.
FAULT_TO_ERROR = {"Sender": ErrorCode.PROTOCOL_ERROR, "Receiver": ErrorCode.INTERNAL_ERROR}


class SoapHost(Protocol):
    """What serving a 1.5 request needs of the running bridge.

    :class:`~ocppkit.toolkit.gateway.server.Bridge` is one; declared here so
    this module does not import the server that routes to it.
    """

    svc: Services | None

    async def admit(self, cp_id: str, request: web.Request) -> web.Response | None: ...

    def claimed(self, cp_id: str) -> AbstractContextManager[None]: ...

    async def claim(self, cp_id: str, route: Route | None = None) -> Session: ...

    def refuse_offline(self, session: Session) -> web.Response: ...


def soap_error_for(error: CallError) -> SoapError:
    code = ERROR_CODE_BY_WIRE.get(error.error_code, ErrorCode.INTERNAL_ERROR)
    sender = code in SENDER_CODES
    return SoapError(
        error.error_description or code.value,
        "Sender" if sender else "Receiver",
        "ProtocolError" if sender else "InternalError",
    )


def fault_response(body: bytes, error: SoapError | None = None) -> web.Response:
    status = 400 if error is not None and error.fault_code == "Sender" else 500
    return web.Response(status=status, body=body, headers={"Content-Type": CONTENT_TYPE})


class SoapLink:
    """A 1.5 SOAP charger as a session's downstream link.

    Args:
        charge_point_id: the chargeBoxIdentity.
        address: where the charger listens (its last wsa:From), or None.
        svc: shared services (HTTP client, journal, settings).
        feed: hands the session a 1.6J answer from the charger.
        source: the IP address the charger's requests come from.
        on_idle: called once when the charger has been silent too long
            (the session detaches the link); None: never idle.
    """

    version = V15

    def __init__(
        self,
        charge_point_id: str,
        address: str | None,
        svc: Services,
        feed: Callable[[Frame], Awaitable[None]],
        source: str | None = None,
        on_idle: Callable[[SoapLink], Awaitable[None]] | None = None,
    ) -> None:
        self.cp_id = charge_point_id
        self.source = source
        self.address = address
        self.svc = svc
        self.feed = feed
        self._exchanges: dict[str, asyncio.Future[Frame]] = {}  # 1.6 call id -> its answer
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.on_idle = on_idle
        self._idle: asyncio.TimerHandle | None = None
        self.touch()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- idle close ---------------------------------------------------------------

    def idle_timeout(self) -> float:
        """Seconds of silence after which the link lets go (see the module docstring)."""
        configured = self.svc.cfg.soap_idle_timeout
        if configured > 0:
            return configured
        return IDLE_HEARTBEATS * self.svc.soap_heartbeats.get(self.cp_id, DEFAULT_HEARTBEAT)

    def told_interval(self, interval: float) -> None:
        """The charger was told this heartbeat interval (its BootNotification answer)."""
        if interval > 0:
            self.svc.soap_heartbeats[self.cp_id] = float(interval)
            self.touch()

    def touch(self) -> None:
        """The charger was heard from: the idle clock starts again."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self.on_idle is None or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(self.idle_timeout(), self._idle_due)

    def _idle_due(self) -> None:
        self._idle = None
        if self._closed:
            return
        if self._exchanges or self._tasks:  # an exchange is under way: not idle
            self.touch()
            return
        task = asyncio.create_task(self._let_go())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _let_go(self) -> None:
        seconds = self.idle_timeout()
        self.svc.metrics.inc("ocppkit_bridge_soap_idle_closed_total")
        event(self.svc.log, logging.INFO, "soap_charger_idle", cp=self.cp_id, seconds=seconds)
        self._closed = True
        if self.on_idle is not None:
            await self.on_idle(self)

    def journal(self, direction: Direction, envelope: bytes, action: str) -> None:
        self.svc.journal_frame(
            self.cp_id,
            Leg.DOWNSTREAM,
            direction,
            V15,
            envelope.decode(),
            kind="soap",
            action=action,
        )

    def noted(self, notes: Iterable[Note]) -> None:
        """Keep what a 1.5 <-> 1.6 lift or lowering lost, as the session keeps its own notes."""
        for note in notes:
            self.svc.metrics.inc("ocppkit_bridge_translation_notes_total", kind=note.kind.value)
            event(self.svc.log, logging.DEBUG, "translation_note", cp=self.cp_id, **note.as_dict())

    def exchange(self, call_id: str) -> asyncio.Future[Frame]:
        """The future the HTTP request for ``call_id`` waits on."""
        fut: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._exchanges[call_id] = fut
        return fut

    def forget(self, call_id: str) -> None:
        self._exchanges.pop(call_id, None)

    async def send(self, frame: AnyFrame) -> None:
        if self._closed:
            raise ConnectionError("SOAP link replaced")
        if isinstance(frame, Send | CallResultError):
            return  # 2.1 frames: the core never sends one to a (lifted) 1.5 charger
        if isinstance(frame, Call):
            # Runs apart: the session's down pump waits for the answer via feed().
            task = asyncio.create_task(self._call_charger(frame))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        fut = self._exchanges.pop(frame.message_id, None)
        if fut is None or fut.done():
            raise ConnectionError("the charger's HTTP request is gone")
        fut.set_result(frame)

    async def close(self, code: int, reason: str) -> None:
        self._closed = True
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        for fut in self._exchanges.values():
            if not fut.done():
                fut.set_exception(ConnectionError(reason))
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    async def _call_charger(self, call: Call) -> None:
        try:
            answer = await self._post(call)
        except CallbackRefused as exc:
            self.svc.metrics.inc("ocppkit_bridge_soap_callbacks_refused_total", reason=exc.reason)
            event(
                self.svc.log,
                logging.WARNING,
                "soap_callback_refused",
                cp=self.cp_id,
                action=call.action,
                reason=exc.reason,
                address=self.address or "",
            )
            answer = self._failed(call)
        except OcppkitError as exc:  # the call itself cannot be lowered to 1.5
            answer = CallError(
                call.message_id,
                ErrorCode.INTERNAL_ERROR.wire(V16),
                f"1.5 charger call failed: {exc}"[:255],
            )
        except CallbackFailed as exc:
            event(
                self.svc.log,
                logging.WARNING,
                "soap_call_failed",
                cp=self.cp_id,
                action=call.action,
                error=exc.detail,
            )
            answer = self._failed(call)
        await self.feed(answer)

    @staticmethod
    def _failed(call: Call) -> CallError:
        # One text for every network outcome: nothing about the target leaks.
        return call_error(call.message_id, ErrorCode.INTERNAL_ERROR, V16, CALLBACK_FAILED)

    async def _post(self, call: Call) -> Frame:
        if not self.address:
            raise CallbackRefused("no_address")
        why = callback_refusal(
            self.address, self.source, callback_rules(self.svc.cfg.soap_callback_allow)
        )
        if why is not None:
            raise CallbackRefused(why)
        lowered = lower(call.action, Kind.REQUEST, call.payload)  # TranslationError: NotSupported
        self.noted(lowered.notes)
        envelope = build_request(
            Role.CHARGE_POINT,
            call.action,
            lowered.payload,
            charge_box_identity=self.cp_id,
            to=self.address,
            message_id=message_id_for(call.message_id),
        )
        self.journal(Direction.CSMS_TO_CS, envelope, call.action)
        try:
            return await self._exchange(call, envelope)
        except (OcppkitError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            # Past this point every failure tells of the target: logged, not told.
            raise CallbackFailed(str(exc) or type(exc).__name__) from exc

    async def _exchange(self, call: Call, envelope: bytes) -> Frame:
        assert self.address is not None
        timeout = aiohttp.ClientTimeout(total=self.svc.cfg.call_timeout)
        async with self.svc.http.post(
            self.address,
            data=envelope,
            timeout=timeout,
            allow_redirects=False,
            headers={"Content-Type": f'{CONTENT_TYPE}; action="/{call.action}"'},
        ) as resp:
            if 300 <= resp.status < 400:
                raise CallbackRefused("redirect")
            body = await read_limited(resp.content, resp.content_length, body_limit(self.svc))
        self.journal(Direction.CS_TO_CSMS, body, call.action)
        msg = parse_response(
            body, Role.CHARGE_POINT, SoapSettings.for_validation(self.svc.cfg.validation)
        )
        if isinstance(msg, SoapFault):
            code = FAULT_TO_ERROR.get(msg.code, ErrorCode.INTERNAL_ERROR)
            return call_error(call.message_id, code, V16, msg.reason)
        lifted = lift(call.action, Kind.RESPONSE, msg.payload)
        self.noted(lifted.notes)
        return CallResult(call.message_id, lifted.payload)


class CallbackFailed(Exception):
    """The callback was made and failed (refused, reset, timed out, not SOAP)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CallbackRefused(Exception):
    """A callback the policy forbids or an answer the bridge will not read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def body_limit(svc: Services) -> int:
    """The largest SOAP body read, either way: the bridge's message limit."""
    return svc.cfg.max_frame_bytes * 4


async def read_limited(stream: aiohttp.StreamReader, declared: int | None, limit: int) -> bytes:
    """Read a body of at most ``limit`` bytes, chunk by chunk, never more.

    Raises:
        CallbackRefused: ``answer_too_large`` as soon as the limit is passed.
    """
    if declared is not None and declared > limit:
        raise CallbackRefused("answer_too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise CallbackRefused("answer_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


async def serve_soap(bridge: SoapHost, request: web.Request) -> web.Response:
    """Handle one 1.5 request from a charger (``bridge`` is the running Bridge)."""
    assert bridge.svc is not None
    svc = bridge.svc
    media_type = request.content_type.lower()  # without parameters
    if media_type not in ACCEPTED_CONTENT_TYPES:
        # SOAP 1.2 Part 2 §7.1.4 / HTTP 415: OCPP 1.5 is SOAP 1.2 only.
        svc.metrics.inc("ocppkit_bridge_frame_errors_total", leg="downstream", code="soap")
        wrong = SoapError(
            f"Content-Type must be {CONTENT_TYPE.split(';')[0]}, not {media_type or 'none'}",
            "Sender",
            "ProtocolError",
        )
        return web.Response(
            status=415, body=fault_envelope(wrong), headers={"Content-Type": CONTENT_TYPE}
        )
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        wrong = SoapError(f"charset must be utf-8, not {charset}", "Sender", "ProtocolError")
        return web.Response(
            status=415, body=fault_envelope(wrong), headers={"Content-Type": CONTENT_TYPE}
        )
    body = await request.read()  # at most client_max_size, the same limit as callbacks
    try:
        msg = parse_request(
            body, Role.CENTRAL_SYSTEM, SoapSettings.for_validation(svc.cfg.validation)
        )
    except SoapError as exc:
        svc.metrics.inc("ocppkit_bridge_frame_errors_total", leg="downstream", code="soap")
        event(svc.log, logging.WARNING, "soap_request_refused", reason=exc.reason[:200])
        return fault_response(fault_for_exception(exc), exc)
    cp_id = msg.charge_box_identity or ""
    refused = await bridge.admit(cp_id, request)
    if refused is not None:
        return refused
    with bridge.claimed(cp_id):
        # lifted to 1.6J: the route of a 1.6J charger in front of its CSMS
        route = for_16(OcppVersion(svc.cfg.upstream_version_for(cp_id)))
        session = await bridge.claim(cp_id, route)
        if not await session.wait_upstream(svc.cfg.connect_timeout):
            return bridge.refuse_offline(session)
        link = session.downstream
        if not isinstance(link, SoapLink) or link.closed:
            link = SoapLink(
                cp_id,
                msg.addressing.from_address,
                svc,
                session.on_charger_frame,
                source=request.remote,
                on_idle=session.detach,
            )
            await session.attach(link)
        else:
            link.source = request.remote
            if msg.addressing.from_address:
                link.address = msg.addressing.from_address
        link.touch()
        link.journal(Direction.CS_TO_CSMS, body, msg.operation)
        for (
            repaired
        ) in msg.repairs:  # validation = lenient (soap15.repair); journal has the original
            svc.metrics.inc("ocppkit_bridge_translation_notes_total", kind="lossy")
            event(svc.log, logging.INFO, "soap_lenient_repair", cp=cp_id, action=msg.operation,
                  detail=repaired[:300])  # fmt: skip
        try:
            answer = await _through_session(session, link, msg)
            if msg.operation == "BootNotification" and isinstance(answer, CallResult):
                link.told_interval(answer.payload.get("interval", 0))
            out, error = _reply(msg, answer, link)
        except OcppkitError as exc:
            out, error = _fault(msg, exc if isinstance(exc, SoapError) else _receiver(str(exc)))
        except (ConnectionError, TimeoutError):
            out, error = _fault(msg, _receiver("no answer from the central system"))
        link.journal(Direction.CSMS_TO_CS, out, msg.operation)
        link.touch()
        if error is not None:
            return fault_response(out, error)
        return web.Response(body=out, headers={"Content-Type": CONTENT_TYPE})


def _receiver(reason: str) -> SoapError:
    return SoapError(reason, "Receiver", "InternalError")


def _fault(msg: SoapMessage, error: SoapError) -> tuple[bytes, SoapError]:
    return fault_envelope(error, relates_to=msg.addressing.message_id), error


def _reply(msg: SoapMessage, answer: Frame, link: SoapLink) -> tuple[bytes, SoapError | None]:
    """The 1.5 response envelope (or Fault) for the session's 1.6J answer."""
    if isinstance(answer, CallError):
        return _fault(msg, soap_error_for(answer))
    assert isinstance(answer, CallResult)
    lowered = lower(msg.operation, Kind.RESPONSE, answer.payload)
    link.noted(lowered.notes)
    own_id = new_message_id(link.svc.ctx)
    return build_response(msg, lowered.payload, message_id=own_id), None


async def _through_session(session: Session, link: SoapLink, msg: SoapMessage) -> Frame:
    """Lift the request, run it through the session, wait for its 1.6J answer."""
    lifted = lift(msg.operation, Kind.REQUEST, msg.payload)
    link.noted(lifted.notes)
    call = Call(link.svc.ctx.new_id(), msg.operation, lifted.payload)
    answer = link.exchange(call.message_id)
    try:
        await session.on_charger_frame(call)
        # The session's own timeout answers first; this one only guards the exchange.
        return await asyncio.wait_for(answer, session.svc.cfg.call_timeout * 2 + 1)
    finally:
        link.forget(call.message_id)
