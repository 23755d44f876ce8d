"""Golden files of the CSMS commands (2.0.1 CSMS -> 1.6 charger and back).

Each ``tests/golden/charger16_csms201_commands/<Action>/<case>.json`` holds a whole
exchange: the CSMS's CALL (``input``), the bridge state before it, the
answers fed back (``replies``: from the charger or, for NotifyReport, the
CSMS; a null message id answers the last call sent to that side), what the
bridge sent after each frame (``steps``), and what changed in the state
(``state_after``: the top-level fields that changed), and the CSMS's
answer on its own (``answer_to_csms``). Every frame in
a golden file, fed or produced, is validated against the official schemas.

Regenerate after an intended change of behaviour, then review the diff::

    OCPPKIT_REGEN_GOLDEN=1 .venv/bin/python -m pytest \
        tests/translators/charger16_csms201/test_commands_golden.py
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocppkit.translators.charger16_csms201 import commands
from ocppkit.translators.charger16_csms201.command_kit import refuse
from ocppkit.translators.charger16_csms201.handlers import Side, pending_key
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context, fixed_context
from ocppkit.translators.errors import ErrorCode
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    frame_from_list,
    frame_to_list,
)
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "charger16_csms201_commands"
REGENERATE = os.environ.get("OCPPKIT_REGEN_GOLDEN") == "1"
V16, V201 = OcppVersion.V16, OcppVersion.V201
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_VALIDATOR = Validator()
_CODES_201 = {code.wire(V201) for code in ErrorCode}


class Bridge:
    """The command half of the session, driven by hand (no A1 session needed)."""

    def __init__(self, state: BridgeState, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.last_sent: dict[Side, Call] = {}
        self.actions: dict[str, str] = {}  # CSMS call id -> 2.0.1 action

    def _check(self, step: Step) -> None:
        for frame in step.to_charger:
            assert isinstance(frame, Call), frame
            _VALIDATOR.validate(V16, frame.action, Kind.REQUEST, frame.payload)
            self.last_sent[Side.CHARGER] = frame
        for frame in step.to_csms:
            if isinstance(frame, Call):
                _VALIDATOR.validate(V201, frame.action, Kind.REQUEST, frame.payload)
                self.last_sent[Side.CSMS] = frame
            elif isinstance(frame, CallResult):
                action = self.actions[frame.message_id]
                _VALIDATOR.validate(V201, action, Kind.RESPONSE, frame.payload)
            else:
                assert frame.error_code in _CODES_201, frame
                assert frame.message_id in self.actions, frame

    def call(self, call: Call) -> Step:
        _VALIDATOR.validate(V201, call.action, Kind.REQUEST, call.payload)
        self.actions[call.message_id] = call.action
        handler = commands.CSMS_CALLS.get(call.action)
        if handler is None:
            step = refuse(call, commands.NOT_SUPPORTED[call.action])
        else:
            step = handler(self.state, call, self.ctx)
        self._check(step)
        return step

    def answer(self, side: Side, frame: CallResult | CallError) -> Step:
        sent = self.last_sent[side]
        pending = self.state.pending.pop(pending_key(side, frame.message_id))
        assert pending.action == sent.action
        if isinstance(frame, CallResult):
            version = V16 if side is Side.CHARGER else V201
            _VALIDATOR.validate(version, sent.action, Kind.RESPONSE, frame.payload)
        table = commands.CHARGER_RESULTS if side is Side.CHARGER else commands.CSMS_RESULTS
        step = table[pending.action](self.state, pending, frame, self.ctx)
        self._check(step)
        return step


def step_dict(step: Step) -> dict[str, Any]:
    return {
        "to_charger": [frame_to_list(f) for f in step.to_charger],
        "to_csms": [frame_to_list(f) for f in step.to_csms],
        "notes": [n.as_dict() for n in step.notes],
    }


def state_changes(before: dict[str, Any], state: BridgeState) -> dict[str, Any]:
    """The top-level fields of ``state`` that differ from ``before``."""
    return {k: v for k, v in state.to_dict().items() if before.get(k) != v}


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    """Play one golden exchange; returns the case with its outputs filled in."""
    state = BridgeState.from_dict(case.get("state_before", {}))
    before = state.to_dict()
    bridge = Bridge(state, fixed_context(MOMENT, "bridge"))
    first = frame_from_list(case["input"], V201)
    assert isinstance(first, Call)
    steps = [step_dict(bridge.call(first))]
    for reply in case.get("replies", []):
        side = Side(reply["from"])
        raw = list(reply["frame"])
        if raw[1] is None:
            raw[1] = bridge.last_sent[side].message_id
        frame: Frame = frame_from_list(raw, V16 if side is Side.CHARGER else V201)
        assert not isinstance(frame, Call)
        steps.append(step_dict(bridge.answer(side, frame)))
    answers = [
        frame
        for step in steps
        for frame in step["to_csms"]
        if frame[0] in (3, 4) and frame[1] == first.message_id
    ]
    return {
        **case,
        "steps": steps,
        "answer_to_csms": answers[-1] if answers else None,
        "state_after": state_changes(before, state),
    }


CASES = sorted(GOLDEN.glob("*/*.json"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_exchange(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    assert case["input"][2] == path.parent.name
    played = run_case(case)
    if REGENERATE:
        path.write_text(json.dumps(played, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert played["steps"] == case["steps"]
    assert played["answer_to_csms"] == case["answer_to_csms"]
    assert played["state_after"] == case["state_after"]


def test_every_translated_and_refused_action_has_a_golden_file() -> None:
    covered = {path.parent.name for path in CASES}
    assert set(commands.CSMS_CALLS) <= covered


def test_every_golden_exchange_ends_with_the_csms_answered() -> None:
    for path in CASES:
        case = json.loads(path.read_text(encoding="utf-8"))
        message_id = case["input"][1]
        answers = [
            frame
            for step in case["steps"]
            for frame in step["to_csms"]
            if frame[0] in (3, 4) and frame[1] == message_id
        ]
        assert len(answers) == 1, path.name
        assert not case["state_after"].get("pending"), path.name
