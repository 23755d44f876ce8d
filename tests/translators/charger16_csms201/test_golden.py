"""Every charger-initiated action against its golden files (tests/golden/charger16_csms201)."""

from __future__ import annotations

from typing import Any

import pytest

from ocppkit.translators.charger16_csms201.session import CHARGER_CALLS
from tests.translators.charger16_csms201 import golden
from tests.translators.charger16_csms201.golden_cases import CASES


@pytest.mark.parametrize(("action", "case"), sorted(CASES), ids=lambda v: str(v))
def test_golden_case_matches_its_file(action: str, case: str) -> None:
    prelude, inputs = CASES[(action, case)]
    golden.check(action, case, prelude, inputs)


def test_every_charger_action_has_a_golden_file() -> None:
    covered = {action for action, _ in CASES}
    assert set(CHARGER_CALLS) <= covered


def test_no_golden_file_is_left_without_its_case() -> None:
    files = {(p.parent.name, p.stem) for p in golden.GOLDEN.glob("*/*.json")}
    assert files <= set(CASES), sorted(files - set(CASES))


def test_golden_files_record_lossy_conversions_as_notes_and_counts() -> None:
    doc: dict[str, Any] = golden.run(*CASES[("StopTransaction", "soft_reset_is_lossy")])
    detail = "reason: SoftReset -> Other (StopTransaction.reason -> stoppedReason)"
    assert {"kind": "lossy", "action": "StopTransaction", "detail": detail} in doc["notes"]
    assert doc["state_after"]["lossy_counts"]["StopTransaction.reason"] == 1
