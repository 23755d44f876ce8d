"""The behaviour model: a seeded, pure plan of a fleet's day(s).

:func:`plan_fleet` reads nothing but its arguments: the same config and the same
``random.Random(seed)`` give the same plan, so the plan can serve as ground truth.

Shapes (each from public session data summarised in ``shared/research/analysis-research.md``
§3.2 and §4.1: session kWh, dwell and hour-of-day distributions):

* arrivals follow a daily profile (:data:`HOURLY_PROFILE`) with morning, lunch and evening
  peaks, drawn per connector as an inhomogeneous Poisson process by thinning; an EV that
  finds the connector busy goes elsewhere;
* the EV plugs in before the driver authorises (5 to 75 s later);
* dwell time is log-normal (AC: hours; DC: tens of minutes), so long AC visits end with the
  battery full and the car idle (SuspendedEV), which is what idle fees are about;
* energy follows the tapering curve of :mod:`ocppkit.toolkit.simulator.curve`;
* faults sit in idle gaps of a connector; reboots in gaps of the whole station; connection
  drops anywhere, including in the middle of a transaction.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from ocppkit.toolkit.simulator.curve import simulate_charge
from ocppkit.toolkit.simulator.model import (
    ChargerPlan,
    ChargerSpec,
    DropPlan,
    FaultPlan,
    FleetConfig,
    FleetPlan,
    RebootPlan,
    SessionPlan,
    StopReason,
)
from ocppkit.translators.versions import OcppVersion

# Relative arrival rate per hour of day (mean 1.0): quiet nights, commuter peak 7-9,
# lunch, evening peak 16-19 (the public-charger shape of the Palo Alto / Boulder data).
_RAW_PROFILE = (0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.8, 1.6, 2.1, 1.7, 1.3, 1.3,
                1.5, 1.3, 1.2, 1.3, 1.6, 2.0, 2.0, 1.6, 1.2, 0.9, 0.6, 0.3)  # fmt: skip
HOURLY_PROFILE = tuple(w * 24 / sum(_RAW_PROFILE) for w in _RAW_PROFILE)

# Station hardware: (dc, max power W, connector counts, vendor, model).
_HARDWARE = (
    (False, 11_000, (1, 2), "Alfen", "Eve Double Pro"),
    (False, 22_000, (2,), "ABB", "Terra AC W22"),
    (True, 50_000, (1, 2), "ABB", "Terra 54"),
    (True, 150_000, (1, 2), "Kempower", "S-Series"),
)
_HARDWARE_WEIGHTS = (0.45, 0.3, 0.15, 0.1)
_CAPACITIES_KWH = (40, 52, 58, 64, 77, 82, 100)
_AC_ACCEPT_W = (3_700, 7_400, 7_400, 11_000, 11_000, 22_000)
_DC_ACCEPT_W = (50_000, 100_000, 135_000, 170_000)
# 1.6 ChargePointErrorCode values and how often each shows up (connector hardware and
# EV communication dominate in field reports; see analysis-research §4.2).
_FAULTS = (
    ("EVCommunicationError", 0.25),
    ("GroundFailure", 0.15),
    ("ConnectorLockFailure", 0.15),
    ("HighTemperature", 0.1),
    ("OverCurrentFailure", 0.1),
    ("PowerMeterFailure", 0.08),
    ("ReaderFailure", 0.07),
    ("InternalError", 0.1),
)
_REBOOT_REASONS = ("PowerUp", "Watchdog")
_MARGIN = timedelta(minutes=1)


def plan_fleet(config: FleetConfig, rng: random.Random) -> FleetPlan:
    """Plan every charger's sessions, faults, reboots and drops over the period.

    Args:
        config: fleet size, version mix, period and rates.
        rng: the only randomness; pass ``random.Random(config.seed)`` for the canonical plan.

    Returns:
        the plan, deterministic for a given config and generator state.
    """
    tags = _tag_pool(config.id_tags, rng)
    versions = _versions(config, rng)
    chargers = []
    for index, version in enumerate(versions, start=1):
        spec = _spec(f"{config.id_prefix}{index:04d}", version, rng)
        chargers.append(_plan_charger(spec, config, tags, rng))
    return FleetPlan(config=config, chargers=tuple(chargers))


def _tag_pool(size: int, rng: random.Random) -> tuple[str, ...]:
    # 4-byte ISO 14443 UIDs as 8 hex digits, the commonest idTag shape.
    return tuple(f"{rng.getrandbits(32):08X}" for _ in range(max(1, size)))


def _versions(config: FleetConfig, rng: random.Random) -> list[OcppVersion]:
    """Exact counts by largest remainder (10 chargers at 0.7/0.3 give 7 and 3), shuffled."""
    total = sum(share for _, share in config.mix)
    quotas = [(v, share / total * config.chargers) for v, share in config.mix]
    counts = {v: int(q) for v, q in quotas}
    left = config.chargers - sum(counts.values())
    for v, _ in sorted(quotas, key=lambda vq: vq[1] - int(vq[1]), reverse=True)[:left]:
        counts[v] += 1
    out = [v for v, _ in config.mix for _ in range(counts[v])]
    rng.shuffle(out)
    return out


def _spec(charge_point_id: str, version: OcppVersion, rng: random.Random) -> ChargerSpec:
    dc, max_w, counts, vendor, model = rng.choices(_HARDWARE, _HARDWARE_WEIGHTS)[0]
    return ChargerSpec(
        charge_point_id=charge_point_id,
        version=version,
        connectors=rng.choice(counts),
        max_power_w=max_w,
        dc=dc,
        vendor=vendor,
        model=model,
        serial=f"{vendor[:2].upper()}{rng.randrange(10**7):07d}",
    )


def _plan_charger(
    spec: ChargerSpec, config: FleetConfig, tags: tuple[str, ...], rng: random.Random
) -> ChargerPlan:
    end = config.start + config.duration
    sessions: list[SessionPlan] = []
    for connector in range(1, spec.connectors + 1):
        register = rng.randrange(100_000, 5_000_000)
        for arrival in _arrivals(config, rng):
            last = sessions[-1] if sessions else None
            taken = last is not None and last.connector_id == connector
            if taken and last is not None and arrival < last.unplug + _MARGIN:
                continue  # the bay is taken: this driver goes elsewhere
            session = _session(spec, connector, arrival, register, config, tags, rng)
            if session.unplug + _MARGIN * 5 > end:
                break
            sessions.append(session)
            register = session.meter_stop_wh
    days = config.duration / timedelta(days=1)
    busy = {c: [(s.plug_in, s.unplug) for s in sessions if s.connector_id == c] for c in
            range(1, spec.connectors + 1)}  # fmt: skip
    faults = _faults(spec, busy, config, days, rng)
    for f in faults:
        busy[f.connector_id].append((f.start, f.end))
    reboots = _reboots(busy, config, days, rng)
    drops = _drops(reboots, config, days, rng)
    sessions.sort(key=lambda s: s.plug_in)
    return ChargerPlan(spec, tuple(sessions), faults, reboots, drops)


def _arrivals(config: FleetConfig, rng: random.Random) -> list[datetime]:
    """Arrival times on one connector: Poisson with the hourly profile, by thinning."""
    rate_per_s = config.sessions_per_connector_day / 86_400
    peak = rate_per_s * max(HOURLY_PROFILE)
    out: list[datetime] = []
    t, total = 0.0, config.duration.total_seconds()
    while True:
        t += rng.expovariate(peak)
        if t >= total:
            return out
        moment = config.start + timedelta(seconds=round(t))
        if rng.random() < rate_per_s * HOURLY_PROFILE[moment.hour] / peak:
            out.append(moment)


def _session(
    spec: ChargerSpec,
    connector: int,
    plug_in: datetime,
    register: int,
    config: FleetConfig,
    tags: tuple[str, ...],
    rng: random.Random,
) -> SessionPlan:
    if spec.dc:
        dwell_s = _lognormal(rng, 40 * 60, 0.35, 10 * 60, 90 * 60)
        accept = rng.choice(_DC_ACCEPT_W)
        soc0, target = rng.uniform(0.08, 0.45), rng.choice((0.8, 0.85, 0.9, 0.95))
    else:
        dwell_s = _lognormal(rng, 2.5 * 3600, 0.7, 15 * 60, 11 * 3600)
        accept = rng.choice(_AC_ACCEPT_W)
        soc0, target = rng.uniform(0.3, 0.8), rng.choice((0.8, 0.9, 1.0, 1.0, 1.0))
    capacity_wh = rng.choice(_CAPACITIES_KWH) * 1000.0
    authorized = plug_in + timedelta(seconds=rng.randint(5, 75))
    start = authorized + timedelta(seconds=3)
    departure = plug_in + timedelta(seconds=dwell_s)
    if rng.random() < 0.65:
        reason, stop = StopReason.LOCAL, departure
        unplug = departure + timedelta(seconds=rng.randint(10, 40))
    else:
        reason, stop, unplug = StopReason.EV_DISCONNECTED, departure, departure
    charge = simulate_charge(
        start=start,
        stop=stop,
        register_wh=register,
        capacity_wh=capacity_wh,
        soc_start=soc0,
        soc_target=target,
        max_w=min(spec.max_power_w, accept),
        dc=spec.dc,
        interval_s=config.meter_interval_s,
    )
    # Regulars charge more often than visitors: Zipf-like popularity of the tag pool.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(tags))]
    return SessionPlan(
        charge_point_id=spec.charge_point_id,
        connector_id=connector,
        id_tag=rng.choices(tags, weights)[0],
        plug_in=plug_in,
        authorized=authorized,
        start=start,
        charging_end=charge.charging_end,
        stop=stop,
        unplug=unplug,
        meter_start_wh=register,
        meter_stop_wh=register + charge.energy_wh,
        soc_start=round(soc0 * 100),
        soc_end=charge.soc_end,
        stop_reason=reason,
        samples=charge.samples,
    )


def _lognormal(rng: random.Random, median_s: float, sigma: float, lo: float, hi: float) -> int:
    return round(min(hi, max(lo, rng.lognormvariate(math.log(median_s), sigma))))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; means here are small (a few events per charger-day).
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _free(spans: list[tuple[datetime, datetime]], a: datetime, b: datetime) -> bool:
    return all(b + _MARGIN <= s or a >= e + _MARGIN for s, e in spans)


def _moment(config: FleetConfig, rng: random.Random, tail: timedelta) -> datetime:
    room = (config.duration - tail - 2 * _MARGIN).total_seconds()
    return config.start + _MARGIN + timedelta(seconds=round(rng.uniform(0, max(0.0, room))))


def _faults(
    spec: ChargerSpec,
    busy: dict[int, list[tuple[datetime, datetime]]],
    config: FleetConfig,
    days: float,
    rng: random.Random,
) -> tuple[FaultPlan, ...]:
    out: list[FaultPlan] = []
    codes, weights = zip(*_FAULTS, strict=True)
    for _ in range(_poisson(rng, config.faults_per_charger_day * days)):
        connector = rng.randint(1, spec.connectors)
        length = timedelta(seconds=_lognormal(rng, 600, 1.0, 60, 4 * 3600))
        for _attempt in range(20):  # look for an idle gap long enough
            at = _moment(config, rng, length)
            spans = busy[connector] + [(f.start, f.end) for f in out if f.connector_id == connector]
            if _free(spans, at, at + length):
                out.append(FaultPlan(connector, rng.choices(codes, weights)[0], at, at + length))
                break
    return tuple(sorted(out, key=lambda f: f.start))


def _reboots(
    busy: dict[int, list[tuple[datetime, datetime]]],
    config: FleetConfig,
    days: float,
    rng: random.Random,
) -> tuple[RebootPlan, ...]:
    out: list[RebootPlan] = []
    spans = [span for per in busy.values() for span in per]
    for _ in range(_poisson(rng, config.reboots_per_charger_day * days)):
        down = timedelta(seconds=rng.randint(40, 150))
        for _attempt in range(20):
            at = _moment(config, rng, down)
            if _free(spans + [(r.at, r.back) for r in out], at, at + down):
                out.append(RebootPlan(at, at + down, rng.choice(_REBOOT_REASONS)))
                break
    return tuple(sorted(out, key=lambda r: r.at))


def _drops(
    reboots: tuple[RebootPlan, ...], config: FleetConfig, days: float, rng: random.Random
) -> tuple[DropPlan, ...]:
    out: list[DropPlan] = []
    for _ in range(_poisson(rng, config.drops_per_charger_day * days)):
        length = timedelta(seconds=_lognormal(rng, 90, 0.9, 15, 20 * 60))
        for _attempt in range(20):
            at = _moment(config, rng, length + timedelta(minutes=10))
            taken = [(r.at, r.back) for r in reboots] + [(d.at, d.back) for d in out]
            if _free(taken, at, at + length):
                out.append(DropPlan(at, at + length))
                break
    return tuple(sorted(out, key=lambda d: d.at))
