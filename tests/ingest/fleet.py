"""A synthetic fleet with known ground truth, logged in any version and log shape.

:func:`make_fleet` draws sessions (seeded); :func:`events` turns them into
the messages a 1.5, 1.6 or 2.0.1 charger and its CSMS exchange, in time
order; the ``write_*`` functions write those messages as a journal, a
prefixed frame log, ``ocpp`` logger lines or a 1.5 SOAP capture. The truth
is what the sessions table must say, exactly: every value is chosen so that
the arithmetic is exact in binary floating point (Wh integers, powers in
multiples of 0.5 kW, whole seconds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ocppkit.translators.journal import Direction, JournalRecord, encode_record
from ocppkit.translators.versions import OcppVersion

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SAMPLE_S = 60
# (1.6 reason or None for absent, 2.0.1 stoppedReason or None for absent, canonical)
REASONS = [
    (None, None, "Local"),
    ("Local", None, "Local"),
    ("EVDisconnected", "EVDisconnected", "EVDisconnected"),
    ("Remote", "Remote", "Remote"),
    ("HardReset", "ImmediateReset", "ImmediateReset"),
    ("PowerLoss", "PowerLoss", "PowerLoss"),
]


@dataclass(frozen=True)
class TruthSession:
    cp: str
    evse: int
    tx: str
    id_token: str
    start: datetime
    charging_s: int
    idle_s: int
    power_w: float  # while charging; power samples are 0 while suspended
    meter_start: int
    reason16: str | None
    reason201: str | None
    reason: str

    @property
    def stop(self) -> datetime:
        return self.start + timedelta(seconds=self.charging_s + self.idle_s)

    @property
    def energy_wh(self) -> int:
        return self.samples()[-1][1] - self.meter_start

    def samples(self) -> list[tuple[datetime, int, float]]:
        """(time, register Wh, power W) every SAMPLE_S seconds, then at stop."""
        out = []
        duration = self.charging_s + self.idle_s
        t = 0
        while True:
            charged = min(t, self.charging_s)
            wh = self.meter_start + int(self.power_w * charged // 3600)
            out.append(
                (
                    self.start + timedelta(seconds=t),
                    wh,
                    self.power_w if t < self.charging_s else 0.0,
                )
            )
            if t >= duration:
                return out
            t = min(t + SAMPLE_S, duration)

    def row(self) -> dict[str, Any]:
        """The sessions row this session must produce (version columns aside)."""
        duration = float(self.charging_s + self.idle_s)
        return {
            "charge_point_id": self.cp, "evse_id": self.evse, "connector_id": 1,
            "transaction_id": self.tx, "id_token": self.id_token,
            "start_time": self.start, "stop_time": self.stop, "duration_s": duration,
            "energy_wh": float(self.energy_wh), "meter_start_wh": float(self.meter_start),
            "meter_stop_wh": float(self.meter_start + self.energy_wh),
            "max_power_w": self.power_w, "charging_s": float(self.charging_s),
            "idle_s": float(self.idle_s), "stop_reason": self.reason,
        }  # fmt: skip


def make_fleet(seed: int = 1, chargers: int = 3, sessions_per_evse: int = 3) -> list[TruthSession]:
    rng = random.Random(seed)
    out = []
    tx = 1000
    for c in range(chargers):
        for evse in (1, 2):
            t = T0 + timedelta(minutes=rng.randrange(0, 30))
            register = rng.randrange(0, 50_000)
            for _ in range(sessions_per_evse):
                tx += 1
                r16, r201, canon = rng.choice(REASONS)
                s = TruthSession(
                    cp=f"CP-{c + 1}", evse=evse, tx=str(tx),
                    id_token=f"TAG{rng.randrange(100):03d}",
                    start=t, charging_s=rng.randrange(5, 40) * 60 + rng.randrange(60),
                    idle_s=rng.randrange(0, 15) * 60 + rng.randrange(60),
                    power_w=rng.randrange(7, 45) * 500.0, meter_start=register,
                    reason16=r16, reason201=r201, reason=canon,
                )  # fmt: skip
                out.append(s)
                register += s.energy_wh
                t = s.stop + timedelta(minutes=rng.randrange(5, 60))
    return out


def _z(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


Message = tuple[datetime, str, str, list[Any]]  # (log time, cp, direction, frame)
CS, CSMS = "cs_to_csms", "csms_to_cs"


def _call(out: list[Message], when: datetime, cp: str, action: str, payload: dict[str, Any],
          answer: dict[str, Any], mid: str) -> None:  # fmt: skip
    out.append((when, cp, CS, [2, mid, action, payload]))
    out.append((when + timedelta(milliseconds=50), cp, CSMS, [3, mid, answer]))


def _kw(watts: float) -> str:
    return f"{watts / 1000:g}"


def events(
    fleet: list[TruthSession], version: str, transaction_data: bool = False
) -> list[Message]:
    """Every message of the fleet in ``version``, sorted by log time.

    ``transaction_data``: 1.5/1.6 StopTransactions also carry the session's
    Transaction.Begin and Transaction.End registers as transactionData.
    """
    out: list[Message] = []
    for s in fleet:
        mid = f"{s.tx}-"
        samples = s.samples()
        if version in ("2.0.1", "2.1"):  # 2.1 keeps every 2.0.1 message as it is
            _v201(out, s, samples, mid)
        else:
            _v16(out, s, samples, mid, legacy=version == "1.5", data=transaction_data)
    out.sort(key=lambda m: m[0])
    return out


def _v16(
    out: list[Message], s: TruthSession, samples: list[Any], mid: str, legacy: bool, data: bool
) -> None:
    cp, conn = s.cp, s.evse
    occupied = "Occupied" if legacy else None

    def status(when: datetime, value: str, k: str) -> None:
        _call(out, when, cp, "StatusNotification",
              {"connectorId": conn, "status": value, "errorCode": "NoError", "timestamp": _z(when)},
              {}, mid + k)  # fmt: skip

    status(s.start - timedelta(seconds=5), occupied or "Preparing", "p")
    accepted = {"status": "Accepted"}
    _call(out, s.start, cp, "StartTransaction",
          {"connectorId": conn, "idTag": s.id_token, "meterStart": s.meter_start,
           "timestamp": _z(s.start)},
          {"transactionId": int(s.tx), "idTagInfo": accepted}, mid + "s")  # fmt: skip
    status(s.start, occupied or "Charging", "c")
    for i, (when, wh, watts) in enumerate(samples[1:-1]):
        if legacy:
            readings = [
                {"value": str(wh), "unit": "Wh"},
                {"value": _kw(watts), "measurand": "Power.Active.Import", "unit": "kW"},
            ]
            mv: dict[str, Any] = {"timestamp": _z(when), "value": readings}
            payload = {"connectorId": conn, "transactionId": int(s.tx), "values": [mv]}
        else:
            sampled = [
                {"value": str(wh), "context": "Sample.Periodic"},
                {"value": _kw(watts), "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
            ]
            payload = {
                "connectorId": conn,
                "transactionId": int(s.tx),
                "meterValue": [{"timestamp": _z(when), "sampledValue": sampled}],
            }
        _call(out, when, cp, "MeterValues", payload, {}, f"{mid}m{i}")  # fmt: skip
    if s.idle_s and not legacy:
        status(s.start + timedelta(seconds=s.charging_s), "SuspendedEV", "e")
    stop: dict[str, Any] = {
        "transactionId": int(s.tx), "meterStop": samples[-1][1], "timestamp": _z(s.stop)
    }  # fmt: skip
    if s.reason16 is not None and not legacy:
        stop["reason"] = s.reason16
    if data:
        stop["transactionData"] = _transaction_data(s, samples, legacy)
    _call(out, s.stop, cp, "StopTransaction", stop, {"idTagInfo": accepted}, mid + "t")
    status(s.stop, "Available" if legacy else "Finishing", "f")
    if not legacy:
        status(s.stop + timedelta(seconds=30), "Available", "a")


def _transaction_data(s: TruthSession, samples: list[Any], legacy: bool) -> list[Any]:
    """The Begin and End registers of a StopTransaction's transactionData (1.5 wraps
    them one level deeper, under ``values``)."""
    edges = [
        (s.start, s.meter_start, "Transaction.Begin"),
        (s.stop, samples[-1][1], "Transaction.End"),
    ]
    if legacy:
        values = [{"timestamp": _z(when), "value": [{"value": str(wh), "unit": "Wh",
                                                     "context": context}]}
                  for when, wh, context in edges]  # fmt: skip
        return [{"values": values}]
    return [{"timestamp": _z(when), "sampledValue": [{"value": str(wh), "context": context}]}
            for when, wh, context in edges]  # fmt: skip


def _v201(out: list[Message], s: TruthSession, samples: list[Any], mid: str) -> None:
    cp = s.cp
    evse = {"id": s.evse, "connectorId": 1}

    def mv(when: datetime, wh: int, watts: float | None, context: str) -> dict[str, Any]:
        sampled: list[dict[str, Any]] = [
            {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register"}
        ]
        if watts is not None:
            sampled.append(
                {
                    "value": watts / 1000,
                    "measurand": "Power.Active.Import",
                    "context": context,
                    "unitOfMeasure": {"unit": "W", "multiplier": 3},
                }
            )
        return {"timestamp": _z(when), "sampledValue": sampled}

    def tev(when: datetime, kind: str, seq: int, trigger: str, k: str, **extra: Any) -> None:
        info = {"transactionId": s.tx, **extra.pop("info", {})}
        payload = {
            "eventType": kind,
            "timestamp": _z(when),
            "triggerReason": trigger,
            "seqNo": seq,
            "transactionInfo": info,
            **extra,
        }
        _call(out, when, cp, "TransactionEvent", payload, {}, mid + k)

    _call(out, s.start - timedelta(seconds=5), cp, "StatusNotification",
          {"timestamp": _z(s.start - timedelta(seconds=5)), "connectorStatus": "Occupied",
           "evseId": s.evse, "connectorId": 1}, {}, mid + "p")  # fmt: skip
    tev(s.start, "Started", 0, "Authorized", "s", evse=evse,
        idToken={"idToken": s.id_token, "type": "ISO14443"},
        info={"chargingState": "Charging"},
        meterValue=[mv(s.start, s.meter_start, None, "Transaction.Begin")])  # fmt: skip
    seq = 1
    for i, (when, wh, watts) in enumerate(samples[1:-1]):
        tev(when, "Updated", seq, "MeterValuePeriodic", f"u{i}",
            meterValue=[mv(when, wh, watts, "Sample.Periodic")])  # fmt: skip
        seq += 1
    if s.idle_s:
        tev(s.start + timedelta(seconds=s.charging_s), "Updated", seq, "ChargingStateChanged",
            "e", info={"chargingState": "SuspendedEV"})  # fmt: skip
        seq += 1
    info: dict[str, Any] = {"chargingState": "EVConnected"}
    if s.reason201 is not None:
        info["stoppedReason"] = s.reason201
    tev(s.stop, "Ended", seq, "StopAuthorized", "t", info=info,
        meterValue=[mv(s.stop, samples[-1][1], None, "Transaction.End")])  # fmt: skip
    _call(out, s.stop + timedelta(seconds=30), cp, "StatusNotification",
          {"timestamp": _z(s.stop + timedelta(seconds=30)), "connectorStatus": "Available",
           "evseId": s.evse, "connectorId": 1}, {}, mid + "a")  # fmt: skip


def write_journal(messages: list[Message], version: str, path: Path) -> Path:
    with path.open("wb") as fh:
        for when, cp, direction, frame in messages:
            record = JournalRecord(_z(when), cp, Direction(direction), OcppVersion(version), frame)
            fh.write(encode_record(record) + b"\n")
    return path


def write_frame_log(messages: list[Message], path: Path) -> Path:
    """``<time> <marker> <cp> <frame>``, markers varied the ways field logs vary them."""
    markers = {CS: ("CS->CSMS", "<-", "IN"), CSMS: ("CSMS->CS", "->", "OUT")}
    with path.open("wb") as fh:
        for n, (when, cp, direction, frame) in enumerate(messages):
            marker = markers[direction][n % 3]
            fh.write(f"{_z(when)} {marker} {cp} ".encode() + orjson.dumps(frame) + b"\n")
    return path


def write_logger_lines(messages: list[Message], path: Path) -> Path:
    """The ``ocpp`` package's logger lines with a common asctime format (CSMS side)."""
    with path.open("wb") as fh:
        for when, cp, direction, frame in messages:
            stamp = when.strftime("%Y-%m-%d %H:%M:%S,") + f"{when.microsecond // 1000:03d}"
            verb = "receive message" if direction == CS else "send"
            fh.write(
                f"{stamp} - ocpp - INFO - {cp}: {verb} ".encode() + orjson.dumps(frame) + b"\n"
            )
    return path


def _envelopes(messages: list[Message]) -> Any:
    """(time, cp, direction, envelope bytes) of each message as OCPP 1.5 SOAP."""
    from ocppkit.translators.soap15 import Role, build_request, build_response, parse_envelope

    requests: dict[str, Any] = {}
    for when, cp, direction, frame in messages:
        if frame[0] == 2:
            data = build_request(
                Role.CENTRAL_SYSTEM,
                frame[2],
                frame[3],
                charge_box_identity=cp,
                to="http://csms.example/ocpp15",
                message_id=f"urn:uuid:{frame[1]}",
            )
            requests[frame[1]] = parse_envelope(data)
        else:
            data = build_response(requests.pop(frame[1]), frame[2])
        yield when, cp, direction, data


def write_soap_capture(messages: list[Message], path: Path, pretty_every: int = 3) -> Path:
    """A 1.5 capture: ``<time> <envelope>``; every ``pretty_every``-th envelope spans lines
    (its time and charger id on a line of their own before it)."""
    from lxml import etree

    with path.open("wb") as fh:
        for n, (when, cp, _direction, data) in enumerate(_envelopes(messages)):
            if n % pretty_every == 0:
                data = etree.tostring(etree.fromstring(data), pretty_print=True)
                fh.write(f"{_z(when)} {cp}\n".encode() + data.strip() + b"\n")
            else:
                fh.write(f"{_z(when)} ".encode() + data.replace(b"\n", b"") + b"\n")
    return path


def write_soap_journal(messages: list[Message], path: Path) -> Path:
    """A 1.5 journal: each record's message is the SOAP envelope text."""
    with path.open("wb") as fh:
        for when, cp, direction, data in _envelopes(messages):
            record = JournalRecord(_z(when), cp, Direction(direction), OcppVersion.V15,
                                   data.decode())  # fmt: skip
            fh.write(encode_record(record) + b"\n")
    return path


def write(
    fleet: list[TruthSession], version: str, fmt: str, path: Path, transaction_data: bool = False
) -> Path:
    """The fleet logged in ``version`` as ``fmt`` (journal, frames, ocpp-logger, soap15);
    ``transaction_data`` as for :func:`events`."""
    messages = events(fleet, version, transaction_data)
    if fmt == "journal":
        if version == "1.5":
            return write_soap_journal(messages, path)
        return write_journal(messages, version, path)
    writer = {"frames": write_frame_log, "ocpp-logger": write_logger_lines,
              "soap15": write_soap_capture}[fmt]  # fmt: skip
    return writer(messages, path)
