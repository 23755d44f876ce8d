"""The proof behind ``meter_values.SCHEMA_SAFE``: a schema-valid 1.6 MeterValues
becomes schema-valid 2.0.1 calls, whatever the payload and the transaction.

``ocppkit translate`` does not validate the 2.0.1 calls of those rows a second
time (it has validated the 1.6 call), so this property is what stands
between a translation bug and an invalid frame in its output: many drawn
payloads, every measurand, unit, context, phase and location the 1.6 schema
allows, values numeric or not, date-times with and without too many
decimals, transactions running, ended, unknown or absent. The same draws hold
``Step.csms_dates_fine``: a MeterValues step that says its date-times are fine
is one the engine's millisecond cut would not change.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocppkit.toolkit.bench_translate import session_lines
from ocppkit.toolkit.translate_pairs import session_16_to_201
from ocppkit.toolkit.translate_stream import translate_lines, translator_for
from ocppkit.translators.charger16_csms201.meter_values import SCHEMA_SAFE, meter_values
from ocppkit.translators.charger16_csms201.session import from_charger, from_csms
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.frames import Call, CallResult
from ocppkit.translators.journal import decode_record
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.timestamps import limit_step, too_fine
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion
from tests.translators.charger16_csms201.golden import context
from tests.translators.station201_csms16.schema_strategy import payloads

V16, V201 = OcppVersion.V16, OcppVersion.V201
STRICT = Validator()
NUMERIC = (
    st.integers(-(10**20), 10**20).map(str)
    | st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
)
FINE_TIMES = st.datetimes(timezones=st.just(UTC)).map(
    lambda d: d.isoformat(timespec="microseconds").replace("+00:00", "Z")
)


def _state(started: bool, ended: bool) -> BridgeState:
    state = BridgeState(charge_point_id="CP-1")
    if started:
        ctx = context()
        stamp = "2026-01-01T00:00:00Z"
        start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": stamp}
        from_charger(state, Call("s", "StartTransaction", start), ctx)
        from_csms(state, CallResult("s", {}), ctx)
        if ended:
            stop = {"transactionId": 1, "meterStop": 5, "timestamp": "2026-01-01T01:00:00Z"}
            from_charger(state, Call("e", "StopTransaction", stop), ctx)
            from_csms(state, CallResult("e", {}), ctx)
    return state


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_schema_valid_meter_values_always_becomes_schema_valid_2_0_1_calls(
    data: st.DataObject,
) -> None:
    payload: dict[str, Any] = data.draw(payloads(V16, "MeterValues", Kind.REQUEST))
    for mv in payload["meterValue"]:
        if data.draw(st.booleans(), label="fine timestamp"):
            mv["timestamp"] = data.draw(FINE_TIMES)
        for sv in mv["sampledValue"]:
            if data.draw(st.booleans(), label="numeric"):
                sv["value"] = data.draw(NUMERIC, label="value")
    transaction = data.draw(st.sampled_from(["running", "ended", "unknown", "none"]))
    if transaction in ("running", "ended"):
        payload["transactionId"] = 1
    elif transaction == "unknown":
        payload["transactionId"] = data.draw(st.integers(2, 2**31 - 1))
    else:
        payload.pop("transactionId", None)
    call = Call("m1", "MeterValues", payload)
    assert STRICT.is_valid(V16, "MeterValues", Kind.REQUEST, payload)
    state = _state(started=transaction in ("running", "ended"), ended=transaction == "ended")
    step = from_charger(state, call, context())
    for up in step.to_csms:
        assert isinstance(up, Call) and ("MeterValues", up.action) in SCHEMA_SAFE, up
        assert STRICT.validate(V201, up.action, Kind.REQUEST, up.payload) == (), up.payload
    if not step.to_csms:  # nothing left to carry: answered locally, never refused
        (answer,) = step.to_charger
        assert isinstance(answer, CallResult)
    # csms_dates_fine: the handler's own step, before the engine's millisecond cut.
    state = _state(started=transaction in ("running", "ended"), ended=transaction == "ended")
    own = meter_values(state, call, context())
    cut = limit_step(Step(own.to_charger, own.to_csms, own.notes), to_csms=True)
    if own.csms_dates_fine:  # vouched for: the cut would change nothing
        assert cut.to_csms == own.to_csms and cut.notes == own.notes
    elif own.to_csms:  # not vouched for only when there is something to cut
        assert any(too_fine(mv["timestamp"]) for mv in payload["meterValue"])


def test_the_translate_stream_writes_schema_valid_calls_on_the_proven_rows_too() -> None:
    spec = session_16_to_201()
    assert spec.proven == SCHEMA_SAFE
    written: list[bytes] = []
    outcome = translate_lines(
        list(enumerate(session_lines(samples=20), start=1)),
        translator_for(V16, V201),
        written.append,
    )
    assert outcome.ok and outcome.counts["left_out"] == 0
    calls = [decode_record(line).message for line in written]
    events = [m for m in calls if m[0] == 2 and m[2] == "TransactionEvent"]
    assert len(events) >= 20
    for message in calls:
        if message[0] == 2:
            assert STRICT.validate(V201, message[2], Kind.REQUEST, message[3]) == ()
