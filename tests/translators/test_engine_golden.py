"""The engine's rules, pair by pair: golden files under tests/golden/engine/<pair>/.

The same rules (dispatch, refusal, CALLERROR re-spelling and truncation,
orphans, malformed payloads) are played against every pair the engine hosts,
both directions, requests and their answers: a CALL from each side, refused
or carried over, and the answer coming back. Every frame a pair emits is
checked against the official schema of the side it goes to, and every
CALLERROR against the codes and length that side's version allows.

A case is a list of inputs, each from one side. Run with
``OCPPKIT_REGEN_GOLDEN=1`` to rewrite the files (then review the diff).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocppkit.translators.context import fixed_context
from ocppkit.translators.engine import (
    CHAINS,
    PAIR_MODULES,
    Chain,
    Pair,
    Side,
    find_pair,
    find_translator,
    other,
)
from ocppkit.translators.errors import ERROR_CODE_BY_WIRE
from ocppkit.translators.frames import (
    MAX_ERROR_DESCRIPTION,
    Call,
    CallError,
    CallResult,
    Frame,
    frame_from_list,
    frame_to_list,
)
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "engine"
REGENERATE = os.environ.get("OCPPKIT_REGEN_GOLDEN") == "1"
VALIDATOR = Validator(ValidationMode.STRICT)
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0 = "2026-03-01T12:00:00.000Z"
LONG = "x" * (MAX_ERROR_DESCRIPTION + 45)

Input = tuple[str, list[Any]]


def call(side: str, mid: str, action: str, payload: dict[str, Any]) -> Input:
    return (side, [2, mid, action, payload])


def result(side: str, mid: str, payload: dict[str, Any]) -> Input:
    return (side, [3, mid, payload])


def error(side: str, mid: str, code: str, text: str) -> Input:
    return (side, [4, mid, code, text, {}])


C, S = "charger", "csms"
F, R = "charger16_csms201", "station201_csms16"
# (pair name, case) -> inputs. The same rules for both pairs, each in its own versions.
CASES: dict[tuple[str, str], list[Input]] = {
    # 1.6 charger behind a 2.0.1 CSMS
    (F, "charger_unknown_action"): [call(C, "c1", "MakeCoffee", {})],
    (F, "charger_sends_a_csms_action"): [call(C, "c1", "Reset", {"type": "Hard"})],
    (F, "csms_unknown_action"): [call(S, "s1", "Brew", {})],
    (F, "csms_sends_a_station_action"): [
        call(S, "s1", "Heartbeat", {}),
    ],
    (F, "orphan_answer"): [result(S, "nobody", {"currentTime": T0})],
    (F, "malformed_charger_payload"): [call(C, "c1", "StartTransaction", {})],
    (F, "csms_error_respelled_and_cut"): [
        call(C, "c1", "Heartbeat", {}),
        error(S, "c1", "FormatViolation", LONG),
    ],
    (F, "csms_error_with_unknown_code"): [
        call(C, "c1", "Heartbeat", {}),
        error(S, "c1", "Teapot", "short and stout"),
    ],
    (F, "command_and_its_answer"): [
        call(S, "s1", "Reset", {"type": "Immediate"}),
        result(C, "s1", {"status": "Accepted"}),
    ],
    (F, "charger_error_with_unknown_code"): [
        call(S, "s1", "Reset", {"type": "Immediate"}),
        error(C, "s1", "Teapot", "short and stout"),
    ],
    # 2.0.1 station behind a 1.6 CSMS
    (R, "charger_unknown_action"): [call(C, "c1", "MakeCoffee", {})],
    (R, "charger_sends_a_csms_action"): [call(C, "c1", "Reset", {"type": "Immediate"})],
    (R, "csms_unknown_action"): [call(S, "s1", "Brew", {})],
    (R, "csms_sends_a_station_action"): [call(S, "s1", "Heartbeat", {})],
    (R, "orphan_answer"): [result(C, "nobody", {})],
    (R, "malformed_charger_payload"): [call(C, "c1", "Authorize", {})],
    (R, "csms_error_respelled_and_cut"): [
        call(C, "c1", "Heartbeat", {}),
        error(S, "c1", "FormationViolation", LONG),
    ],
    (R, "csms_error_with_unknown_code"): [
        call(C, "c1", "Heartbeat", {}),
        error(S, "c1", "Teapot", "short and stout"),
    ],
    (R, "command_and_its_answer"): [
        call(S, "s1", "Reset", {"type": "Hard"}),
        result(C, "s1", {"status": "Accepted"}),
    ],
    (R, "charger_error_with_unknown_code"): [
        call(S, "s1", "Reset", {"type": "Hard"}),
        error(C, "s1", "Teapot", "short and stout"),
    ],
}
# 2.0.1 station behind a 2.1 CSMS, 2.1 station behind a 2.0.1 CSMS, and the
# 1.6 charger behind a 2.1 CSMS (a chain: 1.6 -> 2.0.1 -> 2.1): the same rules.
U, D, K = "station201_csms21", "station21_csms201", "charger16_csms201+station201_csms21"
for _pair, _station_reset, _csms_reset in (
    (U, {"type": "Immediate"}, {"type": "Immediate"}),
    (D, {"type": "Immediate"}, {"type": "Immediate"}),
    (K, {"type": "Hard"}, {"type": "Immediate"}),
):
    CASES.update(
        {
            (_pair, "charger_unknown_action"): [call(C, "c1", "MakeCoffee", {})],
            (_pair, "charger_sends_a_csms_action"): [call(C, "c1", "Reset", _station_reset)],
            (_pair, "csms_unknown_action"): [call(S, "s1", "Brew", {})],
            (_pair, "csms_sends_a_station_action"): [call(S, "s1", "Heartbeat", {})],
            (_pair, "orphan_answer"): [result(S, "nobody", {"currentTime": T0})],
            (_pair, "malformed_charger_payload"): [call(C, "c1", "Authorize", {})],
            (_pair, "csms_error_respelled_and_cut"): [
                call(C, "c1", "Heartbeat", {}),
                error(S, "c1", "FormatViolation", LONG),
            ],
            (_pair, "csms_error_with_unknown_code"): [
                call(C, "c1", "Heartbeat", {}),
                error(S, "c1", "Teapot", "short and stout"),
            ],
            (_pair, "command_and_its_answer"): [
                call(S, "s1", "Reset", _csms_reset),
                result(C, "s1", {"status": "Accepted"}),
            ],
            (_pair, "charger_error_with_unknown_code"): [
                call(S, "s1", "Reset", _csms_reset),
                error(C, "s1", "Teapot", "short and stout"),
            ],
        }
    )
PAIRS: dict[str, Pair[Any] | Chain] = {find_pair(*v).name: find_pair(*v) for v in PAIR_MODULES}
PAIRS.update({(t := find_translator(*v)).name: t for v in CHAINS})


class Checker:
    """Schema-checks what a pair emits; knows answers' actions from the calls it saw."""

    def __init__(self, pair: Pair[Any] | Chain) -> None:
        self.pair = pair
        self.calls: dict[tuple[Side, str], str] = {}  # (side that sent the call, id) -> action

    def saw(self, side: Side, frame: Frame) -> None:
        if isinstance(frame, Call):
            self.calls[(side, frame.message_id)] = frame.action

    def emitted(self, to: Side, frame: Frame) -> None:
        version = self.pair.versions[to]
        if isinstance(frame, Call):
            VALIDATOR.validate(version, frame.action, Kind.REQUEST, frame.payload)
            # a call passed on keeps its id: the action the sender named comes first
            self.calls.setdefault((other(to), frame.message_id), frame.action)
            return
        action = self.calls.get((to, frame.message_id))
        assert action is not None, f"{frame} answers nothing {to} asked"
        if isinstance(frame, CallResult):
            VALIDATOR.validate(version, action, Kind.RESPONSE, frame.payload)
        else:
            assert isinstance(frame, CallError)
            assert len(frame.error_description) <= MAX_ERROR_DESCRIPTION
            code = ERROR_CODE_BY_WIRE[frame.error_code]
            assert code.wire(version) == frame.error_code, (version, frame.error_code)


def run(pair: Pair[Any] | Chain, inputs: list[Input]) -> dict[str, Any]:
    state, ctx, checker = pair.new_state(), fixed_context(MOMENT, "e"), Checker(pair)
    outputs = []
    for sender, raw in inputs:
        side = Side(sender)
        frame = frame_from_list(raw, pair.versions[side])
        checker.saw(side, frame)
        step = pair.from_charger(state, frame, ctx) if side is Side.CHARGER else pair.from_csms(
            state, frame, ctx
        )  # fmt: skip
        for f in step.to_charger:
            checker.emitted(Side.CHARGER, f)
        for f in step.to_csms:
            checker.emitted(Side.CSMS, f)
        outputs.append(
            {
                "to_charger": [frame_to_list(f) for f in step.to_charger],
                "to_csms": [frame_to_list(f) for f in step.to_csms],
                "notes": [n.as_dict() for n in step.notes],
            }
        )
    doc = {
        "pair": pair.name,
        "versions": {side.value: v.value for side, v in pair.versions.items()},
        "input": [{"from": s, "frame": f} for s, f in inputs],
        "output": outputs,
        "state_after": state.to_dict(),
    }
    loaded: dict[str, Any] = json.loads(json.dumps(doc))
    return loaded


def check_golden(path: Path, doc: dict[str, Any]) -> None:
    """``doc`` equals the golden file ``path`` (written instead with OCPPKIT_REGEN_GOLDEN=1)."""
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with OCPPKIT_REGEN_GOLDEN=1"
    assert doc == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("pair", "case"), sorted(CASES), ids=lambda v: str(v))
def test_engine_rule_matches_its_golden_file(pair: str, case: str) -> None:
    doc = run(PAIRS[pair], CASES[(pair, case)])
    check_golden(GOLDEN / pair / f"{case}.json", doc)


def test_every_pair_plays_every_rule() -> None:
    rules = {case for _, case in CASES}
    assert {(p, r) for p in PAIRS for r in rules} == set(CASES)


def test_no_golden_file_is_left_without_its_case() -> None:
    files = {(p.parent.name, p.stem) for p in GOLDEN.glob("*/*.json")}
    assert files <= set(CASES), sorted(files - set(CASES))


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_a_cut_description_keeps_the_limit_exactly(pair: str) -> None:
    doc = run(PAIRS[pair], CASES[(pair, "csms_error_respelled_and_cut")])
    (relayed,) = doc["output"][1]["to_charger"]
    assert relayed[3] == LONG[:MAX_ERROR_DESCRIPTION]


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_both_pairs_refuse_alike(pair: str) -> None:
    """The same rule gives the same code and note kind in either pair, each in its spelling."""
    codes = {}
    for case in ("charger_unknown_action", "charger_sends_a_csms_action", "csms_unknown_action"):
        out = run(PAIRS[pair], CASES[(pair, case)])["output"][0]
        (frame,) = out["to_charger"] or out["to_csms"]
        codes[case] = (frame[2], [n["kind"] for n in out["notes"]])
    assert codes == {
        "charger_unknown_action": ("NotImplemented", ["not_supported"]),
        "charger_sends_a_csms_action": ("NotSupported", ["not_supported"]),
        "csms_unknown_action": ("NotImplemented", ["not_supported"]),
    }
