"""Migration readiness: a 1.6 fleet's recorded traffic replayed through the bridge translator."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ocppkit.toolkit.analysis.migration import (
    LOSSLESS,
    LOSSY,
    NOT_TRANSLATED,
    actions_used,
    charger_models,
    configuration_keys,
    readiness_by_model,
    replay_outcomes,
)

T0 = pd.Timestamp("2026-03-02T08:00:00Z")
UP, DOWN = "cs_to_csms", "csms_to_cs"


def frames(*rows: tuple[int, str, str, int, str, str | None, dict[str, Any]]) -> pd.DataFrame:
    """rows: (second, charger, direction, message type, message id, action, payload)."""
    out = []
    for line, (sec, cp, direction, mtype, mid, action, payload) in enumerate(rows, start=1):
        out.append(
            {
                "timestamp": T0 + pd.Timedelta(seconds=sec),
                "charge_point_id": cp,
                "direction": direction,
                "ocpp_version": "1.6",
                "message_type": mtype,
                "message_id": mid,
                "action": action if mtype == 2 else None,
                "payload": json.dumps(payload),
                "matched_action": None if mtype == 2 else action,
                "line": line,
            }
        )
    return pd.DataFrame(out)


BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
SAMPLES = [
    {"value": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
    {"value": "21.5", "measurand": "Temperature", "unit": "Celsius"},
]
FLEET = frames(
    (0, "CP1", UP, 2, "b1", "BootNotification", BOOT),
    (
        1,
        "CP1",
        DOWN,
        3,
        "b1",
        "BootNotification",
        {"status": "Accepted", "currentTime": "2026-03-02T08:00:01Z", "interval": 300},
    ),
    (2, "CP1", UP, 2, "h1", "Heartbeat", {}),
    (3, "CP1", DOWN, 3, "h1", "Heartbeat", {"currentTime": "2026-03-02T08:00:03Z"}),
    (
        4,
        "CP1",
        UP,
        2,
        "m1",
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [{"timestamp": "2026-03-02T08:00:04Z", "sampledValue": SAMPLES}],
        },
    ),
    (5, "CP1", DOWN, 3, "m1", "MeterValues", {}),
    (6, "CP1", DOWN, 2, "c1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}),
    (7, "CP1", UP, 3, "c1", "ChangeConfiguration", {"status": "Accepted"}),
    (8, "CP1", DOWN, 2, "c2", "ChangeConfiguration", {"key": "AcmeLedBrightness", "value": "3"}),
    (9, "CP1", UP, 3, "c2", "ChangeConfiguration", {"status": "Accepted"}),
)


def test_each_message_is_classed_by_what_the_translator_did() -> None:
    outcomes = replay_outcomes(FLEET)
    by_action = dict(
        zip(
            outcomes["action"] + "/" + outcomes["message_type"].astype(str),
            outcomes["outcome"],
            strict=True,
        )
    )
    assert by_action["BootNotification/2"] == LOSSLESS
    assert by_action["Heartbeat/2"] == LOSSLESS
    # Temperature has no 2.0.1 measurand: translated without it, with a lossy note.
    assert by_action["MeterValues/2"] == LOSSY
    assert "Temperature" in outcomes.loc[outcomes["action"] == "MeterValues", "detail"].iloc[0]
    # A legacy CSMS command is classed by its 2.0.1 counterpart (SetVariables).
    assert by_action["ChangeConfiguration/2"] == LOSSLESS


def test_meter_values_with_nothing_2_0_1_can_carry_are_not_translated() -> None:
    only_temperature = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-03-02T08:00:04Z", "sampledValue": SAMPLES[1:]}],
    }
    outcomes = replay_outcomes(frames((0, "CP1", UP, 2, "m1", "MeterValues", only_temperature)))
    assert outcomes["outcome"].tolist() == [NOT_TRANSLATED]


def test_actions_used_counts_each_outcome_per_sender() -> None:
    table = actions_used(replay_outcomes(FLEET)).set_index(["action", "direction"])
    assert table.loc[("ChangeConfiguration", DOWN), "messages"] == 2
    assert table.loc[("ChangeConfiguration", DOWN), LOSSLESS] == 2
    assert table.loc[("MeterValues", UP), LOSSY] == 1


def test_configuration_keys_are_standard_or_legacy() -> None:
    keys = configuration_keys(FLEET).set_index("key")
    assert keys.loc["HeartbeatInterval", "class"] == "standard"
    assert keys.loc["HeartbeatInterval", "2.0.1 variable"] == "OCPPCommCtrlr.HeartbeatInterval"
    assert keys.loc["AcmeLedBrightness", "class"] == "legacy"
    assert keys.loc["AcmeLedBrightness", "2.0.1 variable"] == "OCPP16Config.AcmeLedBrightness"


def test_readiness_is_reported_per_charger_model() -> None:
    outcomes = replay_outcomes(FLEET)
    table = readiness_by_model(outcomes, configuration_keys(FLEET), charger_models(FLEET))
    row = table.iloc[0]
    assert (row.vendor, row.model, row.chargers, row.messages) == ("Acme", "AC22", 1, 10)
    assert row.standard_keys_pct == 50.0
    assert row.ready  # everything the charger sends translates
    assert row.lossless_pct + row.lossy_pct + row.not_translated_pct == 100.0
