"""The session translator: a 1.6J charger behind a 2.0.1 CSMS.

Feed every frame that arrives, from either side, to :func:`from_charger` or
:func:`from_csms`; each returns the :class:`Step` to carry out (frames for
each side, notes). All memory lives in the :class:`BridgeState` the caller
passes in and persists; time and ids come from the :class:`Context`.

The rules every pair shares (dispatch by table, refusals, lossy notes,
truncation) are the engine's (:mod:`ocppkit.translators.engine`); this module
holds only the pair's tables and its :data:`PAIR` record:

===================  ==========================  ==============================
frame                from the charger (1.6)       from the CSMS (2.0.1)
===================  ==========================  ==============================
CALL                 :data:`CHARGER_CALLS`        ``commands.CSMS_CALLS``
                     (by 1.6 action)              (by 2.0.1 action)
CALLRESULT / ERROR   ``commands.CHARGER_RESULTS`` :data:`CSMS_RESULTS`
                     (by the 1.6 action of the    (by the 2.0.1 action of the
                     pending call it answers)     pending call it answers)
===================  ==========================  ==============================
"""

from __future__ import annotations

from collections.abc import Mapping

from ocppkit.translators.charger16_csms201 import (
    charger_messages,
    commands,
    dangling,
    id_tokens,
    meter_values,
    status,
    transactions,
)
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.engine import CallHandler, Pair, ResultHandler, Side
from ocppkit.translators.frames import Frame
from ocppkit.translators.outcome import Step
from ocppkit.translators.versions import OcppVersion

V16 = OcppVersion.V16
V201 = OcppVersion.V201

CHARGER_CALLS: dict[str, CallHandler[BridgeState]] = {
    **charger_messages.CALLS,
    **transactions.CALLS,
    **status.CALLS,
    "MeterValues": meter_values.meter_values,
}
CSMS_RESULTS: dict[str, ResultHandler[BridgeState]] = {
    **charger_messages.RESULTS,
    **transactions.RESULTS,
    **status.RESULTS,
    **meter_values.RESULTS,
    **commands.CSMS_RESULTS,
}
# What each charger call becomes, for the coverage table of docs/mapping.md:
# 1.6 action -> (2.0.1 actions it may emit, how).
CHARGER_TARGETS: dict[str, tuple[tuple[str, ...], str]] = {
    **{
        a16: ((a201,), a201 if a201 == a16 else f"{a201} (renamed)")
        for a16, (a201, _, _) in charger_messages.MESSAGES.items()
    },
    "StartTransaction": (("TransactionEvent",), "TransactionEvent(Started); ids minted"),
    "StopTransaction": (("TransactionEvent",), "TransactionEvent(Ended) with stoppedReason"),
    "MeterValues": (
        ("TransactionEvent", "MeterValues"),
        "TransactionEvent(Updated) in a transaction, else MeterValues",
    ),
    "StatusNotification": (
        ("StatusNotification", "NotifyEvent", "TransactionEvent"),
        "StatusNotification (+ TransactionEvent ChargingStateChanged, + NotifyEvent for "
        "errors); connector 0: NotifyEvent",
    ),
}
EMITTED_FOR: dict[str, str] = {
    a201: ", ".join(sorted(a16 for a16, (targets, _) in CHARGER_TARGETS.items() if a201 in targets))
    for a201 in sorted({t for targets, _ in CHARGER_TARGETS.values() for t in targets})
}
CSMS_CALLS: Mapping[str, CallHandler[BridgeState]] = commands.CSMS_CALLS
CHARGER_RESULTS: Mapping[str, ResultHandler[BridgeState]] = commands.CHARGER_RESULTS

# A 1.6 action with no charger handler is one only a central system sends
# (1.6 §5): a charger sending one is refused NotSupported with this reason.
_CSMS_ONLY_16 = "is sent by a central system, not by a charge point (OCPP 1.6 §5)"
_STATION_ONLY_201 = "is sent by a charging station, not by a CSMS (OCPP 2.0.1 Part 2)"

PAIR: Pair[BridgeState] = Pair(
    name="charger16_csms201",
    versions={Side.CHARGER: V16, Side.CSMS: V201},
    new_state=BridgeState,
    load_state=BridgeState.from_dict,
    calls={Side.CHARGER: CHARGER_CALLS, Side.CSMS: CSMS_CALLS},
    results={Side.CHARGER: CHARGER_RESULTS, Side.CSMS: CSMS_RESULTS},
    refusals={Side.CSMS: commands.NOT_SUPPORTED},
    wrong_sender={Side.CHARGER: _CSMS_ONLY_16, Side.CSMS: _STATION_ONLY_201},
    tables=tuple(
        table
        for module in (charger_messages, id_tokens, transactions, meter_values, status, commands)
        for table in module.TABLES
    ),
    # Whatever the charger sends is a moment to end what it abandoned.
    after={Side.CHARGER: dangling.sweep},
)


def from_charger(state: BridgeState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 1.6 charger sent.

    Args:
        state: the bridge's memory for this charger (updated in place).
        frame: a CALL, or the CALLRESULT / CALLERROR answering a call the
            bridge sent the charger.
        ctx: clock and id source.

    Returns:
        the frames to send to each side, and notes.
    """
    return PAIR.from_charger(state, frame, ctx)


def from_csms(state: BridgeState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 2.0.1 CSMS sent (see :func:`from_charger`)."""
    return PAIR.from_csms(state, frame, ctx)
