"""Ingest reads a value exactly as the bridge translates it.

The vocabulary is built from the translators' tables; these tests run the
translators themselves on real frames and check ingest's reading agrees:
a 1.6 status becomes the connectorStatus the forward pair sends, a 1.6 stop
reason the stoppedReason it sends, and every action the vocabulary calls
charger-initiated is one some pair takes from a charger.
"""

from __future__ import annotations

import pytest

from ocppkit.toolkit.ingest import vocab
from ocppkit.translators.charger16_csms201.session import PAIR as CHARGER16
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import fixed_context
from ocppkit.translators.frames import Call, CallResult
from ocppkit.translators.schemas import actions, send_actions
from ocppkit.translators.versions import OcppVersion

T0 = "2026-03-01T12:00:00.000Z"


@pytest.mark.parametrize("status", sorted(vocab.STATUS_16))
def test_a_1_6_status_reads_as_the_connector_status_the_bridge_sends(status: str) -> None:
    step = CHARGER16.from_charger(
        BridgeState(),
        Call("m1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                          "status": status, "timestamp": T0}),
        fixed_context(),
    )  # fmt: skip
    sent = [f for f in step.to_csms if isinstance(f, Call) and f.action == "StatusNotification"]
    assert [f.payload["connectorStatus"] for f in sent] == [
        vocab.connector_state(OcppVersion.V16, status)[0]
    ]


@pytest.mark.parametrize("reason", sorted(vocab.STOP_REASON_16.rows))
def test_a_1_6_stop_reason_reads_as_the_stopped_reason_the_bridge_sends(reason: str) -> None:
    state, ctx = BridgeState(), fixed_context()
    start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": T0}
    CHARGER16.from_charger(state, Call("s1", "StartTransaction", start), ctx)
    answer = {"idTokenInfo": {"status": "Accepted"}}
    (back,) = CHARGER16.from_csms(state, CallResult("s1", answer), ctx).to_charger
    assert isinstance(back, CallResult)
    stop = {"transactionId": back.payload["transactionId"], "meterStop": 10, "timestamp": T0,
            "reason": reason}  # fmt: skip
    step = CHARGER16.from_charger(state, Call("s2", "StopTransaction", stop), ctx)
    (ended,) = [f for f in step.to_csms if isinstance(f, Call)]
    sent = ended.payload["transactionInfo"].get("stoppedReason", vocab.DEFAULT_STOP_REASON)
    assert vocab.stop_reason(OcppVersion.V16, reason) == (
        sent,
        reason in vocab.STOP_REASON_16.lossy,
    )


def test_charger_initiated_actions_are_actions_of_some_version_sent_by_no_csms() -> None:
    v21 = actions(OcppVersion.V21) | send_actions(OcppVersion.V21)
    known = actions(OcppVersion.V16) | actions(OcppVersion.V201) | v21
    assert known >= vocab.CS_ACTIONS
    csms_sent = {"Reset", "RemoteStartTransaction", "SetVariables", "RequestStartTransaction"}
    assert not vocab.CS_ACTIONS & csms_sent
    assert {"BootNotification", "StartTransaction", "TransactionEvent", "NotifyReport"} <= (
        vocab.CS_ACTIONS
    )
