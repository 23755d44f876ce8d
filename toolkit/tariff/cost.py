"""Pricing a charging session with a :class:`~ocppkit.toolkit.tariff.model.Tariff`.

Theory of operation
-------------------
1. The session becomes *segments*: spans of time with the energy delivered in
   them (linear inside a span, i.e. constant power) and a charging/idle flag.
   :func:`~ocppkit.toolkit.tariff.segments.segments` builds them from meter samples, from charging
   intervals, or both (meter for energy, intervals for charging/idle).
2. Segments are cut at every instant where an element's restrictions may
   change their verdict: local midnights and each ``start_time``/``end_time``
   (both folds, so a repeated autumn hour is handled), UTC-offset changes of
   the zone, ``min_duration``/``max_duration`` instants, and the instants the
   cumulative energy crosses ``min_kwh``/``max_kwh``. Inside a piece every
   restriction therefore holds or fails throughout, and is checked once at the
   piece's start (power restrictions on the piece's mean power).
3. Per piece and dimension, the first element pricing that dimension whose
   restrictions match is in force (OCPI 2.2.1 mod_tariffs, Tariff object).
   ENERGY bills the piece's Wh, TIME its duration when charging, PARKING_TIME
   its duration when idle, minus the tariff's parking grace (the first idle
   seconds of the session). FLAT is billed once, by the first piece where a
   FLAT component matches.
4. ``step_size`` (OCPI PriceComponent, with the worked "switching to a
   different Tariff Element" examples): per dimension, the *total* quantity is
   rounded up to a multiple of the step_size of the last component that billed
   it, and the difference is billed at that component's price. When TIME was
   rounded up, the extra charging time covers idle time that follows the last
   charging piece (example #1: "the 2 minutes parking time is within the extra
   5 minutes of charging billed because of the step_size"); PARKING_TIME is
   rounded after that.
5. Money: each line (energy, time, parking, flat) is summed exactly, then
   rounded half-up to ``tariff.decimals``. VAT is computed per component from
   the exact amounts (OCPI ``vat`` percentages; None means no VAT), summed and
   rounded once. ``total`` is the sum of the rounded lines and the rounded VAT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

from ocppkit.toolkit.tariff.model import (
    WEEKDAYS,
    CostBreakdown,
    Dimension,
    PriceComponent,
    Restrictions,
    Tariff,
)
from ocppkit.toolkit.tariff.segments import US, Segment, cut, seconds_of, segments, split

_PER_UNIT = {  # quantity unit -> price unit (Wh per kWh, seconds per hour)
    Dimension.ENERGY: Decimal(1000),
    Dimension.TIME: Decimal(3600),
    Dimension.PARKING_TIME: Decimal(3600),
    Dimension.FLAT: Decimal(1),
}


def _time_boundaries(tariff: Tariff, start: datetime, stop: datetime) -> list[datetime]:
    zone = ZoneInfo(tariff.timezone)
    clock = {time(0, 0)}
    for e in tariff.elements:
        clock |= {t for t in (e.restrictions.start_time, e.restrictions.end_time) if t}
    out: list[datetime] = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = stop.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        for at in clock:
            for fold in (0, 1):
                out.append(datetime.combine(day, at, tzinfo=zone).replace(fold=fold))
        day += timedelta(days=1)
    # A time inside a spring-forward gap resolves to no real instant; the
    # verdict then flips at the offset change itself, so add those too.
    step = timedelta(minutes=30)
    here = start
    offset = start.astimezone(zone).utcoffset()
    while here < stop:
        n = min(here + step, stop)
        if n.astimezone(zone).utcoffset() != offset:
            lo, hi = here, n
            while hi - lo > US:
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            offset = n.astimezone(zone).utcoffset()
        here = n
    return [b.astimezone(UTC) for b in out]


def _energy_cuts(pieces: list[Segment], thresholds: Sequence[Decimal]) -> list[Segment]:
    out: list[Segment] = []
    cumulative = Decimal(0)
    for seg in pieces:
        for wh in sorted(thresholds):
            if cumulative < wh < cumulative + seg.energy_wh:
                span = (seg.end - seg.start) // US
                offset = ((wh - cumulative) * span / seg.energy_wh).to_integral_value()
                at = seg.start + timedelta(microseconds=int(offset))
                if seg.start < at < seg.end:
                    head, seg = split(seg, at, energy=wh - cumulative)
                    out.append(head)
                    cumulative += head.energy_wh
        out.append(seg)
        cumulative += seg.energy_wh
    return out


@dataclass(frozen=True, slots=True)
class _State:
    local: datetime
    elapsed: Decimal  # seconds since the session started
    energy_wh: Decimal  # delivered before this piece
    power_kw: Decimal  # this piece's mean power


def _clock_matches(r: Restrictions, clock: time) -> bool:
    begin, end = r.start_time, r.end_time
    if begin is not None and end is not None and begin > end:  # spans midnight
        return clock >= begin or clock < end
    if begin is not None and begin == end:  # a whole day
        return True
    return (begin is None or clock >= begin) and (end is None or clock < end)


def _matches(r: Restrictions, s: _State) -> bool:
    checks = (
        _clock_matches(r, s.local.time()),
        r.start_date is None or s.local.date() >= r.start_date,
        r.end_date is None or s.local.date() < r.end_date,
        not r.day_of_week or WEEKDAYS[s.local.weekday()] in r.day_of_week,
        r.min_kwh is None or s.energy_wh >= r.min_kwh * 1000,
        r.max_kwh is None or s.energy_wh < r.max_kwh * 1000,
        r.min_power is None or s.power_kw >= r.min_power,
        r.max_power is None or s.power_kw < r.max_power,
        r.min_duration is None or s.elapsed >= r.min_duration,
        r.max_duration is None or s.elapsed < r.max_duration,
    )
    return all(checks)


def _in_force(tariff: Tariff, dimension: Dimension, state: _State) -> PriceComponent | None:
    for element in tariff.elements:
        component = element.component(dimension)
        if component is not None and _matches(element.restrictions, state):
            return component
    return None


@dataclass(slots=True)
class _Line:
    component: PriceComponent
    quantity: Decimal  # Wh, seconds or 1
    after_charging: bool = False  # idle time after the last charging piece


def _total(lines: list[_Line]) -> Decimal:
    # Proportional splits leave residues far below any meter's resolution;
    # they must not tip a step_size ceiling, so totals are read at 1e-6.
    total = sum((ln.quantity for ln in lines), Decimal(0)).quantize(_RESOLUTION)
    return Decimal(int(total)) if total == total.to_integral_value() else total


def _round_up(lines: list[_Line]) -> Decimal:
    """Bill the dimension's total in whole steps of its last component; the extra."""
    total = _total(lines)
    if not lines or total <= 0:
        return Decimal(0)
    last = lines[-1].component
    extra = (total / last.step_size).to_integral_value(ROUND_CEILING) * last.step_size - total
    if extra > 0:
        lines.append(_Line(last, extra))
    return extra


_RESOLUTION = Decimal("1e-6")  # Wh and seconds


def cost_of_segments(
    tariff: Tariff, session: Sequence[Segment], *, start: datetime | None = None
) -> CostBreakdown:
    """Price a session given as segments (see the module docstring for the rules).

    Args:
        tariff: the tariff.
        session: contiguous segments in time order.
        start: the session start; needed only when ``session`` is empty (a
            zero-length session still owes a session fee).
    """
    if start is None:
        if not session:
            raise ValueError("an empty session needs its start time")
        start = session[0].start
    with localcontext() as context:
        context.prec = 60  # headroom: products of quantities and prices stay exact
        return _price(tariff, session, start)


def _price(tariff: Tariff, session: Sequence[Segment], start: datetime) -> CostBreakdown:
    cuts: list[datetime] = []
    if any(e.restrictions.uses_local_time for e in tariff.elements):
        cuts += _time_boundaries(tariff, start, session[-1].end if session else start)
    for e in tariff.elements:
        for d in (e.restrictions.min_duration, e.restrictions.max_duration):
            if d is not None:
                cuts.append(start + timedelta(seconds=d))
    pieces = cut(list(session), cuts)
    kwh = [k for e in tariff.elements for k in (e.restrictions.min_kwh, e.restrictions.max_kwh)]
    pieces = _energy_cuts(pieces, [k * 1000 for k in kwh if k is not None])

    zone = ZoneInfo(tariff.timezone)
    lines: dict[Dimension, list[_Line]] = {d: [] for d in Dimension}
    delivered = Decimal(0)
    idle = Decimal(0)
    last_charging = max((i for i, p in enumerate(pieces) if p.charging), default=-1)
    for i, piece in enumerate(pieces):
        seconds = piece.seconds
        state = _State(
            local=piece.start.astimezone(zone),
            elapsed=seconds_of(piece.start - start),
            energy_wh=delivered,
            power_kw=piece.energy_wh * 3600 / seconds / 1000,
        )
        wanted: list[tuple[Dimension, Decimal]] = []
        if piece.energy_wh > 0:
            wanted.append((Dimension.ENERGY, piece.energy_wh))
        if piece.charging:
            wanted.append((Dimension.TIME, seconds))
        else:
            billable = seconds - max(Decimal(0), min(seconds, tariff.parking_grace_seconds - idle))
            idle += seconds
            if billable > 0:
                wanted.append((Dimension.PARKING_TIME, billable))
        if not lines[Dimension.FLAT]:
            wanted.append((Dimension.FLAT, Decimal(1)))
        for dimension, quantity in wanted:
            component = _in_force(tariff, dimension, state)
            if component is not None:
                lines[dimension].append(_Line(component, quantity, i > last_charging))
        delivered += piece.energy_wh
    if not pieces:
        state = _State(start.astimezone(zone), Decimal(0), Decimal(0), Decimal(0))
        flat = _in_force(tariff, Dimension.FLAT, state)
        if flat is not None:
            lines[Dimension.FLAT].append(_Line(flat, Decimal(1)))

    _round_up(lines[Dimension.ENERGY])
    cover = _round_up(lines[Dimension.TIME])
    for line in lines[Dimension.PARKING_TIME]:  # OCPI step_size example #1
        if line.after_charging and cover > 0:
            taken = min(cover, line.quantity)
            line.quantity -= taken
            cover -= taken
    lines[Dimension.PARKING_TIME] = [ln for ln in lines[Dimension.PARKING_TIME] if ln.quantity > 0]
    _round_up(lines[Dimension.PARKING_TIME])
    return _breakdown(tariff, lines)


def _breakdown(tariff: Tariff, lines: dict[Dimension, list[_Line]]) -> CostBreakdown:
    cent = Decimal(10) ** -tariff.decimals
    money: dict[Dimension, Decimal] = {}
    vat = Decimal(0)
    for dimension, items in lines.items():
        # Sum quantity x price exactly and divide once: a 10.235 line must
        # round to 10.24, not to 10.23 through a sum of repeating decimals.
        exact = sum((ln.quantity * ln.component.price for ln in items), Decimal(0))
        money[dimension] = (exact / _PER_UNIT[dimension]).quantize(cent, ROUND_HALF_UP)
        taxed = sum(
            (
                ln.quantity * ln.component.price * ln.component.vat
                for ln in items
                if ln.component.vat
            ),
            Decimal(0),
        )
        vat += taxed / _PER_UNIT[dimension] / 100
    vat = vat.quantize(cent, ROUND_HALF_UP)

    def billed(d: Dimension) -> Decimal:
        return _total(lines[d])

    return CostBreakdown(
        energy=money[Dimension.ENERGY],
        time=money[Dimension.TIME],
        parking=money[Dimension.PARKING_TIME],
        flat=money[Dimension.FLAT],
        vat=vat,
        total=sum(money.values(), Decimal(0)) + vat,
        currency=tariff.currency,
        energy_wh=billed(Dimension.ENERGY),
        charging_seconds=billed(Dimension.TIME),
        parking_seconds=billed(Dimension.PARKING_TIME),
    )


def cost_of_session(
    tariff: Tariff,
    start: datetime,
    stop: datetime,
    *,
    meter: Sequence[tuple[datetime, Decimal | float | int]] | None = None,
    charging: Sequence[tuple[datetime, datetime]] | None = None,
    energy_wh: Decimal | float | int | None = None,
    idle_power_w: Decimal | float | int = 0,
) -> CostBreakdown:
    """What a session costs under ``tariff``.

    Args:
        tariff: the tariff.
        start: when the session started (timezone-aware).
        stop: when it ended (or now, for a running cost).
        meter: energy register samples ``(time, Wh)`` (see :func:`segments`).
        charging: charging intervals; time outside them is idle (parking).
        energy_wh: total energy when there are no meter samples.
        idle_power_w: below this mean power a meter span counts as idle.

    Returns:
        the cost, line by line, in Decimal (see the module docstring for the
        rounding rules).

    Raises:
        ValueError: naive datetimes, or ``stop`` before ``start``.
    """
    pieces = segments(
        start, stop, meter=meter, charging=charging, energy_wh=energy_wh, idle_power_w=idle_power_w
    )
    return cost_of_segments(tariff, pieces, start=start)
