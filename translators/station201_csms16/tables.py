"""Every enum conversion of the 2.0.1-station / 1.6-CSMS bridge, as data.

Names say the direction: ``*_UP`` maps a 2.0.1 station value to the 1.6 CSMS
value, ``*_DOWN`` a 1.6 CSMS value to the 2.0.1 station value. Lossy rows are
listed in ``lossy`` and each carries its reason in a comment; the mapping
document (docs/mapping.md) is rendered from :data:`TABLES`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ocppkit.translators.enum_map import EnumMap


def _names(text: str) -> tuple[str, ...]:
    """Enum values written as one space-separated string (long lists stay short)."""
    return tuple(text.split())


def _same(name: str, values: Iterable[str], reference: str) -> EnumMap:
    """An identity map: the enum is spelled the same in both versions."""
    return EnumMap(name, {v: v for v in values}, reference=reference)


_AUTH = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")

# -- station -> CSMS ---------------------------------------------------------

CONNECTOR_STATUS_UP = EnumMap(
    "StatusNotification.connectorStatus -> status",
    {
        "Available": "Available",
        "Reserved": "Reserved",
        "Unavailable": "Unavailable",
        "Faulted": "Faulted",
        # Occupied has no 1.6 value; refined by the transaction's chargingState
        # (CHARGING_STATE_UP) when one is known, else Preparing (lbbrhzn/ocpp).
        "Occupied": "Preparing",
    },
    lossy=frozenset({"Occupied"}),
    reference="mapping research §3.4 (lbbrhzn/ocpp ocppv201.py _connector_status_v16)",
)

CHARGING_STATE_UP = EnumMap(
    "TransactionEvent.chargingState -> StatusNotification.status (connector Occupied)",
    {
        "Charging": "Charging",
        "SuspendedEV": "SuspendedEV",
        "SuspendedEVSE": "SuspendedEVSE",
        "EVConnected": "Preparing",
        # Idle inside a transaction on an occupied connector: 1.6 Preparing
        # ("a user presents a tag, inserts a cable"); lbbrhzn says Available,
        # which 1.6 reserves for a free connector.
        "Idle": "Preparing",
    },
    lossy=frozenset({"Idle"}),
    reference="mapping research §3.4; 2.0.1 Part 2 ChargingStateEnumType",
)

STOP_REASON_UP = EnumMap(
    "TransactionEvent.stoppedReason -> StopTransaction.reason",
    {
        **{
            v: v
            for v in _names(
                "DeAuthorized EmergencyStop EVDisconnected Local Other PowerLoss Reboot Remote"
            )
        },
        "ImmediateReset": "HardReset",
        # No 1.6 counterpart: 1.6 "Other" (spec-derived, §3.3).
        **{
            v: "Other"
            for v in _names(
                "EnergyLimitReached GroundFault LocalOutOfCredit MasterPass"
                " OvercurrentFault PowerQuality SOCLimitReached StoppedByEV"
                " TimeLimitReached Timeout"
            )
        },
    },
    lossy=frozenset(
        _names(
            "EnergyLimitReached GroundFault LocalOutOfCredit MasterPass"
            " OvercurrentFault PowerQuality SOCLimitReached StoppedByEV"
            " TimeLimitReached Timeout"
        )
    ),
    reference="mapping research §3.3 (EVerest to_everest_stop_transaction_reason)",
)

FIRMWARE_STATUS_UP = EnumMap(
    "FirmwareStatusNotification.status (2.0.1 -> 1.6)",
    {
        **{
            v: v
            for v in _names(
                "Downloaded DownloadFailed Downloading Idle InstallationFailed Installing Installed"
            )
        },
        # 2.0.1-only states folded onto the 1.6 phase they belong to.
        "DownloadScheduled": "Downloading",
        "DownloadPaused": "Downloading",
        "SignatureVerified": "Downloaded",
        "InstallScheduled": "Downloaded",
        "InstallRebooting": "Installing",
        "InstallVerificationFailed": "InstallationFailed",
        "InvalidSignature": "InstallationFailed",
    },
    lossy=frozenset(
        _names(
            "DownloadScheduled DownloadPaused SignatureVerified InstallScheduled"
            " InstallRebooting InstallVerificationFailed InvalidSignature"
        )
    ),
    reference="1.6 §7.25 FirmwareStatus vs 2.0.1 FirmwareStatusEnumType (spec-derived)",
)

SIGNED_FIRMWARE_STATUS_UP = _same(
    "FirmwareStatusNotification.status -> SignedFirmwareStatusNotification.status",
    FIRMWARE_STATUS_UP.rows.keys(),
    "1.6 security whitepaper FirmwareStatusEnumType = 2.0.1's",
)

DIAGNOSTICS_STATUS_UP = EnumMap(
    "LogStatusNotification.status -> DiagnosticsStatusNotification.status",
    {
        "Idle": "Idle",
        "Uploaded": "Uploaded",
        "Uploading": "Uploading",
        "UploadFailure": "UploadFailed",
        # Refusals and cancellation: the 1.6 CSMS only learns the upload failed.
        "BadMessage": "UploadFailed",
        "NotSupportedOperation": "UploadFailed",
        "PermissionDenied": "UploadFailed",
        "AcceptedCanceled": "UploadFailed",
    },
    lossy=frozenset(
        {"BadMessage", "NotSupportedOperation", "PermissionDenied", "AcceptedCanceled"}
    ),
    reference="1.6 DiagnosticsStatus vs 2.0.1 UploadLogStatusEnumType (spec-derived)",
)

LOG_STATUS_UP = EnumMap(
    "LogStatusNotification.status (2.0.1 -> 1.6 security extension)",
    {
        **{
            v: v
            for v in _names(
                "BadMessage Idle NotSupportedOperation PermissionDenied Uploaded"
                " UploadFailure Uploading"
            )
        },
        # Not in the 1.6 security whitepaper's UploadLogStatusEnumType.
        "AcceptedCanceled": "UploadFailure",
    },
    lossy=frozenset({"AcceptedCanceled"}),
    reference="1.6 security whitepaper UploadLogStatusEnumType (spec-derived)",
)

MEASURAND_UP = EnumMap(
    "sampledValue.measurand (2.0.1 -> 1.6)",
    {
        v: v
        for v in _names(
            "Current.Export Current.Import Current.Offered"
            " Energy.Active.Export.Register Energy.Active.Import.Register"
            " Energy.Reactive.Export.Register Energy.Reactive.Import.Register"
            " Energy.Active.Export.Interval Energy.Active.Import.Interval"
            " Energy.Reactive.Export.Interval Energy.Reactive.Import.Interval"
            " Frequency Power.Active.Export Power.Active.Import Power.Factor"
            " Power.Offered Power.Reactive.Export Power.Reactive.Import SoC Voltage"
        )
    },
    # Energy.Active.Net, Energy.Reactive.Net, Energy.Apparent.* have no 1.6
    # value: the sample is dropped with a note (never defaulted, §3.5).
    default=None,
    reference="mapping research §3.5",
)

UNIT_UP = EnumMap(
    "unitOfMeasure.unit -> sampledValue.unit",
    {
        **{
            v: v
            for v in _names(
                "Wh kWh varh kvarh W kW VA kVA var kvar A V K Celsius Fahrenheit Percent Hertz"
            )
        },
        # 2.0.1 Part 2 Appendix "Standardized units" spells frequency Hz.
        "Hz": "Hertz",
        # The 1.6 enum keeps its typo; a station echoing it is understood.
        "Celcius": "Celsius",
    },
    default=None,
    reference="mapping research §3.5; 1.6 UnitOfMeasure (Hertz only in MeterValues)",
)

AUTH_STATUS_DOWN = _same(
    "idTagInfo.status -> idTokenInfo.status", _AUTH, "1.6 AuthorizationStatus ⊂ 2.0.1's"
)

# -- CSMS -> station ---------------------------------------------------------

RESET_TYPE_DOWN = EnumMap(
    "Reset.type (1.6 -> 2.0.1)",
    {"Hard": "Immediate", "Soft": "OnIdle"},
    # 1.6 Soft stops transactions gracefully now; 2.0.1 OnIdle waits for
    # them to end (mapping research §3.6).
    lossy=frozenset({"Soft"}),
    reference="mapping research §3.6 (NexoWatt iobroker.ocpp21)",
)

RESET_STATUS_UP = EnumMap(
    "Reset.status (2.0.1 -> 1.6)",
    {"Accepted": "Accepted", "Rejected": "Rejected", "Scheduled": "Accepted"},
    # Scheduled: the reset will happen, later; 1.6 can only say Accepted.
    lossy=frozenset({"Scheduled"}),
    reference="mapping research §3.6",
)

AVAILABILITY_TYPE_DOWN = _same(
    "ChangeAvailability.type -> operationalStatus", ("Inoperative", "Operative"), "§3.6"
)
AVAILABILITY_STATUS_UP = _same(
    "ChangeAvailability.status (2.0.1 -> 1.6)", ("Accepted", "Rejected", "Scheduled"), "§3.6"
)

UNLOCK_STATUS_UP = EnumMap(
    "UnlockConnector.status (2.0.1 -> 1.6)",
    {
        "Unlocked": "Unlocked",
        "UnlockFailed": "UnlockFailed",
        # No 1.6 value; the connector stayed locked.
        "OngoingAuthorizedTransaction": "UnlockFailed",
        # 1.6 NotSupported: "no connector lock" — the nearest refusal.
        "UnknownConnector": "NotSupported",
    },
    lossy=frozenset({"OngoingAuthorizedTransaction", "UnknownConnector"}),
    reference="mapping research §3.1 (UnlockConnector row)",
)

TRIGGER_MESSAGE_DOWN = EnumMap(
    "TriggerMessage.requestedMessage (1.6 -> 2.0.1)",
    {
        "BootNotification": "BootNotification",
        "DiagnosticsStatusNotification": "LogStatusNotification",
        "FirmwareStatusNotification": "FirmwareStatusNotification",
        "Heartbeat": "Heartbeat",
        "MeterValues": "MeterValues",
        "StatusNotification": "StatusNotification",
    },
    reference="mapping research §3.1 (TriggerMessage row)",
)

EXTENDED_TRIGGER_DOWN = EnumMap(
    "ExtendedTriggerMessage.requestedMessage -> TriggerMessage.requestedMessage",
    {
        "BootNotification": "BootNotification",
        "LogStatusNotification": "LogStatusNotification",
        "FirmwareStatusNotification": "FirmwareStatusNotification",
        "Heartbeat": "Heartbeat",
        "MeterValues": "MeterValues",
        "SignChargePointCertificate": "SignChargingStationCertificate",
        "StatusNotification": "StatusNotification",
    },
    reference="1.6 security whitepaper MessageTriggerEnumType (spec-derived)",
)

TRIGGER_STATUS_UP = _same(
    "TriggerMessage.status (2.0.1 -> 1.6)", ("Accepted", "Rejected", "NotImplemented"), "§3.1"
)

PROFILE_PURPOSE_DOWN = EnumMap(
    "chargingProfilePurpose (1.6 -> 2.0.1)",
    {
        "ChargePointMaxProfile": "ChargingStationMaxProfile",
        "TxDefaultProfile": "TxDefaultProfile",
        "TxProfile": "TxProfile",
    },
    reference="mapping research §3.7 (CitrineOS ChargingProfileMapper)",
)

SET_VARIABLE_STATUS_UP = EnumMap(
    "SetVariables.attributeStatus -> ChangeConfiguration.status",
    {
        "Accepted": "Accepted",
        "Rejected": "Rejected",
        "RebootRequired": "RebootRequired",
        "UnknownComponent": "NotSupported",
        "UnknownVariable": "NotSupported",
        "NotSupportedAttributeType": "NotSupported",
    },
    # 1.6 NotSupported covers all three "not known here" answers.
    lossy=frozenset({"UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"}),
    reference="mapping research §3.9 (libocpp)",
)

SEND_LOCAL_LIST_STATUS_UP = _same(
    "SendLocalList.status (2.0.1 -> 1.6)", ("Accepted", "Failed", "VersionMismatch"), "§3.1"
)
SET_PROFILE_STATUS_UP = _same(
    "SetChargingProfile.status (2.0.1 -> 1.6)", ("Accepted", "Rejected"), "§3.7"
)
CLEAR_PROFILE_STATUS_UP = _same(
    "ClearChargingProfile.status (2.0.1 -> 1.6)", ("Accepted", "Unknown"), "§3.7"
)
COMPOSITE_STATUS_UP = _same(
    "GetCompositeSchedule.status (2.0.1 -> 1.6)", ("Accepted", "Rejected"), "§3.7"
)
RESERVE_STATUS_UP = _same(
    "ReserveNow.status (2.0.1 -> 1.6)",
    ("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"),
    "§3.1",
)
ACCEPTED_REJECTED_UP = _same(
    "status Accepted/Rejected (RemoteStart/Stop, CancelReservation, ClearCache, "
    "CertificateSigned, SignCertificate)",
    ("Accepted", "Rejected"),
    "same enum in both versions",
)
DATA_TRANSFER_STATUS = _same(
    "DataTransfer.status (both ways)",
    ("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"),
    "same enum in both versions",
)
UPDATE_FIRMWARE_STATUS_UP = _same(
    "UpdateFirmware.status -> SignedUpdateFirmware.status",
    ("Accepted", "Rejected", "AcceptedCanceled", "InvalidCertificate", "RevokedCertificate"),
    "1.6 security whitepaper UpdateFirmwareStatusEnumType = 2.0.1's",
)
GET_LOG_STATUS_UP = _same(
    "GetLog.status (2.0.1 -> 1.6 security extension)",
    ("Accepted", "Rejected", "AcceptedCanceled"),
    "same enum",
)
INSTALL_CERTIFICATE_STATUS_UP = _same(
    "InstallCertificate.status", ("Accepted", "Rejected", "Failed"), "same enum"
)
DELETE_CERTIFICATE_STATUS_UP = _same(
    "DeleteCertificate.status", ("Accepted", "Failed", "NotFound"), "same enum"
)
INSTALLED_IDS_STATUS_UP = _same(
    "GetInstalledCertificateIds.status", ("Accepted", "NotFound"), "same enum"
)
CERTIFICATE_TYPE_DOWN = EnumMap(
    "certificateType (1.6 security extension -> 2.0.1)",
    {
        "CentralSystemRootCertificate": "CSMSRootCertificate",
        "ManufacturerRootCertificate": "ManufacturerRootCertificate",
    },
    reference="1.6 security whitepaper CertificateUseEnumType (spec-derived)",
)
CERTIFICATE_TYPE_UP = EnumMap(
    "certificateHashDataChain.certificateType (2.0.1 -> 1.6 security extension)",
    {v: k for k, v in CERTIFICATE_TYPE_DOWN.rows.items()},
    # V2G / MO certificates have no 1.6 type: left out of the answer.
    default=None,
    reference="1.6 security whitepaper CertificateUseEnumType (spec-derived)",
)

TABLES: tuple[EnumMap, ...] = (
    CONNECTOR_STATUS_UP,
    CHARGING_STATE_UP,
    STOP_REASON_UP,
    FIRMWARE_STATUS_UP,
    SIGNED_FIRMWARE_STATUS_UP,
    DIAGNOSTICS_STATUS_UP,
    LOG_STATUS_UP,
    MEASURAND_UP,
    UNIT_UP,
    AUTH_STATUS_DOWN,
    RESET_TYPE_DOWN,
    RESET_STATUS_UP,
    AVAILABILITY_TYPE_DOWN,
    AVAILABILITY_STATUS_UP,
    UNLOCK_STATUS_UP,
    TRIGGER_MESSAGE_DOWN,
    EXTENDED_TRIGGER_DOWN,
    TRIGGER_STATUS_UP,
    PROFILE_PURPOSE_DOWN,
    SET_VARIABLE_STATUS_UP,
    SEND_LOCAL_LIST_STATUS_UP,
    SET_PROFILE_STATUS_UP,
    CLEAR_PROFILE_STATUS_UP,
    COMPOSITE_STATUS_UP,
    RESERVE_STATUS_UP,
    ACCEPTED_REJECTED_UP,
    DATA_TRANSFER_STATUS,
    UPDATE_FIRMWARE_STATUS_UP,
    GET_LOG_STATUS_UP,
    INSTALL_CERTIFICATE_STATUS_UP,
    DELETE_CERTIFICATE_STATUS_UP,
    INSTALLED_IDS_STATUS_UP,
    CERTIFICATE_TYPE_DOWN,
    CERTIFICATE_TYPE_UP,
)
