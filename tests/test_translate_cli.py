"""`ocppkit translate` end to end: a whole charging session through the command.

The input journal is built by playing a scripted 1.6 charger and a scripted
2.0.1 CSMS against the stream translator: each side starts its calls from a
script and answers every call the bridge sends it, as a real peer would.
The command (run as a subprocess and through typer's CliRunner) must then
reproduce the library's translation of that journal, every frame valid.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from ocppkit.toolkit.commands import translate
from ocppkit.toolkit.translate_stream import SessionStream, translate_lines, translator_for
from ocppkit.translators.journal import Direction, JournalRecord, decode_record, encode_record
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

ROOT = Path(__file__).resolve().parents[1]
V16, V201 = OcppVersion.V16, OcppVersion.V201
CP = "CP-42"
T = "2026-03-02T08:00:00.000Z"
VALIDATOR = Validator()

CSMS_ANSWERS: dict[str, dict[str, Any]] = {
    "BootNotification": {"currentTime": T, "interval": 300, "status": "Accepted"},
    "Heartbeat": {"currentTime": T},
    "Authorize": {"idTokenInfo": {"status": "Accepted"}},
    "TransactionEvent": {"idTokenInfo": {"status": "Accepted"}},
}
CHARGER_ANSWERS: dict[str, dict[str, Any]] = {
    "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "ChangeConfiguration": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
}
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
PROFILE = {
    "id": 10, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "startSchedule": T,
                          "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}],
}  # fmt: skip


def _sample(value: str) -> dict[str, Any]:
    return {"timestamp": T, "sampledValue": [
        {"value": value, "measurand": "Energy.Active.Import.Register", "unit": "Wh",
         "context": "Sample.Periodic"},
        {"value": "11", "measurand": "Power.Active.Import", "unit": "kW"}]}  # fmt: skip


def _status(status: str) -> tuple[str, str, dict[str, Any]]:
    payload = {"connectorId": 1, "status": status, "errorCode": "NoError", "timestamp": T}
    return ("charger", "StatusNotification", payload)


def _meter(value: str) -> tuple[str, str, dict[str, Any]]:
    payload = {"connectorId": 1, "transactionId": 1, "meterValue": [_sample(value)]}
    return ("charger", "MeterValues", payload)


SCRIPT: list[tuple[str, str, Any]] = [
    ("charger", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "AC22"}),
    _status("Available"),
    ("charger", "Authorize", {"idTag": "04A2B3C4"}),
    ("csms", "RequestStartTransaction",
     {"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"}, "remoteStartId": 5, "evseId": 1}),
    _status("Preparing"),
    ("charger", "StartTransaction",
     {"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 100, "timestamp": T}),
    _status("Charging"),
    _meter("900"),
    ("csms", "GetVariables", {"getVariableData": [HEARTBEAT]}),
    ("csms", "SetVariables", {"setVariableData": [{**HEARTBEAT, "attributeValue": "60"}]}),
    ("csms", "SetChargingProfile", {"evseId": 1, "chargingProfile": PROFILE}),
    _meter("1800"),
    ("csms", "RequestStopTransaction", "open transaction"),
    _status("Finishing"),
    ("charger", "StopTransaction",
     {"transactionId": 1, "meterStop": 2500, "timestamp": T, "reason": "Remote"}),
    _status("Available"),
    ("charger", "Heartbeat", {}),
]  # fmt: skip


def _record(direction: Direction, version: OcppVersion, message: list[Any]) -> JournalRecord:
    return JournalRecord(T, CP, direction, version, message)


def _charger_answer(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    if action == "GetConfiguration":
        keys = payload.get("key", ["HeartbeatInterval"])
        return {"configurationKey": [{"key": k, "readonly": False, "value": "300"} for k in keys]}
    return CHARGER_ANSWERS[action]


def build_session_journal() -> list[JournalRecord]:
    """A consistent two-sided journal: scripted calls, every bridge call answered."""
    stream = translator_for(V16, V201, both_legs=True)
    assert isinstance(stream, SessionStream)
    journal: list[JournalRecord] = []
    queue: list[JournalRecord] = []
    for n, (side, action, payload) in enumerate(SCRIPT, start=1):
        if payload == "open transaction":
            state = stream._conversations[CP].state
            payload = {"transactionId": state.active_on(1).id201}
        if side == "charger":
            queue.append(_record(Direction.CS_TO_CSMS, V16, [2, f"c{n}", action, payload]))
        else:
            queue.append(_record(Direction.CSMS_TO_CS, V201, [2, f"s{n}", action, payload]))
        while queue:
            record = queue.pop(0)
            journal.append(record)
            for out in stream.feed(record, len(journal)).records:
                msg = out.message
                if out.meta.get("line") != len(journal) or msg is record.message:
                    continue
                if not (isinstance(msg, list) and msg[0] == 2) or out.leg is None:
                    continue
                if out.direction is Direction.CS_TO_CSMS and out.ocpp_version is V201:
                    answer = CSMS_ANSWERS.get(msg[2], {})
                    if msg[2] == "TransactionEvent" and msg[3]["eventType"] != "Started":
                        answer = {}
                    queue.append(_record(Direction.CSMS_TO_CS, V201, [3, msg[1], answer]))
                elif out.direction is Direction.CSMS_TO_CS and out.ocpp_version is V16:
                    answer = _charger_answer(msg[2], msg[3])
                    queue.append(_record(Direction.CS_TO_CSMS, V16, [3, msg[1], answer]))
    return journal


@pytest.fixture(scope="module")
def journal_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("journal") / "session.jsonl"
    path.write_bytes(b"".join(encode_record(r) + b"\n" for r in build_session_journal()))
    return path


def _library_output(path: Path, both_legs: bool = False) -> bytes:
    from ocppkit.toolkit.textio import iter_lines

    out: list[bytes] = []
    outcome = translate_lines(
        iter_lines(path), translator_for(V16, V201, both_legs=both_legs), out.append
    )
    assert outcome.ok
    return b"".join(out)


def _validate_all(records: list[JournalRecord]) -> None:
    """Every frame valid against its version's schema, answers matched by id."""
    calls: dict[tuple[OcppVersion, Direction, str], str] = {}
    for rec in records:
        msg = rec.message
        assert isinstance(msg, list)
        if msg[0] == 2:
            VALIDATOR.validate(rec.ocpp_version, msg[2], Kind.REQUEST, msg[3])
            calls[(rec.ocpp_version, rec.direction, msg[1])] = msg[2]
        elif msg[0] == 3:
            action = calls.pop((rec.ocpp_version, rec.direction.reverse, msg[1]))
            VALIDATOR.validate(rec.ocpp_version, action, Kind.RESPONSE, msg[2])


def _m(record: JournalRecord) -> list[Any]:
    assert isinstance(record.message, list)
    return record.message


def _run_cli(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    code = (
        "import typer; from ocppkit.toolkit.commands import translate; "
        "app = typer.Typer(); translate.register(app); app()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], input=stdin, capture_output=True, cwd=ROOT, timeout=60
    )


def test_full_session_translates_over_the_command_line(journal_file: Path) -> None:
    done = _run_cli(["--from", "1.6", "--to", "2.0.1", str(journal_file)], b"")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == _library_output(journal_file)
    records = [decode_record(line) for line in done.stdout.splitlines()]
    assert all(r.ocpp_version is V201 and "untranslated" not in r.meta for r in records)
    _validate_all(records)
    actions = [_m(r)[2] for r in records if _m(r)[0] == 2]
    for wanted in ("BootNotification", "StatusNotification", "Authorize", "TransactionEvent",
                   "RequestStartTransaction", "RequestStopTransaction", "GetVariables",
                   "SetVariables", "SetChargingProfile", "Heartbeat"):  # fmt: skip
        assert wanted in actions
    events = [_m(r)[3] for r in records if _m(r)[0] == 2 and _m(r)[2] == "TransactionEvent"]
    assert events[0]["eventType"] == "Started" and events[-1]["eventType"] == "Ended"
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert events[0]["triggerReason"] == "RemoteStart"
    assert events[-1]["transactionInfo"]["stoppedReason"] == "Remote"
    answers = [_m(r) for r in records if _m(r)[0] == 3 and r.direction is Direction.CS_TO_CSMS]
    assert {"status": "Accepted"} in [a[2] for a in answers]  # RequestStart/Stop responses
    assert "stderr" and b"translated=" in done.stderr


def test_both_legs_shows_the_1_6_commands_the_charger_received(journal_file: Path) -> None:
    runner = CliRunner()
    app = typer.Typer()
    translate.register(app)
    result = runner.invoke(app, ["--both-legs", str(journal_file)])
    assert result.exit_code == 0, result.output
    records = [decode_record(line) for line in result.stdout_bytes.splitlines()]
    _validate_all(records)
    down = {_m(r)[2] for r in records if r.ocpp_version is V16 and _m(r)[0] == 2}
    assert {"RemoteStartTransaction", "RemoteStopTransaction", "GetConfiguration",
            "ChangeConfiguration", "SetChargingProfile", "StartTransaction"} <= down  # fmt: skip
    starts = [_m(r) for r in records if r.ocpp_version is V16 and _m(r)[0] == 3
              and isinstance(_m(r)[2], dict) and "transactionId" in _m(r)[2]]  # fmt: skip
    assert starts and starts[0][2]["transactionId"] == 1


def test_recorded_1_6_conversation_becomes_2_0_1_with_the_csms_commands_translated(
    tmp_path: Path,
) -> None:
    lines = [
        [2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}],
        [3, "b", {"status": "Accepted", "currentTime": T, "interval": 60}],
        [2, "s", "StartTransaction", {"connectorId": 1, "idTag": "T1", "meterStart": 0,
                                      "timestamp": T}],
        [3, "s", {"idTagInfo": {"status": "Accepted"}, "transactionId": 9001}],
        [2, "r", "RemoteStopTransaction", {"transactionId": 9001}],
        [3, "r", {"status": "Accepted"}],
        [2, "e", "StopTransaction", {"transactionId": 9001, "meterStop": 50, "timestamp": T}],
        [3, "e", {}],
    ]  # fmt: skip
    up, down = Direction.CS_TO_CSMS, Direction.CSMS_TO_CS
    directions = [up, down, up, down, down, up, up, down]
    stdin = b"".join(
        encode_record(_record(d, V16, m)) + b"\n" for d, m in zip(directions, lines, strict=True)
    )
    report = tmp_path / "left.jsonl"
    done = _run_cli(["--report", str(report)], b"this is not json\n" + stdin)
    assert done.returncode == 0, done.stderr.decode()
    assert b"-:1: unreadable" in done.stderr and b"unreadable=1" in done.stderr
    assert b"not translatable" not in done.stderr and report.read_bytes() == b""
    records = [decode_record(line) for line in done.stdout.splitlines()]
    assert all(r.ocpp_version is V201 for r in records) and len(records) == len(lines)
    _validate_all(records)
    stop = [_m(r) for r in records if _m(r)[0] == 2 and _m(r)[2] == "RequestStopTransaction"]
    events = [_m(r)[3] for r in records if _m(r)[0] == 2 and _m(r)[2] == "TransactionEvent"]
    assert [e["eventType"] for e in events] == ["Started", "Ended"]
    tx = events[0]["transactionInfo"]["transactionId"]
    assert events[1]["transactionInfo"]["transactionId"] == tx
    assert stop == [[2, "r", "RequestStopTransaction", {"transactionId": tx}]]
    assert [3, "r", {"status": "Accepted"}] in [_m(r) for r in records]


def test_unknown_version_pair_is_a_one_line_error() -> None:
    done = _run_cli(["--from", "1.6", "--to", "1.6"], b"")
    assert done.returncode != 0
    assert b"cannot translate 1.6 -> 1.6" in done.stderr


def test_stream_keeps_records_of_other_chargers_apart() -> None:
    start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": T}
    stream = translator_for(V16, V201)
    a = stream.feed(
        JournalRecord(T, "A", Direction.CS_TO_CSMS, V16, [2, "1", "StartTransaction", start]), 1
    )
    b = stream.feed(
        JournalRecord(T, "B", Direction.CS_TO_CSMS, V16, [2, "1", "StartTransaction", start]), 2
    )
    ids = [
        orjson.loads(encode_record(r.records[0]))["message"][3]["transactionInfo"]["transactionId"]
        for r in (a, b)
    ]
    assert ids[0] != ids[1]


def test_fast_line_encoder_writes_exactly_the_journal_encoding(journal_file: Path) -> None:
    from ocppkit.toolkit.translate_stream import encode_line

    stream = translator_for(V16, V201, both_legs=True)
    for number, line in enumerate(journal_file.read_bytes().splitlines(), start=1):
        for record in stream.feed(decode_record(line), number).records:
            assert encode_line(record) == encode_record(record) + b"\n"


def test_benchmark_stream_translates_cleanly_and_reports_its_figures() -> None:
    from ocppkit.toolkit.bench_translate import session_lines

    lines = session_lines(samples=5)
    out: list[bytes] = []
    outcome = translate_lines(enumerate(lines, 1), translator_for(V16, V201), out.append)
    assert outcome.ok and not outcome.counts["left_out"]
    assert outcome.counts["records_in"] == len(lines)
    assert outcome.counts["records_out"] == len(out) >= len(lines)
