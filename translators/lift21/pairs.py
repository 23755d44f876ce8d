"""The two 2.0.1 <-> 2.1 pairs, built from one set of generic handlers.

Every action both versions define is passed on under its own name with its
payload fitted to the target schema (:func:`~ocppkit.translators.lift21.fit.fit`,
by the tables of :mod:`~ocppkit.translators.lift21.tables`); its answer comes
back fitted the other way. A CALLERROR is relayed (2.0.1 and 2.1 share the
RPC error codes). An action only 2.1 has is refused NotSupported with the
reason its table row gives. What moves up is fitted by :data:`~tables.UP`,
what moves down by :data:`~tables.DOWN`: the direction is the target version.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.engine import (
    CallHandler,
    Notes,
    Pair,
    ResultHandler,
    Side,
    answer,
    other,
    pass_on,
    relay_error,
)
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.lift21 import tables
from ocppkit.translators.lift21.coverage import down_note
from ocppkit.translators.lift21.fit import FitRules, fit
from ocppkit.translators.lift21.state import LiftState
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.schemas import Kind, actions
from ocppkit.translators.versions import OcppVersion

V201, V21 = OcppVersion.V201, OcppVersion.V21


def rules_for(target: OcppVersion) -> FitRules:
    """The fitting tables of the direction towards ``target``."""
    return tables.UP if target is V21 else tables.DOWN


def _call_handler(to: Side, target: OcppVersion) -> CallHandler[LiftState]:
    rules = rules_for(target)

    def handle(state: LiftState, call: Call, ctx: Context) -> Step:
        notes = Notes(state, call.action)
        payload = fit(call.payload, target, call.action, Kind.REQUEST, rules, notes)
        return pass_on(state, to, call, call.action, payload, notes=notes.items)

    return handle


def _result_handler(to: Side, target: OcppVersion) -> ResultHandler[LiftState]:
    rules = rules_for(target)

    def handle(
        state: LiftState, pending: Pending, frame: CallResult | CallError, ctx: Context
    ) -> Step:
        if isinstance(frame, CallError):
            return relay_error(pending, frame, to, target)
        notes = Notes(state, pending.origin_action)
        payload = fit(frame.payload, target, pending.action, Kind.RESPONSE, rules, notes)
        return answer(pending, payload, to, tuple(notes.items))

    return handle


_WRONG_SENDER = {
    Side.CHARGER: "is sent by a CSMS, not by a charging station (OCPP 2.0.1 / 2.1 Part 2)",
    Side.CSMS: "is sent by a charging station, not by a CSMS (OCPP 2.0.1 / 2.1 Part 2)",
}


def build(name: str, charger: OcppVersion, csms: OcppVersion) -> Pair[LiftState]:
    """The pair bridging a ``charger`` station to a ``csms`` CSMS (2.0.1 and 2.1, either way)."""
    versions = {Side.CHARGER: charger, Side.CSMS: csms}
    shared = actions(V201) & actions(V21)
    senders = {
        Side.CHARGER: tables.STATION_SENDS,
        Side.CSMS: (shared - tables.STATION_SENDS) | {"DataTransfer"},
    }
    calls: dict[Side, dict[str, CallHandler[LiftState]]] = {}
    results: dict[Side, dict[str, ResultHandler[LiftState]]] = {}
    for side in (Side.CHARGER, Side.CSMS):
        to = other(side)
        calls[side] = {a: _call_handler(to, versions[to]) for a in sorted(senders[side])}
        # the answers ``to`` gives to the calls ``side`` sent, back to ``side``'s version
        results[to] = {a: _result_handler(side, versions[side]) for a in sorted(senders[side])}
    refusals: dict[Side, dict[str, str]] = {}
    only21 = {Side.CHARGER: tables.ONLY_21_FROM_STATION, Side.CSMS: tables.ONLY_21_FROM_CSMS}
    for side, version in versions.items():
        if version is V21:
            refusals[side] = dict(only21[side])
    return Pair(
        name=name,
        versions=versions,
        new_state=LiftState,
        load_state=LiftState.from_dict,
        calls=calls,
        results=results,
        refusals=refusals,
        wrong_sender=_WRONG_SENDER,
        tables=tables.TABLES,
    )


def coverage(pair: Pair[Any]) -> list[tuple[str, str, str, str]]:
    """``(action, sent by, outcome, why)`` for every action of either version (docs)."""
    rows: list[tuple[str, str, str, str]] = []
    who = {Side.CHARGER: "station", Side.CSMS: "CSMS"}
    for side in (Side.CHARGER, Side.CSMS):
        version = pair.versions[side]
        for action in sorted(actions(version)):
            if action in pair.calls[side]:
                # a 2.1 sender's call comes down; a 2.0.1 sender's call goes up as it is
                # (but one field 2.1 requires) and its 2.1 answer comes down
                kind = Kind.REQUEST if version is V21 else Kind.RESPONSE
                how = down_note(action, kind)
                if action == "NotifyMonitoringReport" and version is V201:
                    how = "eventNotificationType (required in 2.1) set to CustomMonitor, noted"
                rows.append((action, who[side], "translated", how or "as it is"))
            elif action in pair.refusals.get(side, {}):
                rows.append((action, who[side], "not supported", pair.refusals[side][action]))
    return rows
