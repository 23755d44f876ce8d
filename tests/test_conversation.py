"""Whole recorded conversations into another version: both roles, nothing left in the source.

The golden journals (``tests/golden/conversation/*.input.jsonl``, written by
hand from the schemas and the translators' golden cases) hold a charger and
its CSMS in one version, with every CSMS command the translators know and
the charger's answer to each. Converted, the output must be 100 % the target
version and schema-valid (strict), the commands must be the target
version's, and what cannot be translated must be in the side report with
its reason, never in the output. ``OCPPKIT_REGEN_GOLDEN=1`` rewrites the
expected output and report files.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from ocppkit.toolkit.translate_report import Cause, LeftOut, encode_left_out, summary
from ocppkit.toolkit.translate_stream import translate_lines, translator_for
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.journal import Direction, JournalRecord, decode_record, encode_record
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion

GOLDEN = Path(__file__).resolve().parent / "golden" / "conversation"
REGENERATE = os.environ.get("OCPPKIT_REGEN_GOLDEN") == "1"
V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
STRICT = Validator(ValidationMode.STRICT)
# case -> (source, target); a case named "<input>-to-<version>" reads <input>.input.jsonl.
# commands-2.1.input.jsonl is commands-2.0.1's conversation as 2.1 (this converter's
# output, checked by hand against the 2.1 schemas): 2.1 keeps every 2.0.1 message.
CASES = {
    "commands-1.6": (V16, V201),
    "commands-2.0.1": (V201, V16),
    "commands-1.6-to-2.1": (V16, V21),
    "commands-2.0.1-to-2.1": (V201, V21),
    "commands-2.1": (V21, V201),
}
T = "2026-03-02T08:00:00.000Z"
UP, DOWN = Direction.CS_TO_CSMS, Direction.CSMS_TO_CS


def convert(
    lines: list[bytes], source: OcppVersion, target: OcppVersion
) -> tuple[list[bytes], list[LeftOut], Counter[str]]:
    translator = translator_for(source, target)
    out: list[bytes] = []
    left: list[LeftOut] = []
    outcome = translate_lines(enumerate(lines, 1), translator, out.append, report=left.append)
    assert outcome.ok, outcome.counts
    return out, left, translator.counts


def check_conversation(records: list[JournalRecord], version: OcppVersion) -> None:
    """Every record in ``version``; every payload strictly valid; every answer has its call."""
    calls: dict[tuple[Direction, str], str] = {}
    for record in records:
        assert record.ocpp_version is version, record
        message = record.message
        assert isinstance(message, list)
        if message[0] == 2:
            STRICT.validate(version, message[2], Kind.REQUEST, message[3])
            calls[(record.direction, message[1])] = message[2]
        else:
            action = calls.pop((record.direction.reverse, message[1]))
            if message[0] == 3:
                STRICT.validate(version, action, Kind.RESPONSE, message[2])


def commands(records: list[JournalRecord]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (r.message[2], r.message[3])
        for r in records
        if isinstance(r.message, list) and r.message[0] == 2 and r.direction is DOWN
    ]


def load(name: str) -> list[bytes]:
    source = name.split("-to-")[0]
    return (GOLDEN / f"{source}.input.jsonl").read_bytes().splitlines()


def _golden(path: Path, data: bytes) -> None:
    if REGENERATE:
        path.write_bytes(data)
    assert path.read_bytes() == data, f"{path.name} differs (OCPPKIT_REGEN_GOLDEN=1 rewrites it)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_recorded_conversation_converts_to_its_golden_output_and_report(name: str) -> None:
    source, target = CASES[name]
    out, left, _ = convert(load(name), source, target)
    _golden(GOLDEN / f"{name}.output.jsonl", b"".join(out))
    _golden(GOLDEN / f"{name}.report.jsonl", b"".join(encode_left_out(e) for e in left))


@pytest.mark.parametrize("name", sorted(CASES))
def test_converted_conversation_is_all_target_version_and_strictly_valid(name: str) -> None:
    source, target = CASES[name]
    out, left, counts = convert(load(name), source, target)
    check_conversation([decode_record(line) for line in out], target)
    assert counts["records_in"] == len(load(name)) == counts["in_output"] + counts["left_out"]
    assert all(e.record.ocpp_version in (source, V201) for e in left)


# What a target-version CSMS sends for each recorded command (checked by hand
# against OCPP 2.0.1 Part 2 and the 1.6 spec): recorded action -> target action.
COMMANDS_16_TO_201 = {
    "CancelReservation": "CancelReservation", "CertificateSigned": "CertificateSigned",
    "ChangeAvailability": "ChangeAvailability", "ChangeConfiguration": "SetVariables",
    "ClearCache": "ClearCache", "ClearChargingProfile": "ClearChargingProfile",
    "DataTransfer": "DataTransfer", "DeleteCertificate": "DeleteCertificate",
    "ExtendedTriggerMessage": "TriggerMessage", "GetCompositeSchedule": "GetCompositeSchedule",
    "GetConfiguration": "GetVariables", "GetDiagnostics": "GetLog",
    "GetInstalledCertificateIds": "GetInstalledCertificateIds",
    "GetLocalListVersion": "GetLocalListVersion", "GetLog": "GetLog",
    "InstallCertificate": "InstallCertificate", "RemoteStartTransaction": "RequestStartTransaction",
    "RemoteStopTransaction": "RequestStopTransaction", "ReserveNow": "ReserveNow",
    "Reset": "Reset", "SendLocalList": "SendLocalList", "SetChargingProfile": "SetChargingProfile",
    "SignedUpdateFirmware": "UpdateFirmware", "TriggerMessage": "TriggerMessage",
    "UnlockConnector": "UnlockConnector", "UpdateFirmware": "UpdateFirmware",
}  # fmt: skip
COMMANDS_201_TO_16 = {
    "CancelReservation": "CancelReservation", "CertificateSigned": "CertificateSigned",
    "ChangeAvailability": "ChangeAvailability", "ClearCache": "ClearCache",
    "ClearChargingProfile": "ClearChargingProfile", "DataTransfer": "DataTransfer",
    "DeleteCertificate": "DeleteCertificate", "GetBaseReport": "GetConfiguration",
    "GetCompositeSchedule": "GetCompositeSchedule",
    "GetInstalledCertificateIds": "GetInstalledCertificateIds",
    "GetLocalListVersion": "GetLocalListVersion", "GetLog": "GetDiagnostics",
    "GetReport": "GetConfiguration", "GetVariables": "GetConfiguration",
    "InstallCertificate": "InstallCertificate", "RequestStartTransaction": "RemoteStartTransaction",
    "RequestStopTransaction": "RemoteStopTransaction", "ReserveNow": "ReserveNow",
    "Reset": "Reset", "SendLocalList": "SendLocalList", "SetChargingProfile": "SetChargingProfile",
    "SetVariables": "ChangeConfiguration", "TriggerMessage": "ExtendedTriggerMessage",
    "UnlockConnector": "UnlockConnector", "UpdateFirmware": "UpdateFirmware",
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "table"),
    [("commands-1.6", COMMANDS_16_TO_201), ("commands-2.0.1", COMMANDS_201_TO_16)],
)
def test_every_csms_command_becomes_the_target_versions_command(
    name: str, table: dict[str, str]
) -> None:
    source, target = CASES[name]
    recorded = commands([decode_record(line) for line in load(name)])
    out, left, _ = convert(load(name), source, target)
    records = [decode_record(line) for line in out]
    by_id = {r.message[1]: r.message[2] for r in records if r.direction is DOWN}
    left_out = {e.line: e for e in left}
    translated: set[str] = set()
    for number, line in enumerate(load(name), 1):
        record = decode_record(line)
        message = record.message
        if record.direction is not DOWN or message[0] != 2 or message[2] not in table:
            continue
        if number in left_out:  # only when the translator itself had to answer it
            assert left_out[number].cause is Cause.ANSWERED_BY_BRIDGE, left_out[number]
            continue
        # The command (or, for one a 1.6 charger takes in parts, its first part) is there.
        produced = [r.message[2] for r in records if r.meta["line"] == number]
        assert set(produced) == {table[message[2]]}, (number, produced)
        assert by_id.get(message[1], table[message[2]]) == table[message[2]]
        translated.add(message[2])
    assert {a for a, _ in recorded} >= translated == set(table)


def _message_of_line(out: list[bytes], number: int) -> list[list[Any]]:
    return [m.message for m in map(decode_record, out) if m.meta["line"] == number]


def test_1_6_reset_types_and_configuration_keys_become_their_2_0_1_forms() -> None:
    lines = load("commands-1.6")
    out, _, _ = convert(lines, V16, V201)
    calls = [decode_record(x).message for x in out if decode_record(x).message[0] == 2]
    by_id = {m[1]: m for m in calls}
    assert by_id["c-Reset-Soft"][3] == {"type": "OnIdle"}
    assert by_id["c-Reset-Hard"][3] == {"type": "Immediate"}
    (entry,) = by_id["c-ChangeConfiguration"][3]["setVariableData"]
    assert entry["attributeValue"] == "60"
    assert entry["variable"]["name"] == "TxUpdatedInterval"  # MeterValueSampleInterval
    stop = by_id["c-Stop77"][3]["transactionId"]
    started = [m[3] for m in calls if m[2] == "TransactionEvent"]
    assert started[0]["transactionInfo"]["transactionId"] == stop  # the same transaction
    assert by_id["c-TxProfile"][3]["chargingProfile"]["transactionId"] == stop


def test_2_0_1_set_variables_becomes_one_change_configuration_per_entry_with_its_answer() -> None:
    out, _, _ = convert(load("commands-2.0.1"), V201, V16)
    records = [decode_record(x) for x in out]
    changes = [r.message for r in records if r.message[0] == 2 and r.message[2] ==
               "ChangeConfiguration"]  # fmt: skip
    assert [c[3] for c in changes] == [
        {"key": "HeartbeatInterval", "value": "60"},
        {"key": "MeterValueSampleInterval", "value": "30"},
    ]
    answers = {r.message[1]: r.message[2] for r in records if r.message[0] == 3}
    assert [answers[c[1]] for c in changes] == [{"status": "Accepted"}, {"status": "Rejected"}]


def test_side_report_lists_what_was_left_out_and_why() -> None:
    _, left, _ = convert(load("commands-2.0.1"), V201, V16)
    kinds = {(e.action, e.cause) for e in left}
    assert ("SetDisplayMessage", Cause.NO_COUNTERPART) in kinds
    assert ("SetDisplayMessage", Cause.ANSWER_LEFT_OUT) in kinds
    # 1.6 has no such query: the translator answers it from its own queue (a shadow answer).
    assert ("GetTransactionStatus", Cause.ANSWERED_BY_BRIDGE) in kinds
    assert ("TransactionEvent", Cause.HELD) in kinds
    assert ("GetBaseReport", Cause.ANSWER_MISMATCH) in kinds
    by_cause = {e.cause: e.reason for e in left}
    assert "display message" in by_cause[Cause.NO_COUNTERPART] or any(
        "display message" in e.reason for e in left
    )
    assert "tx-2 never carried an idToken" in by_cause[Cause.HELD]
    line = summary(Counter(e.kind for e in left))
    assert line.startswith(f"{len(left)} records not translatable: ")
    assert "SetDisplayMessage (no counterpart in the target version)" in line
    report = [orjson.loads(encode_left_out(e)) for e in left]
    lines = load("commands-2.0.1")
    for entry in report:  # each names its input line, and holds that very record
        assert orjson.loads(lines[entry["line"] - 1]) == entry["record"]
        assert entry["reason"]


def test_transaction_started_before_authorisation_starts_in_1_6_keeping_its_events() -> None:
    lines = load("commands-2.0.1")
    out, left, _ = convert(lines, V201, V16)
    records = [decode_record(x) for x in out]
    starts = [r for r in records if r.message[0] == 2 and r.message[2] == "StartTransaction"]
    (start,) = starts
    # The Started event (line 7, 1.0 kWh at plug-in) gives meterStart; the
    # Authorized event (line 9) gives the idTag and sends it.
    assert start.meta["line"] == 9
    assert start.message[3] == {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000,
                                "timestamp": T}  # fmt: skip
    merged = [r for r in records if 7 in r.meta.get("merged", [])]
    assert len(merged) == 1 and merged[0].message[2] == "MeterValues"
    assert merged[0].message[3]["transactionId"] == 1
    stop = next(r.message[3] for r in records if r.message[0] == 2 and r.message[2] ==
                "StopTransaction")  # fmt: skip
    assert (stop["transactionId"], stop["meterStop"], stop["reason"]) == (1, 6250, "Remote")
    # Its answer from the 2.0.1 CSMS has no 1.6 call to answer: reported, with why.
    (answer,) = [e for e in left if e.line == 8]
    assert answer.cause is Cause.ANSWER_OF_HELD and "line 7" in answer.reason


def test_remote_start_id_of_the_recorded_csms_names_the_id_tag_of_the_transaction() -> None:
    def ev(seq: int, **extra: Any) -> dict[str, Any]:
        info = {"transactionId": "tx-9", "remoteStartId": 4711}
        return {"eventType": "Started" if seq == 0 else "Ended", "timestamp": T, "seqNo": seq,
                "triggerReason": "RemoteStart", "transactionInfo": info, **extra}  # fmt: skip

    energy = [{"timestamp": T, "sampledValue": [{"value": 10, "unitOfMeasure": {"unit": "Wh"},
                                                 "context": "Transaction.Begin"}]}]  # fmt: skip
    token = {"idToken": "CENTRAL-9", "type": "Central"}
    journal = [
        (DOWN, [2, "rs", "RequestStartTransaction", {"idToken": token, "remoteStartId": 4711,
                                                     "evseId": 1}]),
        (UP, [3, "rs", {"status": "Accepted"}]),
        (UP, [2, "e1", "TransactionEvent", ev(0, evse={"id": 1}, meterValue=energy)]),
        (DOWN, [3, "e1", {}]),
        (UP, [2, "e2", "TransactionEvent", ev(1)]),
        (DOWN, [3, "e2", {}]),
    ]  # fmt: skip
    lines = [encode_record(JournalRecord(T, "CP-9", d, V201, m)) for d, m in journal]
    out, left, counts = convert(lines, V201, V16)
    records = [decode_record(x) for x in out]
    check_conversation(records, V16)
    calls = [r.message[2:] for r in records if r.message[0] == 2]
    assert calls[0] == ["RemoteStartTransaction", {"idTag": "CENTRAL-9", "connectorId": 1}]
    assert ["StartTransaction", {"connectorId": 1, "idTag": "CENTRAL-9", "meterStart": 10,
                                 "timestamp": T}] in calls  # fmt: skip
    assert "StopTransaction" in [c[0] for c in calls] and not left
    assert counts["in_output"] == len(lines)


def test_a_target_version_record_on_the_chargers_side_is_reported_not_passed() -> None:
    boot = [2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]
    lines = [encode_record(JournalRecord(T, "CP", UP, V201, [2, "h", "Heartbeat", {}])),
             encode_record(JournalRecord(T, "CP", UP, V16, boot))]  # fmt: skip
    out, left, _ = convert(lines, V16, V201)
    assert [decode_record(x).message[2] for x in out] == ["BootNotification"]
    assert [(e.line, e.cause) for e in left] == [(1, Cause.WRONG_VERSION)]


def test_translate_and_convert_commands_write_the_target_version_and_the_report(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from ocppkit.toolkit.cli import app

    journal = GOLDEN / "commands-2.0.1.input.jsonl"
    _, expected, _ = convert(load("commands-2.0.1"), V201, V16)
    report = tmp_path / "left.jsonl"
    runner = CliRunner()
    done = runner.invoke(
        app, ["translate", "--from", "2.0.1", "--to", "1.6", "--report", str(report), str(journal)]
    )
    assert done.exit_code == 0, done.output
    records = [decode_record(line) for line in done.stdout_bytes.splitlines()]
    check_conversation(records, V16)
    assert f"{len(expected)} records not translatable: " in done.stderr
    assert f"(listed in {report})" in done.stderr
    listed = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    assert [(e["line"], e["cause"]) for e in listed] == [(e.line, e.cause.value) for e in expected]
    assert {e["source"] for e in listed} == {str(journal)}

    out, report2 = tmp_path / "as-1.6.jsonl", tmp_path / "left2.jsonl"
    done = runner.invoke(app, ["convert", str(journal), "--to-version", "1.6", "--out", str(out),
                               "--report", str(report2)])  # fmt: skip
    assert done.exit_code == 0, done.output
    check_conversation([decode_record(line) for line in out.read_bytes().splitlines()], V16)
    assert f"{len(expected)} records not translatable: " in done.stderr
    listed = [orjson.loads(line) for line in report2.read_bytes().splitlines()]
    assert [e["line"] for e in listed] == [e.line for e in expected]
    assert {e["source"] for e in listed} == {journal.name}

    # A user error (main() makes it one line and exit code 2).
    done = runner.invoke(app, ["convert", str(journal), "--report", str(report2)])
    assert isinstance(done.exception, ConfigError)
    assert (
        str(done.exception) == "--report lists what a translation left out: it needs --to-version"
    )


def test_a_201_conversation_through_21_and_back_is_the_same_conversation() -> None:
    original = [decode_record(line) for line in load("commands-2.0.1")]
    up, left_up, _ = convert(load("commands-2.0.1"), V201, V21)
    down, left_down, _ = convert(up, V21, V201)
    assert left_up == [] and left_down == []
    back = [decode_record(line) for line in down]
    assert [(r.direction, r.message) for r in back] == [(r.direction, r.message) for r in original]
