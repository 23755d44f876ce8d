"""No transaction left open for ever: the bridge ends what the charger abandoned.

A 1.6 charger whose StartTransaction was answered with a refusal (e.g.
``ConcurrentTx``) often never sends StopTransaction; nor does one that lost
power mid-transaction and forgot it, or one whose transaction a newer one
replaced. The 2.0.1 CSMS would keep the transaction open for ever, and
refuse every later start with that tag. The bridge therefore ends such a
transaction upstream itself, TransactionEvent(Ended), with a LOSSY note
naming the rule (counted in /metrics as
``ocppkit_bridge_dangling_transactions_total{rule}``), in these cases:

==================  ==========================================  =================  ==============
rule                when                                        triggerReason      stoppedReason
==================  ==========================================  =================  ==============
new_transaction     StartTransaction on a connector whose        AbnormalCondition  Other
                    transaction was never stopped: at once
reboot              BootNotification with the transaction open, AbnormalCondition  Reboot
                    no StopTransaction within the grace
status (Available)  connector Available, no StopTransaction      EVDeparted         EVDisconnected
                    within the grace
status (Finishing)  connector Finishing, no StopTransaction      AbnormalCondition  Other
                    within the grace
==================  ==========================================  =================  ==============

When the CSMS refused the transaction's start (idTokenInfo not Accepted),
the reasons are Deauthorized / DeAuthorized whatever the rule (2.0.1 E05:
a station told its token is not valid ends the transaction so).

The grace (``Settings.dangling_grace``, seconds, default 120) lets a slow
charger send its own StopTransaction, which always wins: a 1.6 charger keeps
it across a power loss (OCTT TC_032) and sends Finishing before it. The
translator is sans-I/O, so the grace is checked whenever the charger sends
anything (:func:`sweep`, run after every charger frame; Heartbeats make that
regular) and by any caller with a timer. A StopTransaction arriving after
the bridge ended the transaction is answered by the bridge, with a LOSSY
note (its meterStop did not reach the CSMS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppkit.translators.charger16_csms201.charger_kit import derive
from ocppkit.translators.charger16_csms201.state import BridgeState, Transaction
from ocppkit.translators.context import Context
from ocppkit.translators.outcome import Note, NoteKind, Step

ORIGIN = "DanglingTransaction"  # origin_action of the Ended events the bridge adds


@dataclass(frozen=True, slots=True)
class DanglingRule:
    """One row: which switchable rule it belongs to, and the reasons it reports."""

    rule: str  # the name in Settings.dangling_rules
    trigger_reason: str  # 2.0.1 TriggerReasonEnumType
    stopped_reason: str  # 2.0.1 ReasonEnumType
    when: str


RULES: dict[str, DanglingRule] = {
    "new_transaction": DanglingRule(
        "new_transaction",
        "AbnormalCondition",
        "Other",
        "a new transaction started on its connector",
    ),
    "reboot": DanglingRule(
        "reboot", "AbnormalCondition", "Reboot", "the charger rebooted with it open"
    ),
    "status:Available": DanglingRule(
        "status", "EVDeparted", "EVDisconnected", "the connector became Available"
    ),
    "status:Finishing": DanglingRule(
        "status", "AbnormalCondition", "Other", "the connector went Finishing"
    ),
}
REFUSED = ("Deauthorized", "DeAuthorized")  # the CSMS refused the start (2.0.1 E05)
# 1.6 statuses that show a transaction is still under way: the grace stops.
RESUMED = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})


def enabled(ctx: Context, cause: str) -> bool:
    return RULES[cause].rule in ctx.settings.dangling_rules


def mark(tx: Transaction, ctx: Context, cause: str, at: str) -> None:
    """Start the grace of ``tx`` for ``cause`` (a reboot overrides a status)."""
    if tx.ended or not enabled(ctx, cause):
        return
    if tx.dangling_since is None or (cause == "reboot" and tx.dangling_cause != "reboot"):
        tx.dangling_since, tx.dangling_cause, tx.dangling_at = ctx.timestamp(), cause, at


def clear(tx: Transaction) -> None:
    if tx.dangling_cause != "reboot":
        tx.dangling_since = tx.dangling_cause = tx.dangling_at = None


def end(state: BridgeState, tx: Transaction, ctx: Context, cause: str, at: str) -> Step:
    """TransactionEvent(Ended) for ``tx``, sent by the bridge on behalf of the charger."""
    row = RULES[cause]
    trigger, stopped = row.trigger_reason, row.stopped_reason
    refused = tx.id_tag_info is not None and tx.id_tag_info.get("status") != "Accepted"
    if refused:
        trigger, stopped = REFUSED
    event: dict[str, Any] = {
        "eventType": "Ended",
        "timestamp": at,
        "triggerReason": trigger,
        "seqNo": tx.seq_no,
        "transactionInfo": {"transactionId": tx.id201, "stoppedReason": stopped},
        "evse": {"id": tx.evse_id, "connectorId": 1},
    }
    tx.seq_no += 1
    tx.ended = True
    tx.ended_by = row.rule
    tx.dangling_since = tx.dangling_cause = tx.dangling_at = None
    if state.active_by_connector.get(str(tx.connector_id)) == tx.id16:
        del state.active_by_connector[str(tx.connector_id)]
    why = f"transaction {tx.id16} ended by the bridge: {row.when}, no StopTransaction"
    step = derive(state, ctx, "TransactionEvent", event, origin_action=ORIGIN, why=why)
    state.count_lossy(f"{ORIGIN}.{row.rule}")
    note = Note(NoteKind.LOSSY, "TransactionEvent", f"{why} ({trigger}/{stopped})", rule=row.rule)
    return step + Step(notes=(note,))


def _elapsed(since: str, ctx: Context) -> float:
    return (ctx.now() - datetime.fromisoformat(since)).total_seconds()


# What a sweep with no transaction waiting returns (a step is never changed in place).
_NOTHING = Step()


def sweep(state: BridgeState, ctx: Context) -> Step:
    """End every transaction whose grace is over (cheap when none waits)."""
    waiting = [
        tx
        for tx in state.transactions.values()
        if not tx.ended and tx.dangling_since is not None and tx.dangling_cause is not None
    ]
    if not waiting:
        return _NOTHING
    step = Step()
    grace = ctx.settings.dangling_grace
    for tx in waiting:
        since, cause = tx.dangling_since, tx.dangling_cause
        if since is not None and cause is not None and _elapsed(since, ctx) >= grace:
            step += end(state, tx, ctx, cause, tx.dangling_at or ctx.timestamp())
    return step


def on_status(state: BridgeState, ctx: Context, connector: int, status: str, at: str) -> None:
    """A StatusNotification: start or stop the grace of the connector's transaction."""
    tx = state.active_on(connector)
    if tx is None or tx.ended:
        return
    cause = f"status:{status}"
    if cause in RULES:
        mark(tx, ctx, cause, at)
    elif status in RESUMED:
        clear(tx)


def on_boot(state: BridgeState, ctx: Context) -> None:
    """A BootNotification: every open transaction may have died with the charger."""
    for tx in state.transactions.values():
        mark(tx, ctx, "reboot", ctx.timestamp())
