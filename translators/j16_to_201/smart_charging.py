"""Smart charging: SetChargingProfile, ClearChargingProfile, GetCompositeSchedule.

Shape (mapping-research §3.7; 1.6 §5.16/§7.7-7.13, 2.0.1 K01/K10/K08):

- 2.0.1 ``{evseId, chargingProfile{id, ..., transactionId: str,
  chargingSchedule[1..3]{id, ...}}}`` -> 1.6 ``{connectorId,
  csChargingProfiles{chargingProfileId, ..., transactionId: int,
  chargingSchedule{...}}}``. evseId N is connector N (0: the station).
- Only one schedule fits 1.6: the first is sent; more schedules (ISO 15118
  alternatives offered to the EV), ``salesTariff`` and ``phaseToUse`` are
  dropped with a lossy note. The schedule ``id`` has no 1.6 field; going up
  it is rebuilt from the profile id (the CitrineOS convention), so only an
  id that differs from the profile id is counted lossy.
- 1.6 limits are multiples of 0.1 (schema ``multipleOf``): finer 2.0.1
  limits are rounded, lossy.
- The 2.0.1 string transactionId becomes the 1.6 integer through the state;
  an unknown one is answered Rejected by the bridge.
- ChargingStationExternalConstraints has no 1.6 purpose: SetChargingProfile
  of one is refused NotSupported; clearing them clears nothing (Unknown).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201 import shadow
from ocppkit.translators.j16_to_201.command_kit import (
    connector_of_evse,
    local_answer,
    lossy,
    mapped,
    on_result,
    refuse,
    reply,
    same_values,
    send_down,
    status_info,
    status_result,
    strip_custom,
    to_tenths,
)
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, Step
from ocppkit.translators.pending import Pending

_REF = "mapping-research §3.7; 1.6 §7.14 ChargingProfilePurposeType; 2.0.1 K01"
PURPOSE_DOWN = EnumMap(
    "chargingProfilePurpose (2.0.1 -> 1.6)",
    {
        "ChargingStationMaxProfile": "ChargePointMaxProfile",
        "TxDefaultProfile": "TxDefaultProfile",
        "TxProfile": "TxProfile",
    },
    reference=_REF + " (ChargingStationExternalConstraints: no 1.6 value, refused)",
)
PURPOSE_UP = EnumMap(
    "chargingProfilePurpose (1.6 -> 2.0.1)",
    {v: k for k, v in PURPOSE_DOWN.rows.items()},
    reference=_REF,
)
RATE_UNIT = same_values("chargingRateUnit", ("A", "W"), "1.6 §7.11; 2.0.1 ChargingRateUnitEnumType")
PROFILE_KIND = same_values(
    "chargingProfileKind", ("Absolute", "Recurring", "Relative"), "1.6 §7.13; 2.0.1 K01"
)
RECURRENCY = same_values("recurrencyKind", ("Daily", "Weekly"), "1.6 §7.41; 2.0.1 K01")
# 1.6 ChargingProfileStatus has NotSupported (the charger lacks smart
# charging); 2.0.1 has only Accepted/Rejected, so it becomes Rejected.
PROFILE_STATUS = EnumMap(
    "SetChargingProfile status",
    {"Accepted": "Accepted", "Rejected": "Rejected", "NotSupported": "Rejected"},
    lossy=frozenset({"NotSupported"}),
    reference="1.6 §7.12 ChargingProfileStatus; 2.0.1 K01 ChargingProfileStatusEnumType",
)
CLEAR_STATUS = same_values(
    "ClearChargingProfile status", ("Accepted", "Unknown"), "1.6 §7.10; 2.0.1 K10"
)
COMPOSITE_STATUS = same_values(
    "GetCompositeSchedule status", ("Accepted", "Rejected"), "1.6 §7.16; 2.0.1 K08"
)
TABLES = (
    PURPOSE_DOWN,
    PURPOSE_UP,
    RATE_UNIT,
    PROFILE_KIND,
    RECURRENCY,
    PROFILE_STATUS,
    CLEAR_STATUS,
    COMPOSITE_STATUS,
)

_COPIED = ("stackLevel", "chargingProfileKind", "recurrencyKind", "validFrom", "validTo")


def _period_down(
    state: BridgeState, action: str, period: dict[str, Any], notes: list[Note]
) -> dict[str, Any]:
    limit = to_tenths(period["limit"])
    if limit is None:
        raise TranslationError(f"limit {period['limit']!r} has no 1.6 value")
    if limit != period["limit"]:
        notes.append(lossy(state, action, "limit", f"{period['limit']} -> {limit}"))
    out: dict[str, Any] = {"startPeriod": period["startPeriod"], "limit": limit}
    if "numberPhases" in period:
        out["numberPhases"] = period["numberPhases"]
    if "phaseToUse" in period:
        notes.append(lossy(state, action, "phaseToUse", "1.6 has no phaseToUse; dropped"))
    return out


def schedule_down(
    state: BridgeState, action: str, schedule: dict[str, Any], notes: list[Note]
) -> dict[str, Any]:
    """A 2.0.1 ChargingScheduleType as a 1.6 ChargingSchedule (lossy notes appended).

    Raises:
        TranslationError: a limit 1.6 cannot express.
    """
    out: dict[str, Any] = {"chargingRateUnit": schedule["chargingRateUnit"]}
    for name in ("duration", "startSchedule"):
        if name in schedule:
            out[name] = schedule[name]
    out["chargingSchedulePeriod"] = [
        _period_down(state, action, p, notes) for p in schedule["chargingSchedulePeriod"]
    ]
    if "minChargingRate" in schedule:
        rate = to_tenths(schedule["minChargingRate"])
        if rate is None:
            raise TranslationError(f"minChargingRate {schedule['minChargingRate']!r}")
        if rate != schedule["minChargingRate"]:
            notes.append(lossy(state, action, "minChargingRate", "rounded to 0.1"))
        out["minChargingRate"] = rate
    if "salesTariff" in schedule:
        notes.append(lossy(state, action, "salesTariff", "1.6 has no sales tariff; dropped"))
    return out


def profile_down(
    state: BridgeState, action: str, profile: dict[str, Any], notes: list[Note]
) -> dict[str, Any]:
    """A 2.0.1 ChargingProfileType as a 1.6 ChargingProfile.

    Raises:
        TranslationError: a ChargingStationExternalConstraints purpose, or a
            limit 1.6 cannot express.
        LookupError: the transactionId is unknown to the bridge (callers
            answer Rejected, reason TxNotFound).
    """
    purpose, _ = PURPOSE_DOWN(profile["chargingProfilePurpose"])
    out: dict[str, Any] = {"chargingProfileId": profile["id"], "chargingProfilePurpose": purpose}
    for name in _COPIED:
        if name in profile:
            out[name] = profile[name]
    if "transactionId" in profile:
        tx = state.by_id201(profile["transactionId"])
        if tx is None:
            raise LookupError(profile["transactionId"])
        out["transactionId"] = tx.id16
    schedules = profile["chargingSchedule"]
    first = schedules[0]
    if len(schedules) > 1:
        notes.append(lossy(state, action, "chargingSchedule", f"{len(schedules) - 1} dropped"))
    if first["id"] != profile["id"]:
        notes.append(lossy(state, action, "chargingSchedule.id", "1.6 has no schedule id"))
    out["chargingSchedule"] = schedule_down(state, action, first, notes)
    return out


def profile_up(profile16: dict[str, Any], transaction_id: str | None) -> dict[str, Any]:
    """A 1.6 ChargingProfile as a 2.0.1 ChargingProfileType (for the reverse bridge).

    The schedule id is the profile id; ``transaction_id`` is the 2.0.1 id of
    the 1.6 ``transactionId`` (looked up by the caller).
    """
    purpose, _ = PURPOSE_UP(profile16["chargingProfilePurpose"])
    out: dict[str, Any] = {"id": profile16["chargingProfileId"], "chargingProfilePurpose": purpose}
    for name in _COPIED:
        if name in profile16:
            out[name] = profile16[name]
    if transaction_id is not None:
        out["transactionId"] = transaction_id
    schedule = dict(profile16["chargingSchedule"])
    schedule["id"] = profile16["chargingProfileId"]
    out["chargingSchedule"] = [schedule]
    return out


def set_charging_profile(state: BridgeState, call: Call, ctx: Context) -> Step:
    """SetChargingProfile (2.0.1 K01) -> SetChargingProfile (1.6 §5.16)."""
    profile = call.payload["chargingProfile"]
    if profile["chargingProfilePurpose"] not in PURPOSE_DOWN.rows:
        return refuse(call, "ChargingStationExternalConstraints profiles do not exist in 1.6")
    connector = connector_of_evse(call.payload["evseId"])
    if connector is None:
        info = status_info("UnknownEvse", "no 1.6 connector for this evseId")
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, "evseId")
    notes: list[Note] = []
    try:
        profile16 = profile_down(state, call.action, profile, notes)
    except LookupError:
        info = status_info("TxNotFound", "transactionId unknown to the bridge")
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, "transactionId")
    except TranslationError as exc:
        info = status_info("ValueOutOfRange", exc.reason)
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, exc.reason)
    payload = {"connectorId": connector, "csChargingProfiles": profile16}
    data = {"evseId": call.payload["evseId"], "profile": profile}
    return send_down(state, call, "SetChargingProfile", payload, data=data, notes=tuple(notes))


def _profile_set(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """SetChargingProfile.conf; an accepted profile is kept for GetChargingProfiles."""
    accepted = isinstance(answer, CallResult) and answer.payload.get("status") == "Accepted"
    if accepted and "profile" in pending.data:
        shadow.remember_profile(state, pending.data["evseId"], pending.data["profile"])
    return _PROFILE_RESULT(state, pending, answer, ctx)


def _profile_cleared(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """ClearChargingProfile.conf; an accepted clear forgets what it named."""
    if isinstance(answer, CallResult) and answer.payload.get("status") == "Accepted":
        shadow.forget_profiles(state, pending.data.get("criteria", {}))
    return _CLEAR_RESULT(state, pending, answer, ctx)


def clear_charging_profile(state: BridgeState, call: Call, ctx: Context) -> Step:
    """ClearChargingProfile (2.0.1 K10) -> ClearChargingProfile (1.6 §5.5)."""
    payload: dict[str, Any] = {}
    if "chargingProfileId" in call.payload:
        payload["id"] = call.payload["chargingProfileId"]
    criteria = call.payload.get("chargingProfileCriteria", {})
    if "evseId" in criteria:
        connector = connector_of_evse(criteria["evseId"])
        if connector is None:
            return local_answer(call, {"status": "Unknown"}, "no 1.6 connector for evseId")
        payload["connectorId"] = connector
    if "chargingProfilePurpose" in criteria:
        purpose = criteria["chargingProfilePurpose"]
        if purpose not in PURPOSE_DOWN.rows:
            detail = "a 1.6 charger holds no ChargingStationExternalConstraints profiles"
            return local_answer(call, {"status": "Unknown"}, detail)
        payload["chargingProfilePurpose"] = PURPOSE_DOWN(purpose)[0]
    if "stackLevel" in criteria:
        payload["stackLevel"] = criteria["stackLevel"]
    data = {"criteria": strip_custom(call.payload)}
    return send_down(state, call, "ClearChargingProfile", payload, data=data)


def get_composite_schedule(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetCompositeSchedule (2.0.1 K08) -> GetCompositeSchedule (1.6 §5.7)."""
    connector = connector_of_evse(call.payload["evseId"])
    if connector is None:
        info = status_info("UnknownEvse", "no 1.6 connector for this evseId")
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, "evseId")
    payload: dict[str, Any] = {"connectorId": connector, "duration": call.payload["duration"]}
    if "chargingRateUnit" in call.payload:
        payload["chargingRateUnit"] = call.payload["chargingRateUnit"]
    data = {"evseId": call.payload["evseId"], "duration": call.payload["duration"]}
    return send_down(state, call, "GetCompositeSchedule", payload, data=data)


def _composite_up(
    state: BridgeState, pending: Pending, payload: dict[str, Any], ctx: Context
) -> Step:
    status, notes = mapped(
        state, COMPOSITE_STATUS, payload["status"], "GetCompositeSchedule", "status"
    )
    out: dict[str, Any] = {"status": status}
    schedule16 = payload.get("chargingSchedule")
    extra: list[Note] = list(notes)
    if schedule16 is not None and schedule16.get("chargingSchedulePeriod"):
        # 1.6 §7.16: scheduleStart is "the periods' start"; 2.0.1 requires it.
        start = payload.get("scheduleStart") or schedule16.get("startSchedule")
        if start is None:
            start = ctx.timestamp()
            extra.append(lossy(state, "GetCompositeSchedule", "scheduleStart", "now assumed"))
        periods = [
            {k: p[k] for k in ("startPeriod", "limit", "numberPhases") if k in p}
            for p in schedule16["chargingSchedulePeriod"]
        ]
        out["schedule"] = {
            "evseId": pending.data["evseId"],
            "duration": schedule16.get("duration", pending.data["duration"]),
            "scheduleStart": start,
            "chargingRateUnit": schedule16["chargingRateUnit"],
            "chargingSchedulePeriod": periods,
        }
        if "minChargingRate" in schedule16:
            extra.append(lossy(state, "GetCompositeSchedule", "minChargingRate", "dropped"))
    elif schedule16 is not None:
        extra.append(lossy(state, "GetCompositeSchedule", "chargingSchedule", "no periods"))
    return reply(pending, out, tuple(extra))


_PROFILE_RESULT = status_result(PROFILE_STATUS, "SetChargingProfile")
_CLEAR_RESULT = status_result(CLEAR_STATUS, "ClearChargingProfile")

CALLS = {
    "SetChargingProfile": set_charging_profile,
    "ClearChargingProfile": clear_charging_profile,
    "GetCompositeSchedule": get_composite_schedule,
}
RESULTS = {
    ("SetChargingProfile", "SetChargingProfile"): _profile_set,
    ("ClearChargingProfile", "ClearChargingProfile"): _profile_cleared,
    ("GetCompositeSchedule", "GetCompositeSchedule"): on_result(_composite_up),
}
