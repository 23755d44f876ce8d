"""GetConfiguration / ChangeConfiguration (1.6) -> GetVariables / SetVariables (2.0.1).

Keys go through the same table the forward bridge uses,
:mod:`ocppkit.translators.charger16_csms201.config_keys` (mapping research §3.9), read the
other way round: a well-known key asks its standardised 2.0.1 variable; any
other key asks ``OCPP16Config.<key>`` (that table's documented rule), which a
station that does not have it answers UnknownComponent — reported to the 1.6
CSMS as an unknown key.

GetConfiguration with no key means "all keys": the bridge asks every
readable key of the table in one GetVariables (synchronous, unlike a
GetBaseReport + NotifyReport stream) and reports those the station knows.
2.0.1 results carry no ``readonly`` flag (only NotifyReport's mutability
does): 1.6 gets ``readonly: false`` and a note.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.charger16_csms201 import config_keys
from ocppkit.translators.context import Context
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.station201_csms16.common import (
    Notes,
    local_answer,
    relay,
    relay_error,
    status_only,
)
from ocppkit.translators.station201_csms16.handlers import CallHandler, ResultHandler, Side
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.station201_csms16.tables import SET_VARIABLE_STATUS_UP

DOWN = Side.CHARGER
UP = Side.CSMS


def _address(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return config_keys.address_of(key)


def _match_key(component: dict[str, Any], variable: dict[str, Any]) -> tuple[str, ...]:
    instance = variable.get("instance")
    return (
        str(component["name"]).lower(),
        str(variable["name"]).lower(),
        str(instance).lower() if instance is not None else "",
    )


def get_configuration(state: StationState, call: Call, ctx: Context) -> Step:
    """GetConfiguration -> GetVariables for the keys asked (all table keys if none)."""
    asked: list[str] | None = call.payload.get("key")
    keys = (
        list(dict.fromkeys(asked))
        if asked
        else [row.key for row in config_keys.KEY_TABLE if not row.write_only]
    )
    write_only = [k for k in keys if config_keys.is_write_only(k)]
    readable = [k for k in keys if k not in write_only]
    if not readable:
        payload: dict[str, Any] = {}
        if write_only:
            # 1.6 security whitepaper: AuthorizationKey is never read back.
            payload["configurationKey"] = [{"key": k, "readonly": False} for k in write_only]
        return local_answer(call, payload, UP, "no key to ask the station for")
    data = []
    plan = []
    for key in readable:
        component, variable = _address(key)
        data.append({"component": component, "variable": variable})
        plan.append([key, *_match_key(component, variable)])
    out = relay(
        state,
        DOWN,
        call,
        "GetVariables",
        {"getVariableData": data},
        data={"plan": plan, "write_only": write_only, "all": not asked},
    )
    return Step(to_charger=(out,))


def get_variables_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    """GetVariablesResponse -> GetConfiguration.conf."""
    if isinstance(frame, CallError):
        return relay_error(pending, frame, UP)
    notes = Notes(state, pending.origin_action)
    by_address = {
        _match_key(r["component"], r["variable"]): r for r in frame.payload["getVariableResult"]
    }
    known: list[dict[str, Any]] = [
        {"key": k, "readonly": False} for k in pending.data["write_only"]
    ]
    unknown: list[str] = []
    for key, *address in pending.data["plan"]:
        result = by_address.get(tuple(address))
        if result is None or result["attributeStatus"] != "Accepted":
            if not pending.data["all"]:
                unknown.append(key)
            continue
        entry: dict[str, Any] = {"key": key, "readonly": False}
        if "attributeValue" in result:
            value, lossless = config_keys.value_down(
                config_keys.row_for_key(key), result["attributeValue"]
            )
            if not lossless:
                notes.lossy("value", f"{key}: an item has no 1.6 spelling")
            if len(value) > config_keys.MAX_VALUE_16:
                notes.lossy("value", f"{key}: longer than {config_keys.MAX_VALUE_16}, left out")
            else:
                entry["value"] = value
        known.append(entry)
    if len(known) > len(pending.data["write_only"]):
        notes.lossy("readonly", "2.0.1 GetVariables has no mutability: reported false")
    payload: dict[str, Any] = {}
    if known:
        payload["configurationKey"] = known
    if unknown:
        payload["unknownKey"] = unknown
    frames = (CallResult(pending.origin_id, payload),) if pending.origin_id else ()
    return notes.step(to_csms=frames)


def change_configuration(state: StationState, call: Call, ctx: Context) -> Step:
    """ChangeConfiguration -> SetVariables with one entry."""
    key: str = call.payload["key"]
    notes = Notes(state, call.action)
    component, variable = _address(key)
    value, lossless = config_keys.value_up(config_keys.row_for_key(key), call.payload["value"])
    if not lossless:
        notes.lossy("value", f"{key}: an item has no 2.0.1 spelling")
    entry = {"attributeValue": value, "component": component, "variable": variable}
    out = relay(state, DOWN, call, "SetVariables", {"setVariableData": [entry]})
    return notes.step(to_charger=(out,))


_SET_STATUS = status_only(SET_VARIABLE_STATUS_UP)


def set_variables_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    """SetVariablesResponse (one entry) -> ChangeConfiguration.conf."""
    if isinstance(frame, CallError):
        return relay_error(pending, frame, UP)
    notes = Notes(state, pending.origin_action)
    result = frame.payload["setVariableResult"][0]
    payload = _SET_STATUS({"status": result["attributeStatus"]}, notes)
    frames = (CallResult(pending.origin_id, payload),) if pending.origin_id else ()
    return notes.step(to_csms=frames)


CSMS_CALLS: dict[str, CallHandler] = {
    "GetConfiguration": get_configuration,
    "ChangeConfiguration": change_configuration,
}
STATION_RESULTS: dict[str, ResultHandler] = {
    "GetVariables": get_variables_result,
    "SetVariables": set_variables_result,
}
