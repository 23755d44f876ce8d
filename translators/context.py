"""What a translator is handed by its caller: the clock and the id source.

Translators never read a clock or a random source of their own (sans-I/O):
the gateway passes the real ones, tests and log replays pass fixed ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ocppkit.translators.settings import DEFAULT_SETTINGS, Settings


@dataclass(frozen=True, slots=True)
class Context:
    """The outside world, as a translator may see it.

    Attributes:
        now: returns the current time, timezone-aware.
        new_id: returns a fresh identifier of at most 36 characters (message
            ids of bridge-originated calls, station-side transaction ids).
        settings: the operator's choices (token typing, dangling-transaction
            rules); handed in like the clock, never stored with a state.
    """

    now: Callable[[], datetime]
    new_id: Callable[[], str]
    settings: Settings = DEFAULT_SETTINGS

    def timestamp(self) -> str:
        """``now()`` as an OCPP date-time (RFC 3339, UTC, milliseconds, Z)."""
        return self.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fixed_context(
    moment: datetime | None = None, prefix: str = "id", settings: Settings = DEFAULT_SETTINGS
) -> Context:
    """A deterministic context for tests, goldens and log replays.

    The clock stands still at ``moment``; ids are ``<prefix>-1``, ``<prefix>-2``...
    """
    at = moment or datetime(2026, 1, 1, tzinfo=UTC)
    counter = itertools.count(1)
    return Context(now=lambda: at, new_id=lambda: f"{prefix}-{next(counter)}", settings=settings)
