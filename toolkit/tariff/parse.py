"""Reading tariffs: OCPI 2.2.1 Tariff JSON and ocppkit's simple form.

Two inputs build the same :class:`~ocppkit.toolkit.tariff.model.Tariff`:

* **OCPI 2.2.1** ``Tariff`` objects (bare, or inside an OCPI response envelope
  ``{"data": {...}}``). Supported: ``currency``, ``elements`` with
  ``price_components`` (ENERGY, TIME, PARKING_TIME, FLAT; ``price``, ``vat``,
  ``step_size``) and the restrictions ``start_time``, ``end_time``,
  ``start_date``, ``end_date``, ``day_of_week``, ``min_kwh``, ``max_kwh``,
  ``min_power``, ``max_power``, ``min_duration``, ``max_duration``.
  Descriptive fields (``id``, ``type``, ``tariff_alt_text``, ``energy_mix``,
  ``start_date_time``...) are read or skipped; they do not change a price.
  **Not supported** (a :class:`ConfigError`, never silently ignored):
  ``min_price``/``max_price`` and the ``min_current``, ``max_current`` and
  ``reservation`` restrictions (OCPP meter values do not carry what they
  need). OCPI keeps the time zone on the Location; here it is the
  ``timezone`` argument, or a top-level ``time_zone`` key (an ocppkit
  extension named after the Location field).
* **The simple form** (JSON or TOML), for people writing a tariff by hand::

      currency = "EUR"
      timezone = "Europe/Amsterdam"
      vat_percent = 21
      energy_per_kwh = 0.30
      time_per_hour = 0.0
      parking_per_hour = 6.0
      parking_grace_minutes = 30
      session_fee = 0.50

      [[periods]]            # time of use: overrides, first match wins
      days = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
      start = "17:00"
      end = "21:00"
      energy_per_kwh = 0.45

Numbers are read as :class:`~decimal.Decimal` straight from the text.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ocppkit.toolkit.tariff.model import (
    DayOfWeek,
    Dimension,
    PriceComponent,
    Restrictions,
    Tariff,
    TariffElement,
)
from ocppkit.translators.errors import ConfigError

_TIME = re.compile(r"([0-1][0-9]|2[0-3]):[0-5][0-9]")  # OCPI TariffRestrictions.start_time
_DATE = re.compile(r"([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")

# OCPI Tariff fields that describe but do not price.
_DESCRIPTIVE = frozenset(
    {
        "country_code",
        "party_id",
        "id",
        "type",
        "tariff_alt_text",
        "tariff_alt_url",
        "start_date_time",
        "end_date_time",
        "energy_mix",
        "last_updated",
        "time_zone",
    }
)
_UNSUPPORTED_TARIFF = {
    "min_price": "min_price is not supported (the session total is never clamped)",
    "max_price": "max_price is not supported (the session total is never clamped)",
}
_UNSUPPORTED_RESTRICTIONS = {
    "min_current": "needs the charging current, which sessions here do not carry",
    "max_current": "needs the charging current, which sessions here do not carry",
    "reservation": "reservation costs are not modelled",
}
_NUMBER_RESTRICTIONS = ("min_kwh", "max_kwh", "min_power", "max_power")
_INT_RESTRICTIONS = ("min_duration", "max_duration")


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if not number.is_finite():
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    return number


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def _time(value: Any, where: str) -> time:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise ConfigError(f"{where}: expected HH:MM (24 h, leading zeros), got {value!r}")
    return time(int(value[:2]), int(value[3:]))


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ConfigError(f"{where}: expected YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _days(value: Any, where: str) -> frozenset[DayOfWeek]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected a non-empty list of day names")
    try:
        return frozenset(DayOfWeek(str(v).upper()) for v in value)
    except ValueError:
        known = ", ".join(DayOfWeek)
        raise ConfigError(f"{where}: unknown day in {value!r} (known: {known})") from None


def _check_timezone(name: Any) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"time zone must be an IANA name, got {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown IANA time zone {name!r}") from None
    return name


def _restrictions(obj: Any, where: str) -> Restrictions:
    if obj is None:
        return Restrictions()
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{where}: restrictions must be an object")
    for key in obj:
        if key in _UNSUPPORTED_RESTRICTIONS:
            raise ConfigError(
                f"{where}: restriction {key!r} is not supported: {_UNSUPPORTED_RESTRICTIONS[key]}"
            )
    known = {"start_time", "end_time", "start_date", "end_date", "day_of_week"}
    known |= {*_NUMBER_RESTRICTIONS, *_INT_RESTRICTIONS}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown restriction(s) {unknown}")
    values: dict[str, Any] = {}
    for key in ("start_time", "end_time"):
        if obj.get(key) is not None:
            values[key] = _time(obj[key], f"{where}.{key}")
    for key in ("start_date", "end_date"):
        if obj.get(key) is not None:
            values[key] = _date(obj[key], f"{where}.{key}")
    if obj.get("day_of_week") is not None:
        values["day_of_week"] = _days(obj["day_of_week"], f"{where}.day_of_week")
    for key in _NUMBER_RESTRICTIONS:
        if obj.get(key) is not None:
            values[key] = _decimal(obj[key], f"{where}.{key}")
    for key in _INT_RESTRICTIONS:
        if obj.get(key) is not None:
            values[key] = _int(obj[key], f"{where}.{key}")
    return Restrictions(**values)


def _component(obj: Any, where: str) -> PriceComponent:
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{where}: a price component must be an object")
    unknown = sorted(set(obj) - {"type", "price", "vat", "step_size"})
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown}")
    try:
        dimension = Dimension(str(obj.get("type")))
    except ValueError:
        raise ConfigError(f"{where}.type: unknown dimension {obj.get('type')!r}") from None
    price = _decimal(obj.get("price"), f"{where}.price")
    if price < 0:
        raise ConfigError(f"{where}.price: must not be negative")
    vat = None if obj.get("vat") is None else _decimal(obj["vat"], f"{where}.vat")
    step = _int(obj.get("step_size", 1), f"{where}.step_size", minimum=1)
    return PriceComponent(dimension, price, vat, step)


def tariff_from_ocpi(doc: Mapping[str, Any], timezone: str | None = None) -> Tariff:
    """Build a tariff from an OCPI 2.2.1 Tariff object.

    Args:
        doc: the Tariff object, or an OCPI response whose ``data`` is one.
        timezone: IANA zone for restriction times and dates; overrides the
            document's ``time_zone`` extension key.

    Raises:
        ConfigError: the document is not a tariff, or uses a field this model
            does not support; or it restricts by local time and no zone is known.
    """
    if "elements" not in doc and isinstance(doc.get("data"), Mapping):
        doc = doc["data"]
    for key, why in _UNSUPPORTED_TARIFF.items():
        if doc.get(key) is not None:
            raise ConfigError(why)
    unknown = sorted(set(doc) - _DESCRIPTIVE - {"currency", "elements", *_UNSUPPORTED_TARIFF})
    if unknown:
        raise ConfigError(f"tariff: unknown field(s) {unknown}")
    currency = doc.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        raise ConfigError(f"tariff.currency: expected an ISO 4217 code, got {currency!r}")
    raw_elements = doc.get("elements")
    if not isinstance(raw_elements, list) or not raw_elements:
        raise ConfigError("tariff.elements: expected a non-empty list")
    elements = []
    for i, raw in enumerate(raw_elements):
        where = f"elements[{i}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("price_components"), list):
            raise ConfigError(f"{where}: expected an object with price_components")
        components = tuple(
            _component(c, f"{where}.price_components[{j}]")
            for j, c in enumerate(raw["price_components"])
        )
        dims = [c.dimension for c in components]
        if len(set(dims)) != len(dims) or not dims:
            raise ConfigError(f"{where}: one price component per dimension, at least one")
        elements.append(
            TariffElement(
                components, _restrictions(raw.get("restrictions"), f"{where}.restrictions")
            )
        )
    zone = timezone or doc.get("time_zone")
    if zone is None and any(e.restrictions.uses_local_time for e in elements):
        raise ConfigError("the tariff restricts by local time or date: give its time zone")
    return Tariff(
        currency=currency.upper(),
        elements=tuple(elements),
        timezone=_check_timezone(zone or "UTC"),
        id=str(doc.get("id", "")),
    )


# Simple-form price keys -> the OCPI dimension they price.
_SIMPLE_PRICES = {
    "energy_per_kwh": Dimension.ENERGY,
    "time_per_hour": Dimension.TIME,
    "parking_per_hour": Dimension.PARKING_TIME,
}
_SIMPLE_KEYS = {
    *_SIMPLE_PRICES,
    "currency",
    "timezone",
    "vat_percent",
    "parking_grace_minutes",
    "session_fee",
    "decimals",
    "id",
    "periods",
}


def tariff_from_simple(doc: Mapping[str, Any]) -> Tariff:
    """Build a tariff from ocppkit's simple form (see the module docstring).

    Each period becomes an element restricted to its days and hours, ahead of
    one unrestricted element with the base prices and the session fee.

    Raises:
        ConfigError: a key is unknown or a value is malformed.
    """
    unknown = sorted(set(doc) - _SIMPLE_KEYS)
    if unknown:
        raise ConfigError(f"tariff: unknown key(s) {unknown}")
    vat = None if doc.get("vat_percent") is None else _decimal(doc["vat_percent"], "vat_percent")

    def prices(obj: Mapping[str, Any], where: str) -> list[PriceComponent]:
        out = []
        for key, dimension in _SIMPLE_PRICES.items():
            if obj.get(key) is not None:
                out.append(PriceComponent(dimension, _decimal(obj[key], f"{where}{key}"), vat))
        return out

    elements = []
    for i, period in enumerate(doc.get("periods") or []):
        where = f"periods[{i}]."
        if not isinstance(period, Mapping):
            raise ConfigError(f"periods[{i}]: expected a table/object")
        extra = sorted(set(period) - {"days", "start", "end", *_SIMPLE_PRICES})
        if extra:
            raise ConfigError(f"periods[{i}]: unknown key(s) {extra}")
        restrictions = Restrictions(
            start_time=_time(period["start"], where + "start") if "start" in period else None,
            end_time=_time(period["end"], where + "end") if "end" in period else None,
            day_of_week=_days(period["days"], where + "days") if "days" in period else frozenset(),
        )
        components = prices(period, where)
        if not components:
            raise ConfigError(f"periods[{i}]: states no price")
        elements.append(TariffElement(tuple(components), restrictions))
    base = prices(doc, "")
    if doc.get("session_fee") is not None:
        base.append(
            PriceComponent(Dimension.FLAT, _decimal(doc["session_fee"], "session_fee"), vat)
        )
    if base:
        elements.append(TariffElement(tuple(base)))
    if not elements:
        raise ConfigError("tariff: states no price at all")
    currency = doc.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        raise ConfigError(f"currency: expected an ISO 4217 code, got {currency!r}")
    grace = _decimal(doc.get("parking_grace_minutes", 0), "parking_grace_minutes")
    return Tariff(
        currency=currency.upper(),
        elements=tuple(elements),
        timezone=_check_timezone(doc.get("timezone", "UTC")),
        parking_grace_seconds=int(grace * 60),
        decimals=_int(doc.get("decimals", 2), "decimals"),
        id=str(doc.get("id", "")),
    )


def tariff_from_dict(doc: Mapping[str, Any], timezone: str | None = None) -> Tariff:
    """Either form: OCPI when it has ``elements`` (or ``data.elements``)."""
    data = doc.get("data")
    if "elements" in doc or (isinstance(data, Mapping) and "elements" in data):
        return tariff_from_ocpi(doc, timezone)
    if timezone is not None:
        doc = {**doc, "timezone": timezone}
    return tariff_from_simple(doc)


def load_tariff(path: str | Path, *, timezone: str | None = None) -> Tariff:
    """Read a tariff file: ``.json`` (OCPI or simple form) or ``.toml`` (simple form).

    Args:
        path: the file.
        timezone: IANA zone; overrides the one the file names.

    Raises:
        ConfigError: the file is not a tariff this model supports.
        OSError: the file cannot be read.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() == ".toml":
            doc: Any = tomllib.loads(text, parse_float=Decimal)
        else:
            doc = json.loads(text, parse_float=Decimal)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: not a readable tariff file: {exc}") from None
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{p}: a tariff file holds one object")
    return tariff_from_dict(doc, timezone)
