"""The behaviour model: deterministic for a seed, and shaped like real charging."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import timedelta

import pytest

from ocppkit.toolkit.simulator.behaviour import HOURLY_PROFILE, plan_fleet
from ocppkit.toolkit.simulator.curve import TAPER_SOC, power_at, simulate_charge
from ocppkit.toolkit.simulator.model import FleetConfig, FleetPlan, SessionPlan, StopReason
from ocppkit.toolkit.simulator.options import parse_duration, parse_mix, parse_speed, parse_start
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
MIX = ((V16, 0.7), (V201, 0.3))


def plan(seed: int = 42, **kw: object) -> FleetPlan:
    config = FleetConfig(**{"chargers": 20, "mix": MIX, "seed": seed, **kw})  # type: ignore[arg-type]
    return plan_fleet(config, random.Random(seed))


def test_the_same_seed_gives_the_same_plan() -> None:
    assert plan(7) == plan(7)
    assert plan(7).to_dict() == plan(7).to_dict()


def test_a_different_seed_gives_a_different_plan() -> None:
    assert plan(7).sessions != plan(8).sessions


def test_the_version_mix_is_split_exactly() -> None:
    counts = Counter(c.spec.version for c in plan(chargers=10).chargers)
    assert counts == {V16: 7, V201: 3}


def test_the_ev_plugs_in_before_authorising_and_visits_do_not_overlap() -> None:
    p = plan(duration=timedelta(days=2))
    assert len(p.sessions) > 50
    for charger in p.chargers:
        by_connector: dict[int, list[SessionPlan]] = {}
        for s in charger.sessions:
            assert s.plug_in < s.authorized < s.start <= s.charging_end <= s.stop <= s.unplug
            assert s.unplug < p.end
            by_connector.setdefault(s.connector_id, []).append(s)
        for visits in by_connector.values():
            for before, after in itertools.pairwise(visits):
                assert before.unplug < after.plug_in
                # The register is the connector's odometer: it carries on between visits.
                assert after.meter_start_wh == before.meter_stop_wh


def test_power_tapers_as_the_battery_fills() -> None:
    tapered = 0
    for s in plan(duration=timedelta(days=2)).sessions:
        bulk = [m.power_w for m in s.samples if m.soc < 75 and m.power_w > 0]
        full = [m.power_w for m in s.samples if m.soc >= 95 and m.power_w > 0]
        if bulk and full:
            tapered += 1
            assert max(full) < 0.5 * min(bulk)
    assert tapered >= 5


def test_long_visits_leave_the_car_idle_after_charging() -> None:
    p = plan(duration=timedelta(days=2))
    sessions = [s for c in p.chargers if not c.spec.dc for s in c.sessions]  # AC: hours long
    idle = [s for s in sessions if s.idle > timedelta(minutes=30)]
    assert len(idle) >= 0.2 * len(sessions)
    for s in idle:
        after = [m for m in s.samples if m.at > s.charging_end]
        assert after and all(m.power_w == 0 for m in after)
        assert {m.energy_wh for m in after} == {s.meter_stop_wh}


def test_energy_equals_the_integral_of_the_sampled_power() -> None:
    p = plan(duration=timedelta(days=2), meter_interval_s=30)
    for s in p.sessions:
        if len(s.samples) < 10:
            continue
        # Each sample's power held until the next sample (left Riemann sum); the first
        # interval at the first sample's power. Error: at most one interval at full power.
        times = [s.start, *(m.at for m in s.samples), s.stop]
        powers = [s.samples[0].power_w, *(m.power_w for m in s.samples)]
        integral = sum(
            p_w * (t1 - t0).total_seconds() / 3600
            for p_w, t0, t1 in zip(powers, times, times[1:], strict=False)
        )
        one_interval = max(powers) * p.config.meter_interval_s / 3600
        assert integral == pytest.approx(s.energy_wh, rel=0.02, abs=one_interval)
        registers = [s.meter_start_wh, *(m.energy_wh for m in s.samples), s.meter_stop_wh]
        assert registers == sorted(registers)


def test_sessions_stop_locally_or_by_unplugging() -> None:
    reasons = Counter(s.stop_reason for s in plan(duration=timedelta(days=2)).sessions)
    assert set(reasons) == {StopReason.LOCAL, StopReason.EV_DISCONNECTED}
    assert reasons[StopReason.LOCAL] > reasons[StopReason.EV_DISCONNECTED]


def test_arrivals_follow_the_daily_profile() -> None:
    hours = Counter(s.plug_in.hour for s in plan(chargers=60, duration=timedelta(days=3)).sessions)
    night = sum(hours[h] for h in range(1, 5))
    morning = sum(hours[h] for h in range(7, 11))
    assert morning > 4 * max(1, night)
    assert max(range(24), key=HOURLY_PROFILE.__getitem__) in range(7, 20)


def test_faults_and_reboots_fall_in_idle_gaps() -> None:
    p = plan(chargers=40, duration=timedelta(days=3), faults_per_charger_day=1.0,
             reboots_per_charger_day=0.5)  # fmt: skip
    faults = reboots = 0
    for charger in p.chargers:
        for f in charger.faults:
            faults += 1
            for s in charger.sessions:
                if s.connector_id == f.connector_id:
                    assert f.end < s.plug_in or f.start > s.unplug
        for r in charger.reboots:
            reboots += 1
            assert all(r.back < s.plug_in or r.at > s.unplug for s in charger.sessions)
    assert faults > 20 and reboots > 10


def test_drops_happen_during_transactions_too() -> None:
    p = plan(chargers=40, duration=timedelta(days=2), drops_per_charger_day=2.0)
    during = [d for c in p.chargers for d in c.drops for s in c.sessions if s.start < d.at < s.stop]
    assert during


def test_power_curve_is_flat_below_the_knee_and_falls_above() -> None:
    assert power_at(0.2, 11_000) == power_at(TAPER_SOC - 0.01, 11_000) == 11_000
    assert 11_000 > power_at(0.85, 11_000) > power_at(0.95, 11_000) > 0
    assert power_at(1.0, 11_000) == 0


def test_a_charge_stops_at_the_target_soc() -> None:
    start = FleetConfig().start
    result = simulate_charge(start=start, stop=start + timedelta(hours=10), register_wh=1000,
                             capacity_wh=50_000, soc_start=0.5, soc_target=0.8, max_w=11_000,
                             dc=False, interval_s=60)  # fmt: skip
    assert result.soc_end == 80
    assert result.energy_wh == pytest.approx(15_000, rel=0.01)
    assert result.charging_end - start == pytest.approx(
        timedelta(hours=15 / 11), abs=timedelta(minutes=1)
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1d", 86_400), ("6h", 21_600), ("90m", 5_400), ("2d12h", 216_000), ("45s", 45), ("300", 300)],
)
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1x", "-5", "d", "0s"])
def test_bad_durations_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_mix_speed_and_start_parse() -> None:
    assert parse_mix("1.6=0.7,2.0.1=0.3") == ((V16, 0.7), (V201, 0.3))
    assert parse_mix("2.0.1") == ((V201, 1.0),)
    assert parse_speed("max") is None and parse_speed("2000") == 2000
    assert parse_start("2026-03-02T00:00") == FleetConfig().start
    for bad in (lambda: parse_mix("1.6=x"), lambda: parse_mix("9.9=1"), lambda: parse_speed("-1")):
        with pytest.raises(ConfigError):
            bad()
