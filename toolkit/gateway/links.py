"""The charger side of a session, whatever carries it.

A session talks to its charger through a :class:`DownLink`: 1.6J chargers
through a :class:`WebSocketLink`, 1.5 SOAP chargers through
:class:`ocppkit.toolkit.gateway.soap.SoapLink`. Frames on the link are 1.6J frames
either way; a link journals what really crossed its wire.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from ocppkit.translators.frames import AnyFrame, serialize_frame
from ocppkit.translators.versions import OcppVersion


class DownLink(Protocol):
    """A charger connection as the session sees it."""

    version: OcppVersion

    @property
    def closed(self) -> bool: ...

    async def send(self, frame: AnyFrame) -> None:
        """Deliver one frame.

        Raises:
            ConnectionError: the charger cannot be reached (the frame is lost).
        """

    async def close(self, code: int, reason: str) -> None: ...


class WebSocketLink:
    """An OCPP-J WebSocket connection (1.6J, or 2.0.1 for the reverse bridge).

    Args:
        ws: the prepared WebSocket.
        journal: records each frame sent.
        version: the version spoken on it.
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        journal: Callable[[AnyFrame], None],
        version: OcppVersion = OcppVersion.V16,
    ) -> None:
        self.ws = ws
        self._journal = journal
        self.version = version

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, frame: AnyFrame) -> None:
        try:
            await self.ws.send_str(serialize_frame(frame).decode())
        except (ConnectionError, RuntimeError) as exc:  # closing under our feet
            raise ConnectionError(str(exc)) from exc
        self._journal(frame)

    async def close(self, code: int, reason: str) -> None:
        if not self.ws.closed:
            await self.ws.close(code=code, message=reason.encode())
