"""A charging session as segments: spans of time with their energy and charging flag.

The input side of pricing, kept apart from the tariff rules: meter register
samples and/or charging intervals become contiguous :class:`Segment` spans.
Energy is linear inside a span (constant power).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Segment:
    """A span of a session: ``energy_wh`` delivered evenly over [start, end)."""

    start: datetime
    end: datetime
    energy_wh: Decimal
    charging: bool

    @property
    def seconds(self) -> Decimal:
        return seconds_of(self.end - self.start)


def seconds_of(delta: timedelta) -> Decimal:
    return Decimal(delta // US) / Decimal(1_000_000)


def split(seg: Segment, at: datetime, energy: Decimal | None = None) -> tuple[Segment, Segment]:
    """Cut ``seg`` at ``at``; energy shared in proportion to time unless given."""
    if energy is None:
        energy = seg.energy_wh * ((at - seg.start) // US) / ((seg.end - seg.start) // US)
    return replace(seg, end=at, energy_wh=energy), replace(
        seg, start=at, energy_wh=seg.energy_wh - energy
    )


def cut(pieces: list[Segment], instants: Iterable[datetime]) -> list[Segment]:
    todo = sorted(set(instants))
    out: list[Segment] = []
    i = 0
    for seg in pieces:
        while i < len(todo) and todo[i] <= seg.start:
            i += 1
        while i < len(todo) and todo[i] < seg.end:
            head, seg = split(seg, todo[i])
            out.append(head)
            i += 1
        out.append(seg)
    return out


def segments(
    start: datetime,
    stop: datetime,
    *,
    meter: Sequence[tuple[datetime, Decimal | float | int]] | None = None,
    charging: Sequence[tuple[datetime, datetime]] | None = None,
    energy_wh: Decimal | float | int | None = None,
    idle_power_w: Decimal | float | int = 0,
) -> list[Segment]:
    """Describe a session as segments covering [start, stop).

    Args:
        start: session start (timezone-aware).
        stop: session end.
        meter: energy register samples ``(time, Wh)``. Energy is linear between
            samples; none is counted before the first or after the last
            sample, nor where the register goes backwards (a meter anomaly for
            the analysis to flag, never billed).
        charging: charging intervals; time outside them is idle. Without
            them, a segment charges when its mean power exceeds ``idle_power_w``.
        energy_wh: the session's energy when there is no ``meter``: spread over
            the charging intervals (or the whole session).
        idle_power_w: threshold for deriving charging from the meter.

    Raises:
        ValueError: naive datetimes, or ``stop`` before ``start``.
    """
    if start.tzinfo is None or stop.tzinfo is None:
        raise ValueError("session times must be timezone-aware")
    if stop < start:
        raise ValueError("session stops before it starts")
    if start == stop:
        return []
    intervals = sorted((max(a, start), min(b, stop)) for a, b in charging or () if b > a)

    def charging_at(t: datetime) -> bool:
        return any(a <= t < b for a, b in intervals)

    threshold = Decimal(str(idle_power_w))
    out: list[Segment]
    if meter is not None:
        points = sorted((min(max(t, start), stop), Decimal(str(wh))) for t, wh in meter)
        out = []
        if points and points[0][0] > start:
            out.append(Segment(start, points[0][0], Decimal(0), False))
        for (a, wa), (b, wb) in pairwise(points):
            if b > a:
                delta = max(Decimal(0), wb - wa)
                power_w = delta * 3600 / seconds_of(b - a)
                out.append(Segment(a, b, delta, power_w > threshold))
        tail = points[-1][0] if points else start
        if stop > tail:
            out.append(Segment(tail, stop, Decimal(0), False))
        if intervals:
            out = cut(out, [t for iv in intervals for t in iv])
            out = [replace(s, charging=charging_at(s.start)) for s in out]
        return out
    total = Decimal(str(energy_wh or 0))
    if not intervals:
        return [Segment(start, stop, total, True)]
    whole = cut([Segment(start, stop, Decimal(0), False)], [t for iv in intervals for t in iv])
    flagged = [replace(s, charging=charging_at(s.start)) for s in whole]
    charging_s = sum((s.seconds for s in flagged if s.charging), Decimal(0))
    return [
        replace(s, energy_wh=total * s.seconds / charging_s) if s.charging else s for s in flagged
    ]
