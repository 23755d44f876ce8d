"""Per-station state of a 2.0.1 charging station bridged to a 1.6 CSMS.

Plain data: every field is a str/int/bool/None, a list or a dict of them, so
the gateway can persist it (``to_dict``/``from_dict``, JSON-safe) before it
acknowledges a message, and resume after a restart.

Why state is needed (mapping research §3.2, "Reverse"):
- The 2.0.1 station names its transaction with a string; the 1.6 CSMS hands
  out an integer only in StartTransaction.conf. Until that integer is known,
  the station's later TransactionEvents are kept (``StationTransaction.buffered``)
  and replayed as MeterValues / StopTransaction once it arrives.
- 1.6 StartTransaction requires an idTag, 2.0.1 may start a transaction at
  cable plug-in with no idToken: the transaction waits for the event that
  carries one (``id_tag is None`` until then).
- 1.6 RemoteStopTransaction names the integer, RequestStopTransaction needs
  the string: both ids live in one :class:`StationTransaction`.
- 2.0.1 RequestStartTransaction / GetLog / UpdateFirmware need integer
  request ids the 1.6 CSMS never gave: minted from counters here.
- A CALLRESULT carries only a message id: ``pending`` remembers, per side,
  what each outstanding call was, so its answer can be translated.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from ocppkit.translators.pending import Pending

MAX_FINISHED = 64  # how many finished transaction ids are remembered


@dataclass(slots=True)
class StationTransaction:
    """One station transaction, known under the station's id and, later, the CSMS's.

    Attributes:
        id201: the station's transactionId (2.0.1 TransactionType.transactionId).
        evse_id: the 2.0.1 EVSE; the 1.6 connectorId is the same number.
        id16: the integer from StartTransaction.conf, None until it arrives.
        id_tag: the 1.6 idTag the StartTransaction carries, None while unknown.
        meter_start: Energy.Active.Import.Register in Wh at the start.
        started_at: timestamp of the first event seen.
        start_sent: a StartTransaction is on its way (or answered).
        ended: an Ended event was seen.
        stop_sent: the StopTransaction was sent.
        remote_start_id: the RequestStartTransaction that started it, if any.
        reservation_id: 2.0.1 reservationId of the Started event, for 1.6.
        charging_state: last 2.0.1 chargingState reported.
        last_energy_wh: last Energy.Active.Import.Register seen, in Wh.
        seq_nos: seqNos already handled (a retried event is a duplicate).
        buffered: TransactionEvent payloads waiting for ``id16``.
    """

    id201: str
    evse_id: int
    id16: int | None = None
    id_tag: str | None = None
    meter_start: int | None = None
    started_at: str = ""
    start_sent: bool = False
    ended: bool = False
    stop_sent: bool = False
    remote_start_id: int | None = None
    reservation_id: int | None = None
    charging_state: str | None = None
    last_energy_wh: int | None = None
    seq_nos: list[int] = field(default_factory=list)
    buffered: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class StationState:
    """Everything a 2.0.1-station-behind-1.6-CSMS translation must remember.

    Attributes:
        charge_point_id: the station's identity (informative).
        free_charging_id_tag: a setting, not learnt: the 1.6 idTag used for a
            transaction that ends without ever carrying an idToken (free
            charging, cf. mapping research §3.2). Empty: such a transaction
            is not reported to the 1.6 CSMS (a note says so).
        next_remote_start_id: the next 2.0.1 remoteStartId to mint.
        next_request_id: the next 2.0.1 requestId (GetLog, UpdateFirmware).
        next_replay_id16: the next 1.6 transactionId to mint when a recorded
            2.0.1 conversation is replayed (replay.py): no 1.6 CSMS gave one.
        transactions: by the station's transactionId.
        finished: id -> start timestamp of the last transactions that ended
            (oldest first): an event retried after its transaction is done is
            a duplicate, not a new transaction; a Started event reusing the id
            with another timestamp (a station counting again after a reboot)
            is a new one.
        remote_starts: str(remoteStartId) -> {"id_tag", "evse_id"} of accepted
            or pending RemoteStartTransactions.
        connector_status: str(evseId) -> last 2.0.1 connectorStatus.
        status16: str(1.6 connectorId) -> last 1.6 status sent to the CSMS.
        log_requests: str(requestId) -> the 1.6 action that asked for the log.
        firmware_requests: str(requestId) -> the 1.6 action that asked for it.
        pending: outstanding calls, key "<side>:<message id>".
        lossy_counts: lossy conversions by "<action>.<field>".
    """

    charge_point_id: str = ""
    free_charging_id_tag: str = ""
    next_remote_start_id: int = 1
    next_request_id: int = 1
    next_replay_id16: int = 1
    transactions: dict[str, StationTransaction] = field(default_factory=dict)
    finished: dict[str, str] = field(default_factory=dict)
    remote_starts: dict[str, dict[str, Any]] = field(default_factory=dict)
    connector_status: dict[str, str] = field(default_factory=dict)
    status16: dict[str, str] = field(default_factory=dict)
    log_requests: dict[str, str] = field(default_factory=dict)
    firmware_requests: dict[str, str] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)
    lossy_counts: dict[str, int] = field(default_factory=dict)

    # -- transactions -----------------------------------------------------

    def by_id16(self, id16: int) -> StationTransaction | None:
        for tx in self.transactions.values():
            if tx.id16 == id16:
                return tx
        return None

    def active_on(self, evse_id: int) -> StationTransaction | None:
        for tx in self.transactions.values():
            if tx.evse_id == evse_id and not tx.ended:
                return tx
        return None

    def finish(self, id201: str) -> None:
        """Forget a transaction that is over, remembering its id and start."""
        tx = self.transactions.pop(id201, None)
        self.finished.pop(id201, None)
        self.finished[id201] = tx.started_at if tx is not None else ""
        while len(self.finished) > MAX_FINISHED:
            del self.finished[next(iter(self.finished))]

    def is_retry_of_finished(self, id201: str, event_type: str, timestamp: str) -> bool:
        """True when an event belongs to a transaction already finished."""
        if id201 not in self.finished:
            return False
        return event_type != "Started" or self.finished[id201] == timestamp

    def mint_remote_start_id(self) -> int:
        value = self.next_remote_start_id
        self.next_remote_start_id += 1
        return value

    def mint_request_id(self) -> int:
        value = self.next_request_id
        self.next_request_id += 1
        return value

    def count_lossy(self, key: str) -> None:
        self.lossy_counts[key] = self.lossy_counts.get(key, 0) + 1

    # -- persistence --------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe plain data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StationState:
        """Rebuild the state :meth:`to_dict` produced.

        The state owns its data: ``data`` is copied, never shared (the state
        is mutated in place by every translation).
        """
        data = copy.deepcopy(data)
        fields = dict(data)
        fields["transactions"] = {
            k: StationTransaction(**v) for k, v in data.get("transactions", {}).items()
        }
        fields["pending"] = {k: Pending(**v) for k, v in data.get("pending", {}).items()}
        return cls(**fields)
