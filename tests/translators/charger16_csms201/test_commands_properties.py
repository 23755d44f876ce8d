"""Properties of the CSMS commands over schema-generated messages.

For every 2.0.1 CSMS -> station action (translated or not): any payload
valid against the official request schema yields 1.6 frames valid against
the 1.6 schemas, or a schema-valid 2.0.1 answer from the bridge, or a
NotSupported CALLERROR; never an exception. Whatever schema-valid answer
the charger then gives (or a CALLERROR) comes back up as a schema-valid
2.0.1 answer to the same message id.

Payloads come from :func:`from_schema`, a small generator for the subset of
JSON Schema the OCPP schemas use (hypothesis-jsonschema 0.23.1 fails with
the installed hypothesis 6.170: ``'many' object has no attribute 'more'``).
Every generated payload is checked against the strict validator first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocppkit.translators import schemas
from ocppkit.translators.charger16_csms201 import commands
from ocppkit.translators.charger16_csms201.command_kit import refuse
from ocppkit.translators.charger16_csms201.handlers import Side, pending_key
from ocppkit.translators.charger16_csms201.state import BridgeState, Transaction
from ocppkit.translators.context import fixed_context
from ocppkit.translators.errors import ErrorCode
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
_VALIDATOR = Validator()
_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
_REFUSALS = {ErrorCode.NOT_SUPPORTED.value, ErrorCode.NOT_IMPLEMENTED.value}


def _state() -> BridgeState:
    state = BridgeState()
    tx = Transaction(7, "tx-7", 1, 1, "TAG", 0, "2026-01-01T00:00:00Z")
    state.transactions["7"] = tx
    state.active_by_connector["1"] = 7
    return state


_URIS = st.sampled_from(["https://example.org/fw.bin", "ftp://logs.example.org/up/", "urn:x:y"])


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["definitions"][node["$ref"].split("/")[-1]]
    return node


def _strategy(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    node = _resolve(node, root)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "object":
        props = {k: v for k, v in node.get("properties", {}).items()}
        required = set(node.get("required", []))
        return st.fixed_dictionaries(
            {k: _strategy(v, root) for k, v in props.items() if k in required},
            optional={k: _strategy(v, root) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + 3), low + 3)
        return st.lists(_strategy(node["items"], root), min_size=low, max_size=high)
    if kind == "string":
        if node.get("format") == "date-time":
            moments = st.datetimes(
                datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)
            )
            return moments.map(lambda m: m.isoformat().replace("+00:00", "Z"))
        if node.get("format") == "uri":
            return _URIS
        texts = st.text(max_size=min(node.get("maxLength", 40), 40))
        if node.get("maxLength", 40) > 600:  # long values exercise the 1.6 length limits
            texts = st.one_of(texts, st.text(min_size=501, max_size=node["maxLength"]))
        return texts
    if kind == "integer":
        return st.integers(node.get("minimum", -(2**40)), 2**40)
    if kind == "number":
        if "multipleOf" in node:
            return st.integers(-(10**7), 10**7).map(lambda n: n / 10)
        return st.one_of(
            st.integers(-(10**6), 10**6),
            st.floats(allow_nan=False, allow_infinity=False, min_value=node.get("minimum")),
        )
    if kind == "boolean":
        return st.booleans()
    return st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))  # "any"


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Payloads valid against an official OCPP schema."""
    return _strategy(schema, schema)


def _check_csms_frames(step: Step, action: str, message_id: str) -> None:
    for frame in step.to_csms:
        if isinstance(frame, Call):
            _VALIDATOR.validate(V201, frame.action, Kind.REQUEST, frame.payload)
        elif isinstance(frame, CallResult):
            assert frame.message_id == message_id
            _VALIDATOR.validate(V201, action, Kind.RESPONSE, frame.payload)
        else:
            assert frame.message_id == message_id
            assert frame.error_code in {c.wire(V201) for c in ErrorCode}


def _request(action: str) -> st.SearchStrategy[dict[str, Any]]:
    return from_schema(schemas.schema(V201, action, Kind.REQUEST))


def _answer(action16: str) -> st.SearchStrategy[CallResult | CallError]:
    payloads = from_schema(schemas.schema(V16, action16, Kind.RESPONSE))
    results = payloads.map(lambda p: CallResult("x", p))
    errors = st.sampled_from(
        ["NotImplemented", "FormationViolation", "InternalError", "Weird"]
    ).map(lambda code: CallError("x", code, "from the charger", {}))
    return st.one_of(results, errors)


@pytest.mark.parametrize("action", sorted(commands.CSMS_TO_STATION))
def test_any_schema_valid_csms_call_translates_to_schema_valid_frames(action: str) -> None:
    @_SETTINGS
    @given(payload=_request(action), data=st.data())
    def run(payload: dict[str, Any], data: st.DataObject) -> None:
        _VALIDATOR.validate(V201, action, Kind.REQUEST, payload)  # the generator's own check
        state = _state()
        ctx = fixed_context(datetime(2026, 1, 1, tzinfo=UTC), "b")
        call = Call("m-1", action, payload)
        handler = commands.CSMS_CALLS.get(action)
        step = (
            handler(state, call, ctx) if handler else refuse(call, commands.NOT_SUPPORTED[action])
        )
        answers: list[CallResult | CallError] = []
        charger_failed = False
        for _ in range(8):  # a command needs at most a few round trips
            _check_csms_frames(step, action, "m-1")
            answers += [f for f in step.to_csms if not isinstance(f, Call)]
            for frame in answers:
                # The bridge's own CALLERRORs are refusals; others relay the charger's.
                if isinstance(frame, CallError) and not charger_failed:
                    assert frame.error_code in _REFUSALS
            if step.to_charger:
                (sent,) = step.to_charger
                assert isinstance(sent, Call)
                _VALIDATOR.validate(V16, sent.action, Kind.REQUEST, sent.payload)
                pending = state.pending.pop(pending_key(Side.CHARGER, sent.message_id))
                reply = data.draw(_answer(sent.action))
                charger_failed = isinstance(reply, CallError)
                if isinstance(reply, CallResult):
                    reply = CallResult(sent.message_id, reply.payload)
                else:
                    reply = CallError(sent.message_id, reply.error_code, reply.error_description)
                step = commands.CHARGER_RESULTS[sent.action](state, pending, reply, ctx)
            elif any(isinstance(f, Call) for f in step.to_csms):
                notify = next(f for f in step.to_csms if isinstance(f, Call))
                pending = state.pending.pop(pending_key(Side.CSMS, notify.message_id))
                step = commands.CSMS_RESULTS[notify.action](
                    state, pending, CallResult(notify.message_id, {}), ctx
                )
            else:
                break
        assert len(answers) == 1, "the CSMS call must be answered exactly once"
        assert not state.pending

    run()


def test_refusals_are_not_supported_callerrors_with_a_reason() -> None:
    for action, reason in commands.NOT_SUPPORTED.items():
        step = refuse(Call("m", action, {}), reason)
        (error,) = step.to_csms
        assert isinstance(error, CallError)
        assert error.error_code == "NotSupported" and error.error_description == reason
