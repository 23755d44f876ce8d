"""The command tables: complete, consistent, and the behaviours they promise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocppkit.translators import schemas
from ocppkit.translators.context import Context, fixed_context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201 import commands
from ocppkit.translators.j16_to_201.handlers import Side, pending_key
from ocppkit.translators.j16_to_201.state import BridgeState, Transaction
from ocppkit.translators.outcome import NoteKind
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201


def _ctx() -> Context:
    return fixed_context(datetime(2026, 1, 1, tzinfo=UTC), "b")


def _with_transaction() -> BridgeState:
    state = BridgeState()
    state.transactions["7"] = Transaction(7, "tx-7", 1, 1, "TAG", 0, "2026-01-01T00:00:00Z")
    state.active_by_connector["1"] = 7
    return state


def test_every_csms_to_station_action_is_translated_or_refused_not_both() -> None:
    translated, refused = set(commands.CSMS_CALLS), set(commands.NOT_SUPPORTED)
    assert translated | refused == commands.CSMS_TO_STATION
    assert not translated & refused
    assert schemas.actions(V201) >= commands.CSMS_TO_STATION


def test_charger_results_are_keyed_by_1_6_actions() -> None:
    assert set(commands.CHARGER_RESULTS) <= schemas.actions(V16)
    assert set(commands.CSMS_RESULTS) <= schemas.actions(V201)


def test_every_refusal_names_a_reason() -> None:
    assert all(len(reason) > 20 for reason in commands.NOT_SUPPORTED.values())


@pytest.mark.parametrize("table", commands.TABLES, ids=lambda t: t.name)
def test_every_enum_table_has_a_reference_and_marks_only_its_own_rows_lossy(table: EnumMap) -> None:
    assert table.reference
    assert table.lossy <= set(table.rows)


def test_remote_start_id_is_remembered_before_the_answer_and_forgotten_on_rejection() -> None:
    state, ctx = BridgeState(), _ctx()
    call = Call("c1", "RequestStartTransaction", {
        "idToken": {"idToken": "AB12", "type": "KeyCode"}, "remoteStartId": 9, "evseId": 2,
    })  # fmt: skip
    (sent,) = commands.CSMS_CALLS[call.action](state, call, ctx).to_charger
    assert isinstance(sent, Call)
    assert state.remote_starts == {"2": 9}
    assert state.id_token_types["AB12"] == "KeyCode"
    pending = state.pending.pop(pending_key(Side.CHARGER, sent.message_id))
    step = commands.CHARGER_RESULTS[sent.action](
        state, pending, CallResult(sent.message_id, {"status": "Rejected"}), ctx
    )
    assert step.to_csms == (CallResult("c1", {"status": "Rejected"}),)
    assert state.remote_starts == {}


def test_remote_start_id_survives_an_accepted_start() -> None:
    state, ctx = BridgeState(), _ctx()
    call = Call("c1", "RequestStartTransaction", {
        "idToken": {"idToken": "AB12", "type": "ISO14443"}, "remoteStartId": 3,
    })  # fmt: skip
    (sent,) = commands.CSMS_CALLS[call.action](state, call, ctx).to_charger
    assert isinstance(sent, Call) and "connectorId" not in sent.payload
    pending = state.pending.pop(pending_key(Side.CHARGER, sent.message_id))
    commands.CHARGER_RESULTS[sent.action](
        state, pending, CallResult(sent.message_id, {"status": "Accepted"}), ctx
    )
    assert state.remote_starts == {"0": 3}


def test_remote_stop_uses_the_integer_id_the_charger_knows() -> None:
    state = _with_transaction()
    call = Call("c2", "RequestStopTransaction", {"transactionId": "tx-7"})
    (sent,) = commands.CSMS_CALLS[call.action](state, call, _ctx()).to_charger
    assert sent == Call("c2", "RemoteStopTransaction", {"transactionId": 7})


def test_remote_stop_of_an_ended_transaction_goes_to_the_charger_which_decides() -> None:
    state = _with_transaction()
    state.transactions["7"].ended = True
    step = commands.CSMS_CALLS["RequestStopTransaction"](
        state, Call("c3", "RequestStopTransaction", {"transactionId": "tx-7"}), _ctx()
    )
    assert not step.to_csms
    assert step.to_charger == (Call("c3", "RemoteStopTransaction", {"transactionId": 7}),)


def test_remote_stop_of_an_unknown_transaction_goes_down_when_it_is_a_1_6_integer() -> None:
    state = BridgeState()
    step = commands.CSMS_CALLS["RequestStopTransaction"](
        state, Call("c3", "RequestStopTransaction", {"transactionId": "12345"}), _ctx()
    )
    assert step.to_charger == (Call("c3", "RemoteStopTransaction", {"transactionId": 12345}),)
    named = commands.CSMS_CALLS["RequestStopTransaction"](
        state, Call("c4", "RequestStopTransaction", {"transactionId": "tx-unknown"}), _ctx()
    )
    (answer,) = named.to_csms
    assert isinstance(answer, CallResult) and answer.payload["status"] == "Rejected"
    assert named.notes[0].kind is NoteKind.LOCAL_ANSWER


def test_unlock_goes_to_the_charger_even_while_the_connector_charges() -> None:
    state = _with_transaction()
    step = commands.CSMS_CALLS["UnlockConnector"](
        state, Call("c4", "UnlockConnector", {"evseId": 1, "connectorId": 1}), _ctx()
    )
    assert not step.to_csms
    assert step.to_charger == (Call("c4", "UnlockConnector", {"connectorId": 1}),)
    assert step.notes[0].kind is NoteKind.LOSSY


def test_lossy_reset_is_counted() -> None:
    state = BridgeState()
    step = commands.CSMS_CALLS["Reset"](state, Call("c5", "Reset", {"type": "OnIdle"}), _ctx())
    assert step.to_charger == (Call("c5", "Reset", {"type": "Soft"}),)
    assert state.lossy_counts == {"Reset.type": 1}
    assert [n.kind for n in step.notes] == [NoteKind.LOSSY]


def test_custom_data_is_dropped_with_a_note() -> None:
    state = BridgeState()
    call = Call("c6", "ClearCache", {"customData": {"vendorId": "x", "extra": 1}})
    step = commands.CSMS_CALLS["ClearCache"](state, call, _ctx())
    assert step.to_charger == (Call("c6", "ClearCache", {}),)
    assert state.lossy_counts == {"ClearCache.customData": 1}


def test_charger_callerror_is_relayed_in_2_0_1_spelling() -> None:
    state, ctx = BridgeState(), _ctx()
    (sent,) = commands.CSMS_CALLS["ClearCache"](state, Call("c7", "ClearCache", {}), ctx).to_charger
    assert isinstance(sent, Call)
    pending = state.pending.pop(pending_key(Side.CHARGER, sent.message_id))
    error = CallError(sent.message_id, "OccurenceConstraintViolation", "missing", {"k": 1})
    step = commands.CHARGER_RESULTS["ClearCache"](state, pending, error, ctx)
    assert step.to_csms == (CallError("c7", "OccurrenceConstraintViolation", "missing", {"k": 1}),)


def test_an_answer_for_an_unknown_origin_is_an_orphan_not_an_exception() -> None:
    from ocppkit.translators.pending import Pending

    pending = Pending("ClearCache", "SomethingElse", "c8")
    step = commands.CHARGER_RESULTS["ClearCache"](
        BridgeState(), pending, CallResult("x", {"status": "Accepted"}), _ctx()
    )
    assert not step.to_csms and step.notes[0].kind is NoteKind.ORPHAN
