"""`ocppkit validate`: check a stream of frames or journal records.

Each line is either a journal record (its version is in the record) or a
bare OCPP-J frame array (its version is given by the caller). CALLRESULTs are
validated against the response schema of the CALL they answer, matched by
message id per charger and direction. Lines that cannot be read are counted
and listed, never skipped silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ocppkit.translators.errors import FrameError, JournalError
from ocppkit.translators.frames import Call, CallError, CallResult, frame_from_list
from ocppkit.translators.journal import Direction, record_from_dict
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    action: str
    kind: str
    path: str
    message: str


@dataclass
class ValidateReport:
    checked: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    invalid: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)
    unmatched_results: int = 0
    call_errors: int = 0
    skipped_soap: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings and not self.unreadable

    def summary_lines(self) -> list[str]:
        rows = [f"{'version':8} {'action':36} {'kind':9} {'frames':>8} {'invalid':>8}"]
        for key in sorted(self.checked):
            version, action, kind = key
            rows.append(
                f"{version:8} {action:36} {kind:9} {self.checked[key]:8d} {self.invalid[key]:8d}"
            )
        total, bad = sum(self.checked.values()), sum(self.invalid.values())
        rows.append(f"{'':8} {'total':36} {'':9} {total:8d} {bad:8d}")
        rows.append(
            f"unreadable lines: {len(self.unreadable)}; CALLERRORs: {self.call_errors}; "
            f"results without their call: {self.unmatched_results}; "
            f"1.5 SOAP records not checked here: {self.skipped_soap}"
        )
        return rows


def validate_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    frame_version: OcppVersion = OcppVersion.V16,
    validator: Validator | None = None,
) -> ValidateReport:
    """Validate every frame in ``lines`` (pairs of line number and text)."""
    validator = validator or Validator(ValidationMode.LENIENT)
    report = ValidateReport()
    pending: dict[tuple[str, str, str], str] = {}
    for number, text in lines:
        try:
            obj: Any = orjson.loads(text)
            if isinstance(obj, dict):
                record = record_from_dict(obj)
                version, cpid, direction = (
                    record.ocpp_version,
                    record.charge_point_id,
                    record.direction.value,
                )
                if not version.is_json:
                    report.skipped_soap += 1
                    continue
                obj = record.message
            else:
                # A bare frame has no direction: calls and results are
                # matched by message id alone.
                version, cpid, direction = frame_version, "", ""
            frame = frame_from_list(obj, version)
        except (orjson.JSONDecodeError, JournalError, FrameError) as exc:
            report.unreadable.append((number, str(exc)))
            continue
        if isinstance(frame, Call):
            action, kind, payload = frame.action, Kind.REQUEST, frame.payload
            pending[(cpid, direction, frame.message_id)] = action
        elif isinstance(frame, CallResult):
            caller = _reverse(direction)
            found = pending.pop((cpid, caller, frame.message_id), None)
            if found is None:
                report.unmatched_results += 1
                continue
            action, kind, payload = found, Kind.RESPONSE, frame.payload
        else:
            assert isinstance(frame, CallError)
            pending.pop((cpid, _reverse(direction), frame.message_id), None)
            report.call_errors += 1
            continue
        key = (version.value, action, kind.value)
        report.checked[key] += 1
        try:
            violations = validator.validate(version, action, kind, payload)
        except FrameError as exc:  # unknown action
            violations = ()
            report.findings.append(Finding(number, action, kind.value, "$", exc.description))
            report.invalid[key] += 1
        if violations:
            report.invalid[key] += 1
            report.findings.extend(
                Finding(number, action, kind.value, v.path, v.message) for v in violations
            )
    return report


def _reverse(direction: str) -> str:
    return Direction(direction).reverse.value if direction else direction
