"""Every supported action, both directions: every emitted frame is schema-valid.

Not a sample: each action the reverse bridge accepts from the station (2.0.1)
or from the CSMS (1.6) is fed with the smallest and the fullest payload its
official schema allows; every call the bridge sends on is answered with the
smallest and the fullest answer the target's schema allows. The
:class:`Bridge` helper validates each frame the translator emits, strictly.
Each call gets exactly one answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from ocppkit.translators import schemas
from ocppkit.translators.frames import Call, CallResult, Frame
from ocppkit.translators.pending import Side
from ocppkit.translators.schemas import Kind
from ocppkit.translators.station201_csms16 import (
    COVERAGE,
    StationState,
    StationTransaction,
    session,
)
from ocppkit.translators.station201_csms16.coverage import LOCAL_ANSWER, NOT_SUPPORTED, TRANSLATED
from tests.schema_examples import valid_example

from .helpers import V16, V201, Bridge

STATION_ACTIONS = sorted({*session.STATION_CALLS, *session.NOT_SUPPORTED})
CSMS_ACTIONS = sorted(session.CSMS_CALLS)
FULLNESS = [False, True]


def seeded() -> StationState:
    # The schema examples use 1 for integers and "x" for strings: a running
    # transaction known under both ids makes RemoteStop / TxProfile translate.
    tx = StationTransaction("x", 1, id16=1, id_tag="x", start_sent=True, seq_nos=[99])
    return StationState(transactions={"x": tx}, connector_status={"1": "Occupied"})


def play(bridge: Bridge, first: list[tuple[str, Frame]], full_answers: bool) -> list[Frame]:
    """Deliver frames, answering each call the bridge sends with a schema example."""
    delivered: list[Frame] = []
    queue = list(first)
    while queue:
        side, frame = queue.pop(0)
        delivered.append(frame)
        if not isinstance(frame, Call):
            continue
        version = V16 if side == "csms" else V201
        doc = schemas.schema(version, frame.action, Kind.RESPONSE)
        result = CallResult(frame.message_id, valid_example(doc, full=full_answers))
        step = bridge.csms(result) if side == "csms" else bridge.station(result)
        queue += [("csms", f) for f in step.to_csms] + [("station", f) for f in step.to_charger]
    return delivered


def _answers_to(frames: list[Frame], message_id: str) -> list[Frame]:
    return [f for f in frames if not isinstance(f, Call) and f.message_id == message_id]


@pytest.mark.parametrize("full_answers", FULLNESS, ids=["min-answers", "full-answers"])
@pytest.mark.parametrize("full", FULLNESS, ids=["min", "full"])
@pytest.mark.parametrize("action", STATION_ACTIONS)
def test_station_action_translates_to_valid_16_and_is_answered_once(
    action: str, full: bool, full_answers: bool
) -> None:
    bridge = Bridge(state=seeded())
    payload: dict[str, Any] = valid_example(schemas.schema(V201, action, Kind.REQUEST), full=full)
    step = bridge.station(Call("in-1", action, payload))
    first = [("csms", f) for f in step.to_csms] + [("station", f) for f in step.to_charger]
    delivered = play(bridge, first, full_answers)
    assert len(_answers_to(delivered, "in-1")) == 1
    assert bridge.state.pending == {}


@pytest.mark.parametrize("full_answers", FULLNESS, ids=["min-answers", "full-answers"])
@pytest.mark.parametrize("full", FULLNESS, ids=["min", "full"])
@pytest.mark.parametrize("action", CSMS_ACTIONS)
def test_csms_action_translates_to_valid_201_and_is_answered_once(
    action: str, full: bool, full_answers: bool
) -> None:
    bridge = Bridge(state=seeded())
    payload: dict[str, Any] = valid_example(schemas.schema(V16, action, Kind.REQUEST), full=full)
    step = bridge.csms(Call("in-1", action, payload))
    first = [("csms", f) for f in step.to_csms] + [("station", f) for f in step.to_charger]
    delivered = play(bridge, first, full_answers)
    assert len(_answers_to(delivered, "in-1")) == 1
    assert bridge.state.pending == {}


def test_every_16_csms_action_has_a_handler() -> None:
    station_side = {"Authorize", "BootNotification", "DataTransfer", "Heartbeat", "MeterValues",
                    "StartTransaction", "StatusNotification", "StopTransaction",
                    "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                    "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
                    "SignedFirmwareStatusNotification"}  # fmt: skip
    csms_side = schemas.actions(V16) - station_side | {"DataTransfer"}
    assert csms_side == set(session.CSMS_CALLS)


def test_every_call_the_bridge_sends_has_a_result_handler() -> None:
    # Collected from the coverage targets: each 1.6 / 2.0.1 action named there.
    for row in COVERAGE:
        for part in row.target.replace("(", " ").replace(")", " ").replace("+", " ").split():
            if part in schemas.actions(V16) and row.sender is Side.CHARGER:
                assert part in session.CSMS_RESULTS, part
            if part in schemas.actions(V201) and row.sender is Side.CSMS:
                assert part in session.STATION_RESULTS, part


def test_coverage_lists_every_routed_action_once() -> None:
    charger = [r.action for r in COVERAGE if r.sender is Side.CHARGER]
    csms = [r.action for r in COVERAGE if r.sender is Side.CSMS]
    assert sorted(charger) == STATION_ACTIONS
    assert sorted(csms) == CSMS_ACTIONS
    assert {r.outcome for r in COVERAGE} == {TRANSLATED, LOCAL_ANSWER, NOT_SUPPORTED}
