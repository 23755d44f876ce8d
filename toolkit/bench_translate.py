"""Benchmark of ``ocppkit translate``: a realistic 1.6 session stream to 2.0.1.

Measures the whole path of the command on journal lines: parse the record,
validate the 1.6 frame, translate, validate every 2.0.1 frame, serialise
the output records. The baseline is the cheapest thing any tool must do
with the same lines: ``json.loads`` + ``json.dumps`` of each. ``lift21`` does
the same for the 2.0.1 -> 2.1 lift, over the 2.0.1 conversation those
sessions translate to, against its own lines' json round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ocppkit.toolkit.bench import interleaved
from ocppkit.toolkit.translate_stream import translate_lines, translator_for
from ocppkit.translators.journal import Direction, JournalRecord, encode_record
from ocppkit.translators.versions import OcppVersion

RATIO_TARGET = 0.5  # of the bare json round trip of the same lines (#21 item 2)


def _stamp(second: int) -> str:
    return f"2026-03-02T{8 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"


def session_lines(charger: str = "CP-1", samples: int = 60, start_second: int = 0) -> list[bytes]:
    """One recorded 1.6 charging session, both sides in 1.6, as journal lines.

    Boot, statuses, authorize, start, ``samples`` periodic MeterValues (energy,
    power, 3 phase currents, voltage, SoC), stop; every call answered.
    """
    out: list[bytes] = []
    second = start_second

    def exchange(action: str, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        nonlocal second
        second += 1
        mid = f"{charger}-{second}"
        stamp = _stamp(second)
        up = JournalRecord(stamp, charger, Direction.CS_TO_CSMS, OcppVersion.V16,
                           [2, mid, action, payload])  # fmt: skip
        down = JournalRecord(stamp, charger, Direction.CSMS_TO_CS, OcppVersion.V16,
                             [3, mid, answer])  # fmt: skip
        out.extend((encode_record(up), encode_record(down)))

    def status(value: str) -> None:
        payload = {"connectorId": 1, "status": value, "errorCode": "NoError",
                   "timestamp": _stamp(second)}  # fmt: skip
        exchange("StatusNotification", payload, {})

    exchange("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "AC22",
                                  "firmwareVersion": "4.2.1"},
             {"status": "Accepted", "currentTime": _stamp(second), "interval": 300})  # fmt: skip
    status("Available")
    accepted = {"idTagInfo": {"status": "Accepted"}}
    exchange("Authorize", {"idTag": "04A2B3C4"}, accepted)
    status("Preparing")
    tx = 4000 + start_second
    start = {
        "connectorId": 1,
        "idTag": "04A2B3C4",
        "meterStart": 125000,
        "timestamp": _stamp(second),
    }
    exchange("StartTransaction", start, {**accepted, "transactionId": tx})
    status("Charging")
    for i in range(samples):
        sampled = [
            {"value": str(125000 + i * 180), "measurand": "Energy.Active.Import.Register",
             "unit": "Wh", "context": "Sample.Periodic", "location": "Outlet"},
            {"value": "10.8", "measurand": "Power.Active.Import", "unit": "kW",
             "context": "Sample.Periodic"},
            *({"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": p,
               "context": "Sample.Periodic"} for p in ("L1", "L2", "L3")),
            {"value": "230.4", "measurand": "Voltage", "unit": "V", "phase": "L1-N",
             "context": "Sample.Periodic"},
            {"value": str(40 + i % 50), "measurand": "SoC", "unit": "Percent",
             "context": "Sample.Periodic", "location": "EV"},
        ]  # fmt: skip
        mv = {"connectorId": 1, "transactionId": tx,
              "meterValue": [{"timestamp": _stamp(second), "sampledValue": sampled}]}  # fmt: skip
        exchange("MeterValues", mv, {})
    status("Finishing")
    stop = {"transactionId": tx, "meterStop": 125000 + samples * 180, "timestamp": _stamp(second),
            "reason": "EVDisconnected", "idTag": "04A2B3C4"}  # fmt: skip
    exchange("StopTransaction", stop, accepted)
    status("Available")
    exchange("Heartbeat", {}, {"currentTime": _stamp(second)})
    return out


def stream_lines(sessions: int) -> list[bytes]:
    """Sessions of several chargers, one after the other."""
    lines: list[bytes] = []
    for n in range(sessions):
        lines += session_lines(f"CP-{n % 7}", start_second=n * 200)
    return lines


def lift_lines(lines: list[bytes]) -> list[bytes]:
    """The 2.0.1 conversation a 1.6 stream translates to: the 2.0.1 -> 2.1 lift's input."""
    out: list[bytes] = []
    translate_lines(
        list(enumerate(lines, start=1)),
        translator_for(OcppVersion.V16, OcppVersion.V201),
        out.append,
    )
    return out


def lift21(lines: list[bytes], seconds: float) -> dict[str, Any]:
    """Messages/s of the 2.0.1 -> 2.1 translate stream vs json.loads+json.dumps of its
    own input lines, interleaved in the same run (``lines``: 2.0.1 journal lines)."""
    numbered = list(enumerate(lines, start=1))

    def ours() -> int:
        sink: list[bytes] = []
        outcome = translate_lines(
            numbered, translator_for(OcppVersion.V201, OcppVersion.V21), sink.append
        )
        if not outcome.ok or outcome.counts["left_out"]:
            raise RuntimeError(f"2.1 lift stream did not translate cleanly: {outcome.counts}")
        return len(lines)

    def baseline() -> int:
        for line in lines:
            json.dumps(json.loads(line))
        return len(lines)

    rates = interleaved({"ours": ours, "baseline": baseline}, seconds)
    value, base = rates["ours"], rates["baseline"]
    ratio = value / base
    return {
        "value": round(value),
        "unit": "msgs/s (2.0.1 -> 2.1)",
        "baseline": round(base),
        "baseline_unit": "msgs/s (json.loads + json.dumps of the same 2.0.1 lines)",
        "ratio": round(ratio, 2),
        "target": f">= {RATIO_TARGET}x the baseline, in the same run",
        "met": ratio >= RATIO_TARGET,
        "messages": len(lines),
    }


def _stage_split(lines: list[bytes], seconds: float) -> dict[str, Any]:
    """Where a translated message's time goes, in microseconds per input message.

    Each stage of the translate path that is not the translation itself is
    timed alone over the same lines, in alternating slices with the whole
    path: reading the journal line (parse), checking the 1.6 frame (validate
    in), checking the 2.0.1 frames written (validate out; the calls of rows
    proven schema-safe are not checked twice, ``outputs_proven``), writing
    them (encode). What is left is the translation and the stream's
    bookkeeping.
    """
    from ocppkit.toolkit.translate_base import shared_validator
    from ocppkit.toolkit.translate_pairs import session_16_to_201
    from ocppkit.toolkit.translate_stream import encode_line
    from ocppkit.translators.frames import Call, frame_from_list
    from ocppkit.translators.journal import decode_record
    from ocppkit.translators.schemas import Kind

    numbered = list(enumerate(lines, start=1))
    records = [decode_record(line) for line in lines]
    written: list[bytes] = []
    translate_lines(numbered, translator_for(OcppVersion.V16, OcppVersion.V201), written.append)
    outputs = [decode_record(line) for line in written]
    validator = shared_validator()

    def checks(
        recs: list[JournalRecord], skip: frozenset[int] = frozenset()
    ) -> list[tuple[OcppVersion, str, Kind, Any]]:
        """(version, action, kind, payload) of every call and result, actions matched;
        the calls at the indexes in ``skip`` are matched but not listed."""
        out, calls = [], {}
        for index, rec in enumerate(recs):
            frame = frame_from_list(rec.message, rec.ocpp_version)
            if isinstance(frame, Call):
                calls[frame.message_id] = frame.action
                if index not in skip:
                    out.append((rec.ocpp_version, frame.action, Kind.REQUEST, frame.payload))
            elif frame.message_id in calls and hasattr(frame, "payload"):
                action = calls.pop(frame.message_id)
                out.append((rec.ocpp_version, action, Kind.RESPONSE, frame.payload))
        return out

    inputs = checks(records)
    # The stream does not validate the calls of proven rows twice
    # (SessionSpec.proven): the split times only the checks it makes.
    spec = session_16_to_201()
    source_action = {
        n: rec.message[2]
        for n, rec in enumerate(records, start=1)
        if isinstance(rec.message, list) and rec.message[0] == 2
    }
    proven = frozenset(
        index
        for index, rec in enumerate(outputs)
        if isinstance(rec.message, list)
        and rec.message[0] == 2
        and (source_action.get(rec.meta.get("line", 0)), rec.message[2]) in spec.proven
    )
    produced = checks(outputs, proven)

    def parse() -> int:
        for line in lines:
            frame_from_list(decode_record(line).message, OcppVersion.V16)
        return len(lines)

    def validate(items: list[tuple[OcppVersion, str, Kind, Any]]) -> Callable[[], int]:
        def run() -> int:
            for version, action, kind, payload in items:
                validator.validate(version, action, kind, payload)
            return len(lines)

        return run

    def encode() -> int:
        for rec in outputs:
            encode_line(rec)
        return len(lines)

    def whole() -> int:
        translate_lines(numbered, translator_for(OcppVersion.V16, OcppVersion.V201), _drop)
        return len(lines)

    rates = interleaved(
        {"whole": whole, "parse": parse, "validate_in": validate(inputs),
         "validate_out": validate(produced), "encode": encode},
        seconds,
    )  # fmt: skip
    us = {name: 1e6 / r for name, r in rates.items()}
    rest = us["whole"] - sum(v for k, v in us.items() if k != "whole")
    split = {k: round(v, 2) for k, v in us.items() if k != "whole"}
    split["translate_and_bookkeeping"] = round(max(rest, 0.0), 2)
    return {
        "us_per_message": round(us["whole"], 2),
        "outputs_validated": len(produced),
        "outputs_proven": len(proven),
        "stages_us": split,
        "shares": {k: round(v / us["whole"], 3) for k, v in split.items()},
    }


def _drop(_: bytes) -> None:
    return None


def run(quick: bool) -> dict[str, Any]:
    """Messages/s of the translate pipeline vs json.loads+json.dumps of the same lines.

    The two take turns in alternating slices (:func:`interleaved`), so their
    ratio holds on a machine whose load changes while it runs.
    """
    seconds = 2.0 if quick else 6.0
    lines = stream_lines(4 if quick else 12)
    numbered = list(enumerate(lines, start=1))

    def ours() -> int:
        sink: list[bytes] = []
        outcome = translate_lines(
            numbered, translator_for(OcppVersion.V16, OcppVersion.V201), sink.append
        )
        if not outcome.ok or outcome.counts["left_out"]:
            raise RuntimeError(f"benchmark stream did not translate cleanly: {outcome.counts}")
        return len(lines)

    def baseline() -> int:
        for line in lines:
            json.dumps(json.loads(line))
        return len(lines)

    rates = interleaved({"ours": ours, "baseline": baseline}, seconds)
    value, base = rates["ours"], rates["baseline"]
    ratio = value / base
    return {
        "value": round(value),
        "unit": "msgs/s",
        "baseline": round(base),
        "baseline_unit": "msgs/s (json.loads + json.dumps of the same lines)",
        "ratio": round(ratio, 2),
        "target": f">= {RATIO_TARGET}x the baseline, in the same run",
        "met": ratio >= RATIO_TARGET,
        "messages": len(lines),
        "split": _stage_split(lines, seconds / 2),
        # The 2.0.1 -> 2.1 lift over the 2.0.1 conversation the same sessions become.
        "lift21": lift21(lift_lines(lines), seconds / 2),
    }
