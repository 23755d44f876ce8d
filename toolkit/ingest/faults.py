"""Fault intervals: from the first report of a problem to the report that clears it.

Two sources, one interval model:

* StatusNotification (1.5/1.6/2.0.1): a connector is in fault while its
  status is Faulted or (1.5/1.6) its errorCode is not NoError; the next
  report without either ends the interval, and a different errorCode ends it
  and starts the next one (1.6 §7.6 ChargePointErrorCode);
* 2.0.1 NotifyEvent: an eventData item on variable ``Problem`` with
  ``actualValue`` "true" opens an interval for its component; "false" or
  ``cleared: true`` ends it (2.0.1 Part 2 N07/N08 and the Device Model's
  Problem variable).

State is one open interval per (charger, EVSE, connector, source), so memory
is bounded by the fleet's size, not the log's.

One fault, one interval: in 2.0.1 a StatusNotification Faulted carries no
cause and the NotifyEvent that reports the same problem does, so while a
NotifyEvent problem is open on an EVSE, a cause-less Faulted status on it is
the same fault (the interval keeps the earlier start and the NotifyEvent's
code) rather than a second one.
"""

from __future__ import annotations

from typing import Any

from ocppkit.toolkit.ingest.events import parse_ts
from ocppkit.toolkit.ingest.vocab import NO_ERROR

FaultKey = tuple[str | None, int | None, int | None, str]


class FaultTracker:
    """Open fault intervals; closed ones are appended to ``rows`` (FAULTS column order)."""

    def __init__(self) -> None:
        self.open: dict[FaultKey, list[Any]] = {}
        self.rows: list[tuple[Any, ...]] = []

    def _close(self, key: FaultKey, end: int | None) -> None:
        f = self.open.pop(key)
        start = f[3]
        duration = (end - start) / 1_000_000 if end is not None and start is not None else None
        self.rows.append((*f[:4], end, duration, *f[4:]))

    def _report(
        self, key: FaultKey, ts: int | None, active: bool, code: str | None, vendor: str | None,
        info: str | None, status: str | None, source: str, version: str,
    ) -> None:  # fmt: skip
        current = self.open.get(key)
        if current is not None and (not active or current[4] != code):
            self._close(key, ts)
            current = None
        if not active:
            return
        if current is None:
            cp, evse, conn, _ = key
            self.open[key] = [cp, evse, conn, ts, code, vendor, info, status, source, 1, version]
        else:
            current[9] += 1

    def status(
        self, cp: str | None, evse: int | None, conn: int | None, ts: int | None,
        connector_status: str | None, error_code: str | None, vendor: str | None,
        info: str | None, version: str,
    ) -> None:  # fmt: skip
        faulted = connector_status == "Faulted"
        erring = error_code is not None and error_code != NO_ERROR
        code = error_code if erring else ("Faulted" if faulted else None)
        if code == "Faulted" and self._notified(cp, evse):
            return  # the NotifyEvent interval open on this EVSE is this fault, with its cause
        self._report((cp, evse, conn, "status"), ts, faulted or erring, code, vendor, info,
                     connector_status, "StatusNotification", version)  # fmt: skip

    def notify_event(self, cp: str | None, payload: dict[str, Any], version: str) -> None:
        for item in payload.get("eventData") or ():
            if not isinstance(item, dict):
                continue
            variable = (item.get("variable") or {}).get("name")
            component = item.get("component") or {}
            if variable != "Problem":
                continue
            evse = component.get("evse") or {}
            stamp = item.get("timestamp")
            ts = parse_ts(stamp) if isinstance(stamp, str) else None
            active = str(item.get("actualValue", "")).lower() == "true" and not item.get("cleared")
            key = (cp, evse.get("id"), evse.get("connectorId"), f"notify:{component.get('name')}")
            code = item.get("techCode") or f"{component.get('name')}Problem"
            if active and key not in self.open:
                ts = self._absorb_causeless(cp, evse.get("id"), ts)
            self._report(key, ts, active, code, None, item.get("techInfo"), None, "NotifyEvent",
                         version)  # fmt: skip

    def _notified(self, cp: str | None, evse: int | None) -> bool:
        return any(k[0] == cp and k[1] == evse and k[3].startswith("notify:") for k in self.open)

    def _absorb_causeless(self, cp: str | None, evse: int | None, ts: int | None) -> int | None:
        """Drop an open cause-less Faulted status interval on this EVSE; its start if earlier."""
        for key in [k for k in self.open if k[0] == cp and k[1] == evse and k[3] == "status"]:
            if self.open[key][4] == "Faulted":
                start = self.open.pop(key)[3]
                if start is not None and (ts is None or start < ts):
                    ts = start
        return ts

    def finish(self) -> None:
        """Close nothing: intervals still open at the end keep a null end time."""
        for key in list(self.open):
            self._close(key, None)
