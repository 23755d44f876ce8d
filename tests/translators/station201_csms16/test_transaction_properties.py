"""Transaction invariants over generated event sequences and answer timings.

A station runs one transaction: Started, some Updated events, maybe Ended;
idTokens, meter values and chargingStates come and go; events are retried;
the 1.6 CSMS answers whenever the test decides (possibly much later). Whatever
happens:

- at most one StartTransaction, and only with an idTag;
- every MeterValues / StopTransaction carries the integer the CSMS handed out;
- at most one StopTransaction, and only after StartTransaction.conf;
- every station call is answered exactly once;
- every frame is schema-valid (the Bridge helper checks).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.translators.frames import Call, CallResult, Frame

from .helpers import Bridge

TOKENS = st.sampled_from([None, "TAG-1", "NoAuth", "X" * 21])
STATES = st.sampled_from([None, "EVConnected", "Charging", "SuspendedEV", "Idle"])


@st.composite
def events(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 6))
    ended = draw(st.booleans())
    out = []
    for seq in range(count):
        kind = "Started" if seq == 0 else "Updated"
        if ended and seq == count - 1 and seq > 0:
            kind = "Ended"
        payload: dict[str, Any] = {
            "eventType": kind,
            "timestamp": f"2026-03-01T12:{seq:02d}:00Z",
            "triggerReason": "Authorized",
            "seqNo": seq,
            "transactionInfo": {"transactionId": "tx-1"},
        }
        if seq == 0:
            payload["evse"] = {"id": 1, "connectorId": 1}
        token = draw(TOKENS)
        if token == "NoAuth":
            payload["idToken"] = {"idToken": "", "type": "NoAuthorization"}
        elif token is not None:
            payload["idToken"] = {"idToken": token, "type": "ISO14443"}
        charging = draw(STATES)
        if charging is not None:
            payload["transactionInfo"]["chargingState"] = charging
        if draw(st.booleans()):
            wh = draw(st.integers(0, 10**7))
            payload["meterValue"] = [
                {"timestamp": payload["timestamp"], "sampledValue": [{"value": wh}]}
            ]
        out.append(payload)
    return out


@settings(max_examples=150, deadline=None)
@given(
    sequence=events(),
    schedule=st.lists(st.sampled_from(["event", "answer", "retry"]), min_size=30, max_size=30),
    free_tag=st.sampled_from(["", "FREE"]),
)
def test_transaction_invariants_hold_for_any_sequence_and_timing(
    sequence: list[dict[str, Any]], schedule: list[str], free_tag: str
) -> None:
    bridge = Bridge()
    bridge.state.free_charging_id_tag = free_tag
    held: list[Call] = []  # calls to the CSMS not answered yet
    answers: dict[str, int] = {}
    sent: list[Call] = []
    next_id = iter(range(1, 10**6))
    given_id: list[int] = []

    def take(frames: tuple[Frame, ...], to_station: tuple[Frame, ...]) -> None:
        for frame in frames:
            assert isinstance(frame, Call)  # the station side never sends results up here
            held.append(frame)
            sent.append(frame)
        for frame in to_station:
            assert isinstance(frame, CallResult)
            answers[frame.message_id] = answers.get(frame.message_id, 0) + 1

    def answer_one() -> None:
        call = held.pop(0)
        payload: dict[str, Any] = {}
        if call.action == "StartTransaction":
            given_id.append(next(next_id))
            payload = {"idTagInfo": {"status": "Accepted"}, "transactionId": given_id[-1]}
        step = bridge.csms(CallResult(call.message_id, payload))
        take(step.to_csms, step.to_charger)

    position = 0
    retries = 0
    for action in [*schedule, *["event"] * len(sequence)]:
        if action == "answer" and held:
            answer_one()
        elif action == "retry" and position > 0:
            # The last event again, same payload, fresh message id (2.0.1 Part 4 §4.1.4).
            retries += 1
            message_id = f"ev-{position - 1}-retry-{retries}"
            step = bridge.station(Call(message_id, "TransactionEvent", sequence[position - 1]))
            take(step.to_csms, step.to_charger)
        elif action == "event" and position < len(sequence):
            step = bridge.station(Call(f"ev-{position}", "TransactionEvent", sequence[position]))
            position += 1
            take(step.to_csms, step.to_charger)
    while held:
        answer_one()

    starts = [c for c in sent if c.action == "StartTransaction"]
    stops = [c for c in sent if c.action == "StopTransaction"]
    assert len(starts) <= 1
    assert len(stops) <= 1
    for start in starts:
        assert start.payload["idTag"] in {"TAG-1", "FREE"}
    for call in sent:
        if call.action in ("MeterValues", "StopTransaction"):
            assert given_id and call.payload["transactionId"] == given_id[0]
    if stops:
        assert starts
    # Every event is answered exactly once, retries included.
    assert all(count == 1 for count in answers.values()), answers
    assert {f"ev-{i}" for i in range(len(sequence))} <= set(answers)
    assert bridge.state.pending == {}
