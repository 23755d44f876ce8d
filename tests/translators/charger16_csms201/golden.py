"""The one helper that runs and checks the golden files of the charger side.

A golden file holds ``{input, state_before, output: {to_charger, to_csms},
state_after, notes}``. :func:`run` replays ``input`` on ``state_before``
with a fixed context; :func:`check` compares with the file, and validates
every frame (input and output) against the official schema of its
version. ``OCPPKIT_REGEN_GOLDEN=1`` rewrites the files instead.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocppkit.translators.charger16_csms201.session import from_charger, from_csms
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context, fixed_context
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    frame_from_list,
    frame_to_list,
)
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind, actions
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "charger16_csms201"
REGENERATE = os.environ.get("OCPPKIT_REGEN_GOLDEN") == "1"
V16, V201 = OcppVersion.V16, OcppVersion.V201
VALIDATOR = Validator()


MOMENT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def context() -> Context:
    return fixed_context(MOMENT, "id")


class SchemaChecker:
    """Validates every frame of a bridged conversation, finding each answer's action.

    Two legs: 1.6 between charger and bridge, 2.0.1 between bridge and
    CSMS. A CALLRESULT is validated as the response of the call it answers
    on its leg.
    """

    def __init__(self) -> None:
        self.calls: dict[tuple[OcppVersion, str, str], str] = {}

    def frame(self, frame: Frame, version: OcppVersion, sender: str, receiver: str) -> None:
        if isinstance(frame, Call):
            # An action the version does not define can only be an input
            # (the bridge refuses it); everything else must be schema-valid.
            if sender == "bridge" or frame.action in actions(version):
                VALIDATOR.validate(version, frame.action, Kind.REQUEST, frame.payload)
            self.calls[(version, sender, frame.message_id)] = frame.action
            return
        action = self.calls.pop((version, receiver, frame.message_id), None)
        if isinstance(frame, CallResult) and action is not None:
            VALIDATOR.validate(version, action, Kind.RESPONSE, frame.payload)
        if isinstance(frame, CallError):
            assert frame.error_code and len(frame.error_description) <= 255

    def learn(self, state: BridgeState) -> None:
        """Calls outstanding in a state snapshot, so their answers are validated."""
        for key, pending in state.pending.items():
            side, _, mid = key.partition(":")
            leg = V201 if side == "csms" else V16
            self.calls[(leg, "bridge", mid)] = pending.action
            if pending.origin_id is not None:
                origin_leg = V16 if side == "csms" else V201
                origin = "charger" if side == "csms" else "csms"
                self.calls[(origin_leg, origin, pending.origin_id)] = pending.origin_action


def feed(
    state: BridgeState, frames: list[tuple[str, list[Any]]], ctx: Context, checker: SchemaChecker
) -> Step:
    """Run frames through the session, validating everything on the way."""
    total = Step()
    for sender, raw in frames:
        if sender == "charger":
            frame = frame_from_list(raw, V16)
            checker.frame(frame, V16, "charger", "bridge")
            step = from_charger(state, frame, ctx)
        else:
            frame = frame_from_list(raw, V201)
            checker.frame(frame, V201, "csms", "bridge")
            step = from_csms(state, frame, ctx)
        for f in step.to_csms:
            checker.frame(f, V201, "bridge", "csms")
        for f in step.to_charger:
            checker.frame(f, V16, "bridge", "charger")
        total += step
    return total


def _document(
    inputs: list[dict[str, Any]], before: dict[str, Any], state: BridgeState, step: Step
) -> dict[str, Any]:
    return {
        "input": inputs,
        "state_before": before,
        "output": {
            "to_charger": [frame_to_list(f) for f in step.to_charger],
            "to_csms": [frame_to_list(f) for f in step.to_csms],
        },
        "state_after": state.to_dict(),
        "notes": [n.as_dict() for n in step.notes],
    }


def run(
    prelude: list[tuple[str, list[Any]]], inputs: list[tuple[str, list[Any]]]
) -> dict[str, Any]:
    """Play the prelude, snapshot the state, play the inputs: the golden document.

    The prelude mints ids with its own prefix, so replaying the inputs on
    the snapshot with a fresh context gives the same ids (:func:`replay`).
    """
    state, checker = BridgeState(charge_point_id="CP-1"), SchemaChecker()
    feed(state, prelude, fixed_context(MOMENT, "pre"), checker)
    before = state.to_dict()
    step = feed(state, inputs, context(), checker)
    return _document([{"from": s, "frame": f} for s, f in inputs], before, state, step)


def replay(doc: dict[str, Any]) -> dict[str, Any]:
    """Re-run a golden document's input on its own state_before."""
    # from_dict shares the nested dicts it is given: hand it a copy.
    state, checker = BridgeState.from_dict(copy.deepcopy(doc["state_before"])), SchemaChecker()
    checker.learn(state)
    inputs = [(i["from"], i["frame"]) for i in doc["input"]]
    step = feed(state, inputs, context(), checker)
    return _document(doc["input"], doc["state_before"], state, step)


def path_of(action: str, case: str) -> Path:
    return GOLDEN / action / f"{case}.json"


def dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def check(action: str, case: str, prelude: list[Any], inputs: list[Any]) -> None:
    """Compare (or, with OCPPKIT_REGEN_GOLDEN=1, rewrite) one golden file."""
    doc = run(prelude, inputs)
    path = path_of(action, case)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(doc), encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with OCPPKIT_REGEN_GOLDEN=1"
    stored = json.loads(path.read_text(encoding="utf-8"))
    # The file is the truth: replayed on its own state_before it must give
    # its own output and state_after; and the case that wrote it still does.
    assert json.loads(dump(replay(stored))) == stored, f"{path}: replay differs"
    assert json.loads(dump(doc)) == stored, f"{path}: case differs from the file"
