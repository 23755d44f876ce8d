"""Meter-value conversion at its edges, and the shape of the mapping tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ocppkit.translators.outcome import NoteKind
from ocppkit.translators.station201_csms16 import TABLES, StationState
from ocppkit.translators.station201_csms16.common import Notes
from ocppkit.translators.station201_csms16.meter import decimal_text, meter_values_up, register_wh
from ocppkit.translators.station201_csms16.tables import STOP_REASON_UP

T = "2026-03-01T12:00:00Z"


def one(sample: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"timestamp": T, "sampledValue": [sample]}]


def convert(sample: dict[str, Any], action: str = "MeterValues") -> tuple[list[Any], Notes]:
    notes = Notes(StationState(), action)
    return meter_values_up(one(sample), notes, action), notes


@pytest.mark.parametrize(
    ("sample", "value", "unit"),
    [
        ({"value": 1.5, "unitOfMeasure": {"unit": "kWh", "multiplier": 3}}, "1500", "kWh"),
        ({"value": 230, "unitOfMeasure": {"unit": "V", "multiplier": -1}}, "23", "V"),
        ({"value": 0.1, "unitOfMeasure": {"unit": "A"}}, "0.1", "A"),
        ({"value": 50, "unitOfMeasure": {"unit": "Hz"}}, "50", "Hertz"),
        ({"value": 12}, "12", None),  # no unitOfMeasure: both versions default to Wh
    ],
    ids=["kWh-times-1000", "decivolts", "float-kept-exact", "Hz-is-Hertz", "default-Wh"],
)
def test_sample_value_is_rescaled_exactly_into_a_16_unit(
    sample: dict[str, Any], value: str, unit: str | None
) -> None:
    (mv,), notes = convert(sample)
    (out,) = mv["sampledValue"]
    assert out["value"] == value
    assert out.get("unit") == unit
    assert notes.items == []


def test_hertz_is_dropped_from_stop_transaction_whose_enum_lacks_it() -> None:
    values, notes = convert({"value": 50, "unitOfMeasure": {"unit": "Hz"}}, "StopTransaction")
    assert values == []
    assert notes.items[0].kind is NoteKind.LOSSY
    assert notes.state.lossy_counts == {"StopTransaction.sampledValue.unit": 1}


@pytest.mark.parametrize(
    "sample",
    [
        {"value": 1, "measurand": "Energy.Apparent.Net"},
        {"value": 1, "unitOfMeasure": {"unit": "dBm"}},
        {"value": 1, "unitOfMeasure": {"unit": "W", "multiplier": 31}},
    ],
    ids=["201-only-measurand", "unit-not-in-16", "absurd-multiplier"],
)
def test_sample_without_a_16_form_is_dropped_with_a_note_never_defaulted(
    sample: dict[str, Any],
) -> None:
    values, notes = convert(sample)
    assert values == []
    assert [n.kind for n in notes.items] == [NoteKind.LOSSY]


def test_signed_sample_becomes_value_and_signed_data_samples() -> None:
    signed = {"signedMeterData": "BLOB", "signingMethod": "ECDSA", "encodingMethod": "OCMF",
              "publicKey": "KEY"}  # fmt: skip
    (mv,), notes = convert({"value": 3, "context": "Transaction.End", "signedMeterValue": signed})
    assert mv["sampledValue"] == [
        {"value": "3", "context": "Transaction.End"},
        {"value": "BLOB", "context": "Transaction.End", "format": "SignedData"},
    ]
    assert notes.state.lossy_counts == {"MeterValues.signedMeterValue": 1}


def test_register_prefers_the_asked_context_and_ignores_phase_readings() -> None:
    values = [
        {
            "timestamp": T,
            "sampledValue": [
                {"value": 9.9, "unitOfMeasure": {"unit": "kWh"}, "context": "Transaction.End"},
                {"value": 5.0, "unitOfMeasure": {"unit": "kWh"}, "context": "Sample.Periodic"},
                {"value": 1.0, "unitOfMeasure": {"unit": "kWh"}, "phase": "L1"},
                {"value": 7.0, "measurand": "Power.Active.Import"},
            ],
        }
    ]
    assert register_wh(values, "Transaction.End") == (9900, False)
    assert register_wh(values, "Transaction.Begin") == (5000, False)


def test_register_rounds_half_up_to_whole_wh_and_says_so() -> None:
    assert register_wh(one({"value": 12.3455, "unitOfMeasure": {"unit": "kWh"}}), "x") == (
        12346,
        True,
    )
    assert register_wh(
        one({"value": 12, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}}), "x"
    ) == (
        12000,
        False,
    )
    assert register_wh(one({"value": 1, "unitOfMeasure": {"unit": "varh"}}), "x") == (None, False)


def test_decimal_text_uses_plain_notation_except_at_extremes() -> None:
    assert decimal_text(Decimal("1.50")) == "1.5"
    assert decimal_text(Decimal("1E+3")) == "1000"
    assert decimal_text(Decimal("1E+25")) == "1E+25"


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_every_table_names_its_source_and_its_lossy_rows_exist(table: Any) -> None:
    assert table.reference
    assert table.lossy <= set(table.rows)


def test_lossy_stop_reason_is_counted_and_lossless_one_is_not() -> None:
    notes = Notes(StationState(), "TransactionEvent")
    assert notes.enum(STOP_REASON_UP, "Remote", "stoppedReason") == "Remote"
    assert notes.enum(STOP_REASON_UP, "Timeout", "stoppedReason") == "Other"
    assert notes.state.lossy_counts == {"TransactionEvent.stoppedReason": 1}
    assert STOP_REASON_UP.is_lossless("Remote") and not STOP_REASON_UP.is_lossless("Timeout")
