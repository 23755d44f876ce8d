"""Properties over generated messages (hypothesis + the official schemas).

Strategies come from :mod:`.schema_strategy` (hypothesis-jsonschema does not
run with the installed hypothesis; that module says why).

For every action a 2.0.1 station may send and every action a 1.6 CSMS may
send: any schema-valid payload translates without an exception (refusals are
CALLERROR frames), every emitted frame is valid for its side's version
(:class:`Bridge` checks strictly), and answers drawn from the target's
response schema translate back to valid answers too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ocppkit.translators.frames import Call, CallResult, Frame
from ocppkit.translators.schemas import Kind
from ocppkit.translators.station201_csms16 import StationState, StationTransaction, session
from ocppkit.translators.versions import OcppVersion

from .helpers import V16, V201, VALIDATOR, Bridge
from .schema_strategy import payloads as schema_payloads

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@cache
def payloads(version: OcppVersion, action: str, kind: Kind) -> st.SearchStrategy[dict[str, Any]]:
    return schema_payloads(version, action, kind).filter(
        lambda p: VALIDATOR.is_valid(version, action, kind, p)
    )


def _state(kind: str) -> StationState:
    if kind == "empty":
        return StationState()
    if kind == "known":
        tx = StationTransaction(
            "x", 1, id16=1, id_tag="T", start_sent=True, started_at="2026-01-01T00:00:00Z"
        )
    else:
        tx = StationTransaction("x", 1, started_at="2026-01-01T00:00:00Z")
    return StationState(transactions={"x": tx}, connector_status={"1": "Occupied"})


def states() -> st.SearchStrategy[StationState]:
    """No transaction, one the CSMS knows, or one still waiting for its idTag.

    Built afresh per example: the bridge mutates its state.
    """
    return st.sampled_from(["empty", "known", "waiting"]).map(_state)


def _steer(action: str, payload: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Point some generated messages at the seeded transaction."""
    if action == "TransactionEvent" and data.draw(st.booleans()):
        payload["transactionInfo"]["transactionId"] = "x"
    if action in ("RemoteStopTransaction",) and data.draw(st.booleans()):
        payload["transactionId"] = 1
    return payload


def _drive(bridge: Bridge, step_frames: list[tuple[str, Frame]], data: st.DataObject) -> None:
    queue = list(step_frames)
    while queue:
        side, frame = queue.pop(0)
        if not isinstance(frame, Call):
            continue
        version = V16 if side == "csms" else V201
        answer = data.draw(payloads(version, frame.action, Kind.RESPONSE))
        result = CallResult(frame.message_id, answer)
        step = bridge.csms(result) if side == "csms" else bridge.station(result)
        queue += [("csms", f) for f in step.to_csms] + [("station", f) for f in step.to_charger]


STATION_ACTIONS = sorted({*session.STATION_CALLS, *session.NOT_SUPPORTED})
CSMS_ACTIONS = sorted(session.CSMS_CALLS)


@pytest.mark.parametrize("action", STATION_ACTIONS)
@SETTINGS
@given(data=st.data(), state=states())
def test_any_valid_station_message_yields_valid_16_frames_or_a_callerror(
    action: str, data: st.DataObject, state: StationState
) -> None:
    payload = _steer(action, data.draw(payloads(V201, action, Kind.REQUEST)), data)
    assume(VALIDATOR.is_valid(V201, action, Kind.REQUEST, payload))
    bridge = Bridge(state=state)
    step = bridge.station(Call("in-1", action, payload))
    frames = [("csms", f) for f in step.to_csms] + [("station", f) for f in step.to_charger]
    _drive(bridge, frames, data)
    assert bridge.state.pending == {}


@pytest.mark.parametrize("action", CSMS_ACTIONS)
@SETTINGS
@given(data=st.data(), state=states())
def test_any_valid_csms_message_yields_valid_201_frames_or_a_callerror(
    action: str, data: st.DataObject, state: StationState
) -> None:
    payload = _steer(action, data.draw(payloads(V16, action, Kind.REQUEST)), data)
    bridge = Bridge(state=state)
    step = bridge.csms(Call("in-1", action, payload))
    frames = [("csms", f) for f in step.to_csms] + [("station", f) for f in step.to_charger]
    _drive(bridge, frames, data)
    assert bridge.state.pending == {}
