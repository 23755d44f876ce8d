"""Charging profiles 2.0.1 -> 1.6 -> 2.0.1: what survives and what is counted."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from ocppkit.translators import schemas
from ocppkit.translators.charger16_csms201 import smart_charging
from ocppkit.translators.charger16_csms201.command_kit import to_tenths
from ocppkit.translators.charger16_csms201.state import BridgeState, Transaction
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.outcome import Note
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

from .test_commands_properties import from_schema

V16, V201 = OcppVersion.V16, OcppVersion.V201
_VALIDATOR = Validator()
# Fields the module docstring calls lossless (limits: when already multiples of 0.1).
LOSSLESS_PROFILE = (
    "id", "stackLevel", "chargingProfilePurpose", "chargingProfileKind", "recurrencyKind",
    "validFrom", "validTo", "transactionId",
)  # fmt: skip
LOSSLESS_SCHEDULE = ("chargingRateUnit", "duration", "startSchedule")


def _state() -> BridgeState:
    state = BridgeState()
    state.transactions["7"] = Transaction(7, "tx-7", 1, 1, "TAG", 0, "2026-01-01T00:00:00Z")
    return state


@given(from_schema(schemas.schema(V201, "SetChargingProfile", Kind.REQUEST)))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_profile_round_trip_keeps_every_lossless_field(request: dict[str, Any]) -> None:
    profile = request["chargingProfile"]
    if "transactionId" in profile:
        profile = {**profile, "transactionId": "tx-7"}
    state, notes = _state(), list[Note]()
    try:
        down = smart_charging.profile_down(state, "SetChargingProfile", profile, notes)
    except TranslationError:
        # only two reasons: a purpose 1.6 lacks, or a number too large for tenths
        first = profile["chargingSchedule"][0]
        numbers = [p["limit"] for p in first["chargingSchedulePeriod"]]
        numbers += [first["minChargingRate"]] if "minChargingRate" in first else []
        assert profile["chargingProfilePurpose"] == "ChargingStationExternalConstraints" or any(
            to_tenths(n) is None for n in numbers
        )
        return
    _VALIDATOR.validate(
        V16, "SetChargingProfile", Kind.REQUEST, {"connectorId": 1, "csChargingProfiles": down}
    )
    back = smart_charging.profile_up(down, "tx-7" if "transactionId" in down else None)
    for name in LOSSLESS_PROFILE:
        assert back.get(name) == profile.get(name), name
    first, again = profile["chargingSchedule"][0], back["chargingSchedule"][0]
    for name in LOSSLESS_SCHEDULE:
        assert again.get(name) == first.get(name), name
    for sent, came in zip(
        first["chargingSchedulePeriod"], again["chargingSchedulePeriod"], strict=True
    ):
        assert came["startPeriod"] == sent["startPeriod"]
        assert came.get("numberPhases") == sent.get("numberPhases")
        assert abs(came["limit"] - sent["limit"]) <= 0.05 + abs(sent["limit"]) * 1e-12
    # whatever was not kept is noted, and counted
    assert len(notes) == sum(state.lossy_counts.values())


def test_external_constraints_profile_has_no_1_6_purpose() -> None:
    profile = {
        "id": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationExternalConstraints",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": "A",
             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]},
        ],
    }  # fmt: skip
    try:
        smart_charging.profile_down(BridgeState(), "SetChargingProfile", profile, [])
    except TranslationError as exc:
        assert "ChargingStationExternalConstraints" in exc.reason
    else:
        raise AssertionError("ExternalConstraints must not reach a 1.6 charger")


def test_limit_finer_than_a_tenth_is_rounded_and_counted() -> None:
    notes: list[Note] = []
    state = BridgeState()
    schedule = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11.04}],
    }
    out = smart_charging.schedule_down(state, "SetChargingProfile", schedule, notes)
    assert out["chargingSchedulePeriod"][0]["limit"] == 11.0
    assert state.lossy_counts == {"SetChargingProfile.limit": 1}


def test_purpose_tables_are_inverse_of_each_other() -> None:
    for value, target in smart_charging.PURPOSE_DOWN.rows.items():
        assert smart_charging.PURPOSE_UP(target) == (value, False)
