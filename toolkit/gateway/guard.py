"""The listener's defence against connections that never finish arriving.

aiohttp waits for request headers as long as a peer cares to trickle them,
so a few hundred silent sockets (slowloris) can hold every descriptor the
process has and starve real chargers and ``/healthz``. The guard wraps each
accepted connection's protocol and enforces, per connection:

- ``header_timeout``: complete request headers within this many seconds of
  the connection opening, or of the previous request ending (an idle
  keep-alive connection is a connection waiting for headers);
- ``handshake_timeout``: once the headers are in, the connection must be
  admitted (an authorised WebSocket or SOAP charger) or its request answered
  within this many seconds (a trickled SOAP body counts against it);
- ``max_unauthenticated_per_source``: a source address may hold at most this
  many connections that are not admitted; more are closed on arrival.

An admitted connection is left alone: from then on WebSocket pings and the
charger's own traffic decide whether it lives. Every close the guard makes
is counted in ``ocppkit_bridge_connections_closed_total`` by reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.metrics import Metrics

AWAITING_HEADERS, IN_REQUEST, ADMITTED = "awaiting_headers", "in_request", "admitted"


class _Watched:
    """One connection as the guard sees it."""

    __slots__ = ("source", "stage", "timer", "transport")

    def __init__(self, transport: asyncio.BaseTransport, source: str) -> None:
        self.transport = transport
        self.source = source
        self.stage = AWAITING_HEADERS
        self.timer: asyncio.TimerHandle | None = None


class ConnectionGuard:
    """Timeouts and a per-source cap for connections not yet admitted.

    Args:
        cfg: the bridge settings (the three limits).
        metrics: where closes are counted.
    """

    def __init__(self, cfg: BridgeConfig, metrics: Metrics) -> None:
        self.cfg = cfg
        self.metrics = metrics
        self._watched: dict[asyncio.BaseTransport, _Watched] = {}
        self._unadmitted: dict[str, int] = {}  # per source address

    def unadmitted(self, source: str) -> int:
        return self._unadmitted.get(source, 0)

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for ``loop.create_server`` around aiohttp's."""
        return lambda: _Guarded(self, factory())

    # -- the connection's life -------------------------------------------------------

    def opened(self, transport: asyncio.BaseTransport) -> bool:
        """A connection arrived; False when it must be closed at once."""
        peer = transport.get_extra_info("peername")
        source = str(peer[0]) if peer else ""
        if self._unadmitted.get(source, 0) >= self.cfg.max_unauthenticated_per_source:
            self.metrics.inc("ocppkit_bridge_connections_closed_total", reason="per_source_cap")
            return False
        self._unadmitted[source] = self._unadmitted.get(source, 0) + 1
        watched = self._watched[transport] = _Watched(transport, source)
        self._arm(watched, self.cfg.header_timeout, "header_timeout")
        return True

    def closed(self, transport: asyncio.BaseTransport) -> None:
        watched = self._watched.pop(transport, None)
        if watched is None:
            return
        self._disarm(watched)
        if watched.stage != ADMITTED:
            self._release(watched.source)

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        watched = self._watched.get(transport) if transport is not None else None
        if watched is None or watched.stage == ADMITTED:
            return
        watched.stage = IN_REQUEST
        self._arm(watched, self.cfg.handshake_timeout, "handshake_timeout")

    def request_finished(self, transport: asyncio.BaseTransport | None) -> None:
        watched = self._watched.get(transport) if transport is not None else None
        if watched is None or watched.stage == ADMITTED:
            return
        watched.stage = AWAITING_HEADERS
        self._arm(watched, self.cfg.header_timeout, "header_timeout")

    def admitted(self, transport: asyncio.BaseTransport | None) -> None:
        """The connection belongs to an authorised charger: no limits from now on."""
        watched = self._watched.get(transport) if transport is not None else None
        if watched is None or watched.stage == ADMITTED:
            return
        watched.stage = ADMITTED
        self._disarm(watched)
        self._release(watched.source)

    # -- timers ----------------------------------------------------------------------

    def _arm(self, watched: _Watched, seconds: float, reason: str) -> None:
        self._disarm(watched)
        loop = asyncio.get_running_loop()
        watched.timer = loop.call_later(seconds, self._expired, watched, reason)

    @staticmethod
    def _disarm(watched: _Watched) -> None:
        if watched.timer is not None:
            watched.timer.cancel()
            watched.timer = None

    def _expired(self, watched: _Watched, reason: str) -> None:
        watched.timer = None
        if watched.stage == ADMITTED or watched.transport.is_closing():
            return
        self.metrics.inc("ocppkit_bridge_connections_closed_total", reason=reason)
        _abort(watched.transport)

    def _release(self, source: str) -> None:
        left = self._unadmitted.get(source, 0) - 1
        if left > 0:
            self._unadmitted[source] = left
        else:
            self._unadmitted.pop(source, None)


def _abort(transport: asyncio.BaseTransport) -> None:
    """Close at once, unsent data and all (a stream transport can; others close)."""
    if isinstance(transport, asyncio.WriteTransport):
        transport.abort()
    else:
        transport.close()


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the guard told of its life."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._guard.opened(transport):
            _abort(transport)  # the inner protocol never sees it
            return
        self._transport = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return
        self._guard.closed(self._transport)
        self._inner.connection_lost(exc)

    def __getattr__(self, name: str) -> Any:  # anything else aiohttp may ask of it
        return getattr(self._inner, name)
