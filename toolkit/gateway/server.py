"""The bridge process: one aiohttp application on one port.

Routes:

- ``GET /ocpp/{chargePointId}`` -- WebSocket. ``ocpp1.6`` is bridged to 2.0.1
  through a :class:`~ocppkit.toolkit.gateway.session.Session`; ``ocpp2.0.1`` is piped
  through unchanged; any other offer is refused as 2.0.1 Part 4 §3.1.2 says
  (handshake completed without a subprotocol, then closed).
- ``GET /healthz/live`` -- liveness for a load balancer or orchestrator: 200
  while the process serves requests at all (draining too).
- ``GET /healthz/ready`` -- readiness: 200 while this instance takes chargers
  (not draining, and the state database answers and commits), else 503 with
  the reason; a load balancer sends new connections elsewhere meanwhile.
- ``GET /healthz`` -- JSON health and counts: ``status`` is ``ok``,
  ``degraded`` (traffic flows, something is wrong: the journal is not being
  written, some chargers' CSMS link is down, or dead letters wait for an
  operator's ``ocppkit bridge dead-letters --ack``; HTTP 200), ``unhealthy``
  (commits to the state database fail, so nothing is acknowledged; HTTP 503)
  or ``draining`` (shutting down; HTTP 503); ``problems`` names each cause.
- ``GET /metrics`` -- Prometheus text format.

Before a charger is served: its id must be an OCPP-J identity
(:mod:`~ocppkit.toolkit.gateway.identity`), the connection must finish its
headers and handshake in time and its source may hold only so many
connections not yet admitted (:mod:`~ocppkit.toolkit.gateway.guard`), and,
with ``tls_client_ca``, a client certificate must name it
(:mod:`~ocppkit.toolkit.gateway.tls`).

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
import resource
import signal
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import aiohttp
from aiohttp import web

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.credentials import Credentials
from ocppkit.toolkit.gateway.gc_policy import settle_heap
from ocppkit.toolkit.gateway.guard import ConnectionGuard
from ocppkit.toolkit.gateway.identity import identity_problem
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.toolkit.gateway.passthrough import serve_passthrough
from ocppkit.toolkit.gateway.refusals import refusal_for
from ocppkit.toolkit.gateway.routes import BY_UPSTREAM, Route, pick
from ocppkit.toolkit.gateway.services import Services, Translator, real_context
from ocppkit.toolkit.gateway.session import Session
from ocppkit.toolkit.gateway.state import Claimed, StateStore, open_store
from ocppkit.toolkit.gateway.teardown import forget_traceback
from ocppkit.toolkit.gateway.tls import (
    CrlWatch,
    certificate_problem,
    has_certificate,
    server_ssl_context,
)
from ocppkit.toolkit.gateway.upstream import client_ssl_context
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.context import Context
from ocppkit.translators.validation import load_slow_path
from ocppkit.translators.versions import OcppVersion

V16_PROTOCOL = OcppVersion.V16.subprotocol or "ocpp1.6"
V201_PROTOCOL = OcppVersion.V201.subprotocol or "ocpp2.0.1"
JANITOR_PERIOD = 1.0  # seconds between sweeps for sessions with nothing left to do
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


def _soap_stack() -> ModuleType:
    """The 1.5 SOAP shell, imported on first use (see :meth:`Bridge._soap`)."""
    from ocppkit.toolkit.gateway import soap

    return soap


class Bridge:
    """A running bridge: the app, its sessions and shared services.

    Args:
        cfg: settings (already checked).
        translator: the session translator; default
            ``ocppkit.translators.charger16_csms201.session``.
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
        *,
        recover: bool = False,
    ) -> None:
        if translator is None:
            from ocppkit.translators.charger16_csms201 import session as translator_module

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
        self.recover = recover
        self.guard = ConnectionGuard(cfg, self.metrics)
        self.credentials: Credentials | None = None
        self._crl: CrlWatch | None = None
        self._opening: dict[str, asyncio.Task[Session | None]] = {}
        self._leases: asyncio.Task[None] | None = None

    @property
    def store(self) -> StateStore:
        assert self.svc is not None
        return self.svc.store

    # -- startup / shutdown ---------------------------------------------------------

    def app(self) -> web.Application:
        # The same body limit both ways: requests here, callback answers in soap.py.
        app = web.Application(
            client_max_size=self.cfg.max_frame_bytes * 4, middlewares=[self._guarded]
        )
        app.router.add_get("/ocpp/{cp_id}", self._websocket)
        app.router.add_post("/ocpp/soap15", self._soap)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/healthz/live", self._live)
        app.router.add_get("/healthz/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        """Open the store and journal, resume chargers with stored calls, listen."""
        cfg = self.cfg
        store = await open_store(
            cfg.state,
            sync=cfg.sync,
            recover=self.recover,
            owner=cfg.instance,
            lease_seconds=cfg.lease_seconds,
        )
        if store.recovered_from is not None:
            event(
                self.log,
                logging.WARNING,
                "state_recovered_fresh",
                state=cfg.state,
                damaged=str(store.recovered_from),
            )
        journal = (
            JournalWriter(
                cfg.journal,
                max_bytes=cfg.journal_max_bytes,
                compress=cfg.journal_compress,
                # Records of one loop turn reach the file in one write.
                flush_soon=asyncio.get_running_loop().call_soon,
                on_trouble=self._journal_trouble,
            )
            if cfg.journal
            else None
        )
        self.credentials = Credentials(
            cfg, store, self.metrics, self.log, stored=await store.passwords()
        )
        self.svc = Services(
            # Passwords the CSMS rotated are presented upstream (credentials.py).
            cfg=replace(cfg, upstream_passwords=self.credentials.upstream_passwords()),
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
            credentials=self.credentials,
            lease_lost=self._lease_lost,
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
        m.gauge_from(
            "ocppkit_bridge_journal_dropped_total",
            lambda: journal.dropped if journal is not None else 0,
        )
        m.gauge_from(
            "ocppkit_bridge_journal_writable",
            lambda: float(journal is None or journal.healthy),
        )
        m.gauge_from("ocppkit_bridge_store_writable", lambda: float(store.error is None))
        m.gauge_from("ocppkit_bridge_owned_chargers", lambda: float(store.owned()))
        m.gauge_from("ocppkit_bridge_fencing_rejections_total", lambda: store.fencing_rejections)
        # Calls stored by an earlier process go out now, charger connected or
        # not (with several instances: those no live instance owns).
        await self._adopt_orphans()
        self._runner = web.AppRunner(
            self.app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        tls = server_ssl_context(cfg)
        self._crl = CrlWatch(tls, cfg.tls_client_crl) if cfg.tls_client_crl else None
        self._site = GuardedSite(self._runner, self.guard, cfg.host, cfg.port, ssl_context=tls)
        await self._site.start()
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else cfg.port
        self._janitor = asyncio.create_task(self._sweep())
        self._leases = asyncio.create_task(self._keep_leases())
        event(
            self.log,
            logging.INFO,
            "bridge_listening",
            host=cfg.host,
            port=self.port,
            upstream=cfg.upstream,
            state=_shown(cfg.state),
            instance=store.owner,
        )

    def _journal_trouble(self, error: OSError | None, dropped: int) -> None:
        """The journal writer's reports: at most one a minute while it fails."""
        if error is None:
            event(self.log, logging.WARNING, "journal_resumed", dropped=dropped)
        else:
            event(
                self.log, logging.ERROR, "journal_write_failed", error=str(error), dropped=dropped
            )

    async def stop(self) -> None:
        """Graceful shutdown: stop listening, drain in-flight calls, close everything."""
        self.stopping = True
        event(self.log, logging.INFO, "bridge_draining", sessions=len(self.sessions))
        for task in (self._janitor, self._leases):
            if task is not None:
                task.cancel()
        if self._site is not None:
            await self._site.stop()
        store = self.svc.store if self.svc is not None else None

        def releaser(cp_id: str) -> Callable[[], Awaitable[None]] | None:
            return None if store is None else lambda: store.release([cp_id])

        await asyncio.gather(
            *(s.drain(self.cfg.drain_timeout, releaser(s.cp_id)) for s in self.sessions.values()),
            return_exceptions=True,
        )
        self.sessions.clear()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.svc is not None:
            await self.svc.http.close()
            # Closing finishes queued writes, then releases every lease held:
            # another instance takes these chargers at once, not after expiry.
            await self.svc.store.aclose()
            if self.svc.journal is not None:
                self.svc.journal.close()
        event(self.log, logging.INFO, "bridge_stopped")

    # -- sessions -------------------------------------------------------------------

    def route_for(self, cp_id: str) -> Route:
        """The version pair this charger's session bridges (from its upstream version)."""
        return BY_UPSTREAM[OcppVersion(self.cfg.upstream_version_for(cp_id))]

    async def open_session(
        self, cp_id: str, route: Route | None = None, *, steal: bool = True
    ) -> Session | None:
        """The charger's session, its lease taken first (see
        :mod:`ocppkit.toolkit.gateway.state`); None: another instance holds
        it live and ``steal`` is false. One claim at a time per charger."""
        session = self.sessions.get(cp_id)
        if session is not None:
            return session
        pending = self._opening.get(cp_id)
        if pending is None:
            pending = self._opening[cp_id] = asyncio.create_task(
                self._new_session(cp_id, route, steal)
            )
            pending.add_done_callback(lambda _: self._opening.pop(cp_id, None))
        return await asyncio.shield(pending)

    async def _new_session(self, cp_id: str, route: Route | None, steal: bool) -> Session | None:
        assert self.svc is not None
        claimed: Claimed | None = await self.svc.store.claim(cp_id, steal=steal)
        if claimed is None:
            return None
        if claimed.previous in ("live", "expired"):
            self.metrics.inc("ocppkit_bridge_lease_takeovers_total", previous=claimed.previous)
            event(self.log, logging.INFO, "lease_taken_over", cp=cp_id, previous=claimed.previous,
                  outbox=len(claimed.outbox))  # fmt: skip
        session = self.sessions[cp_id] = Session(
            cp_id, self.svc, route or self.route_for(cp_id), claimed
        )
        session.start()
        return session

    async def claim(self, cp_id: str, route: Route | None = None) -> Session:
        """The session for a connecting charger, after any retiring one has finished.

        The charger connected here, so its lease is taken even from a live
        instance (the newest connection wins, as within one process).
        """
        retiring = self._retiring.get(cp_id)
        if retiring is not None:
            # Its last commit must land before a new session reads the state.
            await asyncio.shield(retiring)
        session = await self.open_session(cp_id, route, steal=True)
        assert session is not None
        return session

    def _lease_lost(self, cp_id: str) -> None:
        """Another instance drives this charger now: end its session here."""
        session = self.sessions.pop(cp_id, None)
        if session is None:
            return
        event(self.log, logging.WARNING, "lease_lost", cp=cp_id)
        task = asyncio.create_task(session.stop())
        self._retiring[cp_id] = task
        task.add_done_callback(lambda _: self._retiring.pop(cp_id, None))

    async def _adopt_orphans(self) -> None:
        """Sessions for chargers with stored calls that no live instance owns."""
        assert self.svc is not None
        for cp_id in await self.svc.store.orphans():
            if cp_id in self.sessions or cp_id in self._retiring:
                continue
            if await self.open_session(cp_id, steal=False) is not None:
                event(self.log, logging.INFO, "resuming_outbox", cp=cp_id)

    async def _keep_leases(self) -> None:
        """Renew the leases held; end sessions whose lease was taken; adopt orphans."""
        assert self.svc is not None
        store = self.svc.store
        period = self.cfg.lease_seconds / 3
        while True:
            await asyncio.sleep(period)
            try:
                for cp_id in await store.renew():
                    self._lease_lost(cp_id)
                await self._adopt_orphans()
            except Exception as exc:  # the database away: readiness says so; retry
                event(self.log, logging.ERROR, "lease_renewal_failed", error=str(exc))

    async def _sweep(self) -> None:
        """Retire sessions with no charger and nothing left to deliver."""
        while True:
            await asyncio.sleep(JANITOR_PERIOD)
            if self._crl is not None and self._crl.check():
                event(self.log, logging.INFO, "crl_reloaded", path=self.cfg.tls_client_crl)
            for cp_id, session in list(self.sessions.items()):
                if session.idle and not self._claims.get(cp_id):
                    del self.sessions[cp_id]
                    self._retiring[cp_id] = task = asyncio.create_task(self._retire(session))
                    try:
                        await task
                    finally:
                        self._retiring.pop(cp_id, None)

    async def _retire(self, session: Session) -> None:
        await session.stop()
        assert self.svc is not None
        if session.cp_id not in self.sessions:  # no new session claimed it meanwhile
            with contextlib.suppress(Exception):  # an unreleased lease just expires
                await self.svc.store.release([session.cp_id])

    # -- handlers -------------------------------------------------------------------

    def refuse(
        self, reason: str, cp_id: str, status: int, detail: str = "", **headers: str
    ) -> web.Response:
        self.metrics.inc("ocppkit_bridge_refused_total", reason=reason)
        fields = {"detail": detail} if detail else {}
        # The id is the peer's text: the log escapes it, and it is cut short.
        event(self.log, logging.WARNING, "charger_refused", cp=cp_id[:64], reason=reason, **fields)
        return web.Response(status=status, headers=headers, text=reason + "\n")

    def refuse_offline(self, session: Session) -> web.Response:
        """The charger's CSMS link is not up: unreachable, or refused (refusals.py)."""
        why = refusal_for(session.upstream.refused_status)
        retry = {"Retry-After": str(why.retry_after)}
        return self.refuse(why.reason, session.cp_id, why.status, **retry)

    @web.middleware
    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Tell the connection guard where each request stands."""
        self.guard.request_started(request.transport)
        try:
            return await handler(request)
        finally:
            self.guard.request_finished(request.transport)

    def _authorised(self, cp_id: str, request: web.Request) -> bool:
        """1.6 security profile 1: Basic auth, the user must be the charger id.

        The passwords are the configured ones, or the ones the CSMS rotated
        (:mod:`~ocppkit.toolkit.gateway.credentials`).
        """
        assert self.credentials is not None
        if not self.credentials.requires_password(cp_id):
            return True
        accepted = self.credentials.downstream(cp_id)
        given = _basic_auth(request)
        if not accepted or given is None or given[0] != cp_id:
            return False
        for password in accepted:
            if hmac.compare_digest(given[1].encode(), password.encode()):
                self.credentials.confirmed(cp_id, password)
                return True
        return False

    async def admit(self, cp_id: str, request: web.Request) -> web.Response | None:
        """The refusal for a charger that may not connect now, or None, checked
        against the keys the store holds now (another instance may have
        rotated them: :meth:`Credentials.refresh`)."""
        if self.credentials is not None and not self.stopping:
            await self.credentials.refresh(cp_id)
        return self.admission(cp_id, request)

    def admission(self, cp_id: str, request: web.Request) -> web.Response | None:
        """The refusal for a charger that may not connect now, or None."""
        if self.stopping:
            return self.refuse("shutting_down", cp_id, 503, **{"Retry-After": "5"})
        raw = request.match_info.get("cp_id") and request.raw_path.rsplit("/", 1)[-1]
        bad_id = identity_problem(
            cp_id, raw.split("?", 1)[0] if raw else None, max_length=self.cfg.charger_id_max_length
        )
        if bad_id is not None:
            return self.refuse("bad_identity", cp_id, 400, detail=bad_id)
        if self.cfg.allow and cp_id not in self.cfg.allow:
            return self.refuse("not_allowed", cp_id, 404)
        transport = request.transport
        peercert = transport.get_extra_info("peercert") if transport is not None else None
        bad_certificate = certificate_problem(self.cfg, cp_id, peercert)
        if bad_certificate is not None:
            return self.refuse(bad_certificate, cp_id, 403)
        # Profile 3: a verified certificate naming the charger is its authentication.
        if not has_certificate(self.cfg, peercert) and not self._authorised(cp_id, request):
            return self.refuse("unauthorised", cp_id, 401, **{"WWW-Authenticate": "Basic"})
        self.guard.admitted(transport)
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
        # The 1.5 SOAP stack (zeep, xmlschema, lxml and the OCPP 1.5 schemas)
        # is about 22 MiB resident: a bridge loads it when its first 1.5
        # charger calls, in a worker thread so the chargers already connected
        # are not held up (#21: 10,000 1.6J chargers in 512 MiB).
        soap = sys.modules.get("ocppkit.toolkit.gateway.soap")
        if soap is None:
            soap = await asyncio.to_thread(_soap_stack)
        return await soap.serve_soap(self, request)  # type: ignore[no-any-return]

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        cp_id = request.match_info["cp_id"]
        refused = await self.admit(cp_id, request)
        if refused is not None:
            return refused
        offered = _offered_protocols(request)
        assert self.svc is not None
        upstream = OcppVersion(self.cfg.upstream_version_for(cp_id))
        # A charger speaking the CSMS's version is piped through; one offering
        # both 1.6 and 2.0.1 in front of a 2.0.1 CSMS is bridged, as always.
        picked = pick(upstream, offered)
        if picked is None:
            return await serve_passthrough(self.svc, cp_id, request, upstream)
        route = picked
        bridged = route.charger_version.subprotocol or ""
        if bridged not in offered:
            # OCPP-J 1.6 §3.1.2 ("MUST complete the WebSocket handshake with a
            # response without a Sec-WebSocket-Protocol header and then
            # immediately close"), the same in 2.0.1 Part 4 §3.1.2. That holds
            # for a request offering no subprotocol at all, too. (OCTT TC_088
            # expects the handshake refused instead: ``unknown_subprotocol =
            # "refuse"``; the specification is the default.)
            self.metrics.inc("ocppkit_bridge_refused_total", reason="subprotocol")
            event(
                self.log,
                logging.WARNING,
                "charger_refused",
                cp=cp_id,
                reason="subprotocol",
                offered=",".join(offered),
            )
            if self.cfg.unknown_subprotocol == "refuse":
                return web.Response(status=400, text=f"subprotocol {bridged} required")
            ws = web.WebSocketResponse(compress=False)
            await ws.prepare(request)
            await ws.close(code=1002, message=b"unsupported subprotocol")
            return ws
        return await self._bridge(cp_id, request, route)

    async def _bridge(self, cp_id: str, request: web.Request, route: Route) -> web.StreamResponse:
        with self.claimed(cp_id):
            session = await self.claim(cp_id, route)
            if not await session.wait_upstream(self.cfg.connect_timeout):
                return self.refuse_offline(session)
            ws = web.WebSocketResponse(
                protocols=(route.charger_version.subprotocol or V16_PROTOCOL,),
                heartbeat=self.cfg.ping_interval or None,
                max_msg_size=self.cfg.max_frame_bytes * 4,
                compress=self.cfg.ws_compression,
            )
            await ws.prepare(request)
            event(self.log, logging.INFO, "charger_connected", cp=cp_id, peer=request.remote or "")
            await session.serve(ws)
            event(self.log, logging.INFO, "charger_disconnected", cp=cp_id, code=ws.close_code)
            forget_traceback(ws.exception())  # a closed link is freed at once (teardown.py)
            return ws

    def health(self, dead_letters: int = 0) -> tuple[str, list[str]]:
        """``status`` and ``problems`` as ``/healthz`` reports them.

        ``dead_letters``: how many are not acknowledged (read from the store).
        """
        problems: list[str] = []
        if self.svc is not None:
            if self.svc.store.error is not None:
                problems.append("store_commit_failed")
            if dead_letters:
                problems.append("dead_letters")
            journal = self.svc.journal
            if journal is not None and not journal.healthy:
                problems.append("journal_unwritable")
        if any(not s.upstream.connected.is_set() for s in self.sessions.values()):
            problems.append("upstream_unreachable")
        if self.stopping:
            return "draining", problems
        if "store_commit_failed" in problems:
            return "unhealthy", problems
        return ("degraded" if problems else "ok"), problems

    async def _healthz(self, request: web.Request) -> web.Response:
        dead: int | None = None
        if self.svc is not None:
            try:  # off the loop: the read waits while the writer holds the connection
                dead = await self.svc.store.unacknowledged_dead_letters()
            except Exception:  # a store that cannot be read is logged, not raised
                self.log.exception("dead_letters_unreadable")
        status, problems = self.health(dead or 0)
        journal = self.svc.journal if self.svc is not None else None
        body: dict[str, Any] = {
            "status": status,
            "problems": problems,
            "chargers": self.metrics.value("ocppkit_bridge_connected_chargers"),
            "upstream_connected": self.metrics.value("ocppkit_bridge_upstream_connected"),
            "upstream_down": sum(not s.upstream.connected.is_set() for s in self.sessions.values()),
            "outbox": self.metrics.value("ocppkit_bridge_outbox_depth"),
            "journal_dropped": journal.dropped if journal is not None else 0,
            "store_error": self.svc.store.error if self.svc is not None else None,
            "dead_letters": dead,
        }
        return web.json_response(body, status=503 if status in ("draining", "unhealthy") else 200)

    async def _live(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "live"})

    async def _ready(self, request: web.Request) -> web.Response:
        """Whether a load balancer should send new chargers here."""
        problem: str | None = "draining" if self.stopping else None
        if problem is None and self.svc is not None:
            problem = await self.svc.store.check()
        if problem is None and self.svc is None:
            problem = "starting"
        body = {"status": "ready" if problem is None else "not_ready", "problem": problem}
        return web.json_response(body, status=200 if problem is None else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.render().encode(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site with every connection's protocol wrapped by the guard."""

    def __init__(
        self,
        runner: web.AppRunner,
        guard: ConnectionGuard,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(runner, host, port, ssl_context=ssl_context)
        self._guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._guard.wrap(server),
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )


def raise_descriptor_limit() -> tuple[int, int]:
    """Raise this process's open-file limit (RLIMIT_NOFILE) to its hard limit.

    Every charger holds two sockets (its own and its CSMS link); the common
    soft default of 1024 would cap a bridge at some 500 chargers, and junk
    connections reach it sooner. Returns the (old, new) soft limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft, soft
    return soft, max(soft, target)


async def run_bridge(
    cfg: BridgeConfig,
    stop: asyncio.Event | None = None,
    *,
    own_process: bool = False,
    recover: bool = False,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set), then shut down gracefully.

    ``own_process``: the bridge is this process's only job, so it may set the
    process-wide garbage-collector policy (:mod:`ocppkit.toolkit.gateway.gc_policy`)
    and raise the descriptor limit (:func:`raise_descriptor_limit`).
    ``recover``: start on a damaged SQLite state database (see
    :class:`~ocppkit.toolkit.gateway.state.sqlite.SqliteStore`).
    """
    bridge = Bridge(cfg, recover=recover)
    if own_process:
        before, after = raise_descriptor_limit()
        event(bridge.log, logging.INFO, "descriptor_limit", before=before, now=after)
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


def _shown(state: str) -> str:
    """The state URL for a log line: a PostgreSQL password is not shown."""
    head, sep, rest = state.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return state
    who, _, where = rest.partition("@")
    return f"{head}://{who.split(':', 1)[0]}@{where}"
