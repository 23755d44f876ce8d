"""1.6 configuration keys <-> 2.0.1 device-model variables, as one table.

1.6 configures a charger through flat keys (1.6 §9, GetConfiguration /
ChangeConfiguration); 2.0.1 addresses ``component.variable[instance]`` of a
device model (2.0.1 Part 1 §4, Part 2 B). :data:`KEY_TABLE` pairs the
well-known keys with the standardised 2.0.1 variable that has the same
meaning (sources: EVerest libocpp ``v16/known_keys.hpp`` resolved against the
standardised component configs; SAP e-mobility simulator; mapping-research
§3.9). Keys whose 2.0.1 counterpart is a characteristic (``*MaxLength`` ->
``maxLimit``) or whose semantics differ are deliberately *not* in the table.

**Rule for every other key** (and a second way to reach any key): the
component :data:`LEGACY_COMPONENT` (no instance, no evse) holds every 1.6 key
as a variable of the same name, e.g. ``OCPP16Config.BlinkRepeat``. A 1.6 key
is at most 50 characters (CiString50), exactly what a 2.0.1 variable name
holds, so every key is reachable. Reports list table keys under their 2.0.1
name and all others under :data:`LEGACY_COMPONENT`. Names compare
case-insensitively, as both versions define them as CiStrings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocppkit.translators.enum_map import EnumMap

LEGACY_COMPONENT = "OCPP16Config"
MAX_VALUE_16 = 500  # ChangeConfiguration.value is CiString500 (2.0.1 allows 1000)

# 1.6 §9.4.3 ChargingScheduleAllowedChargingRateUnit is a CSL of "Current" /
# "Power"; 2.0.1 SmartChargingCtrlr.RateUnit is a MemberList of "A" / "W".
RATE_UNIT_VALUES = EnumMap(
    "ChargingScheduleAllowedChargingRateUnit item -> SmartChargingCtrlr.RateUnit item",
    {"Current": "A", "Power": "W"},
    reference="1.6 §9.4.3; 2.0.1 Part 2 K (SmartChargingCtrlr.RateUnit); mapping-research §3.9",
)
RATE_UNIT_VALUES_DOWN = EnumMap(
    "SmartChargingCtrlr.RateUnit item -> ChargingScheduleAllowedChargingRateUnit item",
    {"A": "Current", "W": "Power"},
    reference=RATE_UNIT_VALUES.reference,
)


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One 1.6 key and the 2.0.1 variable with the same meaning.

    Attributes:
        key: the 1.6 configuration key.
        component: 2.0.1 component name (station level: no evse, no instance).
        variable: 2.0.1 variable name.
        instance: 2.0.1 variable instance, if the variable is instance-qualified.
        data_type: 2.0.1 DataEnumType of the variable (for NotifyReport).
        rate_units: the value is a list of charging rate units (Current/Power <-> A/W).
        write_only: the value must never be read back (credentials).
    """

    key: str
    component: str
    variable: str
    instance: str | None = None
    data_type: str = "string"
    rate_units: bool = False
    write_only: bool = False


_INT, _BOOL, _LIST = "integer", "boolean", "MemberList"

KEY_TABLE: tuple[KeyRow, ...] = (
    # Core profile (1.6 §9.1)
    KeyRow("HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", data_type=_INT),
    KeyRow("MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", data_type=_INT),
    KeyRow("MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", data_type=_LIST),
    KeyRow("StopTxnSampledData", "SampledDataCtrlr", "TxEndedMeasurands", data_type=_LIST),
    KeyRow("ClockAlignedDataInterval", "AlignedDataCtrlr", "Interval", data_type=_INT),
    KeyRow("MeterValuesAlignedData", "AlignedDataCtrlr", "Measurands", data_type=_LIST),
    KeyRow("StopTxnAlignedData", "AlignedDataCtrlr", "TxEndedMeasurands", data_type=_LIST),
    KeyRow("ConnectionTimeOut", "TxCtrlr", "EVConnectionTimeOut", data_type=_INT),
    KeyRow("StopTransactionOnInvalidId", "TxCtrlr", "StopTxOnInvalidId", data_type=_BOOL),
    KeyRow("MaxEnergyOnInvalidId", "TxCtrlr", "MaxEnergyOnInvalidId", data_type=_INT),
    KeyRow("AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", data_type=_BOOL),
    # SAP's "LocalAuthorizationOffline"/"LocalPreAuthorization" are not standard names.
    KeyRow("LocalAuthorizeOffline", "AuthCtrlr", "LocalAuthorizeOffline", data_type=_BOOL),
    KeyRow("LocalPreAuthorize", "AuthCtrlr", "LocalPreAuthorize", data_type=_BOOL),
    KeyRow(
        "AllowOfflineTxForUnknownId", "AuthCtrlr", "OfflineTxForUnknownIdEnabled", data_type=_BOOL
    ),
    KeyRow("AuthorizationCacheEnabled", "AuthCacheCtrlr", "Enabled", data_type=_BOOL),
    # 2.0.1 MessageAttempts/MessageAttemptInterval are per message: instance TransactionEvent.
    KeyRow(
        "TransactionMessageAttempts",
        "OCPPCommCtrlr",
        "MessageAttempts",
        instance="TransactionEvent",
        data_type=_INT,
    ),
    KeyRow(
        "TransactionMessageRetryInterval",
        "OCPPCommCtrlr",
        "MessageAttemptInterval",
        instance="TransactionEvent",
        data_type=_INT,
    ),
    KeyRow("ResetRetries", "OCPPCommCtrlr", "ResetRetries", data_type=_INT),
    KeyRow("WebSocketPingInterval", "OCPPCommCtrlr", "WebSocketPingInterval", data_type=_INT),
    # Local Auth List Management (1.6 §9.2)
    KeyRow("LocalAuthListEnabled", "LocalAuthListCtrlr", "Enabled", data_type=_BOOL),
    KeyRow("SendLocalListMaxLength", "LocalAuthListCtrlr", "ItemsPerMessage", data_type=_INT),
    # Smart Charging (1.6 §9.4)
    KeyRow("ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel", data_type=_INT),
    KeyRow(
        "ChargingScheduleAllowedChargingRateUnit",
        "SmartChargingCtrlr",
        "RateUnit",
        data_type=_LIST,
        rate_units=True,
    ),
    KeyRow(
        "ChargingScheduleMaxPeriods", "SmartChargingCtrlr", "PeriodsPerSchedule", data_type=_INT
    ),
    KeyRow(
        "ConnectorSwitch3to1PhaseSupported", "SmartChargingCtrlr", "Phases3to1", data_type=_BOOL
    ),
    # Firmware Management (1.6 §9.3)
    KeyRow(
        "SupportedFileTransferProtocols", "OCPPCommCtrlr", "FileTransferProtocols", data_type=_LIST
    ),
    # 1.6 security whitepaper keys (2.0.1 Part 2 A, SecurityCtrlr)
    KeyRow("AuthorizationKey", "SecurityCtrlr", "BasicAuthPassword", write_only=True),
    KeyRow("SecurityProfile", "SecurityCtrlr", "SecurityProfile", data_type=_INT),
    KeyRow("CpoName", "SecurityCtrlr", "OrganizationName"),
    KeyRow(
        "CertificateSignedMaxChainSize",
        "SecurityCtrlr",
        "MaxCertificateChainSize",
        data_type=_INT,
    ),
    KeyRow(
        "AdditionalRootCertificateCheck",
        "SecurityCtrlr",
        "AdditionalRootCertificateCheck",
        data_type=_BOOL,
    ),
)

_BY_KEY: dict[str, KeyRow] = {row.key.lower(): row for row in KEY_TABLE}
_BY_ADDRESS: dict[tuple[str, str, str | None], KeyRow] = {
    (row.component.lower(), row.variable.lower(), row.instance and row.instance.lower()): row
    for row in KEY_TABLE
}
_COMPONENTS = frozenset(row.component.lower() for row in KEY_TABLE)


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a 2.0.1 component.variable lands in 1.6.

    Attributes:
        key: the 1.6 key, or None when there is none.
        status: "" when ``key`` is set, else the 2.0.1 attributeStatus to
            answer (UnknownComponent / UnknownVariable).
        row: the table row when the address came through the table (its
            values are converted); None under :data:`LEGACY_COMPONENT`, where
            values are the raw 1.6 text.
    """

    key: str | None
    status: str = ""
    row: KeyRow | None = None


def is_component(name: str) -> bool:
    """True for a component that holds 1.6 keys (a table component or the legacy one)."""
    return name.lower() in _COMPONENTS or name.lower() == LEGACY_COMPONENT.lower()


def row_for_key(key: str) -> KeyRow | None:
    """The table row of a 1.6 key (case-insensitive), if it has one."""
    return _BY_KEY.get(key.lower())


def resolve(component: dict[str, Any], variable: dict[str, Any]) -> Resolved:
    """The 1.6 key addressed by a 2.0.1 ComponentType / VariableType pair.

    1.6 keys are station-wide: a component with an ``evse`` or an
    ``instance`` is unknown to a 1.6 charger.
    """
    if "evse" in component or "instance" in component:
        return Resolved(None, "UnknownComponent")
    name = str(component["name"]).lower()
    var_name = str(variable["name"])
    var_instance = variable.get("instance")
    if name == LEGACY_COMPONENT.lower():
        if var_instance is not None:
            return Resolved(None, "UnknownVariable")
        return Resolved(var_name)
    row = _BY_ADDRESS.get((name, var_name.lower(), var_instance and str(var_instance).lower()))
    if row is not None:
        return Resolved(row.key, row=row)
    if name in _COMPONENTS:
        return Resolved(None, "UnknownVariable")
    return Resolved(None, "UnknownComponent")


def is_write_only(key: str) -> bool:
    """True for keys whose value is never read back (1.6 security WP: AuthorizationKey)."""
    row = row_for_key(key)
    return row is not None and row.write_only


def address_of(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The 2.0.1 (component, variable) under which a 1.6 key is reported."""
    row = row_for_key(key)
    if row is None:
        return {"name": LEGACY_COMPONENT}, {"name": key}
    variable: dict[str, Any] = {"name": row.variable}
    if row.instance is not None:
        variable["instance"] = row.instance
    return {"name": row.component}, variable


def _convert_list(value: str, table: EnumMap) -> tuple[str, bool]:
    items = [item.strip() for item in value.split(",")] if value else []
    out, lossless = [], True
    for item in items:
        target = table.rows.get(item)
        lossless = lossless and target is not None
        out.append(item if target is None else target)
    return ",".join(out), lossless


def value_up(row: KeyRow | None, value: str) -> tuple[str, bool]:
    """A 1.6 key's value as the 2.0.1 variable's value; ``(value, lossless?)``.

    Only rate-unit lists change spelling; anything else is the same text.
    An item the table does not know is passed on unchanged, flagged lossy.
    """
    if row is not None and row.rate_units:
        return _convert_list(value, RATE_UNIT_VALUES)
    return value, True


def value_down(row: KeyRow | None, value: str) -> tuple[str, bool]:
    """A 2.0.1 variable's value as the 1.6 key's value; ``(value, lossless?)``."""
    if row is not None and row.rate_units:
        return _convert_list(value, RATE_UNIT_VALUES_DOWN)
    return value, True
