"""The small HTTP servers beside the built-in CSMS (admin API, tzi-OCTT trigger).

Each subclass builds its routes in :meth:`HttpApp.app`; starting, the bound
address and stopping are the same for all.
"""

from __future__ import annotations

import abc

from aiohttp import web


class HttpApp(abc.ABC):
    """An aiohttp application served on loopback (or any host) until :meth:`stop`."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.host = ""
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @abc.abstractmethod
    def app(self) -> web.Application:
        """The application to serve, with its routes."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (port 0: any free port; :attr:`port` tells which)."""
        self._runner = web.AppRunner(self.app(), handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.host, self.port = self._runner.addresses[0][:2]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
