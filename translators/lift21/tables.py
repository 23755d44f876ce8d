"""The value tables of the 2.0.1 <-> 2.1 fitting, and the refusals with their reasons.

2.1 (January 2025) keeps every 2.0.1 message and adds to it (the official
schemas of the ``ocpp`` package, ``ocpp/v21/schemas``; the research notes'
section 3). Going up, a 2.0.1 payload fits 2.1 as it is, but for one field
2.1 newly requires. Going down, what 2.1 adds is dropped (noted lossy),
mapped to the nearest 2.0.1 value (noted lossy), or refused with the reason
below: a value whose nearest 2.0.1 form would do something else.
"""

from __future__ import annotations

from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.lift21.fit import FitRules

_REF = "OCPP 2.1 / 2.0.1 JSON schemas (ocpp package); nearest 2.0.1 meaning"

TRIGGER_REASON_DOWN = EnumMap(
    "TransactionEvent.triggerReason 2.1 -> 2.0.1",
    {
        "CostLimitReached": "EnergyLimitReached",
        "LimitSet": "ChargingRateChanged",
        "OperationModeChanged": "ChargingStateChanged",
        "RunningCost": "MeterValuePeriodic",
        "SoCLimitReached": "EnergyLimitReached",
        "TariffChanged": "ChargingRateChanged",
        "TariffNotAccepted": "Deauthorized",
        "TxResumed": "ChargingStateChanged",
    },
    lossy=frozenset(
        {
            "CostLimitReached",
            "LimitSet",
            "OperationModeChanged",
            "RunningCost",
            "SoCLimitReached",
            "TariffChanged",
            "TariffNotAccepted",
            "TxResumed",
        }
    ),
    reference=_REF,
)
STOPPED_REASON_DOWN = EnumMap(
    "TransactionEvent.stoppedReason 2.1 -> 2.0.1",
    {"ReqEnergyTransferRejected": "Other"},
    lossy=frozenset({"ReqEnergyTransferRejected"}),
    reference=_REF,
)
DISPLAY_STATUS_DOWN = EnumMap(
    "SetDisplayMessage status 2.1 -> 2.0.1",
    {"LanguageNotSupported": "Rejected"},
    lossy=frozenset({"LanguageNotSupported"}),
    reference=_REF,
)
CLEAR_DISPLAY_DOWN = EnumMap(
    "ClearDisplayMessage status 2.1 -> 2.0.1",
    {"Rejected": "Unknown"},
    lossy=frozenset({"Rejected"}),
    reference=_REF,
)
RESERVATION_UPDATE_DOWN = EnumMap(
    "ReservationStatusUpdate status 2.1 -> 2.0.1",
    {"NoTransaction": "Expired"},
    lossy=frozenset({"NoTransaction"}),
    reference=_REF + " (the reservation ended unused)",
)
MESSAGE_STATE_DOWN = EnumMap(
    "display message state 2.1 -> 2.0.1",
    {"Discharging": "Charging", "Suspended": "Idle"},
    lossy=frozenset({"Discharging", "Suspended"}),
    reference=_REF,
)

TABLES = (
    TRIGGER_REASON_DOWN,
    STOPPED_REASON_DOWN,
    DISPLAY_STATUS_DOWN,
    CLEAR_DISPLAY_DOWN,
    RESERVATION_UPDATE_DOWN,
    MESSAGE_STATE_DOWN,
)

_PROFILE_PURPOSE = "ChargingProfilePurposeEnumType"
# 2.1 values whose nearest 2.0.1 form would do something else: refused, with the reason.
REFUSED_DOWN: dict[tuple[str, str], str] = {
    ("ResetEnumType", "ImmediateAndResume"): (
        "2.0.1 has no reset that resumes the running transactions; "
        "send Immediate (ends them) or OnIdle"
    ),
    ("MessageTriggerEnumType", "CustomTrigger"): (
        "2.0.1 has no custom triggers; the station cannot be asked for it"
    ),
    ("MessageTriggerEnumType", "SignV2G20Certificate"): (
        "2.0.1 stations hold no ISO 15118-20 certificate"
    ),
    (_PROFILE_PURPOSE, "LocalGeneration"): (
        "2.0.1 has no local-generation profiles; a TxDefaultProfile would limit charging instead"
    ),
    (_PROFILE_PURPOSE, "PriorityCharging"): (
        "2.0.1 has no priority charging; the profile would not be overridden as 2.1 means"
    ),
    ("ChargingProfileKindEnumType", "Dynamic"): (
        "2.0.1 has no dynamic profiles (2.1 updates them by UpdateDynamicSchedule)"
    ),
    ("CertificateSigningUseEnumType", "V2G20Certificate"): (
        "2.0.1 stations hold no ISO 15118-20 certificate"
    ),
    ("GetCertificateIdUseEnumType", "OEMRootCertificate"): (
        "2.0.1 stations keep no OEM root certificates"
    ),
    ("InstallCertificateUseEnumType", "OEMRootCertificate"): (
        "2.0.1 stations keep no OEM root certificates"
    ),
}

DOWN = FitRules(
    enums={
        "TriggerReasonEnumType": TRIGGER_REASON_DOWN,
        "ReasonEnumType": STOPPED_REASON_DOWN,
        "DisplayMessageStatusEnumType": DISPLAY_STATUS_DOWN,
        "ClearMessageStatusEnumType": CLEAR_DISPLAY_DOWN,
        "ReservationUpdateStatusEnumType": RESERVATION_UPDATE_DOWN,
        "MessageStateEnumType": MESSAGE_STATE_DOWN,
    },
    refusals=REFUSED_DOWN,
    # A sampled value of a 2.1-only measurand or at the Upstream location is
    # dropped (noted), not the whole reading; a reading left empty goes too.
    # A personal message in a format 2.0.1 lacks (QRCODE) is dropped from an answer
    # rather than the answer refused (the station would resend its transaction event).
    droppable=frozenset({"SampledValueType", "MeterValueType", "MessageContentType"}),
    defaults={},
    # texts for people, 1024 characters in 2.1 and 512 in 2.0.1: cut, noted
    cuttable=frozenset({"StatusInfoType.additionalInfo", "MessageContentType.content"}),
)
UP = FitRules(
    enums={},
    refusals={},
    droppable=frozenset(),
    # 2.1 requires it; every monitor a 2.0.1 station reports was set by someone.
    defaults={"VariableMonitoringType.eventNotificationType": "CustomMonitor"},
)

# Actions only 2.1 has, by who sends them, with why a 2.0.1 peer cannot carry them.
_DER = "DER control (2.1 Part 2 R04-R05): 2.0.1 stations have no DER functions"
_STREAM = "periodic event streams are 2.1 only: a 2.0.1 station cannot open one"
_SWAP = "battery swapping is 2.1 only"
_TARIFF = (
    "tariffs are 2.1 only (I: tariff and cost): the 2.0.1 station cannot hold one, "
    "and this bridge holds no tariff to answer for it"
)
ONLY_21_FROM_CSMS: dict[str, str] = {
    "AFRRSignal": "aFRR signals are 2.1 only (V2X): a 2.0.1 station has no bidirectional control",
    "AdjustPeriodicEventStream": _STREAM,
    "ChangeTransactionTariff": _TARIFF,
    "ClearDERControl": _DER,
    "ClearTariffs": _TARIFF,
    "GetDERControl": _DER,
    "GetPeriodicEventStream": _STREAM,
    "GetTariffs": _TARIFF,
    "NotifyAllowedEnergyTransfer": "allowed energy transfer (V2X) is 2.1 only",
    "NotifyWebPaymentStarted": "web payment is 2.1 only: a 2.0.1 station shows no payment",
    "RequestBatterySwap": _SWAP,
    "SetDERControl": _DER,
    "SetDefaultTariff": _TARIFF,
    "UpdateDynamicSchedule": "dynamic charging profiles are 2.1 only",
    "UsePriorityCharging": "priority charging is 2.1 only",
}
ONLY_21_FROM_STATION: dict[str, str] = {
    "BatterySwap": _SWAP + ": the 2.0.1 CSMS has no such message",
    "ClosePeriodicEventStream": _STREAM.replace("station", "CSMS"),
    "GetCertificateChainStatus": "certificate chain status (2.1) has no 2.0.1 message; "
    "2.0.1 checks one certificate at a time (GetCertificateStatus)",
    "NotifyDERAlarm": _DER.replace("stations have", "CSMSs take"),
    "NotifyDERStartStop": _DER.replace("stations have", "CSMSs take"),
    "NotifyPeriodicEventStream": _STREAM.replace("station cannot open", "CSMS cannot read"),
    "NotifyPriorityCharging": "priority charging is 2.1 only",
    "NotifySettlement": "payment settlement is 2.1 only: the 2.0.1 CSMS has no such message",
    "OpenPeriodicEventStream": _STREAM.replace("station cannot open", "CSMS cannot read"),
    "PullDynamicScheduleUpdate": "dynamic charging profiles are 2.1 only",
    "ReportDERControl": _DER.replace("stations have", "CSMSs take"),
    "VatNumberValidation": "VAT number validation is 2.1 only",
}

# The 2.0.1 actions a station sends (2.0.1 Part 2); the rest the CSMS sends,
# DataTransfer both. 2.1 keeps the senders.
STATION_SENDS: frozenset[str] = frozenset(
    {
        "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer",
        "FirmwareStatusNotification", "Get15118EVCertificate", "GetCertificateStatus",
        "Heartbeat", "LogStatusNotification", "MeterValues", "NotifyChargingLimit",
        "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
        "PublishFirmwareStatusNotification", "ReportChargingProfiles",
        "ReservationStatusUpdate", "SecurityEventNotification", "SignCertificate",
        "StatusNotification", "TransactionEvent",
    }
)  # fmt: skip
