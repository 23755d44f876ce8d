"""``ocppkit translate --from 2.0.1 --to 1.6`` over a recorded 2.0.1 conversation.

The journal is a 2.0.1 station talking to a 2.0.1 CSMS; the stream replays
the bridge and writes the 1.6 conversation a 1.6 CSMS would have had. The
CSMS's recorded 2.0.1 answers become 1.6 answers (:func:`replay_answer`), so
transactions get their integer id and the later MeterValues / StopTransaction
use it. Every output frame is schema-checked by the stream itself
(``invalid_output``) and again here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import typer
from typer.testing import CliRunner

from ocppkit.toolkit.translate_stream import SessionSpec, SessionStream, translator_for
from ocppkit.translators.frames import frame_from_list
from ocppkit.translators.j201_to_16 import StationState, from_charger, from_csms, replay_answer
from ocppkit.translators.journal import Direction, JournalRecord, Leg, decode_record, encode_record

from .helpers import V16, V201, check_frame

T = "2026-03-01T12:00:00.000Z"
UP = Direction.CS_TO_CSMS
DOWN = Direction.CSMS_TO_CS


def _rec(direction: Direction, message: list[Any]) -> JournalRecord:
    return JournalRecord(T, "CP-201", direction, V201, message)


def _event(kind: str, seq: int, **extra: Any) -> dict[str, Any]:
    info = {"transactionId": "tx-1", **extra.pop("info", {})}
    return {"eventType": kind, "timestamp": T, "triggerReason": extra.pop("trigger", "Trigger"),
            "seqNo": seq, "transactionInfo": info, **extra}  # fmt: skip


def _energy(kwh: float) -> list[dict[str, Any]]:
    return [{"timestamp": T, "sampledValue": [{"value": kwh, "unitOfMeasure": {"unit": "kWh"}}]}]


RECORDED: list[JournalRecord] = [
    _rec(UP, [2, "1", "BootNotification", {"reason": "PowerUp",
          "chargingStation": {"vendorName": "V", "model": "M"}}]),
    _rec(DOWN, [3, "1", {"currentTime": T, "interval": 60, "status": "Accepted"}]),
    _rec(UP, [2, "2", "StatusNotification", {"timestamp": T, "connectorStatus": "Occupied",
          "evseId": 1, "connectorId": 1}]),
    _rec(DOWN, [3, "2", {}]),
    _rec(UP, [2, "3", "TransactionEvent", _event("Started", 0, evse={"id": 1},
          meterValue=_energy(2.0))]),
    _rec(DOWN, [3, "3", {}]),
    _rec(UP, [2, "4", "TransactionEvent", _event("Updated", 1, trigger="Authorized",
          idToken={"idToken": "AB12", "type": "ISO14443"}, info={"chargingState": "Charging"})]),
    _rec(DOWN, [3, "4", {"idTokenInfo": {"status": "NotAtThisTime"}}]),
    _rec(UP, [2, "5", "TransactionEvent", _event("Updated", 2, meterValue=_energy(3.5))]),
    _rec(DOWN, [3, "5", {}]),
    _rec(DOWN, [2, "c1", "RequestStopTransaction", {"transactionId": "tx-1"}]),
    _rec(UP, [3, "c1", {"status": "Accepted"}]),
    _rec(UP, [2, "6", "TransactionEvent", _event("Ended", 3, trigger="RemoteStop",
          info={"stoppedReason": "Remote"}, meterValue=_energy(4.25))]),
    _rec(DOWN, [3, "6", {}]),
]  # fmt: skip


def _spec() -> SessionSpec:
    return SessionSpec(
        source=V201,
        target=V16,
        new_state=lambda cp: StationState(charge_point_id=cp),
        from_charger=from_charger,
        from_csms=from_csms,
        replay_answer=replay_answer,
    )


def _upstream_calls(records: list[JournalRecord]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for record in records:
        if record.leg is Leg.UPSTREAM and record.ocpp_version is V16:
            message = record.message
            assert isinstance(message, list)
            if message[0] == 2:
                out.append((message[2], message[3]))
    return out


def test_recorded_201_session_becomes_a_valid_16_session_with_integer_ids() -> None:
    stream = SessionStream(_spec())
    records = [out for n, rec in enumerate(RECORDED, 1) for out in stream.feed(rec, n).records]
    assert stream.counts["invalid_output"] == 0
    calls = _upstream_calls(records)
    actions = [a for a, _ in calls]
    assert actions.count("StartTransaction") == 1
    start = next(p for a, p in calls if a == "StartTransaction")
    assert start == {"connectorId": 1, "idTag": "AB12", "meterStart": 2000, "timestamp": T}
    meter = [p for a, p in calls if a == "MeterValues"]
    assert meter and all(p["transactionId"] == 1 for p in meter)
    (stop,) = [p for a, p in calls if a == "StopTransaction"]
    assert stop["transactionId"] == 1 and stop["meterStop"] == 4250 and stop["reason"] == "Remote"
    # The replayed answer: NotAtThisTime has no 1.6 value.
    answers = [r.message for r in records if r.meta.get("replayed_from") == "2.0.1"]
    assert [3, "4", {"idTagInfo": {"status": "Invalid"}, "transactionId": 1}] in answers
    for record in records:
        message = record.message
        if record.leg is Leg.UPSTREAM and isinstance(message, list) and message[0] == 2:
            check_frame(frame_from_list(message, V16), V16, message[2])


def test_stream_pair_from_the_table_translates_without_invalid_output() -> None:
    stream = translator_for(V201, V16)
    records = [out for n, rec in enumerate(RECORDED, 1) for out in stream.feed(rec, n).records]
    assert stream.counts["invalid_output"] == 0
    assert "StartTransaction" in [a for a, _ in _upstream_calls(records)]


def test_translate_command_turns_a_201_journal_into_16(tmp_path: Path) -> None:
    from ocppkit.toolkit.commands.translate import register

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """ocppkit"""

    register(app)
    journal = tmp_path / "station.jsonl"
    journal.write_bytes(b"".join(encode_record(r) + b"\n" for r in RECORDED))
    result = CliRunner().invoke(app, ["translate", "--from", "2.0.1", "--to", "1.6", str(journal)])
    assert result.exit_code == 0, result.output
    out = [decode_record(line) for line in result.stdout.encode().splitlines() if line]
    versions = {r.ocpp_version for r in out if r.leg is Leg.UPSTREAM}
    assert versions == {V16}
    assert "StartTransaction" in [a for a, _ in _upstream_calls(out)]
    assert orjson.loads(orjson.dumps([r.to_dict() for r in out]))
