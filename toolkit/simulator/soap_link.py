"""OCPP 1.5 over SOAP 1.2: a charger's calls as HTTP POSTs, the CSMS's calls to a callback.

1.5 is request/response over HTTP in both directions (OCPP 1.5 §3, SOAP binding): the
charger POSTs to the Central System service, and announces in ``wsa:From`` where its own
Charge Point service listens, which the CSMS calls back. The simulated chargers speak 1.6
internally; this module lowers each payload to 1.5 on the way out and lifts the answers
(and the CSMS's requests) back up with :mod:`ocppkit.translators.soap15`. A 1.6 payload is validated
strictly before it is lowered, and the SOAP codec validates every body against the 1.5 XSD,
so an invalid envelope is never sent.

"Connected" has no meaning for HTTP: :class:`SoapLink` is online unless the charger has
dropped off the network (planned drop, reboot), during which its callback answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import aiohttp
from aiohttp import web

from ocppkit.toolkit.simulator.link import CallRejected, CallTimeout, Handler, Link, LinkDown
from ocppkit.translators.errors import FrameError, SoapError, TranslationError
from ocppkit.translators.frames import Call, CallError
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15 import (
    CENTRAL_SYSTEM,
    Role,
    SoapFault,
    build_request,
    build_response,
    fault_envelope,
    lift,
    lower,
    message_id_for,
    parse_request,
    parse_response,
)
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

SOAP_CONTENT_TYPE = "application/soap+xml"


def soap_url_for(csms_url: str) -> str:
    """The bridge's SOAP endpoint next to its WebSocket one: ``ws://h:p/ocpp`` ->
    ``http://h:p/ocpp/soap15``."""
    base = csms_url.rstrip("/")
    if base.startswith("ws"):
        base = "http" + base[2:]
    return base + "/soap15"


class CallbackServer:
    """The Charge Point service of every simulated 1.5 charger: one server, a path each."""

    def __init__(self) -> None:
        self.links: dict[str, SoapLink] = {}
        self.base = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/cp/{cp}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}/cp"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def address(self, charge_point_id: str) -> str:
        return f"{self.base}/{charge_point_id}"

    async def _post(self, request: web.Request) -> web.StreamResponse:
        link = self.links.get(request.match_info["cp"])
        if link is None or not link.online:
            return web.Response(status=503)  # off the network
        body = await request.read()
        try:
            msg = parse_request(body, Role.CHARGE_POINT)
            lifted = lift(msg.operation, Kind.REQUEST, msg.payload).payload
            answer = await link.serve(msg.operation, lifted)
            out = build_response(msg, lower(msg.operation, Kind.RESPONSE, answer).payload)
        except (SoapError, TranslationError, FrameError) as exc:
            link.stats.csms_violations += isinstance(exc, SoapError)
            error = exc if isinstance(exc, SoapError) else SoapError(str(exc), "Receiver")
            # SOAP 1.2 HTTP binding (Part 2 §7.5.1): Sender faults are 400, others 500.
            status = 400 if error.fault_code == "Sender" else 500
            return web.Response(
                body=fault_envelope(error), status=status, content_type=SOAP_CONTENT_TYPE
            )
        response = web.Response(body=out, content_type=SOAP_CONTENT_TYPE, charset="utf-8")
        await response.prepare(request)
        await response.write_eof()
        # Work the command asked for goes out after its answer, as on a WebSocket.
        if link.after_answer is not None:
            link.after_answer()
        return response


class SoapLink(Link):
    """A 1.5 charger's side of SOAP; the same interface as the WebSocket :class:`Link`.

    Args:
        session: the aiohttp session.
        url: the Central System service endpoint.
        charge_point_id: the chargeBoxIdentity header.
        validator: strict; 1.6 payloads are checked before they are lowered to 1.5.
        handler: answers the CSMS's calls (1.6 payloads).
        callback: the fleet's callback server.
        timeout: seconds to wait for an HTTP answer.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        charge_point_id: str,
        validator: Validator,
        handler: Handler,
        callback: CallbackServer,
        *,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(session, url, OcppVersion.V16, validator, handler, timeout=timeout)
        self.charge_point_id = charge_point_id
        self.callback = callback
        callback.links[charge_point_id] = self
        self._online = False
        self._busy = asyncio.Lock()  # one outstanding request per charger, as on a WebSocket
        self._serial = itertools.count(1)

    @property
    def online(self) -> bool:
        return self._online

    async def connect(self) -> None:
        self._online = True
        self.stats.connects += 1

    async def close(self) -> None:
        self._online = False

    async def call(self, call: Call) -> dict[str, Any]:
        if not self._online:
            raise LinkDown("offline")
        async with self._busy:
            return await self._post(call)

    async def _post(self, call: Call) -> dict[str, Any]:
        try:
            payload = lower(call.action, Kind.REQUEST, call.payload).payload
            action = CENTRAL_SYSTEM.operation(call.action).action
        except (TranslationError, KeyError) as exc:
            raise CallRejected(CallError(call.message_id, "NotSupported", str(exc))) from None
        body = build_request(
            Role.CENTRAL_SYSTEM,
            call.action,
            payload,
            charge_box_identity=self.charge_point_id,
            to=self.url,
            # Globally unique, and the same on a resend of the same call.
            message_id=message_id_for(f"{self.charge_point_id}-{call.message_id}"),
            from_address=self.callback.address(self.charge_point_id),
        )
        headers = {"Content-Type": f'{SOAP_CONTENT_TYPE}; charset=utf-8; action="{action}"'}
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with self.session.post(self.url, data=body, headers=headers,
                                         timeout=timeout) as resp:  # fmt: skip
                text = await resp.read()
                self.stats.sent[call.action] = self.stats.sent.get(call.action, 0) + 1
        except TimeoutError:
            raise CallTimeout(f"{call.action} {call.message_id}: no answer") from None
        except (aiohttp.ClientError, OSError) as exc:
            self._online = False
            if self.on_lost is not None:
                self.on_lost()
            raise LinkDown(repr(exc)) from None
        if self.record_latency:
            self.stats.latencies.append(loop.time() - sent_at)
        return self._answer_of(call, text)

    def _answer_of(self, call: Call, text: bytes) -> dict[str, Any]:
        try:
            msg = parse_response(text, Role.CENTRAL_SYSTEM)
        except SoapError as exc:
            self.stats.csms_violations += 1
            raise CallRejected(CallError(call.message_id, "FormatViolation", str(exc))) from None
        if isinstance(msg, SoapFault):
            code = msg.subcode or msg.code
            raise CallRejected(CallError(call.message_id, code, msg.reason[:255]))
        try:
            answer = lift(call.action, Kind.RESPONSE, msg.payload).payload
        except TranslationError as exc:
            self.stats.csms_violations += 1
            raise CallRejected(CallError(call.message_id, "FormatViolation", str(exc))) from None
        if not self.validator.is_valid(OcppVersion.V16, call.action, Kind.RESPONSE, answer):
            self.stats.csms_violations += 1
        return answer

    async def serve(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer a CSMS request (lifted to 1.6); raises FrameError to refuse it."""
        try:
            self.validator.validate(OcppVersion.V16, action, Kind.REQUEST, payload)
        except FrameError:
            self.stats.csms_violations += 1
            raise
        answer = await self.handler(action, payload)
        try:
            self.validator.validate(OcppVersion.V16, action, Kind.RESPONSE, answer)
        except FrameError as exc:
            self.stats.bugs.append(f"invalid {action} answer: {exc.description}")
            raise
        self.stats.answered[action] = self.stats.answered.get(action, 0) + 1
        return answer


@contextlib.asynccontextmanager
async def callback_server() -> Any:
    """A started :class:`CallbackServer`, stopped on exit."""
    server = CallbackServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
