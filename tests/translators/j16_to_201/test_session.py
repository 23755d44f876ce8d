"""The session's dispatch rules, refusals and state handling (charger side)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import OcppkitError
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201 import (
    charger_messages,
    id_tokens,
    meter_values,
    status,
    transactions,
)
from ocppkit.translators.j16_to_201.id_tokens import remember_type
from ocppkit.translators.j16_to_201.replay import answer_up
from ocppkit.translators.j16_to_201.session import (
    CHARGER_CALLS,
    CSMS_RESULTS,
    from_charger,
    from_csms,
)
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.j16_to_201.transactions import adopt_transaction_id
from ocppkit.translators.outcome import NoteKind
from ocppkit.translators.schemas import actions
from ocppkit.translators.versions import OcppVersion
from tests.translators.j16_to_201.golden import context

V16, V201 = OcppVersion.V16, OcppVersion.V201
START = {"connectorId": 1, "idTag": "TAG", "meterStart": 10, "timestamp": "2026-01-01T00:00:00Z"}
MY_TABLES: list[EnumMap] = [
    *charger_messages.TABLES, *id_tokens.TABLES, *meter_values.TABLES, *status.TABLES,
    *transactions.TABLES,
]  # fmt: skip


def test_every_charger_initiated_1_6_action_has_a_handler() -> None:
    charger_initiated = {
        "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
        "StatusNotification", "StopTransaction", "LogStatusNotification",
        "SecurityEventNotification", "SignCertificate", "SignedFirmwareStatusNotification",
    }  # fmt: skip
    assert set(CHARGER_CALLS) == charger_initiated
    assert charger_initiated <= actions(V16)


def test_every_2_0_1_action_the_charger_side_emits_has_a_result_handler() -> None:
    emitted = {"BootNotification", "Heartbeat", "Authorize", "DataTransfer",
               "LogStatusNotification", "FirmwareStatusNotification", "SecurityEventNotification",
               "SignCertificate", "TransactionEvent", "MeterValues", "StatusNotification",
               "NotifyEvent"}  # fmt: skip
    assert emitted <= set(CSMS_RESULTS) <= actions(V201)


def test_enum_tables_name_real_schema_values_and_a_reference() -> None:
    for table in MY_TABLES:
        assert table.reference, table.name
        assert table.lossy <= set(table.rows), table.name


def test_unknown_charger_action_is_not_implemented() -> None:
    step = from_charger(BridgeState(), Call("1", "Coffee", {}), context())
    assert step.to_charger == (CallError("1", "NotImplemented", "unknown OCPP 1.6 action Coffee"),)
    assert not step.to_csms and step.notes[0].kind is NoteKind.NOT_SUPPORTED


def test_central_system_action_from_charger_is_not_supported_with_reason() -> None:
    (error,) = from_charger(
        BridgeState(), Call("1", "Reset", {"type": "Hard"}), context()
    ).to_charger
    assert isinstance(error, CallError) and error.error_code == "NotSupported"
    assert "central system" in error.error_description


def test_unknown_csms_action_is_not_implemented_and_station_action_not_supported() -> None:
    state, ctx = BridgeState(), context()
    (unknown,) = from_csms(state, Call("1", "Brew", {}), ctx).to_csms
    assert isinstance(unknown, CallError) and unknown.error_code == "NotImplemented"
    (station_only,) = from_csms(state, Call("2", "Heartbeat", {}), ctx).to_csms
    assert isinstance(station_only, CallError) and station_only.error_code == "NotSupported"


def test_result_without_pending_call_is_an_orphan_and_sends_nothing() -> None:
    for step in (
        from_csms(BridgeState(), CallResult("x", {}), context()),
        from_charger(BridgeState(), CallResult("x", {}), context()),
    ):
        assert not step.to_charger and not step.to_csms
        assert step.notes[0].kind is NoteKind.ORPHAN


def test_translation_error_from_a_handler_becomes_a_callerror_to_the_sender() -> None:
    bogus = {"connectorId": 1, "status": "Exploded", "errorCode": "NoError"}
    (error,) = from_charger(
        BridgeState(), Call("1", "StatusNotification", bogus), context()
    ).to_charger
    assert isinstance(error, CallError) and error.error_code == "NotSupported"


def test_malformed_payload_is_refused_with_formation_violation_not_an_exception() -> None:
    (error,) = from_charger(BridgeState(), Call("1", "StartTransaction", {}), context()).to_charger
    assert isinstance(error, CallError) and error.error_code == "FormationViolation"


@settings(max_examples=60, deadline=None)
@given(
    action=st.sampled_from(sorted(CHARGER_CALLS)),
    payload=st.dictionaries(
        st.sampled_from(["connectorId", "transactionId", "idTag", "status", "meterValue",
                         "value", "timestamp", "errorCode", "meterStart", "meterStop"]),
        st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2),
    ),
)  # fmt: skip
def test_session_raises_nothing_but_ocppkit_errors_even_on_junk(
    action: str, payload: dict[str, Any]
) -> None:
    try:
        step = from_charger(BridgeState(), Call("1", action, payload), context())
    except OcppkitError:
        return
    assert step.to_charger or step.to_csms


def test_derived_calls_answers_give_the_charger_nothing() -> None:
    state, ctx = BridgeState(), context()
    from_charger(state, Call("s", "StartTransaction", START), ctx)
    charging = {"connectorId": 1, "status": "Charging", "errorCode": "HighTemperature"}
    step = from_charger(state, Call("n", "StatusNotification", charging), ctx)
    derived = [c for c in step.to_csms if c.message_id != "n"]
    assert [c.action for c in derived if isinstance(c, Call)] == ["TransactionEvent", "NotifyEvent"]
    for call in derived:
        assert state.pending[f"csms:{call.message_id}"].origin_id is None
        back = from_csms(state, CallResult(call.message_id, {}), ctx)
        assert not back.to_charger and not back.to_csms
    refused = from_charger(
        state, Call("n2", "StatusNotification", {**charging, "errorCode": "WeakSignal"}), ctx
    )
    notify = refused.to_csms[-1]
    back = from_csms(state, CallError(notify.message_id, "InternalError", "no"), ctx)
    assert not back.to_charger and back.notes[0].kind is NoteKind.LOSSY


def test_one_tag_keeps_one_token_type_across_authorize_and_transaction_events() -> None:
    state, ctx = BridgeState(), context()
    remember_type(state, ctx, "TAG", "ISO15693")
    (auth,) = from_charger(state, Call("a", "Authorize", {"idTag": "TAG"}), ctx).to_csms
    (start,) = from_charger(state, Call("s", "StartTransaction", START), ctx).to_csms
    stop = {"transactionId": 1, "meterStop": 20, "timestamp": START["timestamp"], "idTag": "TAG"}
    (end,) = from_charger(state, Call("e", "StopTransaction", stop), ctx).to_csms
    tokens = [c.payload["idToken"] for c in (auth, start, end) if isinstance(c, Call)]
    assert tokens == [{"idToken": "TAG", "type": "ISO15693"}] * 3
    (other,) = from_charger(state, Call("b", "Authorize", {"idTag": "X"}), ctx).to_csms
    assert isinstance(other, Call) and other.payload["idToken"]["type"] == "Central"


def test_seq_no_counts_every_event_of_a_transaction() -> None:
    state, ctx = BridgeState(), context()
    seqs = []
    charging = {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}
    sample = {"timestamp": START["timestamp"], "sampledValue": [{"value": "15"}]}
    stop = {"transactionId": 1, "meterStop": 20, "timestamp": START["timestamp"]}
    frames = [
        Call("s", "StartTransaction", START),
        Call("n", "StatusNotification", charging),
        Call("m", "MeterValues", {"connectorId": 1, "transactionId": 1, "meterValue": [sample]}),
        Call("e", "StopTransaction", stop),
    ]
    for frame in frames:
        for call in from_charger(state, frame, ctx).to_csms:
            if isinstance(call, Call) and call.action == "TransactionEvent":
                seqs.append(call.payload["seqNo"])
    assert seqs == [0, 1, 2, 3]


def test_state_survives_a_json_round_trip_mid_transaction() -> None:
    state, ctx = BridgeState(), context()
    from_charger(state, Call("s", "StartTransaction", START), ctx)
    restored = BridgeState.from_dict(state.to_dict())
    (conf,) = from_csms(restored, CallResult("s", {}), ctx).to_charger
    assert conf == CallResult("s", {"idTagInfo": {"status": "Accepted"}, "transactionId": 1})


def test_new_transaction_forgets_ended_ones_of_its_connector() -> None:
    state, ctx = BridgeState(), context()
    stop = {"transactionId": 1, "meterStop": 20, "timestamp": START["timestamp"]}
    from_charger(state, Call("s", "StartTransaction", START), ctx)
    from_charger(state, Call("e", "StopTransaction", stop), ctx)
    from_charger(state, Call("s2", "StartTransaction", {**START, "meterStart": 20}), ctx)
    assert list(state.transactions) == ["2"] and len(state.start_keys) == 1


def test_replayed_1_6_start_confirmation_adopts_the_recorded_transaction_id() -> None:
    state, ctx = BridgeState(), context()
    (started,) = from_charger(state, Call("s", "StartTransaction", START), ctx).to_csms
    pending = state.pending["csms:s"]
    up = answer_up(
        state,
        pending,
        "s",
        CallResult(
            "s", {"idTagInfo": {"status": "Accepted", "parentIdTag": "P"}, "transactionId": 4711}
        ),
    )
    assert up == CallResult(
        "s",
        {
            "idTokenInfo": {
                "status": "Accepted",
                "groupIdToken": {"idToken": "P", "type": "Central"},
            }
        },
    )
    (conf,) = from_csms(state, up, ctx).to_charger
    assert isinstance(conf, CallResult) and conf.payload["transactionId"] == 4711
    mv = {"connectorId": 1, "transactionId": 4711, "meterValue": [
        {"timestamp": START["timestamp"], "sampledValue": [{"value": "15"}]}]}  # fmt: skip
    (event,) = from_charger(state, Call("m", "MeterValues", mv), ctx).to_csms
    assert isinstance(event, Call) and event.action == "TransactionEvent"
    assert isinstance(started, Call)
    assert (
        event.payload["transactionInfo"]["transactionId"]
        == started.payload["transactionInfo"]["transactionId"]
    )
    assert state.next_tx_id16 == 4712


def test_adopting_an_unknown_transaction_changes_nothing() -> None:
    state = BridgeState()
    adopt_transaction_id(state, "nope", 3)
    assert state.to_dict() == BridgeState().to_dict()


def test_csms_error_codes_are_respelled_for_the_1_6_charger() -> None:
    state, ctx = BridgeState(), context()
    from_charger(state, Call("h", "Heartbeat", {}), ctx)
    (error,) = from_csms(state, CallError("h", "RpcFrameworkError", "x"), ctx).to_charger
    assert error == CallError("h", "ProtocolError", "x", {})
    from_charger(state, Call("h2", "Heartbeat", {}), ctx)
    (odd,) = from_csms(state, CallError("h2", "Teapot", "short"), ctx).to_charger
    assert odd == CallError("h2", "GenericError", "Teapot: short", {})
