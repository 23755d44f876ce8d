"""What the reverse bridge does with each action, as data (for docs/mapping.md).

:data:`COVERAGE` lists every action a 2.0.1 station may send and every
action a 1.6 CSMS may send, with the outcome. It is checked against the
session's routing tables by the tests, so the document cannot drift from the
code.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocppkit.translators.pending import Side
from ocppkit.translators.station201_csms16 import session, station

TRANSLATED = "translated"
LOCAL_ANSWER = "local answer"
NOT_SUPPORTED = "not supported"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """One action and its fate.

    Attributes:
        sender: the charger side (a 2.0.1 action) or the CSMS side (a 1.6 action).
        action: the action as the sender names it.
        outcome: :data:`TRANSLATED`, :data:`LOCAL_ANSWER` or :data:`NOT_SUPPORTED`.
        target: what it becomes on the other side ("" when nothing).
        note: the rule, in a few words.
    """

    sender: Side
    action: str
    outcome: str
    target: str
    note: str = ""


# What each handled action becomes; the note names the lossy part, if any.
_CHARGER_TARGETS: dict[str, tuple[str, str]] = {
    "BootNotification": ("BootNotification", "reason dropped; vendorName cut to 20"),
    "Heartbeat": ("Heartbeat", ""),
    "Authorize": ("Authorize", "idToken.type dropped; tokens > 20 chars answered Unknown"),
    "StatusNotification": (
        "StatusNotification",
        "Occupied refined by chargingState, else Preparing; connector = EVSE",
    ),
    "NotifyEvent": (
        "StatusNotification (Faulted + errorCode)",
        "faults on Problem variables only; answered locally",
    ),
    "MeterValues": ("MeterValues", "2.0.1-only measurands/units dropped"),
    "TransactionEvent": (
        "StartTransaction / MeterValues / StopTransaction (+ StatusNotification)",
        "Started waits for an idToken; events buffered until the 1.6 id is known; "
        "triggerReason, offline, numberOfPhasesUsed, cableMaxCurrent have no 1.6 field",
    ),
    "DataTransfer": ("DataTransfer", "non-string data sent as JSON text"),
    "FirmwareStatusNotification": (
        "FirmwareStatusNotification / SignedFirmwareStatusNotification",
        "2.0.1-only states folded",
    ),
    "LogStatusNotification": (
        "DiagnosticsStatusNotification / LogStatusNotification",
        "by the 1.6 command that asked",
    ),
    "SecurityEventNotification": ("SecurityEventNotification", "1.6 security extension"),
    "SignCertificate": ("SignCertificate", "V2GCertificate refused"),
}
_CSMS_TARGETS: dict[str, tuple[str, str]] = {
    "RemoteStartTransaction": ("RequestStartTransaction", "remoteStartId minted"),
    "RemoteStopTransaction": ("RequestStopTransaction", "integer id -> station id"),
    "Reset": ("Reset", "Hard -> Immediate, Soft -> OnIdle (lossy)"),
    "ChangeAvailability": ("ChangeAvailability", "connector 0 -> no evse"),
    "UnlockConnector": ("UnlockConnector", "connector n -> EVSE n connector 1"),
    "TriggerMessage": ("TriggerMessage", "DiagnosticsStatusNotification -> LogStatusNotification"),
    "ExtendedTriggerMessage": ("TriggerMessage", "1.6 security extension"),
    "GetConfiguration": (
        "GetVariables",
        "key table of ocppkit.translators.charger16_csms201.config_keys",
    ),
    "ChangeConfiguration": (
        "SetVariables",
        "key table of ocppkit.translators.charger16_csms201.config_keys",
    ),
    "SetChargingProfile": ("SetChargingProfile", "one schedule, id = profile id"),
    "ClearChargingProfile": ("ClearChargingProfile", ""),
    "GetCompositeSchedule": ("GetCompositeSchedule", "limits rounded to 0.1"),
    "ReserveNow": ("ReserveNow", "idTag -> ISO14443 idToken"),
    "CancelReservation": ("CancelReservation", ""),
    "SendLocalList": ("SendLocalList", "idTag -> ISO14443 idToken"),
    "GetLocalListVersion": ("GetLocalListVersion", ""),
    "ClearCache": ("ClearCache", ""),
    "UpdateFirmware": ("UpdateFirmware", "requestId minted; refusal not reportable"),
    "SignedUpdateFirmware": ("UpdateFirmware", "1.6 security extension"),
    "GetDiagnostics": ("GetLog (DiagnosticsLog)", "requestId minted"),
    "GetLog": ("GetLog", "1.6 security extension"),
    "CertificateSigned": ("CertificateSigned", "ChargingStationCertificate"),
    "InstallCertificate": ("InstallCertificate", ""),
    "DeleteCertificate": ("DeleteCertificate", ""),
    "GetInstalledCertificateIds": ("GetInstalledCertificateIds", "V2G/MO types left out"),
    "DataTransfer": ("DataTransfer", ""),
}


def _rows() -> tuple[CoverageRow, ...]:
    rows: list[CoverageRow] = []
    for action in sorted(session.STATION_CALLS):
        if action in station.LOCAL_ANSWERS:
            rows.append(
                CoverageRow(Side.CHARGER, action, LOCAL_ANSWER, "", station.LOCAL_ANSWERS[action])
            )
        else:
            target, note = _CHARGER_TARGETS[action]
            rows.append(CoverageRow(Side.CHARGER, action, TRANSLATED, target, note))
    for action, reason in sorted(session.NOT_SUPPORTED.items()):
        rows.append(CoverageRow(Side.CHARGER, action, NOT_SUPPORTED, "", reason))
    for action in sorted(session.CSMS_CALLS):
        target, note = _CSMS_TARGETS[action]
        rows.append(CoverageRow(Side.CSMS, action, TRANSLATED, target, note))
    return tuple(rows)


COVERAGE: tuple[CoverageRow, ...] = _rows()
