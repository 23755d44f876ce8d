"""GetBaseReport / GetReport answered from the charger's GetConfiguration.

2.0.1 reports are asynchronous (2.0.1 B07/B08): the station answers the
request at once, then sends the report as NotifyReport calls numbered by
``seqNo``, all but the last with ``tbc: true``. The bridge does the same:
it answers Accepted itself, asks the 1.6 charger for all its keys
(GetConfiguration with no key list, 1.6 §5.8), and when they arrive turns
each key into a ReportData (address from :mod:`config_keys`, mutability from
``readonly``). The NotifyReport calls go one at a time (OCPP-J: one
outstanding CALL), the next when the CSMS has answered the previous;
:data:`CSMS_RESULTS` handles those answers.

What 1.6 cannot give: SummaryInventory (a 1.6 charger has no inventory of
components and their problems) -> status NotSupported; GetReport
``componentCriteria`` (Active/Available/Enabled/Problem are device-model
states 1.6 does not have) -> status NotSupported. A filter that addresses no
1.6 key -> EmptyResultSet. A charger that fails the GetConfiguration still
gets the report closed: one NotifyReport without reportData.

Topology (2.0.1 Part 2 Appendix "Physical components"): an unfiltered
report also describes one ``EVSE`` component (evse.id N) and one
``Connector`` component (evse.id N, connectorId 1) per 1.6 connector, the
connectors being 1..NumberOfConnectors plus any connector the charger sent
a status for. Each carries the variables the device model requires and 1.6
can fill: ``AvailabilityState`` (the last status seen, 2.0.1 spelling;
without one, no value), ``Available`` (true) and, for the connector,
``ConnectorType`` (``Unknown``: 1.6 does not say). The EVSE's ``Power``
is left out: 1.6 has no rated power to report. CSMSs build their EVSE
model from this (CitrineOS refuses reservations and profiles for an EVSE
it has not seen in a report).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201 import config_keys
from ocppkit.translators.j16_to_201.command_kit import local_answer, status_info
from ocppkit.translators.j16_to_201.handlers import Side, expect_answer
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.j16_to_201.status import CONNECTOR_STATUS
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending

# ReportData per NotifyReport. 2.0.1 has no CSMS-side limit; a modest chunk
# keeps each frame small (a 1.6 value is at most 500 characters).
REPORT_CHUNK = 20
_BASES = frozenset({"ConfigurationInventory", "FullInventory"})


def _start(
    state: BridgeState,
    call: Call,
    ctx: Context,
    filters: list[dict[str, Any]] | None,
    keys: list[str],
) -> Step:
    """Accept locally, then ask the charger for its configuration."""
    request = Call(ctx.new_id(), "GetConfiguration", {"key": keys} if keys else {})
    data = {"requestId": call.payload["requestId"], "filters": filters}
    expect_answer(
        state, Side.CHARGER, request, origin_action=call.action, origin_id=None, data=data
    )
    detail = "accepted by the bridge; the report comes from 1.6 GetConfiguration"
    return local_answer(call, {"status": "Accepted"}, detail) + Step(to_charger=(request,))


def get_base_report(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetBaseReport -> local Accepted + GetConfiguration (all keys)."""
    base = call.payload["reportBase"]
    if base not in _BASES:
        info = status_info("UnsupportedRequest", f"a 1.6 charger has no {base}")
        return local_answer(call, {"status": "NotSupported", "statusInfo": info}, base)
    return _start(state, call, ctx, None, [])


def get_report(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetReport -> local answer + GetConfiguration of the keys the filter names."""
    if "componentCriteria" in call.payload:
        info = status_info("UnsupportedParam", "1.6 has no component states to filter on")
        return local_answer(
            call, {"status": "NotSupported", "statusInfo": info}, "componentCriteria"
        )
    filters: list[dict[str, Any]] | None = call.payload.get("componentVariable")
    if filters is None:
        return _start(state, call, ctx, None, [])
    keys: list[str] = []
    everything = False
    for item in filters:
        if "variable" not in item:
            component = item["component"]
            station_level = "evse" not in component and "instance" not in component
            everything = everything or (
                station_level and config_keys.is_component(str(component["name"]))
            )
            continue
        found = config_keys.resolve(item["component"], item["variable"])
        if found.key is not None and found.key not in keys:
            keys.append(found.key)
    if not keys and not everything:
        return local_answer(call, {"status": "EmptyResultSet"}, "no 1.6 key addressed")
    return _start(state, call, ctx, filters, [] if everything else keys)


def _matches(item: dict[str, Any], component: dict[str, Any], variable: dict[str, Any]) -> bool:
    wanted = item["component"]
    if "evse" in wanted or "instance" in wanted:
        return False
    if str(wanted["name"]).lower() != str(component["name"]).lower():
        return False
    if "variable" not in item:
        return True
    want_var = item["variable"]
    return str(want_var["name"]).lower() == str(variable["name"]).lower() and (
        str(want_var.get("instance", "")).lower() == str(variable.get("instance", "")).lower()
    )


def _report_data(item: dict[str, Any], note: list[Note], state: BridgeState) -> dict[str, Any]:
    key = str(item["key"])
    row = config_keys.row_for_key(key)
    component, variable = config_keys.address_of(key)
    attribute: dict[str, Any] = {"type": "Actual"}
    if row is not None and row.write_only:
        attribute["mutability"] = "WriteOnly"
    else:
        value, lossless = config_keys.value_up(row, str(item.get("value", "")))
        if not lossless:
            state.count_lossy("NotifyReport.value")
            note.append(Note(NoteKind.LOSSY, "NotifyReport", f"value of {key} kept as is"))
        attribute["value"] = value
        attribute["mutability"] = "ReadOnly" if item.get("readonly") else "ReadWrite"
    data_type = row.data_type if row is not None else "string"
    return {
        "component": component,
        "variable": variable,
        "variableAttribute": [attribute],
        "variableCharacteristics": {"dataType": data_type, "supportsMonitoring": False},
    }


def _row(component: dict[str, Any], name: str, value: str | None, data_type: str) -> dict[str, Any]:
    attribute: dict[str, Any] = {"type": "Actual", "mutability": "ReadOnly"}
    if value is not None:
        attribute["value"] = value
    return {
        "component": component,
        "variable": {"name": name},
        "variableAttribute": [attribute],
        "variableCharacteristics": {"dataType": data_type, "supportsMonitoring": False},
    }


def connectors_of(state: BridgeState, configuration: list[dict[str, Any]]) -> list[int]:
    """1.6 connector ids: 1..NumberOfConnectors and every connector seen in a status."""
    seen = {int(c) for c in state.connector_status if c.isdigit() and int(c) > 0}
    for item in configuration:
        if str(item.get("key", "")).lower() == "numberofconnectors":
            value = str(item.get("value", "")).strip()
            if value.isdigit():
                seen.update(range(1, min(int(value), 128) + 1))
    return sorted(seen)


def topology_rows(state: BridgeState, configuration: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ReportData for an EVSE and a Connector component per 1.6 connector."""
    rows: list[dict[str, Any]] = []
    for connector in connectors_of(state, configuration):
        seen = state.connector_status.get(str(connector))
        availability = (
            CONNECTOR_STATUS(seen)[0]
            if seen is not None and seen in CONNECTOR_STATUS.rows
            else None
        )
        evse = {"name": "EVSE", "evse": {"id": connector}}
        plug = {"name": "Connector", "evse": {"id": connector, "connectorId": 1}}
        for component in (evse, plug):
            rows.append(_row(component, "AvailabilityState", availability, "OptionList"))
            rows.append(_row(component, "Available", "true", "boolean"))
        rows.append(_row(plug, "ConnectorType", "Unknown", "OptionList"))
    return rows


def _notify(state: BridgeState, data: dict[str, Any], ctx: Context) -> Step:
    """Send the next NotifyReport of a report; the rest waits in the pending data."""
    chunks: list[list[dict[str, Any]]] = data["chunks"]
    payload: dict[str, Any] = {
        "requestId": data["requestId"],
        "generatedAt": data["generatedAt"],
        "seqNo": data["seqNo"],
    }
    if chunks[0]:
        payload["reportData"] = chunks[0]
    if len(chunks) > 1:
        payload["tbc"] = True
    call = Call(ctx.new_id(), "NotifyReport", payload)
    rest = {**data, "chunks": chunks[1:], "seqNo": data["seqNo"] + 1}
    expect_answer(state, Side.CSMS, call, origin_action=data["origin"], origin_id=None, data=rest)
    return Step(
        to_csms=(call,), notes=(Note(NoteKind.DERIVED, "NotifyReport", f"seqNo {data['seqNo']}"),)
    )


def configuration_for_report(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """The charger's configuration arrived: start the NotifyReport sequence."""
    notes: list[Note] = []
    rows: list[dict[str, Any]] = []
    if isinstance(answer, CallError):
        detail = f"GetConfiguration failed ({answer.error_code}); empty report sent"
        notes.append(Note(NoteKind.LOCAL_ANSWER, pending.origin_action, detail))
    else:
        filters = pending.data.get("filters")
        configuration = answer.payload.get("configurationKey", [])
        for item in configuration:
            data = _report_data(item, notes, state)
            if filters is None or any(
                _matches(f, data["component"], data["variable"]) for f in filters
            ):
                rows.append(data)
        if filters is None:
            rows.extend(topology_rows(state, configuration))
    chunks = [rows[i : i + REPORT_CHUNK] for i in range(0, len(rows), REPORT_CHUNK)] or [[]]
    data = {
        "origin": pending.origin_action,
        "requestId": pending.data["requestId"],
        "generatedAt": ctx.timestamp(),
        "seqNo": 0,
        "chunks": chunks,
    }
    return _notify(state, data, ctx) + Step(notes=tuple(notes))


def notify_report_answered(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """The CSMS answered one NotifyReport: send the next, if any."""
    if isinstance(answer, CallError):
        detail = f"CSMS refused NotifyReport ({answer.error_code}); report abandoned"
        return Step(notes=(Note(NoteKind.ORPHAN, "NotifyReport", detail),))
    if not pending.data["chunks"]:
        return Step()
    return _notify(state, pending.data, ctx)


CALLS = {"GetBaseReport": get_base_report, "GetReport": get_report}
RESULTS = {
    ("GetConfiguration", "GetBaseReport"): configuration_for_report,
    ("GetConfiguration", "GetReport"): configuration_for_report,
}
CSMS_RESULTS = {"NotifyReport": notify_report_answered}
