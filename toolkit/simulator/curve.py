"""Charging physics: a CC/CV-like power curve integrated into meter samples.

Lithium-ion packs take their full power (constant current) up to roughly 80 % state of
charge, then the charger holds the voltage and the current falls off (constant voltage);
public charging-curve data shows the same knee for AC and DC. The model: full power below
:data:`TAPER_SOC`, then a linear fall to :data:`TAPER_FLOOR` of full power at 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ocppkit.toolkit.simulator.model import MeterSample

TAPER_SOC = 0.80
TAPER_FLOOR = 0.08
# Integration step. Samples are read off the integral, so a step that divides the sample
# interval keeps the register exact at each sample time.
STEP_S = 5
AC_PHASE_VOLTS = 230.0
AC_PHASES = 3
DC_VOLTS = 400.0


def power_at(soc: float, max_w: float) -> float:
    """Charging power (W) the pack accepts at state of charge ``soc`` (0..1)."""
    if soc < TAPER_SOC:
        return max_w
    left = max(0.0, 1.0 - soc) / (1.0 - TAPER_SOC)
    return max_w * max(TAPER_FLOOR, left) if soc < 1.0 else 0.0


def current_for(power_w: float, dc: bool) -> float:
    """Current (A) for a power: DC at pack voltage, AC per phase on three phases."""
    volts = DC_VOLTS if dc else AC_PHASE_VOLTS * AC_PHASES
    return round(power_w / volts, 1)


@dataclass(frozen=True, slots=True)
class ChargeResult:
    samples: tuple[MeterSample, ...]
    charging_end: datetime
    energy_wh: int
    soc_end: int


def simulate_charge(
    *,
    start: datetime,
    stop: datetime,
    register_wh: int,
    capacity_wh: float,
    soc_start: float,
    soc_target: float,
    max_w: float,
    dc: bool,
    interval_s: int,
) -> ChargeResult:
    """Integrate the curve from ``start`` until the target SoC or ``stop``, whichever first.

    Args:
        start: when energy starts to flow.
        stop: when the transaction ends (the EV may be full well before).
        register_wh: the energy register at ``start``.
        capacity_wh: usable battery capacity.
        soc_start: state of charge at ``start`` (0..1).
        soc_target: the EV stops charging here (0..1).
        max_w: the lower of the charger's and the vehicle's maximum power.
        dc: DC charger (pack voltage) or AC (three phases).
        interval_s: meter sample interval.

    Returns:
        the samples strictly inside (start, stop), the moment power fell to zero, the
        energy delivered (Wh, rounded) and the final SoC (percent).
    """
    total_s = int((stop - start).total_seconds())
    step = STEP_S if interval_s % STEP_S == 0 else 1
    soc, energy, charging_s = soc_start, 0.0, total_s
    samples: list[MeterSample] = []
    for t in range(0, total_s, step):
        if t and t % interval_s == 0:
            p = power_at(soc, max_w) if soc < soc_target else 0.0
            samples.append(
                MeterSample(
                    at=start + timedelta(seconds=t),
                    energy_wh=register_wh + round(energy),
                    power_w=round(p),
                    current_a=current_for(p, dc),
                    soc=round(soc * 100),
                )
            )
        if soc >= soc_target:
            charging_s = min(charging_s, t)
            continue
        dt = min(step, total_s - t)
        delta = power_at(soc, max_w) * dt / 3600.0
        energy += delta
        soc = min(1.0, soc + delta / capacity_wh)
    return ChargeResult(
        samples=tuple(samples),
        charging_end=start + timedelta(seconds=charging_s),
        energy_wh=round(energy),
        soc_end=round(soc * 100),
    )
