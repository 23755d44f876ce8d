"""The analysis vocabulary: every version's values mapped onto 2.0.1's.

Tables, not branches (house style): stop reasons, connector statuses and
charging states, units, and the facts the readers need about actions. Each
lossy row is marked; :mod:`ocppkit.toolkit.ingest.sessions` counts and flags every
lossy or unknown value it meets.
"""

from __future__ import annotations

from ocppkit.translators.enum_map import EnumMap

# mapping-research §3.3 (EVerest everest-core conversions.cpp `to_ocpp_reason`).
# Absent reason = Local in both versions (1.6 §6.49 StopTransaction.req "reason":
# "Local" is assumed when omitted; 2.0.1 TransactionInfo.stoppedReason "MAY only
# be omitted when the reason is Local").
STOP_REASON_16 = EnumMap(
    "1.6 StopTransaction.reason -> 2.0.1 ReasonEnumType",
    {
        **{
            v: v
            for v in (
                "DeAuthorized",
                "EmergencyStop",
                "EVDisconnected",
                "Local",
                "Other",
                "PowerLoss",
                "Reboot",
                "Remote",
            )
        },
        "HardReset": "ImmediateReset",
        "SoftReset": "Other",  # 2.0.1 has no graceful-reset reason
        "UnlockCommand": "Other",  # 2.0.1 keeps it as triggerReason UnlockCommand only
    },
    lossy=frozenset({"SoftReset", "UnlockCommand"}),
    default="Other",
    reference="mapping-research §3.3; EVerest conversions.cpp",
)
STOP_REASONS_201 = frozenset(
    {"DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault",
     "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other", "OvercurrentFault",
     "PowerLoss", "PowerQuality", "Reboot", "Remote", "SOCLimitReached", "StoppedByEV",
     "TimeLimitReached", "Timeout"}
)  # fmt: skip
DEFAULT_STOP_REASON = "Local"

# 1.6 ChargePointStatus -> (2.0.1 ConnectorStatus, ChargingState) (mapping-research §3.4).
# Preparing is ambiguous in 1.6 (also sent for a tag without a cable); read as
# EVConnected. Finishing: the transaction has ended, the cable is still in.
STATUS_16: dict[str, tuple[str, str | None]] = {
    "Available": ("Available", "Idle"),
    "Preparing": ("Occupied", "EVConnected"),
    "Charging": ("Occupied", "Charging"),
    "SuspendedEV": ("Occupied", "SuspendedEV"),
    "SuspendedEVSE": ("Occupied", "SuspendedEVSE"),
    "Finishing": ("Occupied", "EVConnected"),
    "Reserved": ("Reserved", None),
    "Unavailable": ("Unavailable", None),
    "Faulted": ("Faulted", None),
}
# 1.5 ChargePointStatus: Occupied cannot tell charging from suspended (SteVe maps
# it to Charging and says so); ingest leaves the charging state unknown.
STATUS_15: dict[str, tuple[str, str | None]] = {
    "Available": ("Available", "Idle"),
    "Occupied": ("Occupied", None),
    "Reserved": ("Reserved", None),
    "Unavailable": ("Unavailable", None),
    "Faulted": ("Faulted", None),
}
CONNECTOR_STATUS_201 = frozenset({"Available", "Occupied", "Reserved", "Unavailable", "Faulted"})
CHARGING = "Charging"
NO_ERROR = "NoError"

# Unit -> (normalised unit, factor) (mapping-research §3.5; 1.5 Amp/Volt per SteVe
# issue #59; 1.6's "Celcius" is a typo in its own schema).
UNITS: dict[str, tuple[str, float]] = {
    "Wh": ("Wh", 1.0), "kWh": ("Wh", 1000.0), "varh": ("varh", 1.0), "kvarh": ("varh", 1000.0),
    "W": ("W", 1.0), "kW": ("W", 1000.0), "var": ("var", 1.0), "kvar": ("var", 1000.0),
    "VA": ("VA", 1.0), "kVA": ("VA", 1000.0), "VAh": ("VAh", 1.0), "kVAh": ("VAh", 1000.0),
    "A": ("A", 1.0), "Amp": ("A", 1.0), "V": ("V", 1.0), "Volt": ("V", 1.0),
    "Celcius": ("Celsius", 1.0), "Celsius": ("Celsius", 1.0), "Fahrenheit": ("Fahrenheit", 1.0),
    "K": ("K", 1.0), "Percent": ("Percent", 1.0), "Hertz": ("Hertz", 1.0),
}  # fmt: skip

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER_IMPORT = "Power.Active.Import"
DEFAULT_MEASURAND = ENERGY_REGISTER
DEFAULT_CONTEXT = "Sample.Periodic"
DEFAULT_LOCATION = "Outlet"
DEFAULT_UNIT = "Wh"

# Actions a charging station initiates (1.6 §4 "Operations initiated by Charge
# Point", 1.5 the same, 2.0.1 Part 2 per use case); every other action is sent by
# the CSMS. Used only when a log does not say the direction.
CS_ACTIONS = frozenset(
    {"Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
     "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
     "StatusNotification", "StopTransaction", "ClearedChargingLimit", "Get15118EVCertificate",
     "GetCertificateStatus", "LogStatusNotification", "NotifyChargingLimit",
     "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
     "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
     "PublishFirmwareStatusNotification", "ReportChargingProfiles", "ReservationStatusUpdate",
     "SecurityEventNotification", "SignCertificate", "TransactionEvent"}
)  # fmt: skip

# Actions that exist in one version only, for guessing the version of a log
# that does not say it.
ONLY_201 = frozenset(
    {"TransactionEvent", "NotifyEvent", "NotifyReport", "GetVariables", "SetVariables",
     "RequestStartTransaction", "RequestStopTransaction", "GetBaseReport", "NotifyEVChargingNeeds"}
)  # fmt: skip
ONLY_16 = frozenset(
    {"StartTransaction", "StopTransaction", "RemoteStartTransaction", "RemoteStopTransaction",
     "GetConfiguration", "ChangeConfiguration", "DiagnosticsStatusNotification"}
)  # fmt: skip


def stop_reason(version: str, wire: str | None) -> tuple[str, bool]:
    """(2.0.1 ReasonEnumType value, lossy?) for a reason as sent in ``version``."""
    if wire is None:
        return DEFAULT_STOP_REASON, False
    if version == "2.0.1":
        return (wire, False) if wire in STOP_REASONS_201 else ("Other", True)
    return STOP_REASON_16(wire)


def connector_state(version: str, status: str) -> tuple[str | None, str | None]:
    """(connector status, charging state) in 2.0.1's vocabulary for a reported status."""
    if version == "2.0.1":
        return (status if status in CONNECTOR_STATUS_201 else None), None
    table = STATUS_15 if version == "1.5" else STATUS_16
    return table.get(status, (None, None))
