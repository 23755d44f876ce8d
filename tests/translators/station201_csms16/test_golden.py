"""Golden files: tests/golden/station201_csms16/<Action>/<case>.json, each checked by one helper.

A golden file holds a case whole: ``state_before``, the ``input`` frames (each
from the station, 2.0.1, or from the CSMS, 1.6), and what the bridge must do:
``output`` (per input: frames for each side, notes) and ``state_after``.
:func:`check_golden` replays the input through a fresh bridge (every emitted
frame schema-checked by :class:`Bridge`) and compares.

To add a case, write a file with ``description``, ``state_before`` (``{}``
for a fresh state) and ``input``, then run with ``OCPPKIT_REGEN_GOLDEN=1``:
the switch rewrites ``output`` and ``state_after``; review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ocppkit.translators.frames import frame_from_list, frame_to_list
from ocppkit.translators.station201_csms16 import StationState, session

from .helpers import V16, V201, Bridge

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "station201_csms16"
REGENERATE = os.environ.get("OCPPKIT_REGEN_GOLDEN") == "1"
FILES = sorted(GOLDEN.rglob("*.json"))
# Local answers all go through one generic handler; NotifyReport stands for them.
SAME_HANDLER_AS_NOTIFY_REPORT = {
    "NotifyMonitoringReport", "NotifyChargingLimit", "ClearedChargingLimit",
    "NotifyDisplayMessages", "NotifyCustomerInformation", "ReportChargingProfiles",
    "ReservationStatusUpdate", "PublishFirmwareStatusNotification",
}  # fmt: skip


def replay(doc: dict[str, Any]) -> dict[str, Any]:
    """The golden document as the bridge produces it today."""
    before = StationState.from_dict(doc["state_before"]).to_dict()
    bridge = Bridge(state=StationState.from_dict(doc["state_before"]))
    outputs = []
    for item in doc["input"]:
        charger = item["from"] == "charger"
        frame = frame_from_list(item["frame"], V201 if charger else V16)
        step = bridge.station(frame) if charger else bridge.csms(frame)
        outputs.append(
            {
                "to_charger": [frame_to_list(f) for f in step.to_charger],
                "to_csms": [frame_to_list(f) for f in step.to_csms],
                "notes": [n.as_dict() for n in step.notes],
            }
        )
    actual = {
        "description": doc["description"],
        "state_before": before,
        "input": doc["input"],
        "output": outputs,
        "state_after": bridge.state.to_dict(),
    }
    # Through JSON once, so tuples and lists compare alike.
    result: dict[str, Any] = json.loads(json.dumps(actual))
    return result


def check_golden(path: Path) -> None:
    """Assert (or, with the switch, rewrite) one golden file."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    actual = replay(doc)
    if REGENERATE:
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert actual == doc


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(GOLDEN)) for p in FILES])
def test_golden(path: Path) -> None:
    check_golden(path)


def test_golden_files_cover_every_routed_action() -> None:
    routed = {*session.STATION_CALLS, *session.CSMS_CALLS, *session.NOT_SUPPORTED}
    covered = {p.parent.name for p in FILES}
    assert covered <= routed | {"Get15118EVCertificate"}
    assert routed - covered == SAME_HANDLER_AS_NOTIFY_REPORT | {
        "GetCertificateStatus", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule",
    }  # fmt: skip


def test_golden_file_names_its_action_in_its_first_input() -> None:
    for path in FILES:
        first = json.loads(path.read_text(encoding="utf-8"))["input"][0]["frame"]
        assert first[2] == path.parent.name, path
