"""Tariffs: OCPI 2.2.1 and simple-form parsing, and session costs checked by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.toolkit.tariff import (
    Dimension,
    cost_of_session,
    load_tariff,
    tariff_from_ocpi,
    tariff_from_simple,
)
from ocppkit.translators.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
AMS = ZoneInfo("Europe/Amsterdam")
D = Decimal


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def steady(start: datetime, hours: float, kw: float) -> list[tuple[datetime, Decimal]]:
    """Two register samples: constant power for ``hours``."""
    return [(start, D(0)), (start + timedelta(hours=hours), D(str(kw * hours * 1000)))]


SIMPLE = {
    "currency": "EUR",
    "timezone": "Europe/Amsterdam",
    "vat_percent": 21,
    "energy_per_kwh": D("0.30"),
    "session_fee": D("0.50"),
}


def test_energy_and_session_fee_with_vat_rounded_half_up_once() -> None:
    tariff = tariff_from_simple(SIMPLE)
    start = utc(2026, 3, 2, 10)
    cost = cost_of_session(tariff, start, start + timedelta(hours=1), meter=steady(start, 1, 10))
    # 10 kWh x 0.30 = 3.00; flat 0.50; VAT 21% of 3.50 = 0.735 -> 0.74.
    assert (cost.energy, cost.flat, cost.time, cost.parking) == (D("3.00"), D("0.50"), D(0), D(0))
    assert cost.vat == D("0.74")
    assert cost.total == D("4.24") and cost.excl_vat == D("3.50")
    assert cost.currency == "EUR" and cost.energy_wh == D(10000)


def test_time_of_use_period_prices_energy_after_the_local_boundary() -> None:
    tariff = tariff_from_simple(
        {
            **SIMPLE,
            "vat_percent": None,
            "session_fee": None,
            "periods": [
                {
                    "days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
                    "start": "17:00",
                    "end": "21:00",
                    "energy_per_kwh": D("0.45"),
                }
            ],
        }
    )
    # Monday 16:30-17:30 CET (15:30-16:30 UTC) at 11 kW: 5.5 kWh each side of
    # 17:00 local: 5.5 x 0.30 + 5.5 x 0.45 = 1.65 + 2.475 = 4.125 -> 4.13.
    monday = datetime(2026, 3, 2, 16, 30, tzinfo=AMS)
    cost = cost_of_session(tariff, monday, monday + timedelta(hours=1), meter=steady(monday, 1, 11))
    assert cost.energy == D("4.13") and cost.vat == 0 and cost.total == D("4.13")
    # The same hour on a Saturday has no peak period: 11 x 0.30.
    saturday = datetime(2026, 3, 7, 16, 30, tzinfo=AMS)
    cost = cost_of_session(
        tariff, saturday, saturday + timedelta(hours=1), meter=steady(saturday, 1, 11)
    )
    assert cost.energy == D("3.30")


def test_period_starting_inside_the_spring_forward_gap_starts_at_the_jump() -> None:
    # 2026-03-29 in Amsterdam: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    # Local 02:30-04:00 costs 1.00/kWh, else free. At 1 kW from 00:00 to
    # 02:00 UTC, local time is >= 02:30 from 01:00 UTC (03:00 CEST) until
    # 02:00 UTC (04:00 CEST): 1 kWh.
    tariff = tariff_from_simple(
        {
            "currency": "EUR",
            "timezone": "Europe/Amsterdam",
            "energy_per_kwh": 0,
            "periods": [{"start": "02:30", "end": "04:00", "energy_per_kwh": 1}],
        }
    )
    start = utc(2026, 3, 29, 0)
    cost = cost_of_session(tariff, start, utc(2026, 3, 29, 2), meter=steady(start, 2, 1))
    assert cost.energy == D("1.00")


def test_idle_fee_counts_only_after_the_grace_period() -> None:
    tariff = tariff_from_simple(
        {
            "currency": "EUR",
            "energy_per_kwh": D("0.30"),
            "parking_per_hour": D("6.00"),
            "parking_grace_minutes": 30,
        }
    )
    start = utc(2026, 3, 2, 10)
    meter = [
        (start, 0),
        (utc(2026, 3, 2, 11), 7000),  # 7 kWh in the first hour
        (utc(2026, 3, 2, 13), 7000),  # then idle for 2 h
    ]
    cost = cost_of_session(tariff, start, utc(2026, 3, 2, 13), meter=meter)
    # 7 x 0.30 = 2.10; idle 2 h - 30 min grace = 1.5 h x 6.00 = 9.00.
    assert (cost.energy, cost.parking) == (D("2.10"), D("9.00"))
    assert cost.parking_seconds == 5400 and cost.total == D("11.10")


def test_idle_time_within_the_grace_period_is_free() -> None:
    tariff = tariff_from_simple(
        {"currency": "EUR", "parking_per_hour": 6, "parking_grace_minutes": 30}
    )
    start = utc(2026, 3, 2, 10)
    meter = [(start, 0), (utc(2026, 3, 2, 11), 7000)]
    cost = cost_of_session(tariff, start, utc(2026, 3, 2, 11, 29), meter=meter)
    assert cost.parking == 0 and cost.total == 0


# OCPI 2.2.1 mod_tariffs, "Example Tariff to explain the step_size when
# switching from one TariffElement to another" (our own encoding of it).
STEP_TARIFF = {
    "currency": "EUR",
    "elements": [
        {
            "price_components": [{"type": "TIME", "price": 1.20, "step_size": 1800}],
            "restrictions": {"end_time": "17:00"},
        },
        {
            "price_components": [{"type": "TIME", "price": 2.40, "step_size": 900}],
            "restrictions": {"start_time": "17:00"},
        },
        {
            "price_components": [{"type": "PARKING_TIME", "price": 1.00, "step_size": 900}],
            "restrictions": {"end_time": "20:00"},
        },
    ],
}


@pytest.mark.parametrize(
    ("plug_in", "charge_min", "park_min", "expected"),
    [
        # #1: 5 min at 1.20/h (0.10) + 5 min at 2.40/h rounded to a 15 min
        # total (10 min billed, 0.40); the 2 min parking fall in the extra.
        ((16, 55), 10, 2, D("0.50")),
        # #2: 25 min at 1.20/h (0.50) + 10 min at 2.40/h, total rounded to
        # 45 min (20 min billed, 0.80).
        ((16, 35), 35, 0, D("1.30")),
        # Free-of-charge example: 10 min at 2.40/h rounded to 15 (0.60);
        # parking after 20:00 has no price component.
        ((19, 55), 10, 2, D("0.60")),
    ],
    ids=["switch-element-1", "switch-element-2", "switch-to-free"],
)
def test_step_size_follows_the_ocpi_worked_examples(
    plug_in: tuple[int, int], charge_min: int, park_min: int, expected: Decimal
) -> None:
    tariff = tariff_from_ocpi(STEP_TARIFF, timezone="UTC")
    start = utc(2026, 3, 2, *plug_in)
    end_charge = start + timedelta(minutes=charge_min)
    cost = cost_of_session(
        tariff,
        start,
        end_charge + timedelta(minutes=park_min),
        charging=[(start, end_charge)],
    )
    assert cost.time + cost.parking == expected
    assert cost.parking == 0


def test_parking_time_is_rounded_up_to_its_step_size() -> None:
    tariff = tariff_from_ocpi(STEP_TARIFF, timezone="UTC")
    start = utc(2026, 3, 2, 18)
    # 15 min charging (exactly one step), then 8 min parked -> billed 15 min.
    end_charge = start + timedelta(minutes=15)
    cost = cost_of_session(
        tariff, start, end_charge + timedelta(minutes=8), charging=[(start, end_charge)]
    )
    assert cost.time == D("0.60")
    assert cost.parking_seconds == 900 and cost.parking == D("0.25")


@pytest.mark.parametrize(
    ("step", "billed_wh", "money"),
    # OCPI PriceComponent note: 115.2 Wh at 0.25/kWh is billed as 116 Wh
    # (step 1), 125 Wh (step 25) or 500 Wh (step 500).
    [(1, 116, D("0.03")), (25, 125, D("0.03")), (500, 500, D("0.13"))],
)
def test_energy_step_size_rounds_the_session_total_up(
    step: int, billed_wh: int, money: Decimal
) -> None:
    tariff = tariff_from_ocpi(
        {
            "currency": "EUR",
            "elements": [
                {"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": step}]}
            ],
        }
    )
    start = utc(2026, 3, 2, 8)
    meter = [(start, D("1000")), (start + timedelta(minutes=1), D("1115.2"))]
    cost = cost_of_session(tariff, start, start + timedelta(minutes=1), meter=meter)
    assert cost.energy_wh == billed_wh and cost.energy == money


def test_max_power_restriction_prices_each_part_at_its_power() -> None:
    # OCPI max_power example: 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW
    # -> 0.20 + 20.00 + 0.10 = 20.30.
    tariff = tariff_from_ocpi(
        {
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 1}],
                    "restrictions": {"max_power": 16.00},
                },
                {
                    "price_components": [{"type": "ENERGY", "price": 0.35, "step_size": 1}],
                    "restrictions": {"max_power": 32.00},
                },
                {"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}]},
            ],
        }
    )
    t0 = utc(2026, 3, 2, 9)
    meter = [
        (t0, 0),
        (t0 + timedelta(minutes=10), 1000),
        (t0 + timedelta(minutes=60), 41000),
        (t0 + timedelta(minutes=67, seconds=30), 41500),
    ]
    cost = cost_of_session(tariff, t0, t0 + timedelta(minutes=67, seconds=30), meter=meter)
    assert cost.energy == D("20.30")


def test_max_kwh_switches_price_inside_a_meter_interval() -> None:
    tariff = tariff_from_ocpi(
        {
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 1}],
                    "restrictions": {"max_kwh": 10},
                },
                {"price_components": [{"type": "ENERGY", "price": 0.40, "step_size": 1}]},
            ],
        }
    )
    start = utc(2026, 3, 2, 9)
    # One 20 kWh interval: 10 x 0.20 + 10 x 0.40.
    cost = cost_of_session(tariff, start, start + timedelta(hours=2), meter=steady(start, 2, 10))
    assert cost.energy == D("6.00")


def test_min_duration_element_prices_time_after_the_threshold() -> None:
    tariff = tariff_from_ocpi(
        {
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [{"type": "TIME", "price": 6, "step_size": 1}],
                    "restrictions": {"min_duration": 3600},
                },
                {"price_components": [{"type": "TIME", "price": 1, "step_size": 1}]},
            ],
        }
    )
    start = utc(2026, 3, 2, 9)
    cost = cost_of_session(tariff, start, start + timedelta(minutes=90), energy_wh=5000)
    assert cost.time == D("4.00")  # 1 h x 1 + 0.5 h x 6


def test_per_component_vat_and_no_vat_are_distinguished() -> None:
    tariff = tariff_from_ocpi(
        {
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": 0.50, "vat": 20.0, "step_size": 1},
                        {"type": "FLAT", "price": 1.00, "step_size": 1},
                    ]
                }
            ],
        }
    )
    start = utc(2026, 3, 2, 9)
    cost = cost_of_session(tariff, start, start + timedelta(hours=1), energy_wh=3000)
    # VAT only on energy: 1.50 x 20% = 0.30; the flat fee has none.
    assert (cost.energy, cost.flat, cost.vat, cost.total) == (
        D("1.50"),
        D("1.00"),
        D("0.30"),
        D("2.80"),
    )


def test_zero_length_session_owes_only_its_session_fee() -> None:
    tariff = tariff_from_simple(SIMPLE)
    at = utc(2026, 3, 2, 9)
    cost = cost_of_session(tariff, at, at)
    assert cost.flat == D("0.50") and cost.total == D("0.61")  # 0.50 + 0.105 -> 0.11


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"restrictions": {"reservation": "RESERVATION"}}, "reservation"),
        ({"restrictions": {"min_current": 5}}, "min_current"),
        ({"restrictions": {"start_tme": "10:00"}}, "unknown restriction"),
        ({"restrictions": {"start_time": "25:00"}}, "HH:MM"),
        ({"price_components": [{"type": "SPEED", "price": 1, "step_size": 1}]}, "dimension"),
    ],
    ids=["reservation", "current", "typo", "bad-time", "bad-dimension"],
)
def test_unsupported_or_malformed_ocpi_fields_are_refused(
    change: dict[str, object], message: str
) -> None:
    element = {"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}], **change}
    with pytest.raises(ConfigError, match=message):
        tariff_from_ocpi({"currency": "EUR", "elements": [element]}, timezone="UTC")


def test_min_price_is_refused_rather_than_ignored() -> None:
    doc = {"currency": "EUR", "min_price": {"excl_vat": 1}, "elements": STEP_TARIFF["elements"]}
    with pytest.raises(ConfigError, match="min_price"):
        tariff_from_ocpi(doc, timezone="UTC")


def test_local_time_restrictions_need_a_time_zone() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        tariff_from_ocpi(STEP_TARIFF)


def test_ocpi_response_envelope_and_json_file_load(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"data": {**STEP_TARIFF, "id": "T1", "time_zone": "UTC"}}))
    tariff = load_tariff(path)
    assert tariff.id == "T1" and tariff.timezone == "UTC"
    assert tariff.elements[0].components[0].price == D("1.20")  # read as Decimal text


def test_simple_form_toml_file_loads_with_periods_first(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        'currency = "eur"\nenergy_per_kwh = 0.30\nsession_fee = 0.5\n'
        '[[periods]]\nstart = "17:00"\nend = "21:00"\nenergy_per_kwh = 0.45\n'
    )
    tariff = load_tariff(path)
    assert tariff.currency == "EUR"
    first, base = tariff.elements
    assert first.restrictions.start_time is not None
    assert first.component(Dimension.ENERGY).price == D("0.45")  # type: ignore[union-attr]
    assert base.component(Dimension.FLAT).price == D("0.5")  # type: ignore[union-attr]


def test_unknown_simple_form_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="energy_per_kw"):
        tariff_from_simple({"currency": "EUR", "energy_per_kw": 1})


@pytest.mark.parametrize("name", ["sample-tariff.toml", "sample-tariff-ocpi.json"])
def test_dataset_sample_tariffs_load(name: str) -> None:
    tariff = load_tariff(ROOT / "datasets" / "tariffs" / name)
    assert tariff.currency == "EUR" and tariff.elements


SAME_PRICE_EVERYWHERE = {
    "currency": "EUR",
    "timezone": "Europe/Amsterdam",
    "energy_per_kwh": D("0.31"),
    "time_per_hour": D("1.10"),
    "parking_per_hour": D("2.30"),
    "periods": [
        {"start": "07:15", "end": "09:45", "energy_per_kwh": D("0.31"), "time_per_hour": D("1.10")},
        {"start": "22:00", "end": "06:00", "parking_per_hour": D("2.30")},
        {"days": ["SUNDAY"], "energy_per_kwh": D("0.31")},
    ],
}


@settings(max_examples=60, deadline=None)
@given(
    start_minute=st.integers(0, 60 * 24 * 10),
    steps=st.lists(st.tuples(st.integers(1, 400), st.integers(0, 20000)), min_size=1, max_size=8),
)
def test_cutting_at_period_boundaries_conserves_energy_and_time(
    start_minute: int, steps: list[tuple[int, int]]
) -> None:
    """Periods priced like the base change nothing: every Wh and second is billed once."""
    start = utc(2026, 3, 20) + timedelta(minutes=start_minute)  # spans the DST change
    meter = [(start, D(0))]
    for minutes, wh in steps:
        meter.append((meter[-1][0] + timedelta(minutes=minutes), meter[-1][1] + wh))
    stop = meter[-1][0]
    plain = {k: v for k, v in SAME_PRICE_EVERYWHERE.items() if k != "periods"}
    cut = cost_of_session(tariff_from_simple(SAME_PRICE_EVERYWHERE), start, stop, meter=meter)
    flat = cost_of_session(tariff_from_simple(plain), start, stop, meter=meter)
    assert cut == flat
    assert cut.energy_wh == meter[-1][1]
    assert cut.charging_seconds + cut.parking_seconds == (stop - start).total_seconds()
