"""The session translator: a 2.0.1 charging station behind a 1.6J CSMS.

Feed every frame that arrives from the station to :func:`from_charger` and
every frame from the CSMS to :func:`from_csms`; send what the returned
:class:`Step` lists, in order, and persist the state. Same contract as the
forward package (:mod:`ocppkit.translators.charger16_csms201`), with the versions swapped.

The rules every pair shares (dispatch by table, refusals, lossy notes,
truncation) are the engine's (:mod:`ocppkit.translators.engine`); this module
holds only the pair's tables and its :data:`PAIR` record: CALLs by action
(:data:`STATION_CALLS`, :data:`CSMS_CALLS`), answers by the action of the
call they answer (:data:`CSMS_RESULTS`, :data:`STATION_RESULTS`).
"""

from __future__ import annotations

from ocppkit.translators.context import Context
from ocppkit.translators.engine import CallHandler, Pair, ResultHandler, Side
from ocppkit.translators.frames import Frame
from ocppkit.translators.outcome import Step
from ocppkit.translators.station201_csms16 import (
    charging,
    commands,
    config,
    security,
    station,
    transactions,
)
from ocppkit.translators.station201_csms16.common import V16, V201
from ocppkit.translators.station201_csms16.replay import AUTH_STATUS_UP
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.station201_csms16.status import FAULT_COMPONENT_UP
from ocppkit.translators.station201_csms16.tables import TABLES

STATION_CALLS: dict[str, CallHandler[StationState]] = {
    **station.STATION_CALLS,
    **transactions.STATION_CALLS,
}
CSMS_RESULTS: dict[str, ResultHandler[StationState]] = {
    **station.CSMS_RESULTS,
    **transactions.CSMS_RESULTS,
}
CSMS_CALLS: dict[str, CallHandler[StationState]] = {
    **commands.CSMS_CALLS,
    **charging.CSMS_CALLS,
    **config.CSMS_CALLS,
    **security.CSMS_CALLS,
}
STATION_RESULTS: dict[str, ResultHandler[StationState]] = {
    **commands.STATION_RESULTS,
    **charging.STATION_RESULTS,
    **config.STATION_RESULTS,
    **security.STATION_RESULTS,
}
# Refusals with a reason, by the sender's action.
NOT_SUPPORTED: dict[str, str] = {**station.NOT_SUPPORTED}
_WRONG_SENDER = {
    Side.CHARGER: "is sent by a CSMS, not by a charging station (OCPP 2.0.1 Part 2)",
    Side.CSMS: "is sent by a charge point, not by a central system (OCPP 1.6 §4)",
}

PAIR: Pair[StationState] = Pair(
    name="station201_csms16",
    versions={Side.CHARGER: V201, Side.CSMS: V16},
    new_state=StationState,
    load_state=StationState.from_dict,
    calls={Side.CHARGER: STATION_CALLS, Side.CSMS: CSMS_CALLS},
    results={Side.CHARGER: STATION_RESULTS, Side.CSMS: CSMS_RESULTS},
    refusals={Side.CHARGER: NOT_SUPPORTED},
    wrong_sender=_WRONG_SENDER,
    tables=(*TABLES, FAULT_COMPONENT_UP, AUTH_STATUS_UP),
)


def from_charger(state: StationState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 2.0.1 station sent.

    Args:
        state: the station's bridge state; updated in place.
        frame: a parsed (and, by the caller, schema-checked) 2.0.1 frame.
        ctx: clock and id source.

    Returns:
        The frames for each side and the notes. Never raises for a
        schema-valid frame: refusals are CALLERROR frames.
    """
    return PAIR.from_charger(state, frame, ctx)


def from_csms(state: StationState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 1.6 CSMS sent (see :func:`from_charger`)."""
    return PAIR.from_csms(state, frame, ctx)
