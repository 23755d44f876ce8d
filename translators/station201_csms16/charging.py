"""Smart charging, 1.6 CSMS -> 2.0.1 station (mapping research §3.7).

Shapes: 1.6 ``{connectorId, csChargingProfiles{chargingProfileId, ...,
chargingSchedule}}`` -> 2.0.1 ``{evseId, chargingProfile{id, ...,
chargingSchedule[1]}}``; the schedule gets the profile's id (2.0.1 requires
one; CitrineOS does the same). A TxProfile's integer transactionId becomes the
station's string id through the state. Answers back: 2.0.1 composite
schedules lose ``phaseToUse`` and are rounded to the 0.1 steps 1.6 limits
allow (``multipleOf 0.1``), toward zero.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.frames import Call
from ocppkit.translators.outcome import Step
from ocppkit.translators.station201_csms16.common import (
    Notes,
    local_answer,
    put,
    relay,
    relay_call,
    relay_result,
    status_only,
)
from ocppkit.translators.station201_csms16.handlers import CallHandler, ResultHandler, Side
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.station201_csms16.tables import (
    CLEAR_PROFILE_STATUS_UP,
    COMPOSITE_STATUS_UP,
    PROFILE_PURPOSE_DOWN,
    SET_PROFILE_STATUS_UP,
)

DOWN = Side.CHARGER
UP = Side.CSMS
MAX_PERIODS = 1024  # 2.0.1 chargingSchedulePeriod maxItems


def _schedule_down(schedule: dict[str, Any], schedule_id: int) -> dict[str, Any]:
    periods = schedule["chargingSchedulePeriod"]
    if not periods:  # 1.6 allows an empty list; 2.0.1 requires minItems 1
        raise TranslationError("a charging schedule without periods has no 2.0.1 form")
    if len(periods) > MAX_PERIODS:
        raise TranslationError(f"{len(periods)} schedule periods > 2.0.1 maximum {MAX_PERIODS}")
    out: dict[str, Any] = {"id": schedule_id}
    put(out, "startSchedule", schedule.get("startSchedule"))
    put(out, "duration", schedule.get("duration"))
    out["chargingRateUnit"] = schedule["chargingRateUnit"]
    out["chargingSchedulePeriod"] = [dict(period) for period in periods]
    put(out, "minChargingRate", schedule.get("minChargingRate"))
    return out


def profile_down(state: StationState, p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """1.6 ChargingProfile -> 2.0.1 ChargingProfileType.

    A transactionId the bridge does not know is dropped with a note (a
    RemoteStart's TxProfile names no transaction anyway, 1.6 §5.11).
    """
    out: dict[str, Any] = {
        "id": p["chargingProfileId"],
        "stackLevel": p["stackLevel"],
        "chargingProfilePurpose": notes.enum(
            PROFILE_PURPOSE_DOWN, p["chargingProfilePurpose"], "chargingProfilePurpose"
        ),
        "chargingProfileKind": p["chargingProfileKind"],
    }
    for key in ("recurrencyKind", "validFrom", "validTo"):
        put(out, key, p.get(key))
    out["chargingSchedule"] = [_schedule_down(p["chargingSchedule"], p["chargingProfileId"])]
    if "transactionId" in p:
        tx = state.by_id16(p["transactionId"])
        if tx is None:
            notes.lossy("transactionId", f"{p['transactionId']} unknown to the bridge: dropped")
        else:
            out["transactionId"] = tx.id201
    return out


def set_charging_profile(state: StationState, call: Call, ctx: Context) -> Step:
    """SetChargingProfile; a TxProfile for an unknown transaction is Rejected locally."""
    p = call.payload
    profile = p["csChargingProfiles"]
    if "transactionId" in profile and state.by_id16(profile["transactionId"]) is None:
        why = f"transaction {profile['transactionId']} unknown to the bridge"
        return local_answer(call, {"status": "Rejected"}, UP, why)
    notes = Notes(state, call.action)
    try:
        converted = profile_down(state, profile, notes)
    except TranslationError as exc:
        return local_answer(call, {"status": "Rejected"}, UP, exc.reason)
    payload = {"evseId": p["connectorId"], "chargingProfile": converted}
    out = relay(state, DOWN, call, "SetChargingProfile", payload)
    return notes.step(to_charger=(out,))


def _clear_profile(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    put(out, "chargingProfileId", p.get("id"))
    criteria: dict[str, Any] = {}
    put(criteria, "evseId", p.get("connectorId"))
    if "chargingProfilePurpose" in p:
        criteria["chargingProfilePurpose"] = notes.enum(
            PROFILE_PURPOSE_DOWN, p["chargingProfilePurpose"], "chargingProfilePurpose"
        )
    put(criteria, "stackLevel", p.get("stackLevel"))
    if criteria:
        out["chargingProfileCriteria"] = criteria
    return out


def _composite(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"duration": p["duration"], "evseId": p["connectorId"]}
    put(out, "chargingRateUnit", p.get("chargingRateUnit"))
    return out


def tenths(value: float | int, field: str, notes: Notes) -> float | int:
    """``value`` on the 0.1 grid 1.6 limits use, rounded toward zero, noting a change.

    Toward zero: a limit reported to the CSMS must never be above the one
    the station applies.
    """
    if isinstance(value, int) or float(value).is_integer():
        return value
    rounded = float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_DOWN))
    if rounded != value:
        notes.lossy(field, f"{value} rounded to {rounded}")
    return rounded


def _composite_result(p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"status": notes.enum(COMPOSITE_STATUS_UP, p["status"], "status")}
    schedule = p.get("schedule")
    if schedule is None:
        return out
    periods = []
    for period in schedule["chargingSchedulePeriod"]:
        item: dict[str, Any] = {
            "startPeriod": period["startPeriod"],
            "limit": tenths(period["limit"], "limit", notes),
        }
        put(item, "numberPhases", period.get("numberPhases"))
        if "phaseToUse" in period:
            notes.lossy("phaseToUse", "no 1.6 field")
        periods.append(item)
    out["connectorId"] = schedule["evseId"]
    out["scheduleStart"] = schedule["scheduleStart"]
    out["chargingSchedule"] = {
        "duration": schedule["duration"],
        "startSchedule": schedule["scheduleStart"],
        "chargingRateUnit": schedule["chargingRateUnit"],
        "chargingSchedulePeriod": periods,
    }
    return out


CSMS_CALLS: dict[str, CallHandler] = {
    "SetChargingProfile": set_charging_profile,
    "ClearChargingProfile": relay_call("ClearChargingProfile", _clear_profile, DOWN),
    "GetCompositeSchedule": relay_call("GetCompositeSchedule", _composite, DOWN),
}
STATION_RESULTS: dict[str, ResultHandler] = {
    "SetChargingProfile": relay_result(status_only(SET_PROFILE_STATUS_UP), UP),
    "ClearChargingProfile": relay_result(status_only(CLEAR_PROFILE_STATUS_UP), UP),
    "GetCompositeSchedule": relay_result(_composite_result, UP),
}
