"""The built-in OCPP 2.0.1 (or 2.1) CSMS: a strict reference peer on aiohttp.

Stations connect to ``ws://HOST:PORT/<any prefix>/<stationId>`` (the last
path segment is the id) offering the subprotocol ``ocpp2.0.1`` (``ocpp2.1``
with ``ocpp_version = 2.1``); a handshake without it is refused with HTTP 400
(2.0.1 Part 4 §3.1.2: the CSMS must not accept a connection whose subprotocol
it does not support). In 2.1 a SEND is checked and never answered, a
CALLRESULTERROR from the station is a finding, and a station's unusable
CALLRESULT is answered with a CALLRESULTERROR (2.1 Part 4 §4.2.5).

Every frame is parsed and validated strictly (official schemas, unknown
properties refused). The OCPP-J connection rules (one outstanding call per
direction, answers matched by id, which malformed frame gets which
CALLERROR, answers never answered) are the project's one sans-I/O endpoint,
:class:`ocppkit.translators.bridge.Endpoint`, held per connection. A
malformed frame is answered with the CALLERROR it names and the connection
stays open; answers to the station's CALLs
come from :class:`~ocppkit.toolkit.csms.handlers.Responder` and are validated before
they leave. Peer mistakes are counted in :attr:`Csms.violations` (0 for a
correct peer); every frame in and out is written to the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from ocppkit.toolkit.csms import checks
from ocppkit.toolkit.csms.auth import password_ok, rotate_password
from ocppkit.toolkit.csms.handlers import CsmsSettings, Responder
from ocppkit.toolkit.csms.records import StationInfo, TransactionSeen
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.bridge import (
    AnswerArrived,
    BadFrame,
    CallArrived,
    Endpoint,
    EndpointBusy,
    ResultErrorArrived,
    SendArrived,
    StrayFrame,
    refusal,
)
from ocppkit.translators.errors import ErrorCode, FrameError, OcppkitError
from ocppkit.translators.frames import (
    MAX_DEPTH,
    AnyFrame,
    Call,
    CallError,
    CallResult,
    call_result_error,
    depth_of,
    frame_to_list,
    serialize_frame,
)
from ocppkit.translators.journal import Direction, JournalRecord, format_timestamp
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator, load_slow_path
from ocppkit.translators.versions import OcppVersion

log = logging.getLogger(__name__)
V201 = OcppVersion.V201
SUBPROTOCOL = "ocpp2.0.1"  # the default version's


class CsmsError(OcppkitError):
    """A CSMS-initiated call could not complete (station gone or unknown)."""


class CallRejected(CsmsError):
    """The station answered a CSMS-initiated call with a CALLERROR."""

    def __init__(self, error: CallError) -> None:
        super().__init__(f"{error.error_code}: {error.error_description}")
        self.error = error


@dataclass(slots=True)
class _Connection:
    station_id: str
    ws: web.WebSocketResponse
    endpoint: Endpoint  # the OCPP-J rules of this connection
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    call_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # our calls, one at a time
    waiting: asyncio.Future[dict[str, Any]] | None = None  # the answer to our outstanding call
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class Csms:
    """A small OCPP 2.0.1 CSMS for tests and demos.

    Args:
        settings: behaviour (tokens, tariff, strictness).
        journal: where every frame is recorded; the caller closes it.
        now: the clock.
    """

    def __init__(
        self,
        settings: CsmsSettings | None = None,
        *,
        journal: JournalWriter | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings or CsmsSettings()
        self.journal = journal
        self.now = now
        self.responder = Responder(self.settings, now)
        self.validator = Validator()
        self.version = self.settings.ocpp_version
        self.subprotocol = self.version.subprotocol or SUBPROTOCOL
        self.violations = 0
        # 2.1 SENDs received: (station, action, payload); never answered
        self.sends: list[tuple[str, str, dict[str, Any]]] = []
        self.violation_log: list[str] = []
        self.internal_errors: list[str] = []
        self._connections: dict[str, _Connection] = {}
        self._runner: web.AppRunner | None = None
        self.host = ""
        self.port = 0
        # aiohttp closes the socket on frames above max_msg_size; keep its
        # limit well above ours so oversize frames get a CALLERROR instead.
        self._max_ws = self.settings.max_frame_bytes * 4 + 1024 * 1024

    # ---- introspection -------------------------------------------------
    @property
    def stations(self) -> dict[str, StationInfo]:
        return self.responder.stations

    @property
    def transactions(self) -> dict[str, TransactionSeen]:
        return self.responder.transactions

    def connected_stations(self) -> set[str]:
        return set(self._connections)

    @property
    def url(self) -> str:
        """The base URL stations append their id to."""
        return f"ws://{self.host}:{self.port}/ocpp"

    # ---- lifecycle -----------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free port, see :attr:`port`)."""
        # Load the slow path now: otherwise the first invalid payload pays for jsonschema's
        # import (1 s quiet, 4-6 s on a loaded machine) while that station waits.
        load_slow_path()
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host, self.port = self._runner.addresses[0][:2]

    async def stop(self) -> None:
        """Close every connection (1001 going away) and stop listening."""
        for conn in list(self._connections.values()):
            await conn.ws.close(code=1001, message=b"CSMS shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Csms:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- CSMS-initiated calls -----------------------------------------
    async def call(
        self, station_id: str, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL to a connected station and return its CALLRESULT payload.

        Raises:
            ValidationFailed: ``payload`` is not a valid request (not sent),
                or the station's answer violates the response schema.
            CallRejected: the station answered with a CALLERROR.
            CsmsError: the station is not connected, or disconnected.
            TimeoutError: no answer within ``timeout`` (default from settings).
        """
        conn = self._connections.get(station_id)
        if conn is None:
            raise CsmsError(f"station {station_id!r} is not connected")
        self.validator.validate(self.version, action, Kind.REQUEST, payload)
        call = Call(str(uuid.uuid4()), action, payload)
        async with conn.call_lock:  # OCPP-J: one outstanding CALL per direction
            try:
                conn.endpoint.send_call(call, self.now())
            except EndpointBusy:
                raise CsmsError(f"station {station_id!r} disconnected") from None
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            conn.waiting = future
            try:
                await self._send(conn, call)
                answer = await asyncio.wait_for(future, timeout or self.settings.call_timeout)
            except TimeoutError:
                # This CSMS gives up on the call (a late answer counts as a
                # violation); the next call may go.
                conn.endpoint.abandon()
                raise
            finally:
                conn.waiting = None
        rotate_password(self.settings.station_passwords, station_id, action, payload, answer)
        return answer

    # ---- connection handling -------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        station_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        offered = {p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")}
        if not station_id:
            return web.Response(status=404, text="no station id in the path")
        if self.subprotocol not in offered:
            return web.Response(status=400, text=f"subprotocol {self.subprotocol} required")
        if self.settings.station_passwords and not password_ok(
            request.headers.get("Authorization", ""), station_id, self.settings.station_passwords
        ):
            return web.Response(
                status=401,
                text="unknown station or wrong password",
                headers={"WWW-Authenticate": 'Basic realm="ocppkit csms"'},
            )
        ws = web.WebSocketResponse(protocols=(self.subprotocol,), max_msg_size=self._max_ws)
        await ws.prepare(request)
        old = self._connections.get(station_id)
        if old is not None:  # a reconnect replaces the stale socket
            await old.ws.close(code=1000, message=b"replaced by a new connection")
        endpoint = Endpoint(
            self.version,
            call_timeout=self.settings.call_timeout,
            max_bytes=self.settings.max_frame_bytes,
        )
        endpoint.open()
        conn = _Connection(station_id, ws, endpoint)
        self._connections[station_id] = conn
        station = self.responder.station(station_id)
        station.connected = True
        station.connects += 1
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    # OCPP-J is text only; without a readable id there is
                    # nobody to answer (Part 4 §4.1.2).
                    self._violation(station_id, "binary WebSocket message")
        finally:
            for task in conn.tasks:
                task.cancel()
            conn.endpoint.close()
            if conn.waiting is not None and not conn.waiting.done():
                conn.waiting.set_exception(CsmsError(f"station {station_id!r} disconnected"))
            if self._connections.get(station_id) is conn:
                del self._connections[station_id]
                station.connected = False
        return ws

    def _violation(self, station_id: str, text: str) -> None:
        self.violations += 1
        self.violation_log.append(f"{station_id}: {text}")
        log.info("violation by %s: %s", station_id, text)

    def _record(
        self, station_id: str, direction: Direction, message: Any, meta: dict[str, Any] | None
    ) -> None:
        if self.journal is None:
            return
        self.journal.write(
            JournalRecord(
                timestamp=format_timestamp(self.now()),
                charge_point_id=station_id,
                direction=direction,
                ocpp_version=self.version,
                message=message,
                meta=meta or {},
            )
        )

    async def _send(self, conn: _Connection, frame: AnyFrame) -> None:
        async with conn.send_lock:
            await conn.ws.send_str(serialize_frame(frame).decode())
        self._record(conn.station_id, Direction.CSMS_TO_CS, frame_to_list(frame), None)

    async def _on_text(self, conn: _Connection, text: str) -> None:
        event = conn.endpoint.receive(text, self.now())
        if isinstance(event, BadFrame):
            self._record_raw(conn.station_id, text, event.error.description)
            self._violation(conn.station_id, event.error.description)
            if event.reply is not None:
                await self._send(conn, event.reply)
            return
        if isinstance(event, StrayFrame):
            if event.error is not None:
                # A broken answer is never answered (2.0.1 has no
                # CALLRESULTERROR); the call waiting for it fails instead.
                self._record_raw(conn.station_id, text, event.error.description)
                self._violation(conn.station_id, event.error.description)
                held = conn.endpoint.outstanding
                if held is not None and held.call.message_id == event.error.message_id:
                    conn.endpoint.abandon()
                    if conn.waiting is not None and not conn.waiting.done():
                        conn.waiting.set_exception(event.error)
                return
            assert event.frame is not None
            self._record(conn.station_id, Direction.CS_TO_CSMS, frame_to_list(event.frame), None)
            self._violation(
                conn.station_id, f"answer to unknown message id {event.frame.message_id!r}"
            )
            return
        if isinstance(event, SendArrived):  # 2.1: checked, never answered
            self._record(conn.station_id, Direction.CS_TO_CSMS, frame_to_list(event.send), None)
            send = event.send
            if not self.validator.is_valid(self.version, send.action, Kind.REQUEST, send.payload):
                self._violation(conn.station_id, f"SEND {send.action} fails its schema")
            self.sends.append((conn.station_id, send.action, send.payload))
            return
        if isinstance(event, ResultErrorArrived):  # 2.1: the station could not use our answer
            self._record(conn.station_id, Direction.CS_TO_CSMS, frame_to_list(event.error), None)
            self.internal_errors.append(
                f"station refused our CALLRESULT {event.error.message_id}: "
                f"{event.error.error_code} {event.error.error_description}"
            )
            return
        if isinstance(event, CallArrived):
            self._record(conn.station_id, Direction.CS_TO_CSMS, frame_to_list(event.call), None)
            await self._on_call(conn, event.call)
        elif isinstance(event, AnswerArrived):
            self._record(conn.station_id, Direction.CS_TO_CSMS, frame_to_list(event.answer), None)
            self._on_answer(conn, event)

    def _record_raw(self, station_id: str, text: str, reason: str) -> Any:
        """Journal a frame that did not parse; return its JSON value when it has one."""
        meta: dict[str, Any] = {"error": reason}
        if len(text) > self.settings.max_frame_bytes:  # keep the journal small
            meta["truncated_from"] = len(text)
            self._record(station_id, Direction.CS_TO_CSMS, text[:1024], meta)
            return None
        decoded: Any = None
        with contextlib.suppress(orjson.JSONDecodeError):
            decoded = orjson.loads(text)
        shaped = isinstance(decoded, list) and 3 <= len(decoded) <= 5
        shaped = shaped and depth_of(decoded) <= MAX_DEPTH  # the journal must be able to write it
        message = decoded if shaped else (text or "(empty frame)")
        self._record(station_id, Direction.CS_TO_CSMS, message, meta)
        return decoded

    async def _on_call(self, conn: _Connection, call: Call) -> None:
        station = self.responder.station(conn.station_id)
        if conn.endpoint.owed > 1:  # this one, and an earlier one not yet answered
            # A protocol violation either way (2.0.1 Part 4 §4.1.1); strict
            # mode also refuses it, as strict CSMSs in the field do.
            station.concurrent_calls += 1
            self._violation(conn.station_id, f"{call.action} sent while a CALL was unanswered")
            if self.settings.strict_one_call:
                refused = CallError(
                    call.message_id,
                    ErrorCode.RPC_FRAMEWORK_ERROR.wire(self.version),
                    "a previous CALL is still unanswered (OCPP-J: one CALL at a time)",
                    {},
                )
                await self._reply(conn, refused)
                return
        if self.settings.answer_delay > 0:
            task = asyncio.create_task(self._answer(conn, call))
            conn.tasks.add(task)
            task.add_done_callback(conn.tasks.discard)
        else:
            await self._answer(conn, call)

    async def _reply(self, conn: _Connection, reply: CallResult | CallError) -> None:
        """Send our answer, only on the connection its call came on, once."""
        out = conn.endpoint.answer(reply, conn.endpoint.generation)
        if out is not None and not conn.ws.closed:
            await self._send(conn, out)

    async def _answer(self, conn: _Connection, call: Call) -> None:
        reply: CallResult | CallError
        try:
            self.validator.validate(
                self.version, call.action, Kind.REQUEST, call.payload, message_id=call.message_id
            )
            checks.check(
                call.payload,
                strict_tokens=self.settings.strict_tokens,
                message_id=call.message_id,
            )
            if self.settings.answer_delay > 0:
                await asyncio.sleep(self.settings.answer_delay)
            payload = self.responder.answer(conn.station_id, call.action, call.payload)
            if payload is None:
                raise FrameError(
                    ErrorCode.NOT_SUPPORTED,
                    f"{call.action} is not handled by this CSMS",
                    message_id=call.message_id,
                )
            try:
                self.validator.validate(self.version, call.action, Kind.RESPONSE, payload)
            except FrameError as exc:  # our own bug: never blame the station
                self.internal_errors.append(f"{call.action} response: {exc.description}")
                raise FrameError(ErrorCode.INTERNAL_ERROR, "internal error") from None
            reply = CallResult(call.message_id, payload)
        except FrameError as exc:
            if exc.code is not ErrorCode.NOT_SUPPORTED and exc.code is not ErrorCode.INTERNAL_ERROR:
                self._violation(conn.station_id, exc.description)
            reply = refusal(exc, call.message_id, self.version)
        except Exception:  # details may be sensitive: log them, send none
            log.exception("answering %s from %s", call.action, conn.station_id)
            self.internal_errors.append(f"{call.action}: exception")
            reply = CallError(call.message_id, ErrorCode.INTERNAL_ERROR.wire(self.version), "", {})
        await self._reply(conn, reply)

    def _on_answer(self, conn: _Connection, event: AnswerArrived) -> None:
        frame, action, future = event.answer, event.call.action, conn.waiting
        if future is None or future.done():  # timed out meanwhile
            return
        if isinstance(frame, CallError):
            future.set_exception(CallRejected(frame))
            return
        try:
            self.validator.validate(
                self.version, action, Kind.RESPONSE, frame.payload, message_id=frame.message_id
            )
            checks.check(frame.payload, strict_tokens=False, message_id=frame.message_id)
        except FrameError as exc:
            self._violation(conn.station_id, exc.description)
            if self.version.has_extended_frames:  # 2.1 Part 4 §4.2.5
                refused = call_result_error(frame.message_id, exc.code, exc.description)
                task = asyncio.create_task(self._send(conn, refused))
                conn.tasks.add(task)
                task.add_done_callback(conn.tasks.discard)
            future.set_exception(exc)
            return
        future.set_result(frame.payload)
