"""Reports from GetConfiguration: numbering, continuation and filtering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocppkit.translators.charger16_csms201 import commands, reports
from ocppkit.translators.charger16_csms201.handlers import Side, pending_key
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import fixed_context
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

_VALIDATOR = Validator()


def _report(call: Call, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Play a report to the end; the NotifyReport payloads, in order."""
    state, ctx = BridgeState(), fixed_context(datetime(2026, 1, 1, tzinfo=UTC), "b")
    step = commands.CSMS_CALLS[call.action](state, call, ctx)
    (request,) = step.to_charger
    pending = state.pending.pop(pending_key(Side.CHARGER, request.message_id))
    step = commands.CHARGER_RESULTS["GetConfiguration"](
        state, pending, CallResult(request.message_id, {"configurationKey": keys}), ctx
    )
    sent = []
    while step.to_csms:
        (notify,) = step.to_csms
        assert isinstance(notify, Call)
        _VALIDATOR.validate(OcppVersion.V201, "NotifyReport", Kind.REQUEST, notify.payload)
        sent.append(notify.payload)
        pending = state.pending.pop(pending_key(Side.CSMS, notify.message_id))
        step = commands.CSMS_RESULTS["NotifyReport"](
            state, pending, CallResult(notify.message_id, {}), ctx
        )
    assert not state.pending
    return sent


def _keys(n: int) -> list[dict[str, Any]]:
    return [{"key": f"K{i}", "readonly": False, "value": str(i)} for i in range(n)]


def test_long_report_is_numbered_and_continued_until_the_last_part() -> None:
    n = reports.REPORT_CHUNK * 2 + 1
    sent = _report(
        Call("r", "GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"}), _keys(n)
    )
    assert [p["seqNo"] for p in sent] == [0, 1, 2]
    assert [p.get("tbc", False) for p in sent] == [True, True, False]
    assert sum(len(p["reportData"]) for p in sent) == n
    assert {p["requestId"] for p in sent} == {5}


def test_report_of_exactly_one_chunk_is_one_message_without_tbc() -> None:
    sent = _report(
        Call("r", "GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"}),
        _keys(reports.REPORT_CHUNK),
    )
    assert len(sent) == 1 and "tbc" not in sent[0]


def test_empty_configuration_still_closes_the_report() -> None:
    sent = _report(Call("r", "GetBaseReport", {"requestId": 2, "reportBase": "FullInventory"}), [])
    assert sent == [{"requestId": 2, "generatedAt": "2026-01-01T00:00:00.000Z", "seqNo": 0}]


def test_get_report_asks_only_for_the_addressed_keys_and_reports_only_them() -> None:
    call = Call("r", "GetReport", {"requestId": 3, "componentVariable": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
    ]})  # fmt: skip
    state, ctx = BridgeState(), fixed_context()
    (request,) = commands.CSMS_CALLS["GetReport"](state, call, ctx).to_charger
    assert isinstance(request, Call)
    assert request.payload == {"key": ["HeartbeatInterval"]}
    keys = [{"key": "HeartbeatInterval", "readonly": True, "value": "60"}, *_keys(3)]
    (only,) = _report(call, keys)
    (data,) = only["reportData"]
    assert data["variable"] == {"name": "HeartbeatInterval"}
    assert data["variableAttribute"] == [
        {"type": "Actual", "value": "60", "mutability": "ReadOnly"}
    ]


def test_csms_refusing_a_part_abandons_the_rest_with_a_note() -> None:
    state, ctx = BridgeState(), fixed_context()
    data = {
        "origin": "GetBaseReport",
        "requestId": 1,
        "generatedAt": "x",
        "seqNo": 1,
        "chunks": [[]],
    }
    from ocppkit.translators.pending import Pending

    step = commands.CSMS_RESULTS["NotifyReport"](
        state,
        Pending("NotifyReport", "GetBaseReport", None, data),
        CallError("n", "InternalError"),
        ctx,
    )
    assert not step.to_csms and "abandoned" in step.notes[0].detail
