"""Meter values, 2.0.1 -> 1.6 (mapping research §3.5).

2.0.1 samples carry a JSON number and ``unitOfMeasure{unit, multiplier}``;
1.6 samples carry a decimal string and a unit from a closed enum. The value is
rescaled by ``10**multiplier`` into the named unit with decimal arithmetic
(never binary floats: a register must not gain or lose a watt-hour on the
way). Samples 1.6 cannot express are dropped with a note, never defaulted:
2.0.1-only measurands, units outside the 1.6 enum, absurd multipliers.
A signed sample becomes two 1.6 samples: the number, and the signed blob as
``format: SignedData`` (signingMethod, encodingMethod, publicKey have no 1.6
field).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ocppkit.translators.station201_csms16.common import Notes, put
from ocppkit.translators.station201_csms16.tables import MEASURAND_UP, UNIT_UP

REGISTER = "Energy.Active.Import.Register"
MAX_MULTIPLIER = 30  # beyond this no meter is meant; keeps Decimal in range
# Where a 1.6 sample may not say Hertz: StopTransaction.json's unit enum
# lacks it (only MeterValues.json has it, mapping research §3.5).
_NO_HERTZ_ACTIONS = frozenset({"StopTransaction"})
_WH_PER_UNIT = {"Wh": 0, "kWh": 3}


def _scaled(value: float | int, multiplier: int) -> Decimal:
    # repr() of a float is the shortest text that reads back to it: the
    # decimal the station most likely meant.
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number.scaleb(multiplier)


def decimal_text(number: Decimal) -> str:
    """A 1.6 decimal string: plain notation unless the exponent is extreme."""
    number = number.normalize()
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -20 <= exponent <= 20:
        return format(number, "f")
    return str(number)


def _sample_up(sv: dict[str, Any], notes: Notes, action: str) -> list[dict[str, Any]]:
    measurand = sv.get("measurand")
    if measurand is not None and measurand not in MEASURAND_UP.rows:
        notes.lossy("sampledValue.measurand", f"{measurand} has no 1.6 value; sample dropped")
        return []
    unit_of_measure = sv.get("unitOfMeasure")
    unit = (unit_of_measure or {}).get("unit", "Wh")  # 2.0.1 default: Wh
    multiplier = (unit_of_measure or {}).get("multiplier", 0)
    unit16 = UNIT_UP.rows.get(unit)
    if unit16 is None or (unit16 == "Hertz" and action in _NO_HERTZ_ACTIONS):
        notes.lossy("sampledValue.unit", f"{unit!r} has no 1.6 {action} value; sample dropped")
        return []
    if abs(multiplier) > MAX_MULTIPLIER:
        notes.lossy("sampledValue.multiplier", f"{multiplier} out of range; sample dropped")
        return []
    out: dict[str, Any] = {"value": decimal_text(_scaled(sv["value"], multiplier))}
    for key in ("context", "measurand", "phase", "location"):
        put(out, key, sv.get(key))
    if unit_of_measure is not None:
        out["unit"] = unit16
    samples = [out]
    signed = sv.get("signedMeterValue")
    if signed is not None:
        blob = {k: v for k, v in out.items() if k != "value"}
        blob.update(value=signed["signedMeterData"], format="SignedData")
        samples.append(blob)
        notes.lossy("signedMeterValue", "signingMethod, encodingMethod, publicKey dropped")
    return samples


def meter_values_up(
    meter_values: list[dict[str, Any]], notes: Notes, action: str
) -> list[dict[str, Any]]:
    """2.0.1 MeterValueType list -> 1.6 MeterValue list for ``action``.

    A meterValue left with no sample is dropped (1.6 requires at least one).
    """
    out: list[dict[str, Any]] = []
    for mv in meter_values:
        samples = [s for sv in mv["sampledValue"] for s in _sample_up(sv, notes, action)]
        if samples:
            out.append({"timestamp": mv["timestamp"], "sampledValue": samples})
    return out


def register_wh(meter_values: list[dict[str, Any]], context: str) -> tuple[int | None, bool]:
    """The Energy.Active.Import.Register reading in whole Wh, and whether it was rounded.

    Prefers a sample with ``context`` (Transaction.Begin / Transaction.End);
    otherwise the last total (phase-less) register reading of any context.
    Only Wh and kWh readings count.
    """
    best: tuple[Decimal, bool] | None = None
    for mv in meter_values:
        for sv in mv["sampledValue"]:
            if sv.get("measurand", REGISTER) != REGISTER or "phase" in sv:
                continue
            uom = sv.get("unitOfMeasure") or {}
            shift = _WH_PER_UNIT.get(uom.get("unit", "Wh"))
            multiplier = uom.get("multiplier", 0)
            if shift is None or abs(multiplier) > MAX_MULTIPLIER:
                continue
            wh = _scaled(sv["value"], multiplier + shift)
            preferred = sv.get("context") == context
            if best is None or preferred or not best[1]:
                best = (wh, preferred)
    if best is None:
        return None, False
    whole = best[0].to_integral_value(rounding=ROUND_HALF_UP)
    return int(whole), whole != best[0]
