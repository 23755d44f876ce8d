"""The bridge process: one aiohttp application on one port.

Routes:

- ``GET /ocpp/{chargePointId}`` -- WebSocket. ``ocpp1.6`` is bridged to 2.0.1
  through a :class:`~ocppkit.toolkit.gateway.session.Session`; ``ocpp2.0.1`` is piped
  through unchanged; any other offer is refused as 2.0.1 Part 4 §3.1.2 says
  (handshake completed without a subprotocol, then closed).
- ``GET /healthz`` -- JSON liveness and counts.
- ``GET /metrics`` -- Prometheus text format.

Offline policy: **refuse, so the charger queues.** When the CSMS cannot be
reached, a connecting charger's handshake is refused (HTTP 503) and a
connected charger is disconnected after ``upstream_grace`` seconds (close
code 1013). The charger is then offline as far as it knows, and OCPP 1.6
chargers queue their transaction messages while offline and deliver them in
order when back (1.6 §4.7 / §3.5 "offline"), authorising from their local list
or cache meanwhile. The bridge never answers a charger's call on the CSMS's
behalf, so every acknowledgement the charger holds came from the CSMS. The
alternative, answering the charger and replaying upstream later with
``offline: true``, would make the bridge decide idTagInfo (whether a driver
may charge) without the CSMS, and give a StartTransaction.conf that the
CSMS may later contradict; a 1.6 charger cannot be told so afterwards. What
the bridge does keep is its own outbox: calls already translated are stored
and re-sent in order when the link returns, so nothing it accepted is lost.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import signal
import ssl
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import aiohttp
from aiohttp import web

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.gc_policy import settle_heap
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.toolkit.gateway.passthrough import serve_passthrough
from ocppkit.toolkit.gateway.routes import BY_UPSTREAM, FORWARD, Route
from ocppkit.toolkit.gateway.services import Services, Translator, real_context
from ocppkit.toolkit.gateway.session import Session
from ocppkit.toolkit.gateway.store import Store
from ocppkit.toolkit.gateway.upstream import client_ssl_context
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.context import Context
from ocppkit.translators.validation import load_slow_path
from ocppkit.translators.versions import OcppVersion

V16_PROTOCOL = OcppVersion.V16.subprotocol or "ocpp1.6"
V201_PROTOCOL = OcppVersion.V201.subprotocol or "ocpp2.0.1"
JANITOR_PERIOD = 1.0  # seconds between sweeps for sessions with nothing left to do


def _offered_protocols(request: web.Request) -> list[str]:
    header = request.headers.get("Sec-WebSocket-Protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


def _basic_auth(request: web.Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class Bridge:
    """A running bridge: the app, its sessions and shared services.

    Args:
        cfg: settings (already checked).
        translator: the session translator; default ``ocppkit.translators.j16_to_201.session``.
        log: structured logger.
        ctx: the clock and id source for everything the bridge stamps: the
            translator's minted times and ids, and the journal's record times.
            Default: the wall clock and random UUIDs. A simulation hands in its
            own clock so the bridge lives on the simulated timeline too.
    """

    def __init__(
        self,
        cfg: BridgeConfig,
        translator: Translator | ModuleType | None = None,
        log: logging.Logger | None = None,
        ctx: Context | None = None,
    ) -> None:
        if translator is None:
            from ocppkit.translators.j16_to_201 import session as translator_module

            translator = translator_module
        self.cfg = cfg
        self.translator = translator
        self.ctx = ctx or real_context()
        self.log = log or logging.getLogger("ocppkit.bridge")
        self.metrics = Metrics()
        self.sessions: dict[str, Session] = {}
        self._claims: dict[str, int] = {}  # connections being set up or served, per charger
        self._retiring: dict[str, asyncio.Task[None]] = {}
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._janitor: asyncio.Task[None] | None = None
        self.svc: Services | None = None
        self.stopping = False

    # -- startup / shutdown ---------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ocpp/{cp_id}", self._websocket)
        app.router.add_post("/ocpp/soap15", self._soap)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        """Open the store and journal, resume chargers with stored calls, listen."""
        cfg = self.cfg
        store = Store(cfg.state, sync=cfg.sync)
        journal = (
            JournalWriter(
                cfg.journal,
                max_bytes=cfg.journal_max_bytes,
                compress=cfg.journal_compress,
                # Records of one loop turn reach the file in one write.
                flush_soon=asyncio.get_running_loop().call_soon,
            )
            if cfg.journal
            else None
        )
        self.svc = Services(
            cfg=cfg,
            store=store,
            journal=journal,
            metrics=self.metrics,
            translator=self.translator,
            # limit=0: every charger holds one upstream WebSocket for good; aiohttp's
            # default pool of 100 would silently stall the 101st charger.
            http=aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)),
            ssl_context=client_ssl_context(cfg),
            ctx=self.ctx,
            log=self.log,
        )
        m = self.metrics
        m.gauge_from(
            "ocppkit_bridge_connected_chargers",
            lambda: sum(s.downstream is not None for s in self.sessions.values()),
        )
        m.gauge_from(
            "ocppkit_bridge_upstream_connected",
            lambda: sum(s.upstream.connected.is_set() for s in self.sessions.values()),
        )
        m.gauge_from(
            "ocppkit_bridge_outbox_depth",
            lambda: sum(len(s.core.outbox) for s in self.sessions.values()),
        )
        # Calls stored by an earlier process go out now, charger connected or not.
        for cp_id in store.chargers_with_outbox():
            self.session_for(cp_id)
            event(self.log, logging.INFO, "resuming_outbox", cp=cp_id)
        self._runner = web.AppRunner(
            self.app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, cfg.host, cfg.port, ssl_context=self._server_ssl())
        await self._site.start()
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else cfg.port
        self._janitor = asyncio.create_task(self._sweep())
        event(
            self.log,
            logging.INFO,
            "bridge_listening",
            host=cfg.host,
            port=self.port,
            upstream=cfg.upstream,
            state=cfg.state,
        )

    def _server_ssl(self) -> ssl.SSLContext | None:
        if not self.cfg.tls_cert:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cfg.tls_cert, self.cfg.tls_key)
        return ctx

    async def stop(self) -> None:
        """Graceful shutdown: stop listening, drain in-flight calls, close everything."""
        self.stopping = True
        event(self.log, logging.INFO, "bridge_draining", sessions=len(self.sessions))
        if self._janitor is not None:
            self._janitor.cancel()
        if self._site is not None:
            await self._site.stop()
        await asyncio.gather(
            *(s.drain(self.cfg.drain_timeout) for s in list(self.sessions.values())),
            return_exceptions=True,
        )
        self.sessions.clear()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.svc is not None:
            await self.svc.http.close()
            self.svc.store.close()
            if self.svc.journal is not None:
                self.svc.journal.close()
        event(self.log, logging.INFO, "bridge_stopped")

    # -- sessions -------------------------------------------------------------------

    def route_for(self, cp_id: str) -> Route:
        """The version pair this charger's session bridges (from its upstream version)."""
        return BY_UPSTREAM[OcppVersion(self.cfg.upstream_version_for(cp_id))]

    def session_for(self, cp_id: str, route: Route | None = None) -> Session:
        session = self.sessions.get(cp_id)
        if session is None:
            assert self.svc is not None
            route = route or self.route_for(cp_id)
            session = self.sessions[cp_id] = Session(cp_id, self.svc, route)
            session.start()
        return session

    async def claim(self, cp_id: str, route: Route | None = None) -> Session:
        """The session for a connecting charger, after any retiring one has finished."""
        retiring = self._retiring.get(cp_id)
        if retiring is not None:
            # Its last commit must land before a new session reads the state.
            await asyncio.shield(retiring)
        return self.session_for(cp_id, route)

    async def _sweep(self) -> None:
        """Retire sessions with no charger and nothing left to deliver."""
        while True:
            await asyncio.sleep(JANITOR_PERIOD)
            for cp_id, session in list(self.sessions.items()):
                if session.idle and not self._claims.get(cp_id):
                    del self.sessions[cp_id]
                    self._retiring[cp_id] = task = asyncio.create_task(session.stop())
                    try:
                        await task
                    finally:
                        del self._retiring[cp_id]

    # -- handlers -------------------------------------------------------------------

    def refuse(self, reason: str, cp_id: str, status: int, **headers: str) -> web.Response:
        self.metrics.inc("ocppkit_bridge_refused_total", reason=reason)
        event(self.log, logging.WARNING, "charger_refused", cp=cp_id, reason=reason)
        return web.Response(status=status, headers=headers, text=reason + "\n")

    def _authorised(self, cp_id: str, request: web.Request) -> bool:
        """1.6 security profile 1: Basic auth, the user must be the charger id."""
        expected = self.cfg.charger_passwords.get(cp_id)
        if not self.cfg.charger_passwords:
            return True
        given = _basic_auth(request)
        if expected is None or given is None or given[0] != cp_id:
            return False
        return hmac.compare_digest(given[1].encode(), expected.encode())

    def admission(self, cp_id: str, request: web.Request) -> web.Response | None:
        """The refusal for a charger that may not connect now, or None."""
        if self.stopping:
            return self.refuse("shutting_down", cp_id, 503, **{"Retry-After": "5"})
        if not cp_id or (self.cfg.allow and cp_id not in self.cfg.allow):
            return self.refuse("not_allowed", cp_id, 404)
        if not self._authorised(cp_id, request):
            return self.refuse("unauthorised", cp_id, 401, **{"WWW-Authenticate": "Basic"})
        return None

    @contextlib.contextmanager
    def claimed(self, cp_id: str) -> Iterator[None]:
        """While inside, the charger's session is not retired."""
        self._claims[cp_id] = self._claims.get(cp_id, 0) + 1
        try:
            yield
        finally:
            self._claims[cp_id] -= 1
            if not self._claims[cp_id]:
                del self._claims[cp_id]

    async def _soap(self, request: web.Request) -> web.StreamResponse:
        from ocppkit.toolkit.gateway.soap import serve_soap

        return await serve_soap(self, request)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        cp_id = request.match_info["cp_id"]
        refused = self.admission(cp_id, request)
        if refused is not None:
            return refused
        offered = _offered_protocols(request)
        assert self.svc is not None
        route = self.route_for(cp_id)
        same = route.csms_version.subprotocol or ""
        bridged = route.charger_version.subprotocol or ""
        # A charger speaking the CSMS's version is piped through; one offering
        # both 1.6 and 2.0.1 in front of a 2.0.1 CSMS is bridged, as always.
        if same in offered and not (route is FORWARD and bridged in offered):
            return await serve_passthrough(self.svc, cp_id, request, route.csms_version)
        if bridged not in offered:
            # 2.0.1 Part 4 §3.1.2: complete the handshake without a
            # Sec-WebSocket-Protocol header, then close at once.
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            self.metrics.inc("ocppkit_bridge_refused_total", reason="subprotocol")
            event(
                self.log,
                logging.WARNING,
                "charger_refused",
                cp=cp_id,
                reason="subprotocol",
                offered=",".join(offered),
            )
            await ws.close(code=1002, message=b"unsupported subprotocol")
            return ws
        return await self._bridge(cp_id, request, route)

    async def _bridge(self, cp_id: str, request: web.Request, route: Route) -> web.StreamResponse:
        with self.claimed(cp_id):
            session = await self.claim(cp_id, route)
            if not await session.wait_upstream(self.cfg.connect_timeout):
                return self.refuse("upstream_unreachable", cp_id, 503, **{"Retry-After": "10"})
            ws = web.WebSocketResponse(
                protocols=(route.charger_version.subprotocol or V16_PROTOCOL,),
                heartbeat=self.cfg.ping_interval or None,
                max_msg_size=self.cfg.max_frame_bytes * 4,
                # No permessage-deflate (RFC 7692 lets a server decline it): a zlib
                # context pair costs some 300 KiB per charger, more than all the rest.
                compress=False,
            )
            await ws.prepare(request)
            event(self.log, logging.INFO, "charger_connected", cp=cp_id, peer=request.remote or "")
            await session.serve(ws)
            event(self.log, logging.INFO, "charger_disconnected", cp=cp_id, code=ws.close_code)
            return ws

    async def _healthz(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = {
            "status": "draining" if self.stopping else "ok",
            "chargers": self.metrics.value("ocppkit_bridge_connected_chargers"),
            "upstream_connected": self.metrics.value("ocppkit_bridge_upstream_connected"),
            "outbox": self.metrics.value("ocppkit_bridge_outbox_depth"),
        }
        return web.json_response(body, status=503 if self.stopping else 200)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.render().encode(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )


async def run_bridge(
    cfg: BridgeConfig, stop: asyncio.Event | None = None, *, own_process: bool = False
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set), then shut down gracefully.

    ``own_process``: the bridge is this process's only job, so it may set the
    process-wide garbage-collector policy (:mod:`ocppkit.toolkit.gateway.gc_policy`).
    """
    bridge = Bridge(cfg)
    await bridge.start()
    if own_process:
        # The slow validation path is loaded now, not on the first invalid
        # frame, and becomes part of the heap frozen next.
        load_slow_path()
        metrics = bridge.metrics
        settle_heap(
            lambda seconds, generation: metrics.observe(
                "ocppkit_bridge_gc_pause_seconds", seconds, generation=str(generation)
            )
        )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await bridge.stop()
