"""Benchmark of ``ocppkit translate``: a realistic 1.6 session stream to 2.0.1.

Measures the whole path of the command on journal lines: parse the record,
validate the 1.6 frame, translate, validate every 2.0.1 frame, serialise
the output records. The baseline is the cheapest thing any tool must do
with the same lines: ``json.loads`` + ``json.dumps`` of each.
"""

from __future__ import annotations

import json
from typing import Any

from ocppkit.toolkit.bench import rate
from ocppkit.toolkit.translate_stream import translate_lines, translator_for
from ocppkit.translators.journal import Direction, JournalRecord, encode_record
from ocppkit.translators.versions import OcppVersion

TARGET = 30_000  # messages/s on one core


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


def run(quick: bool) -> dict[str, Any]:
    """Messages/s of the translate pipeline vs plain json.loads+json.dumps."""
    seconds = 1.0 if quick else 3.0
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

    value = rate(ours, seconds)
    base = rate(baseline, seconds)
    return {
        "value": round(value),
        "unit": "msgs/s",
        "baseline": round(base),
        "baseline_unit": "msgs/s (json.loads + json.dumps of the same lines)",
        "ratio": round(value / base, 2),
        "target": f">= {TARGET:,} msgs/s on one core",
        "met": value >= TARGET,
        "messages": len(lines),
    }
