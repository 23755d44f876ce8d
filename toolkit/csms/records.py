"""What the built-in CSMS remembers: stations, transactions, and their energy.

Plain data for tests and the demo to inspect; nothing here does I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ocppkit.toolkit.tariff import CostBreakdown

# 2.0.1 Part 2, SampledValueType: measurand defaults to
# Energy.Active.Import.Register, unitOfMeasure.unit to "Wh", multiplier to 0.
ENERGY_MEASURAND = "Energy.Active.Import.Register"
_WH_PER_UNIT = {"Wh": Decimal(1), "kWh": Decimal(1000)}


def parse_ocpp_time(text: str) -> datetime:
    """An OCPP date-time (RFC 3339, offset required by the schema's format)."""
    # RFC 3339 allows a lower-case "t" and "z"; fromisoformat wants capitals.
    return datetime.fromisoformat(text.upper())


def energy_samples(meter_values: list[dict[str, Any]]) -> list[tuple[datetime, Decimal]]:
    """The energy register readings (Wh) in 2.0.1 ``MeterValueType`` objects.

    Only whole-meter readings count: per-phase values and readings taken at
    the EV (``location: EV``) are skipped, so one register is followed.
    """
    out = []
    for mv in meter_values:
        at = parse_ocpp_time(mv["timestamp"])
        for sv in mv.get("sampledValue", ()):
            if sv.get("measurand", ENERGY_MEASURAND) != ENERGY_MEASURAND:
                continue
            if "phase" in sv or sv.get("location", "Outlet") == "EV":
                continue
            unit = sv.get("unitOfMeasure", {})
            scale = _WH_PER_UNIT.get(unit.get("unit", "Wh"))
            if scale is None:
                continue
            value = Decimal(str(sv["value"])) * scale * Decimal(10) ** unit.get("multiplier", 0)
            out.append((at, value))
    return out


@dataclass(slots=True)
class StationInfo:
    """One station as the CSMS saw it.

    Attributes:
        connected: a WebSocket is open now.
        connects: how many times it connected.
        boot: the last BootNotification payload.
        statuses: last connectorStatus per (evseId, connectorId).
        calls: CALLs received, by action.
        concurrent_calls: CALLs that arrived while another CALL of this
            station was still unanswered (OCPP-J forbids it: 2.0.1 Part 4
            §4.1.1 "SHALL NOT send a CALL ... before the previous one has
            been responded to").
        csrs: the PEM CSRs of its SignCertificate requests, oldest first.
    """

    station_id: str
    connected: bool = False
    connects: int = 0
    boot: dict[str, Any] | None = None
    statuses: dict[tuple[int, int], str] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    concurrent_calls: int = 0
    csrs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TransactionSeen:
    """One transaction, from its TransactionEvents.

    Attributes:
        seq_nos: every distinct seqNo received, in arrival order.
        duplicates: events whose (transactionId, seqNo) was already seen
            (a retry; answered again, counted once).
        event_types: Started / Updated / Ended, in arrival order.
        meter: energy register readings (Wh) from the events' meterValue.
        cost: the last cost computed from the tariff (None without one).
    """

    transaction_id: str
    station_id: str
    evse_id: int | None = None
    id_token: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    last_at: datetime | None = None
    stopped_reason: str | None = None
    seq_nos: list[int] = field(default_factory=list)
    duplicates: int = 0
    event_types: list[str] = field(default_factory=list)
    meter: list[tuple[datetime, Decimal]] = field(default_factory=list)
    cost: CostBreakdown | None = None

    @property
    def ended(self) -> bool:
        return "Ended" in self.event_types

    @property
    def energy_wh(self) -> Decimal:
        """Last register reading minus the first (0 without two readings)."""
        if len(self.meter) < 2:
            return Decimal(0)
        ordered = sorted(self.meter)
        return ordered[-1][1] - ordered[0][1]
