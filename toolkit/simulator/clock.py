"""Simulated time: accelerated (a day in seconds) or as fast as the peer answers.

Frames carry timestamps from these clocks, never from the wall clock. Two kinds:

* :class:`ScaledClock` — one clock for the whole fleet, ``speed`` simulated seconds per wall
  second, so chargers stay in step with each other (a CSMS sees a plausible fleet).
* :class:`VirtualClock` — one per charger, jumping straight to the next event: the run
  lasts as long as the message exchange itself. Chargers drift apart in simulated time,
  which is fine for load generation and for per-charger analysis.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    paced: bool  # True: simulated time moves with the wall clock

    def now(self) -> datetime:
        """The current simulated time."""
        ...

    async def sleep_until(self, at: datetime, wake: asyncio.Event | None = None) -> bool:
        """Wait until simulated time ``at``; return True if ``wake`` was set first."""
        ...


class ScaledClock:
    """Simulated time = ``start + (loop time - t0) * speed``, shared by the fleet.

    Args:
        start: the simulated moment the clock shows when :meth:`begin` is called.
        speed: simulated seconds per wall second (2000 runs a day in 43 s).
    """

    def __init__(self, start: datetime, speed: float) -> None:
        self.start = start
        self.speed = speed
        self.paced = True
        self._t0: float | None = None

    def begin(self) -> None:
        """Start the clock (call once the event loop runs)."""
        self._t0 = asyncio.get_running_loop().time()

    def now(self) -> datetime:
        if self._t0 is None:
            return self.start
        elapsed = asyncio.get_running_loop().time() - self._t0
        return self.start + timedelta(seconds=elapsed * self.speed)

    async def sleep_until(self, at: datetime, wake: asyncio.Event | None = None) -> bool:
        wall = (at - self.now()).total_seconds() / self.speed
        if wake is None:
            await asyncio.sleep(max(0.0, wall))
            return False
        if wake.is_set() or wall <= 0:
            return wake.is_set()
        try:
            await asyncio.wait_for(wake.wait(), wall)
        except TimeoutError:
            return False
        return True


class VirtualClock:
    """A per-charger clock that jumps to the next event (as-fast-as-possible mode)."""

    def __init__(self, start: datetime) -> None:
        self.paced = False
        self._now = start

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, at: datetime, wake: asyncio.Event | None = None) -> bool:
        # Yield once so the reader task can deliver CSMS calls that arrived meanwhile.
        await asyncio.sleep(0)
        if wake is not None and wake.is_set():
            return True
        self._now = max(self._now, at)
        return False
