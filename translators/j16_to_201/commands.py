"""CSMS-initiated commands of a 1.6 charger behind a 2.0.1 CSMS: the tables.

The session (:mod:`ocppkit.translators.j16_to_201.session`) looks up:

- :data:`CSMS_CALLS` by the 2.0.1 action of a CALL from the CSMS;
- :data:`CHARGER_RESULTS` by the 1.6 action of the call the bridge sent the
  charger, when the charger's CALLRESULT / CALLERROR arrives;
- :data:`CSMS_RESULTS` by the 2.0.1 action of a call the bridge sent the
  CSMS on the commands' behalf (the NotifyReport of a report);
- :data:`NOT_SUPPORTED` for the 2.0.1 CSMS -> station actions that have no 1.6
  counterpart: answered CALLERROR NotSupported with the reason.

Every 2.0.1 CSMS -> station action of the official schemas (2.0.1 Part 2,
"Messages": :data:`CSMS_TO_STATION`) is in exactly one of
:data:`CSMS_CALLS` and :data:`NOT_SUPPORTED`. The handlers live in one
module per concern; :data:`TABLES` gathers their enum maps for the mapping
document. 1.6 calls to the charger carry no ``customData`` (1.6 has no such
field): a CSMS call carrying it gets a lossy note here, once.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call
from ocppkit.translators.j16_to_201 import (
    authorization,
    certificates,
    config_keys,
    firmware,
    remote,
    reports,
    shadow,
    smart_charging,
    station,
    variables,
)
from ocppkit.translators.j16_to_201.command_kit import dispatch_by_origin, lossy
from ocppkit.translators.j16_to_201.handlers import CallHandler, ResultHandler
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Step

_MODULES = (
    remote,
    station,
    variables,
    reports,
    smart_charging,
    shadow,
    authorization,
    firmware,
    certificates,
)

# 2.0.1 Part 2: every message the CSMS sends to a station (DataTransfer goes
# both ways).
CSMS_TO_STATION: frozenset[str] = frozenset(
    {
        "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache",
        "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated",
        "CustomerInformation", "DataTransfer", "DeleteCertificate", "GetBaseReport",
        "GetChargingProfiles", "GetCompositeSchedule", "GetDisplayMessages",
        "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog", "GetMonitoringReport",
        "GetReport", "GetTransactionStatus", "GetVariables", "InstallCertificate",
        "PublishFirmware", "RequestStartTransaction", "RequestStopTransaction", "ReserveNow",
        "Reset", "SendLocalList", "SetChargingProfile", "SetDisplayMessage",
        "SetMonitoringBase", "SetMonitoringLevel", "SetNetworkProfile", "SetVariableMonitoring",
        "SetVariables", "TriggerMessage", "UnlockConnector", "UnpublishFirmware",
        "UpdateFirmware",
    }
)  # fmt: skip

_NO_MONITORING = "1.6 has no variable monitoring (2.0.1 N02-N07); a 1.6 charger cannot watch values"
_NO_DISPLAY = "1.6 has no display message management (2.0.1 O01-O06)"
NOT_SUPPORTED: dict[str, str] = {
    "ClearDisplayMessage": _NO_DISPLAY,
    "GetDisplayMessages": _NO_DISPLAY,
    "SetDisplayMessage": _NO_DISPLAY,
    "ClearVariableMonitoring": _NO_MONITORING,
    "GetMonitoringReport": _NO_MONITORING,
    "SetMonitoringBase": _NO_MONITORING,
    "SetMonitoringLevel": _NO_MONITORING,
    "SetVariableMonitoring": _NO_MONITORING,
    "CostUpdated": "1.6 core has no tariff/cost messages (2.0.1 I04)",
    "CustomerInformation": "1.6 has no customer information request (2.0.1 N09)",
    "PublishFirmware": "1.6 charger cannot act as a local firmware controller (2.0.1 L03)",
    "UnpublishFirmware": "1.6 charger cannot act as a local firmware controller (2.0.1 L04)",
    "SetNetworkProfile": (
        "1.6 configures its connection by vendor means, not network profiles (2.0.1 B09)"
    ),
}


# Answered by the bridge from what it saw (translators/j16_to_201/shadow.py),
# for the coverage table of docs/mapping.md.
LOCAL_ANSWERS: dict[str, str] = {
    "GetChargingProfiles": "shadow answer: the profiles installed through the bridge, "
    "as ReportChargingProfiles (K09)",
    "GetTransactionStatus": "shadow answer from the bridge's queue; the charger's own queue "
    "is not visible (E14)",
}


def _has_custom_data(value: Any) -> bool:
    if isinstance(value, dict):
        return "customData" in value or any(_has_custom_data(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_custom_data(v) for v in value)
    return False


def _noting_custom_data(handler: CallHandler) -> CallHandler:
    def handle(state: BridgeState, call: Call, ctx: Context) -> Step:
        step = handler(state, call, ctx)
        if step.to_charger and _has_custom_data(call.payload):
            step += Step(notes=(lossy(state, call.action, "customData", "1.6 has none"),))
        return step

    return handle


CSMS_CALLS: dict[str, CallHandler] = {
    action: _noting_custom_data(handler)
    for module in _MODULES
    for action, handler in module.CALLS.items()
}


def _charger_results() -> dict[str, ResultHandler]:
    by_action: dict[str, dict[str, ResultHandler]] = {}
    for module in _MODULES:
        for (action16, origin), handler in module.RESULTS.items():
            by_action.setdefault(action16, {})[origin] = handler
    return {action16: dispatch_by_origin(table) for action16, table in by_action.items()}


CHARGER_RESULTS: dict[str, ResultHandler] = _charger_results()
CSMS_RESULTS: dict[str, ResultHandler] = {**reports.CSMS_RESULTS, **shadow.CSMS_RESULTS}

TABLES: tuple[EnumMap, ...] = (
    config_keys.RATE_UNIT_VALUES,
    config_keys.RATE_UNIT_VALUES_DOWN,
    *(table for module in _MODULES for table in getattr(module, "TABLES", ())),
)
