"""Rules of the bridge process: what may be answered before its commit, the GC policy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from toolkit.gateway.session import _answers_early
from translators.frames import Call, CallError, CallResult
from translators.outcome import Step
from translators.pending import Side

RESULT = CallResult("m1", {})
ERROR = CallError("m1", "InternalError", "no", {})
CALL = Call("m2", "Heartbeat", {})


@pytest.mark.parametrize(
    ("side", "frame", "step", "early"),
    [
        # The CSMS answered an outbox call; the charger only gets answers: early.
        (Side.CSMS, RESULT, Step(to_charger=(CallResult("c1", {}),)), True),
        (Side.CSMS, ERROR, Step(to_charger=(CallError("c1", "InternalError", "", {}),)), True),
        (Side.CSMS, RESULT, Step(), True),
        # Anything that makes a call waits for its commit (ids, outbox rows).
        (Side.CSMS, RESULT, Step(to_csms=(CALL,)), False),
        (Side.CSMS, RESULT, Step(to_charger=(CallResult("c1", {}), CALL)), False),
        # A call from either side, and a charger's answer, are committed first.
        (Side.CSMS, CALL, Step(to_charger=(CALL,)), False),
        (Side.CHARGER, CALL, Step(to_charger=(CallResult("m2", {}),)), False),
        (Side.CHARGER, RESULT, Step(to_csms=(CallResult("u1", {}),)), False),
    ],
)
def test_only_csms_answers_that_become_answers_skip_waiting_for_the_commit(
    side: Side, frame: CallResult | CallError | Call, step: Step, early: bool
) -> None:
    assert _answers_early(side, frame, step) is early


def test_the_bridge_heap_policy_freezes_start_up_objects_and_collects_young_less_often() -> None:
    code = (
        "import gc\n"
        "import toolkit.gateway.server\n"  # what a bridge process has loaded
        "from toolkit.gateway.gc_policy import YOUNG_THRESHOLD, settle_heap\n"
        "tracked = len(gc.get_objects())\n"
        "settle_heap()\n"
        "assert gc.get_threshold()[0] == YOUNG_THRESHOLD > 700, gc.get_threshold()\n"
        "assert gc.get_freeze_count() > tracked // 2, (gc.get_freeze_count(), tracked)\n"
        "assert len(gc.get_objects()) < tracked // 10, len(gc.get_objects())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
