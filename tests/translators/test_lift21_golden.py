"""What changes from 2.0.1 to 2.1, pair by pair: golden files under tests/golden/lift21/.

Each case plays frames through one 2.1 pair (a 2.0.1 station behind a 2.1 CSMS,
a 2.1 station behind a 2.0.1 CSMS, a 1.6 charger behind a 2.1 CSMS through the
chain 1.6 -> 2.0.1 -> 2.1) with the engine-golden runner, which checks every
emitted frame against the official schema of the side it goes to. Run with
``OCPPKIT_REGEN_GOLDEN=1`` to rewrite the files (then review the diff).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocppkit.translators.lift21.pairs import coverage
from ocppkit.translators.mapping_doc import render
from ocppkit.translators.schemas import actions
from ocppkit.translators.versions import OcppVersion
from tests.translators.test_engine_golden import (
    PAIRS,
    T0,
    C,
    D,
    Input,
    K,
    S,
    U,
    call,
    check_golden,
    error,
    result,
    run,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "lift21"
V201, V21 = OcppVersion.V201, OcppVersion.V21
LONG_TOKEN = "A" * 60


def _tx(trigger: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": T0,
        "triggerReason": trigger,
        "seqNo": 3,
        "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
        **extra,
    }


_SAMPLES_21 = [
    {
        "timestamp": T0,
        "sampledValue": [
            {
                "value": 1200.5,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"},
            },
            {"value": 64, "measurand": "Display.PresentSOC"},
            {"value": 230.1, "measurand": "Voltage", "location": "Upstream"},
        ],
    }
]
_PROFILE = {
    "id": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 1,
            "startSchedule": T0,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }
    ],
}

CASES: dict[tuple[str, str], list[Input]] = {
    # -- a 2.1 station behind a 2.0.1 CSMS --------------------------------------------
    (D, "transaction_event_new_fields_dropped_and_reasons_mapped"): [
        call(
            C,
            "c1",
            "TransactionEvent",
            {
                **_tx("RunningCost", meterValue=_SAMPLES_21),
                "transactionInfo": {
                    "transactionId": "tx-1",
                    "tariffId": "T1",
                    "operationMode": "ChargingOnly",
                },
                "costDetails": {
                    "totalCost": {
                        "currency": "EUR",
                        "typeOfCost": "NormalCost",
                        "total": {"exclTax": 1.5},
                    },
                    "totalUsage": {"energy": 1.2, "chargingTime": 60, "idleTime": 0},
                },
            },
        ),
        result(S, "c1", {"totalCost": 1.5}),
    ],
    (D, "stopped_reason_new_in_21_becomes_other"): [
        call(
            C,
            "c1",
            "TransactionEvent",
            {
                **_tx("StopAuthorized"),
                "eventType": "Ended",
                "transactionInfo": {
                    "transactionId": "tx-1",
                    "stoppedReason": "ReqEnergyTransferRejected",
                },
            },
        ),
    ],
    (D, "long_id_token_refused_never_cut"): [
        call(C, "c1", "Authorize", {"idToken": {"idToken": LONG_TOKEN, "type": "ISO14443"}}),
    ],
    (D, "free_id_token_type_refused"): [
        call(C, "c1", "Authorize", {"idToken": {"idToken": "04A2B3C4", "type": "EVCCID"}}),
    ],
    (D, "meter_values_of_21_only_measurands_refused_when_nothing_is_left"): [
        call(
            C,
            "c1",
            "MeterValues",
            {
                "evseId": 1,
                "meterValue": [
                    {
                        "timestamp": T0,
                        "sampledValue": [{"value": 50, "measurand": "Display.PresentSOC"}],
                    }
                ],
            },
        ),
    ],
    (D, "station_only_21_action_refused_with_reason"): [
        call(
            C,
            "c1",
            "NotifySettlement",
            {"pspRef": "p1", "status": "Settled", "settlementAmount": 1.0, "settlementTime": T0},
        ),
    ],
    (D, "csms_command_up_and_answer_down"): [
        call(S, "s1", "SetChargingProfile", {"evseId": 1, "chargingProfile": _PROFILE}),
        result(
            C,
            "s1",
            {"status": "Accepted", "statusInfo": {"reasonCode": "ok", "additionalInfo": "B" * 700}},
        ),
    ],
    (D, "display_answer_new_status_mapped"): [
        call(
            S,
            "s1",
            "SetDisplayMessage",
            {
                "message": {
                    "id": 1,
                    "priority": "NormalCycle",
                    "message": {"format": "UTF8", "content": "hi"},
                }
            },
        ),
        result(C, "s1", {"status": "LanguageNotSupported"}),
    ],
    # -- a 2.0.1 station behind a 2.1 CSMS ----------------------------------------------
    (U, "transaction_event_passes_up_unchanged"): [
        call(
            C,
            "c1",
            "TransactionEvent",
            {**_tx("MeterValuePeriodic"), "idToken": {"idToken": "AB12", "type": "ISO14443"}},
        ),
        result(
            S,
            "c1",
            {
                "idTokenInfo": {"status": "Accepted"},
                "updatedPersonalMessageExtra": [{"format": "UTF8", "content": "x"}],
            },
        ),
    ],
    (U, "authorize_answer_tariff_dropped"): [
        call(C, "c1", "Authorize", {"idToken": {"idToken": "AB12", "type": "ISO14443"}}),
        result(
            S,
            "c1",
            {
                "idTokenInfo": {"status": "Accepted"},
                "tariff": {
                    "tariffId": "T1",
                    "currency": "EUR",
                    "energy": {"prices": [{"priceKwh": 0.3}]},
                },
            },
        ),
    ],
    (U, "monitoring_report_gets_the_field_21_requires"): [
        call(
            C,
            "c1",
            "NotifyMonitoringReport",
            {
                "requestId": 1,
                "seqNo": 0,
                "generatedAt": T0,
                "monitor": [
                    {
                        "component": {"name": "EVSE"},
                        "variable": {"name": "Power"},
                        "variableMonitoring": [
                            {
                                "id": 1,
                                "transaction": False,
                                "value": 1.0,
                                "type": "UpperThreshold",
                                "severity": 5,
                            }
                        ],
                    }
                ],
            },
        ),
    ],
    (U, "reset_immediate_and_resume_refused"): [
        call(S, "s1", "Reset", {"type": "ImmediateAndResume"})
    ],
    (U, "custom_trigger_refused"): [
        call(
            S, "s1", "TriggerMessage", {"requestedMessage": "CustomTrigger", "customTrigger": "x"}
        ),
    ],
    (U, "dynamic_profile_refused"): [
        call(
            S,
            "s1",
            "SetChargingProfile",
            {"evseId": 1, "chargingProfile": {**_PROFILE, "chargingProfileKind": "Dynamic"}},
        ),
    ],
    (U, "priority_charging_profile_refused"): [
        call(
            S,
            "s1",
            "SetChargingProfile",
            {
                "evseId": 1,
                "chargingProfile": {**_PROFILE, "chargingProfilePurpose": "PriorityCharging"},
            },
        ),
    ],
    (U, "tariff_message_not_supported"): [
        call(
            S,
            "s1",
            "SetDefaultTariff",
            {"evseId": 0, "tariff": {"tariffId": "T1", "currency": "EUR"}},
        ),
    ],
    (U, "csms_long_token_refused_going_down"): [
        call(
            S,
            "s1",
            "RequestStartTransaction",
            {"remoteStartId": 1, "idToken": {"idToken": LONG_TOKEN, "type": "Central"}},
        ),
    ],
    (U, "qr_code_personal_message_dropped_from_the_answer"): [
        call(
            C,
            "c1",
            "TransactionEvent",
            {**_tx("MeterValuePeriodic"), "idToken": {"idToken": "AB12", "type": "ISO14443"}},
        ),
        result(
            S,
            "c1",
            {
                "totalCost": 2.5,
                "idTokenInfo": {
                    "status": "Accepted",
                    "personalMessage": {"format": "QRCODE", "content": "https://pay"},
                },
            },
        ),
    ],
    (U, "csms_error_relayed"): [
        call(C, "c1", "Heartbeat", {}),
        error(S, "c1", "SecurityError", "no"),
    ],
    # -- a 1.6 charger behind a 2.1 CSMS (1.6 -> 2.0.1 -> 2.1) --------------------------
    (K, "boot_and_heartbeat"): [
        call(C, "c1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
        result(S, "c1", {"currentTime": T0, "interval": 60, "status": "Accepted"}),
        call(C, "c2", "Heartbeat", {}),
        result(S, "c2", {"currentTime": T0}),
    ],
    (K, "session_start_meter_stop"): [
        call(
            C,
            "c1",
            "StartTransaction",
            {"connectorId": 1, "idTag": "TAG1", "meterStart": 100, "timestamp": T0},
        ),
        result(S, "c1", {"idTokenInfo": {"status": "Accepted"}}),
        call(
            C,
            "c2",
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 1,
                "meterValue": [{"timestamp": T0, "sampledValue": [{"value": "150"}]}],
            },
        ),
        call(
            C,
            "c3",
            "StopTransaction",
            {"transactionId": 1, "meterStop": 200, "timestamp": T0, "reason": "Local"},
        ),
    ],
    (K, "remote_start_from_21"): [
        call(
            S,
            "s1",
            "RequestStartTransaction",
            {"remoteStartId": 5, "evseId": 1, "idToken": {"idToken": "TAG1", "type": "Central"}},
        ),
        result(C, "s1", {"status": "Accepted"}),
    ],
    (K, "remote_start_token_over_20_refused"): [
        call(
            S,
            "s1",
            "RequestStartTransaction",
            {"remoteStartId": 5, "evseId": 1, "idToken": {"idToken": "T" * 30, "type": "Central"}},
        ),
    ],
    (K, "reset_immediate_and_resume_refused"): [
        call(S, "s1", "Reset", {"type": "ImmediateAndResume"})
    ],
    (K, "get_and_set_configuration"): [
        call(
            S,
            "s1",
            "GetVariables",
            {
                "getVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    }
                ]
            },
        ),
        result(
            C,
            "s1",
            {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}]},
        ),
    ],
    (K, "tariff_message_not_supported"): [
        call(S, "s1", "GetTariffs", {"evseId": 1}),
    ],
}


def test_the_mapping_doc_gives_every_21_action_an_outcome() -> None:
    """Every 2.1 action, whoever sends it, has a row on its 2.1 side: translated (and
    how) or not supported (and why)."""
    rows = [
        (action, sender)
        for pair in (PAIRS[U], PAIRS[D])
        for action, sender, _, _ in coverage(pair)
        if (sender == "CSMS") == (pair is PAIRS[U])
    ]
    assert {action for action, _ in rows} == actions(V21)
    text = render()
    for action in actions(V21) - actions(V201):
        assert f"| {action} |" in text
    assert "ImmediateAndResume" in text and "NotifyPeriodicEventStream" in text


@pytest.mark.parametrize(("pair", "case"), sorted(CASES), ids=lambda v: str(v))
def test_lift21_case_matches_its_golden_file(pair: str, case: str) -> None:
    doc = run(PAIRS[pair], CASES[(pair, case)])
    check_golden(GOLDEN / pair / f"{case}.json", doc)


def test_no_lift21_golden_file_is_left_without_its_case() -> None:
    files = {(p.parent.name, p.stem) for p in GOLDEN.glob("*/*.json")}
    assert files <= set(CASES), sorted(files - set(CASES))
