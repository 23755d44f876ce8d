"""1.6 meter values -> 2.0.1 meter values, and the MeterValues call.

Sample conversion (mapping-research §3.5):

- ``value``: 1.6 string -> 2.0.1 number. A value that is not a finite
  decimal number cannot be carried and the sample is dropped (lossy).
- ``format`` SignedData: 2.0.1 needs signedMeterValue with signingMethod,
  encodingMethod and publicKey, none of which 1.6 sends; the sample is
  dropped (lossy) rather than invented.
- ``measurand``: same names, except Temperature and RPM which 2.0.1 does
  not have (sample dropped, lossy).
- ``unit``: 2.0.1 ``unitOfMeasure{unit, multiplier}``; k-prefixed 1.6 units
  become the base unit with multiplier 3 (the value is not rescaled, so
  nothing is rounded); Celcius (1.6's misspelling) becomes Celsius.
- ``context``, ``phase``, ``location``: same values in both versions.

MeterValues with a transactionId the bridge knows (and not yet ended) ->
TransactionEvent(Updated), triggerReason from the first sample's context
(:data:`CONTEXT_TRIGGER`); without one, with 0, with an unknown one, or one
whose transaction already ended (a charger flushing samples just after
StopTransaction) -> 2.0.1 MeterValues for the EVSE, noted.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from ocppkit.translators import engine
from ocppkit.translators.charger16_csms201.charger_kit import (
    answer_local,
    empty_answer,
    forward,
    on_answer,
)
from ocppkit.translators.charger16_csms201.command_kit import dispatch_by_origin, lossy, same_values
from ocppkit.translators.charger16_csms201.handlers import ResultHandler, Side
from ocppkit.translators.charger16_csms201.state import BridgeState, Transaction
from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.timestamps import too_fine

MEASURAND = same_values(
    "sampledValue.measurand",
    ("Energy.Active.Export.Register", "Energy.Active.Import.Register",
     "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
     "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
     "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
     "Power.Active.Export", "Power.Active.Import", "Power.Offered", "Power.Reactive.Export",
     "Power.Reactive.Import", "Power.Factor", "Current.Import", "Current.Export",
     "Current.Offered", "Voltage", "Frequency", "SoC"),
    "1.6 §7.31 Measurand; 2.0.1 MeasurandEnumType. Temperature and RPM have no 2.0.1 "
    "value: such samples are dropped (mapping-research §3.5)",
)  # fmt: skip
UNIT = EnumMap(
    "sampledValue.unit -> unitOfMeasure.unit (k-prefixed: multiplier 3)",
    {
        "Wh": "Wh", "kWh": "Wh", "varh": "varh", "kvarh": "varh", "W": "W", "kW": "W",
        "VA": "VA", "kVA": "VA", "var": "var", "kvar": "var", "A": "A", "V": "V", "K": "K",
        "Celcius": "Celsius", "Celsius": "Celsius", "Fahrenheit": "Fahrenheit",
        "Percent": "Percent", "Hertz": "Hertz",
    },
    # The misspelling cannot be told apart from Celsius once corrected.
    lossy=frozenset({"Celcius"}),
    reference="1.6 §7.46 UnitOfMeasure; 2.0.1 UnitOfMeasureType (unit <= 20, multiplier "
    "power of 10); mapping-research §3.5",
)  # fmt: skip
MULTIPLIER: dict[str, int] = {"kWh": 3, "kvarh": 3, "kW": 3, "kVA": 3, "kvar": 3}
CONTEXT = same_values(
    "sampledValue.context",
    ("Interruption.Begin", "Interruption.End", "Other", "Sample.Clock", "Sample.Periodic",
     "Transaction.Begin", "Transaction.End", "Trigger"),
    "1.6 §7.30 ReadingContext; 2.0.1 ReadingContextEnumType (identical)",
)  # fmt: skip
PHASE = same_values(
    "sampledValue.phase",
    ("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"),
    "1.6 §7.34 Phase; 2.0.1 PhaseEnumType (identical)",
)
LOCATION = same_values(
    "sampledValue.location",
    ("Body", "Cable", "EV", "Inlet", "Outlet"),
    "1.6 §7.33 Location; 2.0.1 LocationEnumType (identical)",
)
# The 1.6 charger does not say why it sent a MeterValues; the context of its
# first sample is the best evidence (mapping-research §3.2).
CONTEXT_TRIGGER = EnumMap(
    "MeterValues context -> TransactionEvent(Updated).triggerReason",
    {
        "Sample.Periodic": "MeterValuePeriodic",
        "Sample.Clock": "MeterValueClock",
        "Trigger": "Trigger",
        "Interruption.Begin": "AbnormalCondition",
        "Interruption.End": "AbnormalCondition",
        "Transaction.Begin": "MeterValuePeriodic",
        "Transaction.End": "MeterValuePeriodic",
        "Other": "MeterValuePeriodic",
    },
    reference="heuristic, mapping-research §3.2 (1.6 does not carry a trigger)",
)

TABLES: tuple[EnumMap, ...] = (MEASURAND, UNIT, CONTEXT, PHASE, LOCATION, CONTEXT_TRIGGER)

# (1.6 action, 2.0.1 action) of the calls :func:`meter_values` sends: built only
# from the rows of the tables above (every target a 2.0.1 enum value), finite
# numbers, the validated call's own date-times and the transaction's id and
# seqNo, so a schema-valid 1.6 MeterValues always becomes a schema-valid 2.0.1
# call. tests/translators/charger16_csms201/test_meter_values_proven.py holds
# it over drawn payloads; a caller that validated the 1.6 call (ocppkit
# translate) need not validate these again.
SCHEMA_SAFE: frozenset[tuple[str, str]] = frozenset(
    {("MeterValues", "TransactionEvent"), ("MeterValues", "MeterValues")}
)

# One pass: group 1 is an integer that fits 64 bits, else a decimal number.
_NUMBER = re.compile(
    r"\s*(?:([+-]?\d{1,18})|([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))\s*", re.ASCII
)
_MEASURANDS = MEASURAND.rows
_UNITS = UNIT.rows
_CONTEXTS = CONTEXT.rows
_PHASES = PHASE.rows
_LOCATIONS = LOCATION.rows
_TRIGGERS = CONTEXT_TRIGGER.rows
_CSMS = Side.CSMS


def number(text: str) -> int | float | None:
    """A 1.6 sampled value as a JSON number, or None if it is not a finite decimal."""
    if text.isdigit() and text.isascii() and len(text) <= 18:  # the common case, fast
        return int(text)
    if text.isascii() and len(text) <= 18 and text.replace(".", "", 1).isdigit():
        return float(text)  # a plain decimal ("230.4"): finite, no regex needed
    found = _NUMBER.fullmatch(text)
    if found is None:
        return None
    if found.group(1) is not None:
        return int(found.group(1))
    value = float(found.group(2))
    return value if math.isfinite(value) else None


@cache
def _fields(
    measurand: str | None,
    context: str | None,
    phase: str | None,
    location: str | None,
    unit: str | None,
) -> tuple[dict[str, Any] | None, str, str]:
    """The converted non-value fields of a sample, memoised (the hot path).

    Returns ``(fields or None if the sample cannot be carried, lossy field,
    lossy detail)``; the field is "" when nothing is lost.
    """
    out: dict[str, Any] = {}
    if measurand is not None:
        target = _MEASURANDS.get(measurand)
        if target is None:
            return None, "sampledValue.measurand", f"{measurand} dropped"
        out["measurand"] = target
    if context is not None:
        out["context"] = _CONTEXTS[context]
    if phase is not None:
        out["phase"] = _PHASES[phase]
    if location is not None:
        out["location"] = _LOCATIONS[location]
    lost = ("", "")
    if unit is not None:
        base, was_lossy = UNIT(unit)
        if was_lossy:
            lost = ("sampledValue.unit", f"{unit} -> {base}")
        multiplier = MULTIPLIER.get(unit)
        out["unitOfMeasure"] = (
            {"unit": base} if multiplier is None else {"unit": base, "multiplier": multiplier}
        )
    return out, *lost


# The fields of the samples carried as they are (nothing lost), by their five
# source fields: :func:`_fields`' common answer, one dict lookup. Bounded by the
# 1.6 enums' combinations (the call was validated, or _fields refused the sample).
_PLAIN: dict[tuple[str | None, ...], dict[str, Any]] = {}


def convert_sample(
    state: BridgeState, sv: dict[str, Any], action: str, notes: list[Note]
) -> dict[str, Any] | None:
    """One 1.6 SampledValue as a 2.0.1 SampledValueType, or None (dropped, noted)."""
    if sv.get("format") == "SignedData":
        notes.append(lossy(state, action, "sampledValue.format", "SignedData sample dropped"))
        return None
    get = sv.get
    fields, lost, detail = _fields(
        get("measurand"), get("context"), get("phase"), get("location"), get("unit")
    )
    if lost:
        notes.append(lossy(state, action, lost, detail))
    if fields is None:
        return None
    value = number(sv["value"])
    if value is None:
        notes.append(lossy(state, action, "sampledValue.value", f"{sv['value'][:40]!r} dropped"))
        return None
    # A fresh dict per sample; its unitOfMeasure is shared with the memo:
    # translated payloads are treated as immutable (they are only sent).
    return {"value": value, **fields}


def convert_meter_values(
    state: BridgeState, values: list[dict[str, Any]], action: str, notes: list[Note]
) -> list[dict[str, Any]]:
    """1.6 MeterValue list -> 2.0.1 MeterValueType list (empty entries dropped)."""
    out = []
    for mv in values:
        samples = []
        for sv in mv.get("sampledValue", ()):
            get = sv.get
            key = (get("measurand"), get("context"), get("phase"), get("location"), get("unit"))
            fields = _PLAIN.get(key)
            if fields is None:
                found, lost, _ = _fields(*key)
                if found is not None and not lost:
                    fields = _PLAIN[key] = found
            value = sv["value"]
            if (
                fields is not None
                and "format" not in sv
                and value.isascii()
                and len(value) <= 18
                and value.replace(".", "", 1).isdigit()
            ):
                # The common sample, inline: a plain decimal, nothing lost.
                samples.append({"value": float(value) if "." in value else int(value), **fields})
                continue
            sample = convert_sample(state, sv, action, notes)
            if sample is not None:
                samples.append(sample)
        if samples:
            out.append({"timestamp": mv["timestamp"], "sampledValue": samples})
    return out


def updated_event(tx: Transaction, timestamp: str, trigger: str) -> dict[str, Any]:
    """A TransactionEvent(Updated) of ``tx``, taking its next seqNo."""
    event = {
        "eventType": "Updated",
        "timestamp": timestamp,
        "triggerReason": trigger,
        "seqNo": tx.seq_no,
        "transactionInfo": {"transactionId": tx.id201},
    }
    tx.seq_no += 1
    return event


def meter_values(state: BridgeState, call: Call, ctx: Context) -> Step:
    """MeterValues -> TransactionEvent(Updated) or MeterValues (see module docstring)."""
    p = call.payload
    notes: list[Note] = []
    values = convert_meter_values(state, p["meterValue"], call.action, notes)
    tid = p.get("transactionId")
    tx = state.transaction(tid) if tid else None
    if tx is not None and not tx.ended:
        if not values:
            return _nothing_left(call, notes)
        first = p["meterValue"][0]["sampledValue"][0].get("context", "Sample.Periodic")
        trigger = _TRIGGERS.get(first)  # the table's rows, no lossy row: CONTEXT_TRIGGER(first)
        event = updated_event(
            tx,
            values[0]["timestamp"],
            trigger if trigger is not None else CONTEXT_TRIGGER(first)[0],
        )
        event["meterValue"] = values
        step = engine.pass_on(state, _CSMS, call, "TransactionEvent", event, notes=notes)
        return _dates_checked(step, values, tx.id201)
    if tx is not None:
        notes.append(lossy(state, call.action, "transactionId", "transaction already ended"))
    elif tid:
        notes.append(Note(NoteKind.ORPHAN, call.action, f"unknown transactionId {tid}"))
    if not values:
        return _nothing_left(call, notes)
    payload = {"evseId": p["connectorId"], "meterValue": values}
    return _dates_checked(forward(state, call, "MeterValues", payload, notes=notes), values)


def _dates_checked(step: Step, values: list[dict[str, Any]], tx_id: str = "") -> Step:
    """``step`` marked ``csms_dates_fine`` when its meter values' timestamps are.

    Those are the only date-times of the call :func:`meter_values` sends (the
    event's own timestamp is the first of them; every other string is a table
    row or ``tx_id``, the transaction's id, looked at too), so one look at each
    spares the engine's walk over the whole payload. test_meter_values_proven.py
    holds it.
    """
    if too_fine(tx_id):
        return step
    for mv in values:
        if too_fine(mv["timestamp"]):
            return step  # the engine cuts it, and notes the cut
    step.csms_dates_fine = True  # the step was just built here: no one else holds it
    return step


def _nothing_left(call: Call, notes: list[Note]) -> Step:
    # Every sample was dropped: nothing to send, but the charger must not retry.
    step = answer_local(call, {}, NoteKind.LOCAL_ANSWER, "no sample 2.0.1 can carry")
    return Step(step.to_charger, step.to_csms, (*notes, *step.notes))


RESULTS: dict[str, ResultHandler] = {
    "MeterValues": dispatch_by_origin({"MeterValues": on_answer(empty_answer)})
}
