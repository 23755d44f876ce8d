"""StartTransaction / StopTransaction -> TransactionEvent, and the id flip.

Theory of operation (mapping-research §3.2):

- **Ids.** A 2.0.1 station names its transactions (string <= 36); a 1.6
  CSMS numbers them. Behind the bridge the 1.6 charger expects a number and
  the 2.0.1 CSMS expects a name, so the bridge mints both at
  StartTransaction: ``id201`` from ``ctx.new_id()`` and ``id16`` from
  ``state.next_tx_id16``, kept together in a :class:`Transaction`.
- **End-to-end acknowledgement.** StartTransaction.conf is sent when the
  CSMS has answered TransactionEvent(Started): its transactionId is the
  bridge's integer, its idTagInfo comes from ``idTokenInfo`` (absent: the
  CSMS raised no objection, so Accepted, with a note). The answer is kept
  on the transaction.
- **Retries** (no double billing). The key ``connector|idTag|meterStart|
  timestamp`` identifies a StartTransaction. A retry of a known one emits
  no second Started: it is answered from the kept answer; or, while the
  CSMS has not answered yet, it is answered together with the first; or,
  if the CSMS refused the first with a CALLERROR, the same Started (seqNo
  0, same id) is sent again. A retried StopTransaction likewise.
- **seqNo.** 0 for Started, then +1 per event of the transaction (Updated
  from MeterValues or charging-state changes, Ended).
- **State stays small.** When a new transaction starts on a connector, the
  ended transactions of that connector (kept so late MeterValues and
  retried StopTransactions are recognised) are forgotten.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201 import dangling
from ocppkit.translators.j16_to_201.charger_kit import (
    answer_local,
    empty_answer,
    error_to_charger,
    forward,
    on_answer,
    origin_ids,
)
from ocppkit.translators.j16_to_201.command_kit import dispatch_by_origin, lossy, mapped
from ocppkit.translators.j16_to_201.handlers import ResultHandler, Side
from ocppkit.translators.j16_to_201.id_tokens import id_tag_info, id_token
from ocppkit.translators.j16_to_201.meter_values import convert_meter_values
from ocppkit.translators.j16_to_201.state import BridgeState, Transaction
from ocppkit.translators.j16_to_201.status import CHARGING_STATE
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending

STOP_REASON = EnumMap(
    "StopTransaction.reason -> stoppedReason",
    {
        **{r: r for r in ("DeAuthorized", "EmergencyStop", "EVDisconnected", "Local", "Other",
                          "PowerLoss", "Reboot", "Remote")},
        "HardReset": "ImmediateReset",
        "SoftReset": "Other",
        "UnlockCommand": "Other",
    },
    lossy=frozenset({"SoftReset", "UnlockCommand"}),
    reference="1.6 §7.39 Reason; 2.0.1 ReasonEnumType; EVerest to_ocpp_reason "
    "(mapping-research §3.3). UnlockCommand survives as triggerReason UnlockCommand",
)  # fmt: skip
STOP_TRIGGER = EnumMap(
    "StopTransaction.reason -> TransactionEvent(Ended).triggerReason",
    {
        "Local": "StopAuthorized",
        "Remote": "RemoteStop",
        "EVDisconnected": "EVDeparted",
        "DeAuthorized": "Deauthorized",
        "HardReset": "ResetCommand",
        "SoftReset": "ResetCommand",
        "UnlockCommand": "UnlockCommand",
        "EmergencyStop": "AbnormalCondition",
        "PowerLoss": "AbnormalCondition",
        "Reboot": "AbnormalCondition",
        "Other": "AbnormalCondition",
    },
    reference="heuristic, mapping-research §3.2 (1.6 does not carry a trigger)",
)
TABLES: tuple[EnumMap, ...] = (STOP_REASON, STOP_TRIGGER)

_ENERGY = "Energy.Active.Import.Register"


def start_key(p: dict[str, Any]) -> str:
    """What makes two StartTransaction requests the same one."""
    return f"{p['connectorId']}|{p['idTag']}|{p['meterStart']}|{p['timestamp']}"


def _register(meter: int, timestamp: str, context: str) -> dict[str, Any]:
    # 1.6 meterStart/meterStop are integer Wh of the energy register (1.6 §6.46).
    sample = {
        "value": meter,
        "context": context,
        "measurand": _ENERGY,
        "unitOfMeasure": {"unit": "Wh"},
    }
    return {"timestamp": timestamp, "sampledValue": [sample]}


def _started_event(
    state: BridgeState, ctx: Context, tx: Transaction, p: dict[str, Any]
) -> dict[str, Any]:
    info: dict[str, Any] = {"transactionId": tx.id201}
    if tx.charging_state is not None:
        info["chargingState"] = tx.charging_state
    if tx.remote_start_id is not None:
        info["remoteStartId"] = tx.remote_start_id
    event = {
        "eventType": "Started",
        "timestamp": tx.started_at,
        "triggerReason": "Authorized" if tx.remote_start_id is None else "RemoteStart",
        "seqNo": 0,
        "transactionInfo": info,
        "idToken": id_token(state, ctx, tx.id_tag),
        "evse": {"id": tx.evse_id, "connectorId": 1},
        "meterValue": [_register(tx.meter_start, tx.started_at, "Transaction.Begin")],
    }
    if "reservationId" in p:
        event["reservationId"] = p["reservationId"]
    return event


def _forget_ended(state: BridgeState, connector: int) -> None:
    gone = [k for k, t in state.transactions.items() if t.connector_id == connector and t.ended]
    for k in gone:
        del state.transactions[k]
    if gone:
        ids = {int(k) for k in gone}
        state.start_keys = {k: v for k, v in state.start_keys.items() if v not in ids}


def _pending_event(state: BridgeState, tx: Transaction, origin_action: str) -> Pending | None:
    for key, pending in state.pending.items():
        if (
            key.startswith(Side.CSMS.value)
            and pending.origin_action == origin_action
            and pending.data.get("id201") == tx.id201
        ):
            return pending
    return None


def _retry(state: BridgeState, call: Call, tx: Transaction, answer: dict[str, Any] | None) -> Step:
    """A retried Start/StopTransaction: never a second event."""
    waiting = _pending_event(state, tx, call.action)
    if waiting is not None:
        if call.message_id not in origin_ids(waiting):
            waiting.data.setdefault("also_answer", []).append(call.message_id)
        detail = f"retry of transaction {tx.id16}: answered with the first"
        return Step(notes=(Note(NoteKind.DUPLICATE, call.action, detail),))
    if answer is not None:
        detail = f"retry of transaction {tx.id16}: answered from state"
        return answer_local(call, answer, NoteKind.DUPLICATE, detail)
    return Step()  # the first attempt failed: the caller sends the event again


def start_transaction(state: BridgeState, call: Call, ctx: Context) -> Step:
    """StartTransaction -> TransactionEvent(Started), minting both ids."""
    p = call.payload
    key = start_key(p)
    known = state.start_keys.get(key)
    tx = state.transaction(known) if known is not None else None
    if tx is not None:
        answer = None
        if tx.id_tag_info is not None:
            answer = {"idTagInfo": tx.id_tag_info, "transactionId": tx.id16}
        step = _retry(state, call, tx, answer)
        if step.to_charger or step.notes:
            return step
        note = Note(NoteKind.DUPLICATE, call.action, "retry after a refused Started: sent again")
        event = _started_event(state, ctx, tx, p)
        return forward(
            state, call, "TransactionEvent", event, data={"id201": tx.id201}, notes=[note]
        )
    connector = p["connectorId"]
    notes: list[Note] = []
    _forget_ended(state, connector)
    before = Step()
    open_tx = state.active_on(connector)
    if open_tx is not None and dangling.enabled(ctx, "new_transaction"):
        before = dangling.end(state, open_tx, ctx, "new_transaction", p["timestamp"])
    elif open_tx is not None:
        detail = f"transaction {open_tx.id16} on connector {connector} was never stopped"
        notes.append(Note(NoteKind.ORPHAN, call.action, detail))
    remote = state.remote_starts.pop(str(connector), None)
    if remote is None:
        remote = state.remote_starts.pop("0", None)
    tx = Transaction(
        id16=state.next_tx_id16,
        id201=ctx.new_id(),
        connector_id=connector,
        evse_id=connector,
        id_tag=p["idTag"],
        meter_start=p["meterStart"],
        started_at=p["timestamp"],
        remote_start_id=remote,
        charging_state=CHARGING_STATE.rows.get(state.connector_status.get(str(connector), "")),
    )
    state.next_tx_id16 += 1
    tx.seq_no = 1
    state.transactions[str(tx.id16)] = tx
    state.start_keys[key] = tx.id16
    state.active_by_connector[str(connector)] = tx.id16
    event = _started_event(state, ctx, tx, p)
    started = forward(state, call, "TransactionEvent", event, data={"id201": tx.id201}, notes=notes)
    return before + started


def stop_transaction(state: BridgeState, call: Call, ctx: Context) -> Step:
    """StopTransaction (+ transactionData) -> TransactionEvent(Ended)."""
    p = call.payload
    tx = state.transaction(p["transactionId"])
    if tx is None:
        # The CSMS never saw this transaction; answering stops the charger's retries.
        detail = f"unknown transactionId {p['transactionId']}: answered locally, nothing sent"
        return answer_local(call, {}, NoteKind.ORPHAN, detail)
    if tx.ended and tx.ended_by is not None and _pending_event(state, tx, call.action) is None:
        detail = (
            f"transaction {tx.id16} was already ended by the bridge ({tx.ended_by} rule): "
            f"answered locally, meterStop {p['meterStop']} not sent"
        )
        return Step(to_charger=(CallResult(call.message_id, {}),)) + Step(
            notes=(lossy(state, call.action, "meterStop", detail),)
        )
    if tx.ended:
        # Acknowledged (or still waiting): a refused Ended re-opens the
        # transaction (see _stopped), so a retry after it is sent again.
        return _retry(state, call, tx, {})
    notes: list[Note] = []
    reason = p.get("reason")
    if reason is None and tx.remote_stop:
        # 1.5 StopTransaction has no reason; the bridge relayed the stop.
        reason = "Remote"
        detail = "no reason given; the bridge relayed a RemoteStopTransaction for it: Remote"
        notes.append(Note(NoteKind.LOSSY, call.action, f"reason: {detail}", rule="reason:remote"))
    elif reason is None:
        reason = "Local"  # 1.6 §6.50: absent means Local
    stopped, found = mapped(state, STOP_REASON, reason, call.action, "reason")
    notes.extend(found)
    values = convert_meter_values(state, p.get("transactionData", []), call.action, notes)
    values.append(_register(p["meterStop"], p["timestamp"], "Transaction.End"))
    event: dict[str, Any] = {
        "eventType": "Ended",
        "timestamp": p["timestamp"],
        "triggerReason": STOP_TRIGGER(reason)[0],
        "seqNo": tx.seq_no,
        "transactionInfo": {"transactionId": tx.id201, "stoppedReason": stopped},
        "evse": {"id": tx.evse_id, "connectorId": 1},
        "meterValue": values,
    }
    if "idTag" in p:
        event["idToken"] = id_token(state, ctx, p["idTag"])
    tx.seq_no += 1
    tx.ended = True
    if state.active_by_connector.get(str(tx.connector_id)) == tx.id16:
        del state.active_by_connector[str(tx.connector_id)]
    return forward(state, call, "TransactionEvent", event, data={"id201": tx.id201}, notes=notes)


def _started(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """TransactionEventResponse (Started) -> StartTransaction.conf."""
    ids = origin_ids(pending)
    if isinstance(answer, CallError):
        return error_to_charger(ids, answer)
    tx = state.by_id201(pending.data["id201"])
    if tx is None:
        return Step(notes=(Note(NoteKind.ORPHAN, pending.action, "transaction forgotten"),))
    notes: list[Note] = []
    if "idTokenInfo" in answer.payload:
        info, notes = id_tag_info(state, answer.payload["idTokenInfo"], pending.origin_action)
    else:
        info = {"status": "Accepted"}
        detail = "no idTokenInfo in TransactionEventResponse: idTagInfo Accepted"
        notes.append(Note(NoteKind.LOCAL_ANSWER, pending.origin_action, detail))
    tx.id_tag_info = info
    conf = {"idTagInfo": info, "transactionId": tx.id16}
    return Step(to_charger=tuple(CallResult(mid, conf) for mid in ids), notes=tuple(notes))


def _stopped(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """TransactionEventResponse (Ended) -> StopTransaction.conf."""
    ids = origin_ids(pending)
    if isinstance(answer, CallError):
        tx = state.by_id201(pending.data["id201"])
        if tx is not None and tx.ended:
            # Not delivered: undo, so the charger's retry sends the same Ended.
            tx.ended = False
            tx.seq_no -= 1
            state.active_by_connector.setdefault(str(tx.connector_id), tx.id16)
        return error_to_charger(ids, answer)
    conf: dict[str, Any] = {}
    notes: list[Note] = []
    if "idTokenInfo" in answer.payload:
        info, notes = id_tag_info(state, answer.payload["idTokenInfo"], pending.origin_action)
        conf["idTagInfo"] = info
    return Step(to_charger=tuple(CallResult(mid, conf) for mid in ids), notes=tuple(notes))


CALLS = {"StartTransaction": start_transaction, "StopTransaction": stop_transaction}
RESULTS: dict[str, ResultHandler] = {
    "TransactionEvent": dispatch_by_origin(
        {
            "StartTransaction": _started,
            "StopTransaction": _stopped,
            "MeterValues": on_answer(empty_answer),
            "StatusNotification": on_answer(empty_answer),
            dangling.ORIGIN: on_answer(empty_answer),
        }
    ),
}


def adopt_transaction_id(state: BridgeState, id201: str, id16: int) -> None:
    """Renumber a transaction to the integer a 1.6 CSMS gave it.

    Used when a recorded 1.6 conversation is replayed (``ocppkit translate``):
    the charger's later messages use the recorded CSMS's integer, not the
    one the bridge minted.
    """
    tx = state.by_id201(id201)
    if tx is None or tx.id16 == id16:
        return
    old = tx.id16
    state.transactions.pop(str(id16), None)
    del state.transactions[str(old)]
    tx.id16 = id16
    state.transactions[str(id16)] = tx
    state.start_keys = {k: (id16 if v == old else v) for k, v in state.start_keys.items()}
    for connector, value in list(state.active_by_connector.items()):
        if value == old:
            state.active_by_connector[connector] = id16
    state.next_tx_id16 = max(state.next_tx_id16, id16 + 1)
