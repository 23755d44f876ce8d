"""The simulator's data: fleet settings in, a plan of what every charger does out.

Everything here is frozen, slotted data. The plan (:class:`FleetPlan`) is built by
:func:`ocppkit.toolkit.simulator.behaviour.plan_fleet` from a seed and is the ground truth of the
behaviour; what the drivers then *did* on the wire (transaction ids, what was acknowledged)
is recorded separately in :mod:`ocppkit.toolkit.simulator.truth`.

Times are timezone-aware UTC datetimes on the *simulated* clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from ocppkit.translators.errors import ConfigError
from ocppkit.translators.versions import OcppVersion

# A fixed default start keeps `ocppkit simulate --seed N` reproducible byte for byte.
DEFAULT_START = datetime(2026, 3, 2, tzinfo=UTC)


class StopReason(StrEnum):
    """Why a transaction ended, version-neutral; the drivers map it to the wire value."""

    LOCAL = "Local"  # the driver presented the card again
    EV_DISCONNECTED = "EVDisconnected"  # the driver unplugged without stopping first
    REMOTE = "Remote"  # the CSMS asked (RemoteStop / RequestStopTransaction)
    HARD_RESET = "HardReset"
    SOFT_RESET = "SoftReset"
    UNLOCK_COMMAND = "UnlockCommand"
    DEAUTHORIZED = "DeAuthorized"  # the CSMS refused the id tag
    REBOOT = "Reboot"


class Status(StrEnum):
    """Connector status, in 1.6 vocabulary (the richer one); 2.0.1 folds it to fewer values."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    FAULTED = "Faulted"
    UNAVAILABLE = "Unavailable"


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """What to simulate.

    Attributes:
        chargers: number of charging stations.
        mix: share of chargers per protocol version, e.g. ``((V16, 0.7), (V201, 0.3))``.
        seed: the only source of randomness of the plan.
        start: the simulated start of the period (UTC).
        duration: length of the simulated period.
        meter_interval_s: MeterValues sample interval during a transaction.
        id_prefix: charger ids are ``<prefix>0001``, ``<prefix>0002``...
        sessions_per_connector_day: mean arrivals per connector over a day.
        faults_per_charger_day: mean connector faults per charger per day.
        reboots_per_charger_day: mean unplanned reboots per charger per day.
        drops_per_charger_day: mean WebSocket connection drops per charger per day.
        id_tags: size of the pool of RFID tags drivers use.
    """

    chargers: int = 10
    mix: tuple[tuple[OcppVersion, float], ...] = ((OcppVersion.V16, 1.0),)
    seed: int = 0
    start: datetime = DEFAULT_START
    duration: timedelta = timedelta(days=1)
    meter_interval_s: int = 60
    id_prefix: str = "SIM"
    sessions_per_connector_day: float = 3.0
    faults_per_charger_day: float = 0.3
    reboots_per_charger_day: float = 0.1
    drops_per_charger_day: float = 0.5
    id_tags: int = 40

    def __post_init__(self) -> None:
        if self.chargers < 1:
            raise ConfigError("need at least one charger")
        if not self.mix or any(share < 0 for _, share in self.mix):
            raise ConfigError("the version mix needs non-negative shares")
        if sum(share for _, share in self.mix) <= 0:
            raise ConfigError("the version mix shares sum to zero")
        if self.start.tzinfo is None:
            raise ConfigError("the start time must be timezone-aware")
        if self.duration <= timedelta(0):
            raise ConfigError("the duration must be positive")
        if self.meter_interval_s < 1:
            raise ConfigError("the meter interval must be at least one second")


@dataclass(frozen=True, slots=True)
class ChargerSpec:
    """One charging station's hardware."""

    charge_point_id: str
    version: OcppVersion
    connectors: int
    max_power_w: int
    dc: bool
    vendor: str
    model: str
    serial: str


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One periodic meter reading during a transaction."""

    at: datetime
    energy_wh: int  # Energy.Active.Import.Register: the connector's lifetime odometer
    power_w: int  # Power.Active.Import
    current_a: float  # Current.Import
    soc: int  # SoC, percent


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """One EV visit: plug in, authorise, charge (tapering), idle, stop, unplug.

    ``meter_stop_wh - meter_start_wh`` is the integral of the charging power; the samples
    lie strictly between ``start`` and ``stop``.
    """

    charge_point_id: str
    connector_id: int
    id_tag: str
    plug_in: datetime
    authorized: datetime
    start: datetime
    charging_end: datetime  # power falls to zero here (battery full or EV done)
    stop: datetime
    unplug: datetime
    meter_start_wh: int
    meter_stop_wh: int
    soc_start: int
    soc_end: int
    stop_reason: StopReason  # LOCAL or EV_DISCONNECTED in a plan
    samples: tuple[MeterSample, ...]

    @property
    def energy_wh(self) -> int:
        return self.meter_stop_wh - self.meter_start_wh

    @property
    def idle(self) -> timedelta:
        """Time plugged in and authorised but not charging (drives idle fees)."""
        return self.stop - self.charging_end


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """A connector fault (1.6 errorCode, 2.0.1 NotifyEvent techCode) and its recovery."""

    connector_id: int
    error_code: str  # a 1.6 ChargePointErrorCode value
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RebootPlan:
    """The charger restarts: offline from ``at`` until it boots again at ``back``."""

    at: datetime
    back: datetime
    reason: str  # 2.0.1 BootReasonEnumType


@dataclass(frozen=True, slots=True)
class DropPlan:
    """The WebSocket connection drops at ``at``; the network returns at ``back``."""

    at: datetime
    back: datetime


@dataclass(frozen=True, slots=True)
class ChargerPlan:
    spec: ChargerSpec
    sessions: tuple[SessionPlan, ...]
    faults: tuple[FaultPlan, ...]
    reboots: tuple[RebootPlan, ...]
    drops: tuple[DropPlan, ...]


@dataclass(frozen=True, slots=True)
class FleetPlan:
    config: FleetConfig
    chargers: tuple[ChargerPlan, ...] = field(default_factory=tuple)

    @property
    def end(self) -> datetime:
        return self.config.start + self.config.duration

    @property
    def sessions(self) -> tuple[SessionPlan, ...]:
        return tuple(s for c in self.chargers for s in c.sessions)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (datetimes as RFC 3339 strings)."""
        out: dict[str, Any] = jsonable(self)
        return out


def iso(moment: datetime) -> str:
    """An OCPP date-time: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, StrEnum):
        return value.value
    if hasattr(value, "__dataclass_fields__"):
        return {name: jsonable(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    return value
