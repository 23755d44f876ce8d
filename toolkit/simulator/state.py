"""The mutable state of a simulated charger while it runs (the plan itself is frozen)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocppkit.toolkit.simulator.model import FaultPlan, SessionPlan, Status
from ocppkit.translators.frames import Call

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DriverSettings:
    """Knobs of the protocol drivers (wall-clock seconds unless named otherwise)."""

    call_timeout: float = 10.0
    max_attempts: int = 3  # sends of one transaction message before giving up on it
    backoff_initial: float = 0.05
    backoff_max: float = 2.0
    drain_timeout: float = 10.0  # after the period: time to deliver what is still queued
    default_heartbeat_s: int = 300  # simulated seconds, until BootNotification says otherwise


@dataclass
class Outgoing:
    action: str
    build: Callable[[], Payload | None]  # None: nothing to send any more (skip)
    on_result: Callable[[Payload], None] | None = None
    call: Call | None = None  # built once; every retry resends this very frame
    attempts: int = 0


@dataclass
class Live:
    """A session as it runs (the plan may be cut short by the CSMS)."""

    plan: SessionPlan
    id_tag: str
    tx_id: int | str | None = None
    start_mode: str = "local"
    authorized: bool = False
    accepted: bool = True
    energised: bool = False  # the EV has started to draw power
    remote_start_id: int | None = None  # 2.0.1 RequestStartTransaction's id
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    meter_start: int = 0
    meter_stop: int | None = None
    stop_reason: str = ""
    seq: int = 0  # 2.0.1 TransactionEvent seqNo
    undelivered: int = 0  # transaction messages not (yet) acknowledged

    @property
    def active(self) -> bool:
        return self.started_at is not None and self.stopped_at is None


@dataclass
class Connector:
    id: int
    status: Status = Status.AVAILABLE
    error_code: str = "NoError"
    sent: tuple[str, str] | None = None  # last wire status the CSMS acknowledged
    live: Live | None = None
    fault: FaultPlan | None = None


@dataclass
class Record:
    lives: list[Live] = field(default_factory=list)
    faults: list[tuple[int, str, datetime, datetime]] = field(default_factory=list)
    reboots: list[tuple[datetime, str]] = field(default_factory=list)
    planned_drops: int = 0
    unplanned_drops: int = 0
    errors: list[str] = field(default_factory=list)
