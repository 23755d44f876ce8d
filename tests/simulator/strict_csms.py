"""A small strict CSMS for the simulator's end-to-end tests (1.6J and 2.0.1 on one port).

Every frame a charger sends is parsed and validated against the official schema (strict:
unknown properties too); violations are recorded and answered with the CALLERROR the spec
names. It keeps what a CSMS would bill: 1.6 transactions by the id it assigned (a retried
StartTransaction with the same fields gets the same id back), 2.0.1 transactions by the
station's id with each seqNo counted once. Faults can be injected: close the connection
instead of answering the first call of an action, as when an answer is lost.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientSession, WSMsgType, web

from ocppkit.translators.errors import FrameError, SoapError, TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult, parse_frame, serialize_frame
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15 import (
    Role,
    SoapFault,
    build_request,
    build_response,
    fault_envelope,
    lift,
    lower,
    parse_request,
    parse_response,
)
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion


@dataclass
class Transaction:
    charge_point_id: str
    transaction_id: int | str
    id_tag: str | None = None
    meter_start: int | None = None
    meter_stop: int | None = None
    stop_reason: str | None = None
    stopped_at: str | None = None
    stops: int = 0  # distinct stops: StopTransaction (a resent one is not counted) / Ended
    seq_nos: list[int] = field(default_factory=list)  # 2.0.1, first receipt of each
    meter_values: int = 0
    offline_events: int = 0  # 2.0.1 events flagged offline: true


@dataclass
class Station:
    version: OcppVersion
    ws: web.WebSocketResponse
    pending: dict[str, tuple[str, asyncio.Future[Any]]] = field(default_factory=dict)


class StrictCsms:
    """Run with ``async with StrictCsms() as csms:``; chargers connect to ``csms.url``.

    Args:
        lose_answer_once: actions whose first CALL is received and recorded, then the
            connection is closed without an answer (the charger must resend it).
        ignore_once: actions whose first CALL is recorded and never answered, the
            connection staying open (the charger must time out, reconnect and resend).
        remote_start: on a 1.6 Preparing / 2.0.1 CablePluggedIn, start the transaction
            from the CSMS (RemoteStartTransaction / RequestStartTransaction, tag REMOTE01).
    """

    def __init__(self, *, lose_answer_once: frozenset[str] = frozenset(),
                 ignore_once: frozenset[str] = frozenset(), remote_start: bool = False,
                 port: int = 0) -> None:  # fmt: skip
        self.validator = Validator(ValidationMode.STRICT)
        self.lose_answer_once = set(lose_answer_once)
        self.ignore_once = set(ignore_once)
        self.port = port
        self.remote_start = remote_start
        self.violations: list[str] = []
        self.transactions: dict[tuple[str, int | str], Transaction] = {}
        self.received: list[tuple[str, str]] = []  # (charger, action), retries included
        self.answers: list[tuple[str, str, Any]] = []  # charger, action, answer of CSMS calls
        self.stations: dict[str, Station] = {}
        self.connections = 0
        self._starts: dict[tuple[Any, ...], int] = {}
        self._ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.url = ""
        self.soap_addresses: dict[str, str] = {}  # 1.5 charger -> its wsa:From
        self._http: ClientSession | None = None

    async def __aenter__(self) -> StrictCsms:
        app = web.Application()
        app.router.add_get("/ocpp/{cp}", self._ws)
        app.router.add_post("/ocpp/soap15", self._soap)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/ocpp"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.close()
        await self._runner.cleanup()

    async def drop_all(self) -> None:
        """Close every charger's WebSocket (a CSMS restart, a load balancer timeout)."""
        for station in list(self.stations.values()):
            await station.ws.close()

    async def call(self, cp: str, action: str, payload: dict[str, Any]) -> Any:
        """Send a CSMS call to a connected charger and return its answer (frame)."""
        station = self.stations[cp]
        self.validator.validate(station.version, action, Kind.REQUEST, payload)
        message_id = f"csms-{next(self._call_ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        station.pending[message_id] = (action, future)
        await station.ws.send_str(serialize_frame(Call(message_id, action, payload)).decode())
        return await asyncio.wait_for(future, 5)

    async def _soap(self, request: web.Request) -> web.Response:
        """OCPP 1.5: strict XSD check (the codec), lifted to 1.6 and answered like 1.6."""
        try:
            msg = parse_request(await request.read(), Role.CENTRAL_SYSTEM)
            cp = msg.charge_box_identity or "?"
            payload = lift(msg.operation, Kind.REQUEST, msg.payload).payload
            self.validator.validate(OcppVersion.V16, msg.operation, Kind.REQUEST, payload)
        except (SoapError, FrameError, TranslationError) as exc:
            self.violations.append(f"SOAP: {exc}")
            error = exc if isinstance(exc, SoapError) else SoapError(str(exc))
            return web.Response(body=fault_envelope(error), status=400)
        if msg.addressing.from_address:
            self.soap_addresses[cp] = msg.addressing.from_address
        self.received.append((cp, msg.operation))
        answer = self._answer(cp, OcppVersion.V16, Call("soap", msg.operation, payload))
        self.validator.validate(OcppVersion.V16, msg.operation, Kind.RESPONSE, answer)
        lowered = lower(msg.operation, Kind.RESPONSE, answer).payload
        return web.Response(body=build_response(msg, lowered), content_type="application/soap+xml")

    async def call_soap(self, cp: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Call a 1.5 charger's Charge Point service at its wsa:From; the 1.6 form back."""
        self._http = self._http or ClientSession()
        to = self.soap_addresses[cp]
        body = build_request(Role.CHARGE_POINT, action,
                             lower(action, Kind.REQUEST, payload).payload,
                             charge_box_identity=cp, to=to,
                             message_id=f"urn:ocppkit:csms-{next(self._call_ids)}")  # fmt: skip
        async with self._http.post(to, data=body) as resp:
            answer = parse_response(await resp.read(), Role.CHARGE_POINT)
        assert not isinstance(answer, SoapFault), answer
        lifted = lift(action, Kind.RESPONSE, answer.payload).payload
        self.validator.validate(OcppVersion.V16, action, Kind.RESPONSE, lifted)
        self.answers.append((cp, action, lifted))
        return lifted

    def _spawn(self, make: Callable[[], Any]) -> None:
        task = asyncio.create_task(make())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("ocpp2.0.1", "ocpp1.6"))
        await ws.prepare(request)
        cp = request.match_info["cp"]
        version = OcppVersion.parse(ws.ws_protocol or "")
        station = self.stations[cp] = Station(version, ws)
        self.connections += 1
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            if not await self._frame(cp, station, msg.data):
                await ws.close()
                break
        return ws

    async def _frame(self, cp: str, station: Station, text: str) -> bool:
        version = station.version
        try:
            frame = parse_frame(text, version)
            if isinstance(frame, Call):
                self.validator.validate(version, frame.action, Kind.REQUEST, frame.payload,
                                        message_id=frame.message_id)  # fmt: skip
        except FrameError as exc:
            self.violations.append(f"{cp}: {exc.description}")
            if exc.message_id:
                error = CallError(exc.message_id, exc.code.wire(version), exc.description[:255])
                await station.ws.send_str(serialize_frame(error).decode())
            return True
        if not isinstance(frame, Call):
            action, future = station.pending.pop(frame.message_id)
            if isinstance(frame, CallResult):
                if not self.validator.is_valid(version, action, Kind.RESPONSE, frame.payload):
                    self.violations.append(f"{cp}: invalid {action} answer {frame.payload}")
                self.answers.append((cp, action, frame.payload))
            future.set_result(frame)
            return True
        self.received.append((cp, frame.action))
        answer = self._answer(cp, version, frame)
        if frame.action in self.lose_answer_once:
            self.lose_answer_once.discard(frame.action)
            return False  # recorded, never answered: the connection goes down
        if frame.action in self.ignore_once:
            self.ignore_once.discard(frame.action)
            return True  # recorded, never answered, connection kept: the charger times out
        self.validator.validate(version, frame.action, Kind.RESPONSE, answer)
        await station.ws.send_str(serialize_frame(CallResult(frame.message_id, answer)).decode())
        return True

    def _answer(self, cp: str, version: OcppVersion, call: Call) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        p, action = call.payload, call.action
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": now, "interval": 300}
        if action == "Heartbeat":
            return {"currentTime": now}
        if version is OcppVersion.V16:
            return self._answer16(cp, action, p)
        return self._answer201(cp, action, p)

    def _answer16(self, cp: str, action: str, p: dict[str, Any]) -> dict[str, Any]:
        accepted = {"idTagInfo": {"status": "Accepted"}}
        if action == "Authorize":
            return accepted
        if action == "StartTransaction":
            key = (cp, p["connectorId"], p["idTag"], p["timestamp"], p["meterStart"])
            if key not in self._starts:  # a retry of the same start gets the same id
                self._starts[key] = tx = next(self._ids)
                self.transactions[(cp, tx)] = Transaction(cp, tx, p["idTag"], p["meterStart"])
            return {"transactionId": self._starts[key], **accepted}
        if action == "MeterValues" and "transactionId" in p:
            self.transactions[(cp, p["transactionId"])].meter_values += 1
        if action == "StatusNotification" and p["status"] == "Preparing" and self.remote_start:
            self._spawn(
                lambda: self.call(
                    cp,
                    "RemoteStartTransaction",
                    {"connectorId": p["connectorId"], "idTag": "REMOTE01"},
                )
            )
        if action == "StopTransaction":
            t = self.transactions[(cp, p["transactionId"])]
            stop = (p["meterStop"], p["timestamp"], p.get("reason"))
            if stop != (t.meter_stop, t.stopped_at, t.stop_reason):  # a resend is no new stop
                t.meter_stop, t.stopped_at, t.stop_reason = stop
                t.stops += 1
        return {}

    def _answer201(self, cp: str, action: str, p: dict[str, Any]) -> dict[str, Any]:
        if action == "Authorize":
            return {"idTokenInfo": {"status": "Accepted"}}
        if action != "TransactionEvent":
            return {}
        tx_id = p["transactionInfo"]["transactionId"]
        t = self.transactions.setdefault((cp, tx_id), Transaction(cp, tx_id))
        if p["seqNo"] in t.seq_nos:
            return {}  # a resent event: acknowledged again, counted once
        t.seq_nos.append(p["seqNo"])
        t.offline_events += bool(p.get("offline"))
        if "idToken" in p:
            t.id_tag = t.id_tag or p["idToken"]["idToken"]
        for mv in p.get("meterValue", []):
            t.meter_values += 1
            for sv in mv["sampledValue"]:
                if sv.get("measurand") == "Energy.Active.Import.Register":
                    if sv.get("context") == "Transaction.Begin":
                        t.meter_start = sv["value"]
                    elif sv.get("context") == "Transaction.End":
                        t.meter_stop = sv["value"]
        if p["eventType"] == "Started" and self.remote_start:
            evse = p["evse"]["id"]
            self._spawn(lambda: self.call(cp, "RequestStartTransaction", {
                "evseId": evse, "remoteStartId": 7, "idToken": {"idToken": "REMOTE01",
                                                                "type": "Central"}}))  # fmt: skip
        if p["eventType"] == "Ended":
            t.stop_reason, t.stops = p["transactionInfo"].get("stoppedReason"), t.stops + 1
        return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in p else {}
