"""The port inventory: which chargers, ports and connectors a site has.

A KPI over ports needs the list of ports, including the ones that never said
a word: a port that never sent a status is a port that was not seen working,
not a port that does not exist. The inventory is one row per connector:

=================  ==========================================================
charge_point_id    the charger's OCPP identity
evse_id            the port (NEVI "charging port", OCPP 2.0.1 EVSE): serves
                   one vehicle at a time
connector_id       the connector as the charger numbers it: within the EVSE
                   for 2.0.1; the charger-wide ``connectorId`` for 1.5/1.6
                   (so a 1.6 charger whose connectors 1 and 2 share one port
                   lists ``evse_id = 1`` twice, with connector 1 and 2).
                   Optional: without it a port has the connectors its
                   reports name (a 1.6 connectorId without a row is its own
                   port, numbered like it)
rated_power_kw     the port's rated power (optional)
commissioned       first day the port counts (optional, inclusive, UTC)
decommissioned     day it stopped counting (optional, exclusive, UTC)
site               free text (optional)
=================  ==========================================================

Given as CSV (a header with those names) or TOML (``[[connector]]`` tables
with the same keys). Without one, :func:`infer_inventory` builds it from
everything the logs show, and says so (``inferred``).
"""

from __future__ import annotations

import csv
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ocppkit.translators.errors import ConfigError

COLUMNS = (
    "charge_point_id",
    "evse_id",
    "connector_id",
    "rated_power_kw",
    "commissioned",
    "decommissioned",
    "site",
)
_REQUIRED = ("charge_point_id", "evse_id")
LEGACY_VERSIONS = frozenset({"1.5", "1.6"})


@dataclass(frozen=True)
class Inventory:
    """One row per connector (:data:`COLUMNS`); ``inferred`` when read off the logs."""

    connectors: pd.DataFrame
    inferred: bool
    source: str = ""

    def ports(self) -> pd.DataFrame:
        """One row per port: ``charge_point_id``, ``evse_id``, ``connectors`` (tuple),
        ``rated_power_kw`` (largest of its connectors), ``commissioned``,
        ``decommissioned`` and ``site``."""
        rows = []
        for (cp, evse), g in self.connectors.groupby(["charge_point_id", "evse_id"], sort=True):
            power = g["rated_power_kw"].dropna()
            start = g["commissioned"].dropna()
            stop = g["decommissioned"]
            site = g["site"].dropna()
            rows.append(
                (
                    str(cp),
                    int(evse),
                    tuple(sorted({int(c) for c in g["connector_id"].dropna()})),
                    float(power.max()) if len(power) else None,
                    start.min() if len(start) else pd.NaT,
                    pd.NaT if stop.isna().any() else stop.max(),
                    str(site.iloc[0]) if len(site) else None,
                )
            )
        return pd.DataFrame(
            rows,
            columns=[
                "charge_point_id",
                "evse_id",
                "connectors",
                "rated_power_kw",
                "commissioned",
                "decommissioned",
                "site",
            ],
        )

    def port_of(self) -> dict[tuple[str, int], int]:
        """(charger, 1.5/1.6 connectorId) -> port, for the legacy connectors listed."""
        return {
            (str(cp), int(conn)): int(evse)
            for cp, evse, conn in self.connectors[
                ["charge_point_id", "evse_id", "connector_id"]
            ].itertuples(index=False)
            if not pd.isna(conn)
        }


def _frame(rows: list[dict[str, Any]], where: str) -> pd.DataFrame:
    if not rows:
        raise ConfigError(f"{where}: the inventory lists no connector")
    for i, row in enumerate(rows, 1):
        unknown = sorted(set(row) - set(COLUMNS))
        if unknown:
            raise ConfigError(f"{where}: row {i}: unknown column(s) {unknown}; known: {COLUMNS}")
        missing = [c for c in _REQUIRED if row.get(c) in (None, "")]
        if missing:
            raise ConfigError(f"{where}: row {i}: {', '.join(missing)} missing")
    frame = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    frame = frame.replace("", None)
    try:
        frame["charge_point_id"] = frame["charge_point_id"].astype(str)
        frame["evse_id"] = frame["evse_id"].astype(int)
        # Not given: the port's connectors are whatever its reports name.
        frame["connector_id"] = pd.to_numeric(frame["connector_id"]).astype("Int64")
        frame["rated_power_kw"] = pd.to_numeric(frame["rated_power_kw"]).astype(float)
        for column in ("commissioned", "decommissioned"):
            frame[column] = pd.to_datetime(frame[column].astype(object), utc=True)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if (frame["evse_id"] <= 0).any():
        raise ConfigError(f"{where}: evse_id must be 1 or more (0 is the whole charger)")
    return frame


def load_inventory(path: str | Path) -> Inventory:
    """Read an inventory file (``.csv`` or ``.toml``).

    Raises:
        ConfigError: the file is missing, unreadable or has a bad row.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: no such inventory file")
    if file.suffix.lower() == ".toml":
        try:
            doc = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not TOML: {exc}") from None
        rows = doc.get("connector")
        if not isinstance(rows, list):
            raise ConfigError(f"{file}: expected [[connector]] tables")
        rows = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                for r in rows]  # fmt: skip
    else:
        with file.open(newline="", encoding="utf-8") as fh:
            rows = [dict(r) for r in csv.DictReader(fh)]
    return Inventory(_frame(rows, str(file)), inferred=False, source=str(file))


def _legacy(version: Any) -> bool:
    return str(version) in LEGACY_VERSIONS


def infer_inventory(
    frames: pd.DataFrame,
    status_events: pd.DataFrame,
    sessions: pd.DataFrame,
    meter_values: pd.DataFrame | None = None,
) -> Inventory:
    """The ports the logs show.

    Sources: status reports and sessions (their EVSE and connector), meter
    values, 1.6 ``GetConfiguration`` answers naming ``NumberOfConnectors``
    (connectors 1..N), and 2.0.1 ``NotifyReport`` / ``GetVariables`` data
    naming an EVSE or connector component; a charger that sent a
    ``BootNotification`` but named no port gets port 1. A 1.5/1.6 connector
    is its own port (1.6 has no EVSE level); a 2.0.1 EVSE is a port with its
    connectors.
    """
    found: set[tuple[str, int, int]] = set()

    def add(cp: Any, evse: Any, conn: Any, version: Any) -> None:
        if cp is None or pd.isna(cp) or evse is None or pd.isna(evse) or int(evse) <= 0:
            return
        if _legacy(version):
            found.add((str(cp), int(evse), int(evse)))
        else:
            found.add((str(cp), int(evse), 1 if conn is None or pd.isna(conn) else int(conn)))

    for table in (status_events, sessions, meter_values):
        if table is None or table.empty:
            continue
        conns = table["connector_id"] if "connector_id" in table else [None] * len(table)
        versions = table["ocpp_version"] if "ocpp_version" in table else ["2.0.1"] * len(table)
        for cp, evse, conn, version in zip(
            table["charge_point_id"], table["evse_id"], conns, versions, strict=True
        ):
            add(cp, evse, conn, version)
    if not frames.empty:
        answers = frames[
            (frames["message_type"] == 3)
            & frames["matched_action"].isin(("GetConfiguration", "GetVariables"))
        ]
        for cp, payload in zip(answers["charge_point_id"], answers["payload"], strict=True):
            body = json.loads(payload)
            for key in body.get("configurationKey") or []:
                if key.get("key") == "NumberOfConnectors":
                    try:
                        n = int(str(key.get("value")))
                    except ValueError:
                        continue
                    for c in range(1, n + 1):
                        add(cp, c, c, "1.6")
            for result in body.get("getVariableResult") or []:
                evse = (result.get("component") or {}).get("evse") or {}
                add(cp, evse.get("id"), evse.get("connectorId"), "2.0.1")
        reports = frames[(frames["message_type"] == 2) & (frames["action"] == "NotifyReport")]
        for cp, payload in zip(reports["charge_point_id"], reports["payload"], strict=True):
            for item in json.loads(payload).get("reportData") or []:
                evse = (item.get("component") or {}).get("evse") or {}
                add(cp, evse.get("id"), evse.get("connectorId"), "2.0.1")
        # A charger that booted has a port even if it never named one: its first.
        booted = frames[(frames["message_type"] == 2) & (frames["action"] == "BootNotification")]
        named = {cp for cp, _, _ in found}
        for cp in set(booted["charge_point_id"].dropna().astype(str)) - named:
            found.add((cp, 1, 1))
    rows = [
        {"charge_point_id": cp, "evse_id": evse, "connector_id": conn}
        for cp, evse, conn in sorted(found)
    ]
    frame = (
        _frame(rows, "inferred inventory")
        if rows
        else pd.DataFrame(columns=list(COLUMNS)).astype({"evse_id": int, "connector_id": int})
    )
    return Inventory(frame, inferred=True, source="inferred from the logs")


def map_legacy_connectors(table: pd.DataFrame, inventory: Inventory) -> pd.DataFrame:
    """A copy of a status/session table with 1.5/1.6 rows moved to their inventory port.

    A 1.5/1.6 row's ``evse_id`` is the charger-wide connectorId: it becomes
    that connector's port (as the inventory lists it, else the connector
    itself) and ``connector_id`` becomes the connectorId. 2.0.1 rows keep
    their EVSE and connector. Station-level rows (0) stay 0.
    """
    if table.empty or "ocpp_version" not in table:
        return table
    out = table.copy()
    legacy = out["ocpp_version"].astype(str).isin(LEGACY_VERSIONS) & (out["evse_id"] > 0)
    if not legacy.any():
        return out
    port_of = inventory.port_of() if not inventory.inferred else {}
    conns = [int(c) for c in out.loc[legacy, "evse_id"]]
    cps = [str(cp) for cp in out.loc[legacy, "charge_point_id"]]
    ports = [port_of.get((cp, c), c) for cp, c in zip(cps, conns, strict=True)]
    for column, values in (("connector_id", conns), ("evse_id", ports)):
        whole = out[column].astype("Int64") if column in out else pd.Series(pd.NA, out.index)
        whole.loc[legacy] = values
        out[column] = whole
    return out
