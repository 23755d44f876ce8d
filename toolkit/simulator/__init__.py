"""The fleet simulator: seeded charger behaviour played over real OCPP connections.

* :mod:`.behaviour` plans a fleet's sessions, faults, reboots and drops (pure, seeded);
* :mod:`.charger16` / :mod:`.charger201` play a charger's plan over a WebSocket;
* :func:`run_fleet` runs a whole fleet against a CSMS and returns the ground truth;
* :func:`run_load` is the steady-state load generator of ``ocppkit bench``.
"""

from ocppkit.toolkit.simulator.behaviour import plan_fleet
from ocppkit.toolkit.simulator.fleet import run_fleet
from ocppkit.toolkit.simulator.load import LoadResult, run_load
from ocppkit.toolkit.simulator.model import (
    ChargerPlan,
    ChargerSpec,
    FleetConfig,
    FleetPlan,
    MeterSample,
    SessionPlan,
    StopReason,
)
from ocppkit.toolkit.simulator.state import DriverSettings
from ocppkit.toolkit.simulator.truth import ChargerTruth, FleetResult, SessionTruth

__all__ = [
    "ChargerPlan",
    "ChargerSpec",
    "ChargerTruth",
    "DriverSettings",
    "FleetConfig",
    "FleetPlan",
    "FleetResult",
    "LoadResult",
    "MeterSample",
    "SessionPlan",
    "SessionTruth",
    "StopReason",
    "plan_fleet",
    "run_fleet",
    "run_load",
]
