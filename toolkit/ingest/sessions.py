"""Sessions: one row per transaction, whatever version it was logged in.

Theory of operation. The stateful pass sees, in log order, the control
events of :mod:`ocppkit.toolkit.ingest.block`. A transaction is assembled from:

* 1.5/1.6: StartTransaction (connector, idTag, timestamp, meterStart) whose
  answer names the transactionId (the CSMS assigns it, 1.6 §6.46), the
  MeterValues naming that id (or, without an id, sent on its connector while
  it is open), and StopTransaction (timestamp, meterStop, reason,
  transactionData);
* 2.0.1: TransactionEvent Started/Updated/Ended with the station's
  transactionId (2.0.1 Part 2 E01-E15), their meterValue (Transaction.Begin
  and Transaction.End registers) and chargingState; MeterValues on the EVSE.

Both produce the same row for the same session: times are the charger's
payload times, energies the registers in Wh, the stop reason in 2.0.1's
vocabulary (:data:`ocppkit.toolkit.ingest.vocab.STOP_REASON_16`), and the charging
time is the time the connector spent in charging state Charging (1.6 status
Charging, 2.0.1 chargingState Charging) between start and stop.

The meterStart reading of a 1.5/1.6 StartTransaction becomes a meter_values
row only here: the request has no transactionId, so the row waits on its
session until the answer (or, without one, the StopTransaction) names it,
and then goes to :attr:`SessionAssembler.meter_rows` with the same id the
sessions row gets.

A 1.5/1.6 StopTransaction names no connector, and a 2.0.1 TransactionEvent
names its EVSE only in the first event after the EVSE is known (2.0.1 E02),
so the meter_values rows such a frame yields (meterStop, transactionData, a
TransactionEvent's meterValue) leave the worker without one. The session
they belong to knows it by the time the frame is handled here, whichever
block its start was in: :attr:`SessionAssembler.located` lists those frames
with their session's EVSE and connector, for the pipeline to fill in.

Memory is bounded by the open transactions and the connectors of the fleet:
a session is written out as soon as it stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ocppkit.toolkit.ingest import vocab
from ocppkit.toolkit.ingest.events import parse_ts
from ocppkit.toolkit.ingest.faults import FaultTracker
from ocppkit.toolkit.ingest.rows import StartRegister
from ocppkit.translators.versions import OcppVersion

ConnKey = tuple[str | None, int | None]
ENERGY_EPSILON_WH = 1e-6


@dataclass(slots=True)
class Session:
    cp: str | None
    evse: int | None
    conn: int | None
    tx: str | None
    version: str
    start: int | None = None
    stop: int | None = None
    id_token: str | None = None
    meter_start: float | None = None
    meter_stop: float | None = None
    first_reg: float | None = None
    last_reg: float | None = None
    max_power: float | None = None
    charging_us: int = 0
    charging_since: int | None = None
    has_state: bool = False
    stop_reason: str | None = None
    stop_wire: str | None = None
    start_key: tuple[str | None, str] | None = None
    aliases: set[str] = field(default_factory=set)
    start_rows: list[StartRegister] = field(default_factory=list)  # meterStart rows, no id yet
    flags: list[str] = field(default_factory=list)

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)


def _ts(payload: dict[str, Any], fallback: int | None) -> int | None:
    stamp = payload.get("timestamp")
    ts = parse_ts(stamp) if isinstance(stamp, str) else None
    return ts if ts is not None else fallback


class SessionAssembler:
    """Consumes control events; closed sessions accumulate in ``rows``, meterStart
    rows with their transaction ids in ``meter_rows``, the EVSE of frames that
    name none in ``located``.

    Args:
        hash_token: id token -> stored value (identity, or salted hash).
    """

    def __init__(self, hash_token: Any = None) -> None:
        self.hash = hash_token or (lambda token: token)
        self.open: dict[tuple[str | None, str], Session] = {}
        self.starting: dict[tuple[str | None, str], Session] = {}  # 1.6 start id -> session
        self.on_connector: dict[ConnKey, Session] = {}
        self.charging: dict[ConnKey, tuple[bool, int | None]] = {}
        self.faults = FaultTracker()
        self.rows: list[tuple[Any, ...]] = []
        self.meter_rows: list[StartRegister] = []
        # (frame row, evse, connector) of transaction frames that name no EVSE, with
        # their session's; the caller fills them into the frame's meter_values rows.
        self.located: list[tuple[int, int, int | None]] = []
        self.counts: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    # -- charging state ---------------------------------------------------
    def _set_charging(self, key: ConnKey, charging: bool, ts: int | None) -> None:
        self.charging[key] = (charging, ts)
        s = self.on_connector.get(key)
        if s is None or s.stop is not None:
            return
        s.has_state = True
        if charging and s.charging_since is None:
            s.charging_since = max(ts or 0, s.start or 0)
        elif not charging and s.charging_since is not None:
            if ts is not None:
                s.charging_us += max(0, ts - s.charging_since)
            s.charging_since = None

    def _attach(self, s: Session) -> None:
        key = (s.cp, s.evse)
        old = self.on_connector.get(key)
        if old is not None and old is not s and old.tx is None and old.start_key is not None:
            # A start that never got its transactionId and never stopped.
            self.starting.pop(old.start_key, None)
            old.flag("no_transaction_id")
            self._emit(old)
        self.on_connector[key] = s
        state = self.charging.get(key)
        if state is not None:
            s.has_state = True
            if state[0]:
                s.charging_since = s.start

    # -- meter readings ----------------------------------------------------
    def _readings(self, s: Session, summary: Any) -> None:
        if summary is None:
            return
        first, last, power, marks = summary[0], summary[1], summary[2], summary[3]
        if first is not None:
            drops = summary[4] if len(summary) > 4 else int(last is not None and last < first)
            if s.last_reg is not None and first < s.last_reg - ENERGY_EPSILON_WH:
                drops += 1
            if drops:
                s.flag("non_monotonic_energy")
                self.counts["non_monotonic_energy"] = (
                    self.counts.get("non_monotonic_energy", 0) + drops
                )
            if s.first_reg is None:
                s.first_reg = first
            s.last_reg = last
        if power is not None and (s.max_power is None or power > s.max_power):
            s.max_power = power
        if "Transaction.Begin" in marks and s.meter_start is None:
            s.meter_start = marks["Transaction.Begin"]
        if "Transaction.End" in marks:
            s.meter_stop = marks["Transaction.End"]

    # -- events --------------------------------------------------------------
    def handle(self, event: Sequence[Any]) -> None:
        kind = event[0]
        if kind == "mv":
            _, _, cp, _, evse, tx, summary = event
            s = self.open.get((cp, tx)) if tx is not None else None
            if s is None:
                s = self.on_connector.get((cp, evse))
                if s is not None and tx is not None and s.tx is not None and s.tx != tx:
                    s = None
            if s is not None:
                self._readings(s, summary)
            else:
                self._count("meter_values_outside_transaction")
        elif kind == "status":
            _, _, cp, version, evse, conn, ts, cstatus, cstate, err, vendor, info = event
            self.faults.status(cp, evse, conn, ts, cstatus, err, vendor, info, version)
            # 1.5 cannot tell charging from suspended (vocab.STATUS_15): no charging time.
            if evse and version != OcppVersion.V15:
                if cstate is not None:
                    self._set_charging((cp, evse), cstate == vocab.CHARGING, ts)
                elif cstatus is not None and cstatus != "Occupied":
                    self._set_charging((cp, evse), False, ts)
        elif kind == "call":
            _, row, cp, version, action, ts, payload, summary, mid = event
            if action == "TransactionEvent":
                self._transaction_event(row, cp, version, ts, payload, summary)
            elif action == "StartTransaction":
                self._start(cp, version, ts, payload, mid, summary)
            elif action == "StopTransaction":
                self._stop(row, cp, version, ts, payload, summary)
            elif action == "NotifyEvent":
                self.faults.notify_event(cp, payload, version)
        elif kind == "res":
            _, _, cp, _, mid, mtype, payload = event
            s = self.starting.pop((cp, mid), None)
            tx = payload.get("transactionId") if mtype == 3 else None
            if s is None or tx is None:
                return
            tx = str(tx)
            s.start_key = None
            if s.tx is None:
                s.tx = tx
            elif tx != s.tx:
                s.aliases.add(tx)
            self.open[(cp, tx)] = s
            self._release(s)

    def _release(self, s: Session) -> None:
        """Hand the session's waiting meterStart rows on, with its transaction id (or
        None when it never got one: they are written out with the session)."""
        if s.start_rows:
            self.meter_rows.extend(row._replace(tx=s.tx) for row in s.start_rows)
            s.start_rows.clear()

    def _start(
        self, cp: str | None, version: str, ts: int | None, p: dict[str, Any], mid: str,
        register: StartRegister | None,
    ) -> None:  # fmt: skip
        conn = p.get("connectorId")
        evse = conn if isinstance(conn, int) else None
        start = _ts(p, ts)
        current = self.on_connector.get((cp, evse))
        if (
            current is not None
            and current.stop is None
            and current.start == start
            and (current.meter_start == p.get("meterStart"))
        ):  # a retried StartTransaction (mobilityhouse/ocpp #186): same session
            self._count("retried_start")
            current.flag("retried_start")
            current.start_key = (cp, mid)
            self.starting[(cp, mid)] = current
            if register is not None:
                current.start_rows.append(register)
                if current.tx is not None:
                    self._release(current)
            return
        s = Session(cp, evse, 1 if evse else None, None, version, start=start)
        token = p.get("idTag")
        s.id_token = self.hash(token) if isinstance(token, str) else None
        wh = p.get("meterStart")
        s.meter_start = float(wh) if isinstance(wh, int | float) else None
        s.start_key = (cp, mid)
        self.starting[(cp, mid)] = s
        if register is not None:
            s.start_rows.append(register)
        self._attach(s)

    def _locate(self, row: int, s: Session) -> None:
        if s.evse is not None:
            self.located.append((row, s.evse, s.conn))

    def _stop(
        self, row: int, cp: str | None, version: str, ts: int | None, p: dict[str, Any],
        summary: Any,
    ) -> None:  # fmt: skip
        tx_raw = p.get("transactionId")
        tx = str(tx_raw) if tx_raw is not None else None
        s = self.open.get((cp, tx)) if tx is not None else None
        if s is None:  # its start never got an answer in the log: the open start on any connector
            s = next((c for c in self.on_connector.values() if c.cp == cp and c.tx is None
                      and c.stop is None), None)  # fmt: skip
            if s is not None:
                s.tx = tx
                if s.start_key is not None:
                    self.starting.pop(s.start_key, None)
        if s is None:
            s = Session(cp, None, None, tx, version)
            s.flag("no_start_event")
            self._count("stop_without_start")
        self._locate(row, s)  # 1.5/1.6 StopTransaction has no connectorId
        self._readings(s, summary)
        wh = p.get("meterStop")
        if isinstance(wh, int | float) and wh >= 0:
            s.meter_stop = float(wh)
        token = p.get("idTag")
        if s.id_token is None and isinstance(token, str):
            s.id_token = self.hash(token)
        self._close(s, _ts(p, ts), version, p.get("reason"))

    def _transaction_event(
        self, row: int, cp: str | None, version: str, ts: int | None, p: dict[str, Any],
        summary: Any,
    ) -> None:  # fmt: skip
        info = p.get("transactionInfo") or {}
        tx_raw = info.get("transactionId")
        if tx_raw is None:
            self._count("transaction_event_without_id")
            return
        tx = str(tx_raw)
        when = _ts(p, ts)
        s = self.open.get((cp, tx))
        evse = p.get("evse") or {}
        if s is None:
            s = Session(cp, evse.get("id"), evse.get("connectorId", 1 if evse else None), tx,
                        version, start=when)  # fmt: skip
            if p.get("eventType") != "Started":
                s.flag("no_start_event")
                self._count("transaction_without_started")
            self.open[(cp, tx)] = s
            if s.evse is not None:
                self._attach(s)
        elif s.evse is None and evse.get("id") is not None:
            s.evse, s.conn = evse["id"], evse.get("connectorId", 1)
            self._attach(s)
        if evse.get("id") is None and type(p.get("meterValue")) is list:
            self._locate(row, s)
        token = (p.get("idToken") or {}).get("idToken")
        if s.id_token is None and isinstance(token, str):
            s.id_token = self.hash(token)
        self._readings(s, summary)
        state = info.get("chargingState")
        if state is not None and s.evse is not None:
            self._set_charging((cp, s.evse), state == vocab.CHARGING, when)
        if p.get("eventType") == "Ended":
            self._close(s, when, version, info.get("stoppedReason"))

    def _close(self, s: Session, stop: int | None, version: str, reason: Any) -> None:
        s.stop = stop
        s.stop_wire = reason if isinstance(reason, str) else None
        s.stop_reason, lossy = vocab.stop_reason(version, s.stop_wire)
        if lossy:
            s.flag("lossy_stop_reason")
            self._count("lossy_stop_reason")
        if s.charging_since is not None and stop is not None:
            s.charging_us += max(0, stop - s.charging_since)
            s.charging_since = None
        for tx in (s.tx, *s.aliases):
            if tx is not None:
                self.open.pop((s.cp, tx), None)
        if self.on_connector.get((s.cp, s.evse)) is s:
            del self.on_connector[(s.cp, s.evse)]
        self._emit(s)

    def _emit(self, s: Session) -> None:
        self._release(s)
        start_wh, stop_wh = s.meter_start, s.meter_stop
        if start_wh is None and s.first_reg is not None:
            start_wh = s.first_reg
            s.flag("missing_start_meter")
        if stop_wh is None and s.stop is not None:
            s.flag("missing_stop_meter")
            self._count("missing_stop_meter")
            stop_wh = s.last_reg
        if s.stop is None:
            s.flag("open_at_end")
        duration = (
            (s.stop - s.start) / 1_000_000 if s.stop is not None and s.start is not None else None
        )
        energy = stop_wh - start_wh if stop_wh is not None and start_wh is not None else None
        charging = s.charging_us / 1_000_000 if s.has_state and duration is not None else None
        idle = duration - charging if charging is not None and duration is not None else None
        self.rows.append((
            s.cp, s.evse, s.conn, s.tx, s.id_token, s.start, s.stop, duration, energy, start_wh,
            stop_wh, s.max_power, charging, idle, s.stop_reason, s.stop_wire, s.version,
            ",".join(s.flags) or None,
        ))  # fmt: skip
        self._count("sessions")

    def finish(self) -> None:
        """Write out what is still open at the end of the log (flagged, stop_time null)."""
        seen: set[int] = set()
        for s in [*self.open.values(), *self.on_connector.values(), *self.starting.values()]:
            if id(s) in seen or s.stop is not None:
                continue
            seen.add(id(s))
            if s.tx is None:
                s.flag("no_transaction_id")
            self._count("open_at_end")
            s.stop_reason = None
            self._emit(s)
        self.open.clear()
        self.on_connector.clear()
        self.starting.clear()
        self.faults.finish()
