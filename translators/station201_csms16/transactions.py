"""TransactionEvent -> StartTransaction / MeterValues / StopTransaction.

Theory of operation (mapping research §3.2, "Reverse"):

1. A transaction exists for the 1.6 CSMS only once StartTransaction.conf gave
   it an integer id. StartTransaction needs an idTag, so it is sent by the
   first event of the transaction that makes one known: an event carrying a
   usable idToken, or any event of a transaction a RemoteStart started
   (transactionInfo.remoteStartId names the idTag the CSMS sent).
2. Until the integer arrives, events are kept in the transaction's buffer,
   in order. StartTransaction.conf replays them: chargingState changes as
   StatusNotification, meter values as MeterValues with the new
   transactionId, an Ended event as StopTransaction.
3. Events after that are translated as they come.
4. A transaction that ends before any idTag was known is started with the
   configured free-charging idTag and stopped at once, or, with none
   configured, not reported at all (a note says so).

Answers to the station (2.0.1 Part 2 E: TransactionEventResponse fields are
all optional, so an empty answer is always valid):

- an event that causes a 1.6 call of its own right now — the StartTransaction,
  a MeterValues, the StopTransaction — is answered **end to end** from that
  call's answer (idTagInfo -> idTokenInfo when the event carried an
  idToken). The station's retry duty for transaction messages (2.0.1 Part 2
  E, "transaction-related messages") then holds all the way to the CSMS,
  and a CALLERROR reaches the station, which retries the same seqNo.
- an event that is buffered, or that yields only derived StatusNotifications
  or nothing, is answered **locally** with ``{}``: the persisted bridge
  state has taken over the delivery duty for it.
- a retried event (a seqNo already handled) is answered locally ``{}`` and
  noted DUPLICATE: it must not be sent twice (no double billing).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.frames import Call, CallError, CallResult, Frame
from ocppkit.translators.outcome import NoteKind, Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.station201_csms16.common import (
    Notes,
    answer,
    id_tag_of,
    id_token_info_down,
    local_answer,
    relay_error,
    send,
)
from ocppkit.translators.station201_csms16.handlers import CallHandler, ResultHandler, Side
from ocppkit.translators.station201_csms16.meter import meter_values_up, register_wh
from ocppkit.translators.station201_csms16.state import StationState, StationTransaction
from ocppkit.translators.station201_csms16.status import connector16, derived_status, refresh_status
from ocppkit.translators.station201_csms16.tables import STOP_REASON_UP

ACTION = "TransactionEvent"
MAX_SEQ_NOS = 64  # how many handled seqNos a transaction remembers
MAX_BUFFERED = 500  # events kept per transaction while its 1.6 id is unknown


def _new_transaction(state: StationState, p: dict[str, Any], notes: Notes) -> StationTransaction:
    info = p["transactionInfo"]
    evse = p.get("evse")
    remote = state.remote_starts.get(str(info.get("remoteStartId")))
    if evse is not None:
        evse_id = connector16(int(evse["id"]), evse.get("connectorId"), notes)
    elif remote is not None and remote.get("evse_id") is not None:
        evse_id = int(remote["evse_id"])
    else:
        evse_id = 0
        notes.lossy("evse", "first event names no EVSE: connectorId 0")
    if p["eventType"] != "Started":
        notes.add(
            NoteKind.ORPHAN, f"first event seen of {info['transactionId']} is {p['eventType']}"
        )
    tx = StationTransaction(id201=info["transactionId"], evse_id=evse_id, started_at=p["timestamp"])
    state.transactions[tx.id201] = tx
    return tx


def _learn(state: StationState, tx: StationTransaction, p: dict[str, Any], notes: Notes) -> None:
    """Update the transaction with what this event tells."""
    info = p["transactionInfo"]
    values = p.get("meterValue", [])
    if tx.meter_start is None:
        wh, rounded = register_wh(values, "Transaction.Begin")
        if wh is not None:
            tx.meter_start = wh
            if rounded:
                notes.lossy("meterStart", "register rounded to whole Wh")
    last, _ = register_wh(values, "Transaction.End")
    if last is not None:
        tx.last_energy_wh = last
    if "remoteStartId" in info:
        tx.remote_start_id = info["remoteStartId"]
    if "reservationId" in p and tx.reservation_id is None:
        tx.reservation_id = p["reservationId"]
    if tx.id_tag is None:
        id_tag, why = id_tag_of(p.get("idToken"))
        remote = state.remote_starts.get(str(tx.remote_start_id))
        if id_tag is not None:
            tx.id_tag = id_tag
        elif remote is not None:
            tx.id_tag = remote["id_tag"]
            notes.add(NoteKind.DERIVED, f"idTag from RemoteStartTransaction {tx.remote_start_id}")
        elif "idToken" in p:
            notes.lossy("idToken", f"{why}: StartTransaction waits for another")
        if tx.id_tag is not None:
            state.remote_starts.pop(str(tx.remote_start_id), None)
    if p["eventType"] == "Ended":
        tx.ended = True


def _start_payload(tx: StationTransaction, notes: Notes) -> dict[str, Any]:
    if tx.meter_start is None:
        notes.lossy("meterStart", "no Energy.Active.Import.Register reading: 0")
    payload: dict[str, Any] = {
        "connectorId": tx.evse_id,
        "idTag": tx.id_tag,
        "meterStart": tx.meter_start or 0,
        "timestamp": tx.started_at,
    }
    if tx.reservation_id is not None:
        payload["reservationId"] = tx.reservation_id
    return payload


def _stop_payload(tx: StationTransaction, p: dict[str, Any], notes: Notes) -> dict[str, Any]:
    values = p.get("meterValue", [])
    meter_stop, rounded = register_wh(values, "Transaction.End")
    if rounded:
        notes.lossy("meterStop", "register rounded to whole Wh")
    if meter_stop is None:
        meter_stop = tx.last_energy_wh if tx.last_energy_wh is not None else tx.meter_start
    if meter_stop is None:
        notes.lossy("meterStop", "no Energy.Active.Import.Register reading: 0")
        meter_stop = 0
    payload: dict[str, Any] = {
        "transactionId": tx.id16,
        "meterStop": meter_stop,
        "timestamp": p["timestamp"],
    }
    id_tag, _ = id_tag_of(p.get("idToken"))
    if id_tag is not None:
        payload["idTag"] = id_tag
    reason = p["transactionInfo"].get("stoppedReason")
    if reason is not None:  # absent means Local in both versions
        payload["reason"] = notes.enum(STOP_REASON_UP, reason, "stoppedReason")
    data = meter_values_up(values, notes, "StopTransaction")
    if data:
        payload["transactionData"] = data
    return payload


def _emit(
    state: StationState,
    tx: StationTransaction,
    p: dict[str, Any],
    ctx: Context,
    notes: Notes,
    primary_id: str | None,
) -> tuple[Call, ...]:
    """The 1.6 calls for one event of a transaction the CSMS knows (``tx.id16`` set).

    The call that answers the event (StopTransaction, else MeterValues) gets
    ``primary_id``: the event's own message id when it is live, None (a fresh
    id, nothing to answer) when it is replayed from the buffer.
    """
    calls: list[Call] = []
    state_now = p["transactionInfo"].get("chargingState")
    if state_now is not None and state_now != tx.charging_state:
        tx.charging_state = state_now
        calls.extend(refresh_status(state, ctx, notes, tx.evse_id, p["timestamp"]))
    data = {"id201": tx.id201, "seq_no": p["seqNo"], "answer_token": "idToken" in p}
    if p["eventType"] == "Ended":
        payload = _stop_payload(tx, p, notes)
        tx.stop_sent = True
        calls.append(
            send(
                state,
                Side.CSMS,
                "StopTransaction",
                payload,
                message_id=primary_id or ctx.new_id(),
                origin_action=ACTION,
                origin_id=primary_id,
                data=data,
            )
        )
        tx.charging_state = None
        if state.connector_status.get(str(tx.evse_id)) == "Occupied":
            # The EV is still plugged in: 1.6 says Finishing (§3.4).
            calls.extend(derived_status(state, ctx, notes, tx.evse_id, "Finishing", p["timestamp"]))
        return tuple(calls)
    values = meter_values_up(p.get("meterValue", []), notes, "MeterValues")
    if values:
        payload = {"connectorId": tx.evse_id, "transactionId": tx.id16, "meterValue": values}
        calls.append(
            send(
                state,
                Side.CSMS,
                "MeterValues",
                payload,
                message_id=primary_id or ctx.new_id(),
                origin_action=ACTION,
                origin_id=primary_id,
                data=data,
            )
        )
    return tuple(calls)


def _answers(calls: tuple[Call, ...], call: Call) -> bool:
    return any(c.message_id == call.message_id for c in calls)


def transaction_event(state: StationState, call: Call, ctx: Context) -> Step:
    """One 2.0.1 TransactionEvent from the station (see the module docstring)."""
    p = call.payload
    notes = Notes(state, ACTION)
    id201: str = p["transactionInfo"]["transactionId"]
    tx = state.transactions.get(id201)
    retry = state.is_retry_of_finished(id201, p["eventType"], p["timestamp"])
    if retry or (tx is not None and (p["seqNo"] in tx.seq_nos or tx.stop_sent)):
        # A retry, or an event after the StopTransaction went: 1.6 has
        # nothing to carry it in once the transaction is stopped.
        notes.add(NoteKind.DUPLICATE, f"seqNo {p['seqNo']} of {id201} already handled")
        return local_answer(call, {}, Side.CHARGER, "retried event") + notes.step()
    if tx is None:
        state.finished.pop(id201, None)  # an id reused for a new transaction
        tx = _new_transaction(state, p, notes)
    tx.seq_nos = [*tx.seq_nos[-(MAX_SEQ_NOS - 1) :], p["seqNo"]]
    _learn(state, tx, p, notes)

    if tx.id16 is not None:
        calls = _emit(state, tx, p, ctx, notes, call.message_id)
        if _answers(calls, call):
            return notes.step(to_csms=calls)
        return local_answer(call, {}, Side.CHARGER, "nothing to wait for") + notes.step(
            to_csms=calls
        )

    if not tx.start_sent and tx.id_tag is None and tx.ended:
        if state.free_charging_id_tag:
            tx.id_tag = state.free_charging_id_tag
            notes.lossy("idToken", "ended without an idToken: free-charging idTag used")
        else:
            state.finish(id201)
            notes.lossy("transaction", "ended without an idToken: not reported to the 1.6 CSMS")
            return local_answer(call, {}, Side.CHARGER, "transaction unknown to 1.6") + (
                notes.step()
            )

    _buffer(tx, p, notes)
    if not tx.start_sent and tx.id_tag is not None:
        tx.start_sent = True
        start = send(
            state,
            Side.CSMS,
            "StartTransaction",
            _start_payload(tx, notes),
            message_id=call.message_id,
            origin_action=ACTION,
            origin_id=call.message_id,
            data={"id201": id201, "seq_no": p["seqNo"], "answer_token": "idToken" in p},
        )
        return notes.step(to_csms=(start,))
    why = "waiting for an idToken" if tx.id_tag is None else "waiting for StartTransaction.conf"
    return local_answer(call, {}, Side.CHARGER, f"buffered, {why}") + notes.step()


def _buffer(tx: StationTransaction, p: dict[str, Any], notes: Notes) -> None:
    """Keep an event for replay; past the cap, the oldest Updated event goes.

    A station charging for hours without an idToken (free charging with no
    free-charging tag configured) must not grow the state without bound.
    Started and Ended events are never dropped: they carry meterStart/Stop.
    """
    tx.buffered.append(p)
    if len(tx.buffered) > MAX_BUFFERED:
        updated = (i for i, e in enumerate(tx.buffered) if e["eventType"] == "Updated")
        oldest = next(updated, 1)
        dropped = tx.buffered.pop(oldest)
        notes.lossy("buffer", f"event seqNo {dropped['seqNo']} dropped: buffer full")


def _forget_event(tx: StationTransaction | None, seq_no: int) -> None:
    """Undo the handling of an event whose 1.6 call failed, so its retry counts."""
    if tx is None:
        return
    tx.seq_nos = [s for s in tx.seq_nos if s != seq_no]
    tx.buffered = [p for p in tx.buffered if p["seqNo"] != seq_no]


def _token_answer(pending: Pending, result: dict[str, Any], notes: Notes) -> dict[str, Any]:
    info = result.get("idTagInfo")
    if pending.data.get("answer_token") and info is not None:
        return {"idTokenInfo": id_token_info_down(info, notes)}
    return {}


def start_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    """StartTransaction.conf: the integer id arrives; buffered events follow."""
    tx = state.transactions.get(pending.data["id201"])
    if isinstance(frame, CallError):
        if tx is not None:
            tx.start_sent = False
            _forget_event(tx, pending.data["seq_no"])
        return relay_error(pending, frame, Side.CHARGER)
    notes = Notes(state, ACTION)
    step = answer(pending, _token_answer(pending, frame.payload, notes), Side.CHARGER)
    if tx is None:
        notes.add(NoteKind.ORPHAN, f"transaction {pending.data['id201']} no longer known")
        return step + notes.step()
    tx.id16 = frame.payload["transactionId"]
    calls: list[Frame] = []
    for event in tx.buffered:
        calls.extend(_emit(state, tx, event, ctx, notes, None))
    tx.buffered = []
    return step + notes.step(to_csms=tuple(calls))


def stop_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    """StopTransaction.conf: answer the Ended event; the transaction is done."""
    tx = state.transactions.get(pending.data["id201"])
    if isinstance(frame, CallError):
        if tx is not None and pending.origin_id is not None:
            tx.stop_sent = False
            _forget_event(tx, pending.data["seq_no"])
        return relay_error(pending, frame, Side.CHARGER)
    notes = Notes(state, ACTION)
    if tx is not None:
        state.finish(tx.id201)
    return answer(pending, _token_answer(pending, frame.payload, notes), Side.CHARGER) + (
        notes.step()
    )


def meter_values_result(
    state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
) -> Step:
    """MeterValues.conf answers a TransactionEvent or a 2.0.1 MeterValues: both ``{}``."""
    if isinstance(frame, CallError):
        if "id201" in pending.data:
            _forget_event(state.transactions.get(pending.data["id201"]), pending.data["seq_no"])
        return relay_error(pending, frame, Side.CHARGER)
    return answer(pending, {}, Side.CHARGER)


STATION_CALLS: dict[str, CallHandler] = {ACTION: transaction_event}
CSMS_RESULTS: dict[str, ResultHandler] = {
    "StartTransaction": start_result,
    "StopTransaction": stop_result,
    "MeterValues": meter_values_result,
}
