"""GetVariables / SetVariables (2.0.1) <-> GetConfiguration / ChangeConfiguration (1.6).

Addresses go through :mod:`ocppkit.translators.charger16_csms201.config_keys`. Entries a
1.6 charger cannot hold are answered by the bridge with the 2.0.1 status the
spec names for them (2.0.1 B06/B05): an ``attributeType`` other than Actual
(1.6 keys have one value) -> NotSupportedAttributeType; an address with no
1.6 key -> UnknownComponent / UnknownVariable; a write-only key read ->
Rejected. Only the rest reaches the charger.

GetVariables needs one GetConfiguration with the list of keys. SetVariables
needs one ChangeConfiguration per entry (1.6 sets one key per call); they go
one after the other (OCPP-J 1.6 §4.1.1: one outstanding CALL at a time), the
queue and the results so far riding in the pending call's data.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.charger16_csms201 import config_keys
from ocppkit.translators.charger16_csms201.command_kit import (
    local_answer,
    lossy,
    on_result,
    reply,
    send_down,
    status_info,
)
from ocppkit.translators.charger16_csms201.handlers import Side, expect_answer
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending

# 1.6 ChangeConfiguration.conf status -> 2.0.1 SetVariableStatus (libocpp,
# mapping-research §3.9). 1.6 NotSupported means "the key is not supported".
CHANGE_CONFIGURATION_STATUS = EnumMap(
    "ChangeConfiguration.conf status -> SetVariableResult.attributeStatus",
    {
        "Accepted": "Accepted",
        "Rejected": "Rejected",
        "RebootRequired": "RebootRequired",
        "NotSupported": "UnknownVariable",
    },
    reference="1.6 §7.8 ConfigurationStatus; 2.0.1 SetVariableStatusEnumType; libocpp",
)

TABLES = (CHANGE_CONFIGURATION_STATUS,)


def _result(entry: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    """A Get/SetVariableResult echoing the entry's address."""
    out: dict[str, Any] = {
        "attributeStatus": status,
        "component": entry["component"],
        "variable": entry["variable"],
    }
    if "attributeType" in entry:
        out["attributeType"] = entry["attributeType"]
    out.update(extra)
    return out


def _precheck(entry: dict[str, Any]) -> tuple[config_keys.Resolved, str]:
    """Resolve an entry; ``status`` is non-empty when the bridge answers it."""
    if entry.get("attributeType", "Actual") != "Actual":
        return config_keys.Resolved(None), "NotSupportedAttributeType"
    found = config_keys.resolve(entry["component"], entry["variable"])
    return found, found.status


# -- GetVariables -------------------------------------------------------------


def get_variables(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetVariables -> GetConfiguration with the keys the entries address."""
    entries: list[dict[str, Any]] = call.payload["getVariableData"]
    plan: list[dict[str, Any]] = []
    keys: list[str] = []
    for entry in entries:
        found, status = _precheck(entry)
        if not status and found.key is not None and config_keys.is_write_only(found.key):
            status = "Rejected"
        # Each step keeps the entry's address: the answer must echo it.
        if status or found.key is None:
            plan.append({"entry": entry, "status": status})
            continue
        plan.append({"entry": entry, "key": found.key, "convert": found.row is not None})
        if found.key.lower() not in {k.lower() for k in keys}:
            keys.append(found.key)
    if not keys:
        results = [_local_get(e, p["status"]) for e, p in zip(entries, plan, strict=True)]
        return local_answer(call, {"getVariableResult": results}, "no entry has a 1.6 key")
    return send_down(state, call, "GetConfiguration", {"key": keys}, data={"plan": plan})


def _local_get(entry: dict[str, Any], status: str) -> dict[str, Any]:
    if status == "Rejected":
        info = status_info("WriteOnly", "1.6 never reads this key back")
        return _result(entry, status, attributeStatusInfo=info)
    return _result(entry, status)


def _got_configuration(
    state: BridgeState, pending: Pending, payload: dict[str, Any], _: Context
) -> Step:
    entries: list[dict[str, Any]] = []
    known = {
        str(item["key"]).lower(): item.get("value") for item in payload.get("configurationKey", [])
    }
    notes: list[Note] = []
    for step in pending.data["plan"]:
        entry = step["entry"]
        if "key" not in step:
            entries.append(_local_get(entry, step["status"]))
            continue
        key = step["key"]
        if key.lower() not in known:
            entries.append(_result(entry, "UnknownVariable"))
            continue
        raw = known[key.lower()]
        # 1.6 §7.7: a known key without a value is "not set"; 2.0.1 wants a
        # value with Accepted, so an empty string stands for it.
        value, lossless = (
            config_keys.value_up(config_keys.row_for_key(key), raw or "")
            if step["convert"]
            else (raw or "", True)
        )
        if not lossless:
            notes.append(lossy(state, "GetVariables", "attributeValue", f"{key}={raw!r}"))
        entries.append(_result(entry, "Accepted", attributeValue=value))
    return reply(pending, {"getVariableResult": entries}, tuple(notes))


# -- SetVariables -------------------------------------------------------------


def set_variables(state: BridgeState, call: Call, ctx: Context) -> Step:
    """SetVariables -> one ChangeConfiguration per entry, one at a time."""
    entries: list[dict[str, Any]] = call.payload["setVariableData"]
    results: list[dict[str, Any] | None] = []
    queue: list[dict[str, Any]] = []
    notes: list[Note] = []
    for index, entry in enumerate(entries):
        found, status = _precheck(entry)
        if status or found.key is None:
            results.append(_result(entry, status))
            continue
        value, lossless = config_keys.value_down(found.row, entry["attributeValue"])
        if not lossless:
            notes.append(lossy(state, "SetVariables", "attributeValue", f"{found.key}={value!r}"))
        if len(value) > config_keys.MAX_VALUE_16:
            info = status_info("ValueTooLong", "1.6 values hold at most 500 characters")
            results.append(_result(entry, "Rejected", attributeStatusInfo=info))
            continue
        results.append(None)
        queue.append({"index": index, "key": found.key, "value": value, "entry": entry})
    if not queue:
        done = [r for r in results if r is not None]
        return local_answer(call, {"setVariableResult": done}, "no entry has a 1.6 key")
    data = {"results": results, "queue": queue}
    return _next_change(state, call.message_id, data, ctx) + Step(notes=tuple(notes))


def _next_change(state: BridgeState, origin_id: str, data: dict[str, Any], ctx: Context) -> Step:
    head = data["queue"][0]
    call16 = Call(ctx.new_id(), "ChangeConfiguration", {"key": head["key"], "value": head["value"]})
    expect_answer(
        state, Side.CHARGER, call16, origin_action="SetVariables", origin_id=origin_id, data=data
    )
    return Step(to_charger=(call16,))


def changed_configuration(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """One ChangeConfiguration answered: record it, send the next or answer the CSMS."""
    queue = list(pending.data["queue"])
    results = list(pending.data["results"])
    head = queue.pop(0)
    notes: tuple[Note, ...] = ()
    if isinstance(answer, CallError):
        info = status_info("ChargerError", f"{answer.error_code}: {answer.error_description}")
        results[head["index"]] = _result(head["entry"], "Rejected", attributeStatusInfo=info)
        notes = (Note(NoteKind.LOCAL_ANSWER, "SetVariables", f"{head['key']}: CALLERROR"),)
    else:
        status, was_lossy = CHANGE_CONFIGURATION_STATUS(answer.payload["status"])
        results[head["index"]] = _result(head["entry"], status)
        if was_lossy:
            notes = (lossy(state, "SetVariables", "attributeStatus", answer.payload["status"]),)
    if queue and pending.origin_id is not None:
        data = {"results": results, "queue": queue}
        return _next_change(state, pending.origin_id, data, ctx) + Step(notes=notes)
    done = [r for r in results if r is not None]
    return reply(pending, {"setVariableResult": done}, notes)


CALLS = {"GetVariables": get_variables, "SetVariables": set_variables}
RESULTS = {
    ("GetConfiguration", "GetVariables"): on_result(_got_configuration),
    ("ChangeConfiguration", "SetVariables"): changed_configuration,
}
