"""The 1.5 <-> 1.6 mapping tables: enums, renamed fields, length limits, refusals.

Data only; :mod:`ocppkit.translators.soap15.lift` applies them. "Up" is 1.5 -> 1.6,
"down" is 1.6 -> 1.5. An enum value with no row has no counterpart: the
lift raises :class:`~ocppkit.translators.errors.TranslationError` (or, for a meter
sample, drops the sample with a lossy note). Sources: the field-by-field
diff of the OCA 1.5 and 1.6 SOAP WSDLs and the 1.6J JSON schemas
(research: ocpp15-operations.md "Differences"), SteVe's 1.5 -> 1.6 choices
and shiv3's 1.6 -> 1.5 choices (mapping-research.md §3.4, §3.5, §3.10).
"""

from __future__ import annotations

from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.schemas import Kind, schema
from ocppkit.translators.soap15.operations import TYPES, Restricted
from ocppkit.translators.versions import OcppVersion


def _same(*values: str) -> dict[str, str]:
    return {v: v for v in values}


_WSDL_DIFF = "OCA OCPP 1.5 vs 1.6 SOAP WSDL enumeration diff"

STATUS_UP = EnumMap(
    "StatusNotification.status 1.5 -> 1.6",
    {**_same("Available", "Faulted", "Unavailable", "Reserved"), "Occupied": "Charging"},
    # 1.6 split Occupied into Preparing/Charging/SuspendedEV/SuspendedEVSE/
    # Finishing; without transaction state Charging is SteVe's choice (its
    # comment: "something else might make more sense"). Callers that track
    # transactions pass a better value (lift(..., occupied_as=...)).
    lossy=frozenset({"Occupied"}),
    reference="mapping-research §3.4 (SteVe 1.5 -> 1.6); " + _WSDL_DIFF,
)
STATUS_DOWN = EnumMap(
    "StatusNotification.status 1.6 -> 1.5",
    {
        **_same("Available", "Faulted", "Unavailable", "Reserved"),
        **dict.fromkeys(
            ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"), "Occupied"
        ),
    },
    lossy=frozenset({"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"}),
    reference="mapping-research §3.4 (shiv3 1.6 -> 1.5)",
)


def _enum_values(type_name: str) -> tuple[str, ...]:
    """The values of a 1.5 enumeration type of :mod:`ocppkit.translators.soap15.operations`."""
    declared = TYPES[type_name]
    if not isinstance(declared, Restricted) or not declared.enum:
        raise TypeError(f"{type_name} is not a 1.5 enumeration")
    return tuple(declared.enum)


# Every 1.5 code but Mode3Error (renamed in 1.6) is spelled the same in 1.6.
_ERRORS_BOTH = tuple(c for c in _enum_values("ChargePointErrorCode") if c != "Mode3Error")
ERROR_CODE_UP = EnumMap(
    "StatusNotification.errorCode 1.5 -> 1.6",
    # 1.6 renamed Mode3Error: "Communication failure with the vehicle, might
    # be Mode 3 or other communication protocol problem".
    {**_same(*_ERRORS_BOTH), "Mode3Error": "EVCommunicationError"},
    reference="mapping-research §3.4 (SteVe: renamed in 1.6)",
)
ERROR_CODE_DOWN = EnumMap(
    "StatusNotification.errorCode 1.6 -> 1.5",
    {
        **_same(*_ERRORS_BOTH),
        "EVCommunicationError": "Mode3Error",
        **dict.fromkeys(("InternalError", "LocalListConflict", "OverVoltage"), "OtherError"),
    },
    # The 1.6 code is kept in vendorErrorCode when that is free.
    lossy=frozenset({"InternalError", "LocalListConflict", "OverVoltage"}),
    reference="mapping-research §3.4 (shiv3)",
)


_UNITS_BOTH = ("Wh", "kWh", "varh", "kvarh", "W", "kW", "var", "kvar", "Celsius")
UNIT_UP = EnumMap(
    "SampledValue.unit 1.5 -> 1.6",
    {**_same(*_UNITS_BOTH), "Amp": "A", "Volt": "V"},
    reference="mapping-research §3.5 (SteVe AMP->A, VOLT->V, steve#59)",
)
UNIT_DOWN = EnumMap(
    "SampledValue.unit 1.6 -> 1.5",
    # VA, kVA, K, Fahrenheit, Percent (and the wheel's Hertz) have no 1.5
    # unit: such a sample is dropped.
    {**_same(*_UNITS_BOTH), "A": "Amp", "V": "Volt", "Celcius": "Celsius"},
    lossy=frozenset({"Celcius"}),  # the OCA typo; same meaning, not restorable
    reference=_WSDL_DIFF + "; 1.6J schema typo 'Celcius'",
)

# The 1.5 measurands, as the project's 1.5 schema declares them (one source of truth).
MEASURANDS_15: tuple[str, ...] = _enum_values("Measurand")
MEASURAND_DOWN = EnumMap(
    "SampledValue.measurand 1.6 -> 1.5",
    # Current.Offered, Frequency, Power.Factor, Power.Offered, RPM, SoC are
    # new in 1.6: such a sample is dropped.
    _same(*MEASURANDS_15),
    reference=_WSDL_DIFF,
)
_CONTEXTS_15 = (
    "Interruption.Begin",
    "Interruption.End",
    "Sample.Clock",
    "Sample.Periodic",
    "Transaction.Begin",
    "Transaction.End",
)
CONTEXT_DOWN = EnumMap(
    "SampledValue.context 1.6 -> 1.5",
    # Trigger / Other are new in 1.6; a periodic sample is the nearest 1.5 kind.
    {**_same(*_CONTEXTS_15), "Trigger": "Sample.Periodic", "Other": "Sample.Periodic"},
    lossy=frozenset({"Trigger", "Other"}),
    reference="mapping-research §3.5 (shiv3: 1.5 lacks Trigger/Other)",
)
LOCATION_DOWN = EnumMap(
    "SampledValue.location 1.6 -> 1.5",
    # Cable is measured at the outlet end; EV (vehicle-side values such as
    # SoC) has no 1.5 location and its sample is dropped.
    {**_same("Inlet", "Outlet", "Body"), "Cable": "Outlet"},
    lossy=frozenset({"Cable"}),
    reference="mapping-research §3.5 (shiv3: 1.5 lacks Cable/EV)",
)

REGISTRATION_DOWN = EnumMap(
    "BootNotification.conf status 1.6 -> 1.5",
    # 1.5 has no Pending: Rejected makes the charger retry after the
    # interval, the nearest behaviour.
    {**_same("Accepted", "Rejected"), "Pending": "Rejected"},
    lossy=frozenset({"Pending"}),
    reference=_WSDL_DIFF,
)
DIAGNOSTICS_STATUS_DOWN = EnumMap(
    "DiagnosticsStatusNotification.status 1.6 -> 1.5",
    _same("Uploaded", "UploadFailed"),  # Idle, Uploading: 1.5 reports outcomes only
    reference=_WSDL_DIFF,
)
FIRMWARE_STATUS_DOWN = EnumMap(
    "FirmwareStatusNotification.status 1.6 -> 1.5",
    _same("Downloaded", "DownloadFailed", "InstallationFailed", "Installed"),
    reference=_WSDL_DIFF,
)
CONFIGURATION_STATUS_DOWN = EnumMap(
    "ChangeConfiguration.conf status 1.6 -> 1.5",
    # RebootRequired: the change was accepted and waits for a reboot.
    {**_same("Accepted", "Rejected", "NotSupported"), "RebootRequired": "Accepted"},
    lossy=frozenset({"RebootRequired"}),
    reference=_WSDL_DIFF,
)
UNLOCK_STATUS_UP = EnumMap(
    "UnlockConnector.conf status 1.5 -> 1.6",
    {"Accepted": "Unlocked", "Rejected": "UnlockFailed"},
    reference="ocpp15-operations.md enumeration changes (UnlockStatus)",
)
UNLOCK_STATUS_DOWN = EnumMap(
    "UnlockConnector.conf status 1.6 -> 1.5",
    {"Unlocked": "Accepted", "UnlockFailed": "Rejected", "NotSupported": "Rejected"},
    lossy=frozenset({"NotSupported"}),
    reference="ocpp15-operations.md enumeration changes (UnlockStatus)",
)
UPDATE_STATUS_UP = EnumMap(
    "SendLocalList.conf status 1.5 -> 1.6",
    # 1.6 dropped the list hash and with it HashError.
    {**_same("Accepted", "Failed", "NotSupported", "VersionMismatch"), "HashError": "Failed"},
    lossy=frozenset({"HashError"}),
    reference=_WSDL_DIFF,
)

# Every table, for the generated mapping document.
ENUM_TABLES: tuple[EnumMap, ...] = (
    STATUS_UP,
    STATUS_DOWN,
    ERROR_CODE_UP,
    ERROR_CODE_DOWN,
    UNIT_UP,
    UNIT_DOWN,
    MEASURAND_DOWN,
    CONTEXT_DOWN,
    LOCATION_DOWN,
    REGISTRATION_DOWN,
    DIAGNOSTICS_STATUS_DOWN,
    FIRMWARE_STATUS_DOWN,
    CONFIGURATION_STATUS_DOWN,
    UNLOCK_STATUS_UP,
    UNLOCK_STATUS_DOWN,
    UPDATE_STATUS_UP,
)

# 1.5 strings are unbounded where 1.6 sets a maxLength (CiString types):
# these fields are cut to it, with a lossy note. The limit is the official
# 1.6 schema's own, read from it, never restated here.
LENGTH_LIMITED_16: tuple[tuple[str, Kind, str], ...] = (
    ("DataTransfer", Kind.REQUEST, "vendorId"),
    ("DataTransfer", Kind.REQUEST, "messageId"),
    ("StatusNotification", Kind.REQUEST, "info"),
    ("StatusNotification", Kind.REQUEST, "vendorId"),
    ("StatusNotification", Kind.REQUEST, "vendorErrorCode"),
    ("ChangeConfiguration", Kind.REQUEST, "key"),
    ("ChangeConfiguration", Kind.REQUEST, "value"),
    ("GetDiagnostics", Kind.RESPONSE, "fileName"),
)
# (action, kind, field) -> 1.6 maxLength
LENGTH_LIMITS_16: dict[tuple[str, str, str], int] = {
    (action, kind.value, name): int(
        schema(OcppVersion.V16, action, kind)["properties"][name]["maxLength"]
    )
    for action, kind, name in LENGTH_LIMITED_16
}

# Fields renamed between 1.5 and 1.6: (action, kind) -> ((1.5 name, 1.6 name), ...).
RENAMES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("BootNotification", "response"): (("heartbeatInterval", "interval"),),
    ("MeterValues", "request"): (("values", "meterValue"),),
    ("SendLocalList", "request"): (("localAuthorisationList", "localAuthorizationList"),),
}

# Fields one version has and the other lacks: (action, kind) -> {field: why}.
ONLY_IN_15: dict[tuple[str, str], dict[str, str]] = {
    ("SendLocalList", "request"): {"hash": "1.6 removed the local list hash"},
    ("SendLocalList", "response"): {"hash": "1.6 removed the local list hash"},
}
ONLY_IN_16: dict[tuple[str, str], dict[str, str]] = {
    ("StopTransaction", "request"): {
        "reason": "1.5 StopTransaction has no reason (1.6 reads its absence as Local)"
    },
    ("RemoteStartTransaction", "request"): {
        "chargingProfile": "1.5 has no smart charging; the transaction starts without the profile"
    },
}

_SMART = "OCPP 1.5 has no smart charging (added in 1.6, Smart Charging profile)"
_SECURITY = "OCPP 1.5 has no security extension (1.6 Security Whitepaper, JSON only)"

# 1.6 actions with no 1.5 operation, and why. Towards the CSMS the bridge
# answers them with CALLERROR NotSupported and this reason.
NOT_SUPPORTED: dict[str, str] = {
    "TriggerMessage": "OCPP 1.5 has no TriggerMessage (added in 1.6)",
    "SetChargingProfile": _SMART,
    "ClearChargingProfile": _SMART,
    "GetCompositeSchedule": _SMART,
    "CertificateSigned": _SECURITY,
    "DeleteCertificate": _SECURITY,
    "ExtendedTriggerMessage": _SECURITY,
    "GetInstalledCertificateIds": _SECURITY,
    "GetLog": _SECURITY,
    "InstallCertificate": _SECURITY,
    "SignedUpdateFirmware": _SECURITY,
    # Charger-initiated security messages: a 1.5 charger never sends them.
    "LogStatusNotification": _SECURITY,
    "SecurityEventNotification": _SECURITY,
    "SignCertificate": _SECURITY,
    "SignedFirmwareStatusNotification": _SECURITY,
}

# Enum-valued fields per (action, kind): (field, up table, down table). None
# means the value passes unchanged in that direction (the 1.5 value set is a
# subset of the 1.6 one, or the sets are equal).
ENUM_FIELDS: dict[tuple[str, str], tuple[tuple[str, EnumMap | None, EnumMap | None], ...]] = {
    ("BootNotification", "response"): (("status", None, REGISTRATION_DOWN),),
    ("StatusNotification", "request"): (
        ("status", STATUS_UP, STATUS_DOWN),
        ("errorCode", ERROR_CODE_UP, ERROR_CODE_DOWN),
    ),
    ("DiagnosticsStatusNotification", "request"): (("status", None, DIAGNOSTICS_STATUS_DOWN),),
    ("FirmwareStatusNotification", "request"): (("status", None, FIRMWARE_STATUS_DOWN),),
    ("ChangeConfiguration", "response"): (("status", None, CONFIGURATION_STATUS_DOWN),),
    ("UnlockConnector", "response"): (("status", UNLOCK_STATUS_UP, UNLOCK_STATUS_DOWN),),
    ("SendLocalList", "response"): (("status", UPDATE_STATUS_UP, None),),
}
