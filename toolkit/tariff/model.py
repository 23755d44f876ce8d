"""The tariff model: OCPI 2.2.1 tariff elements, plus a parking grace period.

The model is OCPI 2.2.1's (``mod_tariffs``): a tariff is an ordered list of
elements; each element has price components (one per dimension: ENERGY,
TIME, PARKING_TIME, FLAT) and optional restrictions saying when it applies.
For each dimension, the *first* element that prices it and whose
restrictions match is the one in force ("Only one Tariff per Element type can
be active at any point in time", mod_tariffs §Tariff Object).

Two things OCPI leaves to the Location object or does not have, and which the
model therefore carries itself: the IANA time zone in which restriction times
and dates are read, and a parking grace period (idle time that is free before
a PARKING_TIME price starts to count).

All money and quantities are :class:`~decimal.Decimal`; nothing is a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from enum import StrEnum


class Dimension(StrEnum):
    """OCPI 2.2.1 TariffDimensionType, with the unit its price is quoted in."""

    ENERGY = "ENERGY"  # price per kWh, step_size in Wh
    TIME = "TIME"  # charging time: price per hour, step_size in seconds
    PARKING_TIME = "PARKING_TIME"  # time not charging: per hour, step_size in seconds
    FLAT = "FLAT"  # once per session, no step_size


class DayOfWeek(StrEnum):
    """OCPI DayOfWeek; the order matches :meth:`datetime.date.weekday`."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


WEEKDAYS: tuple[DayOfWeek, ...] = tuple(DayOfWeek)


@dataclass(frozen=True, slots=True)
class PriceComponent:
    """One dimension's price (OCPI PriceComponent).

    Attributes:
        dimension: what is priced.
        price: per unit, excluding VAT (kWh, hour, or session for FLAT).
        vat: VAT percentage, or None when no VAT applies (OCPI: "Not providing
            a VAT is different from 0% VAT").
        step_size: billing block in Wh (ENERGY) or seconds (TIME,
            PARKING_TIME); 1 means no rounding beyond the unit.
    """

    dimension: Dimension
    price: Decimal
    vat: Decimal | None = None
    step_size: int = 1


@dataclass(frozen=True, slots=True)
class Restrictions:
    """When an element applies (the supported subset of OCPI TariffRestrictions).

    Times and dates are local to the tariff's time zone. ``end_time`` and
    ``end_date`` are exclusive; ``end_time`` earlier than ``start_time`` spans
    midnight. ``min_*`` bounds are inclusive and ``max_*`` bounds exclusive, as
    OCPI words them ("valid from" / "valid until").
    """

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    day_of_week: frozenset[DayOfWeek] = frozenset()
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_power: Decimal | None = None  # kW
    max_power: Decimal | None = None  # kW
    min_duration: int | None = None  # seconds since the session started
    max_duration: int | None = None

    @property
    def uses_local_time(self) -> bool:
        return bool(
            self.start_time or self.end_time or self.start_date or self.end_date or self.day_of_week
        )


@dataclass(frozen=True, slots=True)
class TariffElement:
    components: tuple[PriceComponent, ...]
    restrictions: Restrictions = field(default_factory=Restrictions)

    def component(self, dimension: Dimension) -> PriceComponent | None:
        for c in self.components:
            if c.dimension is dimension:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Tariff:
    """A tariff ready to price sessions.

    Attributes:
        currency: ISO 4217 code.
        elements: in priority order (the first match per dimension wins).
        timezone: IANA name used to read restriction times and dates.
        parking_grace_seconds: idle time per session that is not billed as
            PARKING_TIME (counted from the first idle second; a project
            extension, OCPI has no such field).
        decimals: digits of the currency's minor unit; every money line of a
            :class:`CostBreakdown` is rounded to it.
        id: the tariff's id, for reports.
    """

    currency: str
    elements: tuple[TariffElement, ...]
    timezone: str = "UTC"
    parking_grace_seconds: int = 0
    decimals: int = 2
    id: str = ""


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """What a session costs, line by line (money lines excluding VAT).

    Attributes:
        energy: ENERGY line.
        time: TIME (charging time) line.
        parking: PARKING_TIME (idle) line.
        flat: FLAT (session fee) line.
        vat: VAT over all lines.
        total: energy + time + parking + flat + vat.
        currency: ISO 4217 code.
        energy_wh: energy billed, after step_size rounding.
        charging_seconds: charging time billed, after rounding.
        parking_seconds: idle time billed, after grace and rounding.
    """

    energy: Decimal
    time: Decimal
    parking: Decimal
    flat: Decimal
    vat: Decimal
    total: Decimal
    currency: str
    energy_wh: Decimal = Decimal(0)
    charging_seconds: Decimal = Decimal(0)
    parking_seconds: Decimal = Decimal(0)

    @property
    def excl_vat(self) -> Decimal:
        return self.energy + self.time + self.parking + self.flat
