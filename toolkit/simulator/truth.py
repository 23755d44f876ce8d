"""What the fleet actually did: the ground truth a CSMS, a bridge or an ingest is checked against.

The plan says what the EVs and drivers do; this says what went over the wire: the
transaction id each session really got (the CSMS's integer in 1.6, the station's string in
2.0.1), the meter values sent, whether every transaction message was acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ocppkit.toolkit.simulator.model import jsonable
from ocppkit.translators.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class SessionTruth:
    """One transaction as the charger reported it.

    Attributes:
        transaction_id: 1.6: the CSMS's integer (None if StartTransaction was never
            answered); 2.0.1: the station's own id.
        start_mode: ``local`` (RFID at the charger) or ``remote`` (CSMS start command).
        stop_reason: the wire value sent (1.6 ``reason`` / 2.0.1 ``stoppedReason``).
        delivered: every message of the transaction was acknowledged by the CSMS.
        id_tag_accepted: the CSMS accepted the id tag (a refused one gives energy 0).
    """

    charge_point_id: str
    ocpp_version: OcppVersion
    connector_id: int
    transaction_id: int | str | None
    id_tag: str
    start_mode: str
    started_at: datetime
    stopped_at: datetime
    meter_start_wh: int
    meter_stop_wh: int
    stop_reason: str
    delivered: bool
    id_tag_accepted: bool = True

    @property
    def energy_wh(self) -> int:
        return self.meter_stop_wh - self.meter_start_wh


@dataclass(frozen=True, slots=True)
class ChargerTruth:
    """Per-charger outcome: events carried out and message counters."""

    charge_point_id: str
    ocpp_version: OcppVersion
    faults: tuple[tuple[int, str, datetime, datetime], ...]  # connector, code, start, end
    reboots: tuple[tuple[datetime, str], ...]  # when, boot reason
    planned_drops: int
    unplanned_drops: int  # the CSMS or the network closed the connection
    connects: int
    sent: dict[str, int]  # CALLs sent, by action (retries included)
    answered: dict[str, int]  # CSMS CALLs answered, by action
    csms_violations: int  # CSMS frames that broke the official schema
    errors: tuple[str, ...]  # CALLERRORs received, timeouts, undelivered messages, bugs


@dataclass(frozen=True, slots=True)
class FleetResult:
    """The outcome of :func:`ocppkit.toolkit.simulator.fleet.run_fleet`."""

    sessions: tuple[SessionTruth, ...]
    chargers: tuple[ChargerTruth, ...]
    sim_start: datetime
    sim_end: datetime
    wall_seconds: float
    failures: dict[str, str] = field(default_factory=dict)  # charger id -> crash

    @property
    def messages_sent(self) -> int:
        return sum(sum(c.sent.values()) for c in self.chargers)

    @property
    def csms_violations(self) -> int:
        """CSMS frames (answers or commands) that broke the official schema."""
        return sum(c.csms_violations for c in self.chargers)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(f"{c.charge_point_id}: {e}" for c in self.chargers for e in c.errors)

    @property
    def ok(self) -> bool:
        """No charger crashed and every transaction was acknowledged by the CSMS."""
        return not self.failures and all(s.delivered for s in self.sessions)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = jsonable(self)
        out["summary"] = {
            "sessions": len(self.sessions),
            "energy_wh": sum(s.energy_wh for s in self.sessions),
            "undelivered": sum(not s.delivered for s in self.sessions),
            "messages_sent": self.messages_sent,
            "errors": len(self.errors),
            "csms_violations": self.csms_violations,
        }
        return out

    def write_json(self, path: str | Path) -> None:
        """Write the truth file (``--truth``)."""
        Path(path).write_bytes(orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2))
