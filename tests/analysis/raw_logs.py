"""Raw OCPP log lines written out by hand, for KPI tests whose truth is computed from them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ocppkit.toolkit.analysis.dataset import Dataset, load
from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest

DAY = pd.Timestamp("2026-03-01T00:00:00Z")


def at(minute: float) -> str:
    return (DAY + pd.Timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


class Log:
    """Journal lines of one charger and the CSMS, each call answered unless told."""

    def __init__(self, cp: str = "CP1", version: str = "1.6") -> None:
        self.cp, self.version, self.lines, self.n = cp, version, [], 0

    def _line(self, minute: float, direction: str, message: list[Any]) -> None:
        record = {"timestamp": at(minute), "charge_point_id": self.cp, "direction": direction,
                  "ocpp_version": self.version, "message": message}  # fmt: skip
        self.lines.append(json.dumps(record, separators=(",", ":")))

    def call(
        self, minute: float, action: str, payload: dict[str, Any],
        answer: dict[str, Any] | None = None, by_csms: bool = False,
    ) -> None:  # fmt: skip
        self.n += 1
        mid = f"m{self.n}"
        there, back = ("csms_to_cs", "cs_to_csms") if by_csms else ("cs_to_csms", "csms_to_cs")
        self._line(minute, there, [2, mid, action, payload])
        if answer is not None:
            self._line(minute, back, [3, mid, answer])

    def boot(self, minute: float, interval: int = 300) -> None:
        payload: dict[str, Any] = (
            {"chargePointVendor": "V", "chargePointModel": "M"}
            if self.version == "1.6"
            else {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}}
        )
        answer = {"status": "Accepted", "currentTime": at(minute), "interval": interval}
        self.call(minute, "BootNotification", payload, answer)

    def heartbeats(self, first: float, last: float, every: float = 5) -> None:
        m = first
        while m <= last:
            self.call(m, "Heartbeat", {}, {"currentTime": at(m)})
            m += every

    def status(self, minute: float, connector: int, status: str, error: str = "NoError") -> None:
        self.call(minute, "StatusNotification",
                  {"connectorId": connector, "status": status, "errorCode": error,
                   "timestamp": at(minute)}, {})  # fmt: skip

    def status201(self, minute: float, evse: int, connector: int, status: str) -> None:
        self.call(minute, "StatusNotification",
                  {"timestamp": at(minute), "connectorStatus": status, "evseId": evse,
                   "connectorId": connector}, {})  # fmt: skip

    def authorize(self, minute: float, tag: str = "TAG1", status: str = "Accepted") -> None:
        self.call(minute, "Authorize", {"idTag": tag}, {"idTagInfo": {"status": status}})

    def start(self, minute: float, connector: int, tx: int, meter: int, tag: str = "TAG1") -> None:
        self.call(minute, "StartTransaction",
                  {"connectorId": connector, "idTag": tag, "meterStart": meter,
                   "timestamp": at(minute)},
                  {"transactionId": tx, "idTagInfo": {"status": "Accepted"}})  # fmt: skip

    def stop(self, minute: float, tx: int, meter: int) -> None:
        self.call(minute, "StopTransaction",
                  {"transactionId": tx, "meterStop": meter, "timestamp": at(minute),
                   "reason": "EVDisconnected"}, {"idTagInfo": {"status": "Accepted"}})  # fmt: skip


def dataset(logs: Iterable[Log], root: Path) -> Dataset:
    lines = sorted(
        (line for log in logs for line in log.lines), key=lambda x: json.loads(x)["timestamp"]
    )
    path = root / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest([path], root / "ds", IngestOptions(workers=1))
    return load(root / "ds")
