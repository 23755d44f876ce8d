"""Meter readings between 1.5 and 1.6.

1.5 (OCPP 1.5 §6.14 MeterValue): ``{timestamp, value[1..*]}``, each reading
an element whose *text* is the value and whose *attributes* are context,
format, measurand, location and unit. 1.6: ``{timestamp, sampledValue[]}``,
each sample an object with the same fields as children plus ``phase``. The
unit names Amp/Volt became A/V. Going down, a sample whose measurand, unit
or location 1.5 cannot express is dropped (with a note), and a meter value
left without samples is dropped too (1.5 requires at least one reading).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.soap15.lift_tables import (
    CONTEXT_DOWN,
    LOCATION_DOWN,
    MEASURAND_DOWN,
    UNIT_DOWN,
    UNIT_UP,
)

Lossy = Callable[[str], None]

_DOWN_TABLES: tuple[tuple[str, EnumMap], ...] = (
    ("context", CONTEXT_DOWN),
    ("measurand", MEASURAND_DOWN),
    ("location", LOCATION_DOWN),
    ("unit", UNIT_DOWN),
)


def sample_up(reading: dict[str, Any]) -> dict[str, Any]:
    """One 1.5 reading as a 1.6 sampledValue (lossless: 1.6 is a superset)."""
    out = dict(reading)
    if "unit" in out:
        out["unit"] = UNIT_UP(out["unit"])[0]
    return out


def meter_values_up(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """1.5 MeterValue items as 1.6 meterValue items."""
    return [
        {"timestamp": mv["timestamp"], "sampledValue": [sample_up(r) for r in mv.get("value", [])]}
        for mv in values
    ]


def sample_down(sample: dict[str, Any], lossy: Lossy) -> dict[str, Any] | None:
    """One 1.6 sampledValue as a 1.5 reading, or None if 1.5 cannot hold it."""
    out = dict(sample)
    if out.pop("phase", None) is not None:
        lossy(f"phase {sample['phase']} dropped (1.5 readings have no phase)")
    for name, table in _DOWN_TABLES:
        if name not in out:
            continue
        try:
            out[name], was_lossy = table(out[name])
        except TranslationError:
            lossy(f"sample dropped: 1.5 has no {name} {sample[name]!r}")
            return None
        if was_lossy:
            lossy(f"{name} {sample[name]} became {out[name]}")
    return out


def meter_values_down(values: list[dict[str, Any]], lossy: Lossy) -> list[dict[str, Any]]:
    """1.6 meterValue items as 1.5 MeterValue items."""
    out = []
    for mv in values:
        readings = [
            r for r in (sample_down(s, lossy) for s in mv.get("sampledValue", [])) if r is not None
        ]
        if readings:
            out.append({"timestamp": mv["timestamp"], "value": readings})
        else:
            lossy(f"meter value at {mv['timestamp']} dropped: no sample 1.5 can express")
    return out
