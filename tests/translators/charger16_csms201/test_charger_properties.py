"""Properties of the charger side, over payloads drawn from the official schemas.

hypothesis-jsonschema's ``from_schema`` cannot run with the installed
hypothesis (it calls the removed ``many.more()``), so the payloads come from
the schema-driven strategies of tests/translators/station201_csms16/schema_strategy.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocppkit.translators.charger16_csms201.session import CHARGER_CALLS, from_charger, from_csms
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.errors import OcppkitError
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.schemas import Kind
from ocppkit.translators.versions import OcppVersion
from tests.translators.charger16_csms201.golden import SchemaChecker, context
from tests.translators.station201_csms16.schema_strategy import payloads

V16, V201 = OcppVersion.V16, OcppVersion.V201
NUMERIC = st.integers(-(10**20), 10**20).map(str) | st.floats(allow_nan=True).map(repr)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bridge_with_open_transaction() -> BridgeState:
    """A state where transaction 1 runs on connector 1 (acknowledged)."""
    state = BridgeState(charge_point_id="CP-1")
    ctx = context()
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}
    from_charger(state, Call("s", "StartTransaction", start), ctx)
    from_csms(state, CallResult("s", {}), ctx)
    return state


def _round_trip(state: BridgeState, call: Call, data: st.DataObject) -> None:
    """Translate ``call``, answer every 2.0.1 call with a schema-valid response."""
    checker, ctx = SchemaChecker(), context()
    checker.frame(call, V16, "charger", "bridge")
    step = from_charger(state, call, ctx)
    for frame in step.to_charger:
        checker.frame(frame, V16, "bridge", "charger")
        if isinstance(frame, CallError):
            assert frame.error_code == "NotSupported", frame
    pending = list(step.to_csms)
    assert step.to_csms or step.to_charger, "a call must be translated or answered"
    for up in pending:
        checker.frame(up, V201, "bridge", "csms")
        assert isinstance(up, Call)
        answer = data.draw(payloads(V201, up.action, Kind.RESPONSE), label=up.action)
        result = CallResult(up.message_id, answer)
        checker.frame(result, V201, "csms", "bridge")
        back = from_csms(state, result, ctx)
        assert not back.to_csms
        for frame in back.to_charger:
            checker.frame(frame, V16, "bridge", "charger")
            assert isinstance(frame, CallResult)  # a valid answer is never refused
    # The charger's call is answered exactly once in all.
    assert not [k for k, p in state.pending.items() if p.origin_id == call.message_id]


@pytest.mark.parametrize("action", sorted(CHARGER_CALLS))
@SETTINGS
@given(data=st.data())
def test_any_schema_valid_charger_call_translates_to_schema_valid_frames(
    action: str, data: st.DataObject
) -> None:
    payload: dict[str, Any] = data.draw(payloads(V16, action, Kind.REQUEST), label="payload")
    if "transactionId" in payload and data.draw(st.booleans(), label="known transaction"):
        payload["transactionId"] = 1
    for mv in payload.get("meterValue", []) + payload.get("transactionData", []):
        for sv in mv.get("sampledValue", []):
            # Random text is rarely a number; make most samples carry one.
            if data.draw(st.booleans(), label="numeric"):
                sv["value"] = data.draw(NUMERIC, label="value")
    state = _bridge_with_open_transaction()
    try:
        _round_trip(state, Call("m1", action, payload), data)
    except OcppkitError as exc:  # pragma: no cover - the property says this never happens
        pytest.fail(f"raised {exc!r}")
    state_again = BridgeState.from_dict(state.to_dict())
    assert state_again.to_dict() == state.to_dict()


@SETTINGS
@given(data=st.data())
def test_a_retried_start_transaction_never_emits_a_second_started(data: st.DataObject) -> None:
    payload = data.draw(payloads(V16, "StartTransaction", Kind.REQUEST))
    state, ctx = BridgeState(), context()
    first = from_charger(state, Call("a", "StartTransaction", payload), ctx)
    answered_first = data.draw(st.booleans())
    if answered_first:
        from_csms(state, CallResult("a", {}), ctx)
    retry = from_charger(state, Call("b", "StartTransaction", dict(payload)), ctx)
    assert len(first.to_csms) == 1 and not retry.to_csms
    if answered_first:
        (conf,) = retry.to_charger
        assert isinstance(conf, CallResult) and conf.payload["transactionId"] == 1
    else:
        answers = from_csms(state, CallResult("a", {}), ctx).to_charger
        assert [a.message_id for a in answers] == ["a", "b"]
    assert len(state.transactions) == 1


@SETTINGS
@given(data=st.data())
def test_any_schema_valid_csms_answer_to_a_start_yields_a_valid_start_confirmation(
    data: st.DataObject,
) -> None:
    state, ctx = BridgeState(), context()
    start = {"connectorId": 2, "idTag": "T", "meterStart": 5, "timestamp": "2026-01-01T00:00:00Z"}
    from_charger(state, Call("a", "StartTransaction", start), ctx)
    answer = data.draw(payloads(V201, "TransactionEvent", Kind.RESPONSE))
    (conf,) = from_csms(state, CallResult("a", answer), ctx).to_charger
    checker = SchemaChecker()
    checker.calls[(V16, "charger", "a")] = "StartTransaction"
    checker.frame(conf, V16, "bridge", "charger")
    assert isinstance(conf, CallResult) and conf.payload["transactionId"] == 1
