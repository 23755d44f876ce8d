"""One OCPP-J WebSocket link to the CSMS per charger, kept open.

The bridge is the charging station as far as the CSMS knows: it connects to
``{upstream}/{chargePointId}`` with subprotocol ``ocpp2.0.1`` (2.0.1 Part 4
§3.1; ``ocpp1.6`` for the reverse bridge) using the security profile the
settings give: Basic auth with the station id as user (profile 1, also 2),
server verification against a CA bundle (profile 2), a client certificate
(profile 3). A dropped link is
reconnected with jittered exponential backoff; WebSocket pings detect dead
links (``ping_interval``, 2.0.1 Part 4 §5.2 ``WebSocketPingInterval``).
A link that opens and drops again within ``backoff_max`` seconds counts as
a failed attempt, so the backoff keeps growing: a CSMS that accepts the
handshake and closes at once (CitrineOS did, 1011, after its message broker
lost a channel) is not hit several times a second for as long as it lasts.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import aiohttp

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.toolkit.gateway.refusals import refused_for_good
from ocppkit.toolkit.gateway.teardown import forget_traceback
from ocppkit.translators.versions import OcppVersion

SUBPROTOCOL = OcppVersion.V201.subprotocol or "ocpp2.0.1"
# One jitter source for every link: a Random holds 2.5 KB of Mersenne
# Twister state, too much to keep per charger for a few draws per reconnect.
_JITTER = random.Random()


def backoff_delay(attempt: int, low: float, high: float, rng: random.Random) -> float:
    """Delay before reconnect attempt ``attempt`` (0-based), "equal jitter".

    Half the exponential step is fixed, half random: a restarted CSMS is not
    hit by every station at the same instant, yet no station retries at once.
    """
    step = min(high, low * float(2 ** min(attempt, 30)))
    return step / 2 + rng.uniform(0, step / 2)


def client_ssl_context(cfg: BridgeConfig) -> ssl.SSLContext | None:
    """The TLS context for a ``wss://`` upstream (security profiles 2 and 3)."""
    if not cfg.upstream.startswith("wss://"):
        return None
    ctx = ssl.create_default_context(cafile=cfg.upstream_ca or None)
    if cfg.upstream_cert:
        ctx.load_cert_chain(cfg.upstream_cert, cfg.upstream_key)
    return ctx


def auth_headers(cfg: BridgeConfig, charge_point_id: str) -> dict[str, str]:
    """Basic auth as the station (2.0.1 A00 security profiles 1 and 2): the user is the id."""
    password = cfg.upstream_password_for(charge_point_id)
    if not password:
        return {}
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def upstream_url(base: str, charge_point_id: str) -> str:
    return f"{base.rstrip('/')}/{quote(charge_point_id, safe='')}"


class Flag:
    """:class:`asyncio.Event`'s ``set``/``clear``/``is_set``/``wait``, with the
    event made only while someone waits: an idle ``asyncio.Event`` holds a
    deque of about 900 bytes, and every charger has one of these (#21)."""

    __slots__ = ("_event", "_set")

    def __init__(self) -> None:
        self._set = False
        self._event: asyncio.Event | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        if self._event is not None:
            self._event.set()  # wakes the waiters, which hold it
            self._event = None

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        if self._event is None:
            self._event = asyncio.Event()
        return await self._event.wait()


async def _no_frame(_: str) -> None:
    """A detached link's frame callback (the session has ended)."""


def _no_change(_: bool) -> None:
    """A detached link's state callback."""


class Upstream:
    """The link to the CSMS for one charger.

    Args:
        charge_point_id: the station identity used in the URL and Basic auth.
        cfg: bridge settings.
        http: the bridge's shared aiohttp client session.
        on_frame: awaited with each text message, in order.
        on_change: called with True when the link opens, False when it drops.
        metrics: where reconnects are counted.
        log: where events go.
    """

    def __init__(
        self,
        charge_point_id: str,
        cfg: BridgeConfig,
        http: aiohttp.ClientSession,
        ssl_context: ssl.SSLContext | None,
        on_frame: Callable[[str], Awaitable[None]],
        on_change: Callable[[bool], None],
        metrics: Metrics,
        log: logging.Logger,
        *,
        subprotocol: str = SUBPROTOCOL,
    ) -> None:
        self.charge_point_id = charge_point_id
        self.subprotocol = subprotocol or SUBPROTOCOL
        self.cfg = cfg
        self.http = http
        self.ssl_context = ssl_context
        self.on_frame = on_frame
        self.on_change = on_change
        self.metrics = metrics
        self.log = log
        self.connected = Flag()
        self.generation = 0  # counts connections: answers are only sent on the one they belong to
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stopping = False
        # The backoff sleep under way, which stop() cuts short (a future only
        # while sleeping: an idle asyncio.Event costs ~900 bytes per charger).
        self._nap: asyncio.Future[None] | None = None
        self._rng = _JITTER
        self.refused_status: int | None = None  # the CSMS's last handshake refusal (refusals.py)

    async def send(self, text: str) -> None:
        """Send one frame.

        Raises:
            ConnectionError: the link is down (the caller keeps the frame).
        """
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionError("upstream link is down")
        try:
            await ws.send_str(text)
        except (aiohttp.ClientError, RuntimeError) as exc:
            raise ConnectionError(str(exc)) from exc

    async def recycle(self) -> None:
        """Close the current link (its call slot is hopeless); :meth:`run` reconnects."""
        ws = self._ws
        if ws is not None and not ws.closed:
            event(self.log, logging.WARNING, "upstream_recycled", cp=self.charge_point_id)
            await ws.close(code=1001, message=b"call unanswered; reconnecting")

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        ws = await self.http.ws_connect(
            upstream_url(self.cfg.upstream, self.charge_point_id),
            protocols=(self.subprotocol,),
            headers=auth_headers(self.cfg, self.charge_point_id),
            ssl=self.ssl_context if self.ssl_context is not None else True,
            heartbeat=self.cfg.ping_interval or None,
            timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            max_msg_size=self.cfg.max_frame_bytes * 4,
        )
        if ws.protocol != self.subprotocol:
            # 2.0.1 Part 4 §3.1.2: a server that does not agree answers
            # without the header; nothing but the agreed version may be spoken.
            await ws.close()
            raise ConnectionError(f"CSMS did not accept subprotocol {self.subprotocol}")
        return ws

    async def run(self) -> None:
        """Connect, read, reconnect -- until :meth:`stop`."""
        attempt = 0
        while not self._stopping:
            self.metrics.inc("ocppkit_bridge_upstream_reconnects_total")
            try:
                ws = await asyncio.wait_for(self._connect(), self.cfg.connect_timeout * 2)
            except (aiohttp.ClientError, OSError, TimeoutError, ConnectionError) as exc:
                self.refused_status = getattr(exc, "status", None)
                attempt = max(attempt, 64) if refused_for_good(self.refused_status) else attempt
                delay = backoff_delay(
                    attempt, self.cfg.backoff_min, self.cfg.backoff_max, self._rng
                )
                event(
                    self.log,
                    logging.WARNING,
                    "upstream_connect_failed",
                    cp=self.charge_point_id,
                    error=str(exc) or type(exc).__name__,
                    retry_in=round(delay, 2),
                )
                attempt += 1
                await self._sleep(delay)
                continue
            up_at = asyncio.get_running_loop().time()
            self.refused_status = None
            self.generation += 1
            self._ws = ws
            self.connected.set()
            event(self.log, logging.INFO, "upstream_up", cp=self.charge_point_id)
            self.on_change(True)
            try:
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        try:
                            await self.on_frame(msg.data)
                        except Exception:  # a bug of ours must not drop the link
                            self.log.exception(
                                "upstream_frame_failed",
                                extra={"fields": {"cp": self.charge_point_id}},
                            )
                    elif msg.type == aiohttp.WSMsgType.BINARY:
                        # OCPP-J frames are text (2.0.1 Part 4 §4.1.1).
                        event(self.log, logging.WARNING, "upstream_binary_frame_ignored")
                    # One frame per link per loop turn: a CSMS flooding one
                    # charger's link does not starve the others (session.py).
                    await asyncio.sleep(0)
            finally:
                self._ws = None
                self.connected.clear()
                self.on_change(False)
                if not ws.closed:
                    await ws.close()
                forget_traceback(ws.exception())  # freed at once once dropped (teardown.py)
            if not self._stopping:
                if asyncio.get_running_loop().time() - up_at >= self.cfg.backoff_max:
                    attempt = 0  # the link held: a drop after it is a fresh start
                delay = backoff_delay(
                    attempt, self.cfg.backoff_min, self.cfg.backoff_max, self._rng
                )
                attempt += 1
                event(
                    self.log,
                    logging.WARNING,
                    "upstream_down",
                    cp=self.charge_point_id,
                    code=ws.close_code,
                    retry_in=round(delay, 3),
                )
                await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or until :meth:`stop`."""
        if self._stopping:
            return
        loop = asyncio.get_running_loop()
        self._nap = nap = loop.create_future()
        alarm = loop.call_later(seconds, _wake, nap)
        try:
            await nap
        finally:
            alarm.cancel()
            self._nap = None

    def detach(self) -> None:
        """Forget the session's callbacks (it has ended): the link no longer
        keeps the session alive, nor the session the link (teardown.py)."""
        self.on_frame = _no_frame
        self.on_change = _no_change

    async def stop(self) -> None:
        """Close the link and stop reconnecting."""
        self._stopping = True
        if self._nap is not None:
            _wake(self._nap)
        ws = self._ws
        if ws is not None and not ws.closed:
            await ws.close()


def _wake(nap: asyncio.Future[None]) -> None:
    if not nap.done():
        nap.set_result(None)
