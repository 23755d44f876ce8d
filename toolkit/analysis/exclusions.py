"""NEVI excluded outages, read from a file with the evidence for each.

23 CFR 680.116(b) lets an operator take out of ``T_outage`` the minutes an
outage had a cause outside its control, "provided that the charging station
operator can demonstrate that the charging port would otherwise be
operational". Logs cannot show the cause, so the operator lists them:

========================  ====================================================
start, end                the window (RFC 3339; a time without zone is UTC)
reason                    ``utility_interruption`` (also ``utility_outage``),
                          ``vandalism``, ``scheduled_maintenance``,
                          ``vehicle_fault``, ``natural_disaster``
evidence                  what demonstrates it (a utility ticket, a police
                          report, a work order): required
charge_point_id, evse_id  optional: which charger / port (empty = all)
========================  ====================================================

As CSV (a header with those names) or TOML (``[[exclusion]]`` tables).
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from ocppkit.toolkit.analysis.availability import NEVI_EXCLUSION_REASONS, Exclusion
from ocppkit.translators.errors import ConfigError

ALIASES = {"utility_outage": "utility_interruption", "maintenance": "scheduled_maintenance"}
KEYS = ("start", "end", "reason", "evidence", "charge_point_id", "evse_id")


def _exclusion(row: dict[str, Any], where: str) -> Exclusion:
    unknown = sorted(set(row) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {', '.join(KEYS)}")
    reason = str(row.get("reason") or "").strip().lower().replace(" ", "_")
    reason = ALIASES.get(reason, reason)
    if reason not in NEVI_EXCLUSION_REASONS:
        raise ConfigError(
            f"{where}: {row.get('reason')!r} is not a NEVI exclusion; "
            f"allowed: {', '.join(sorted(NEVI_EXCLUSION_REASONS))}"
        )
    evidence = str(row.get("evidence") or "").strip()
    if not evidence:
        raise ConfigError(f"{where}: no evidence (680.116(b) asks the operator to demonstrate it)")
    try:
        start = pd.Timestamp(str(row["start"]))
        end = pd.Timestamp(str(row["end"]))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{where}: start and end must be times ({exc})") from None
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    if end <= start:
        raise ConfigError(f"{where}: end is not after start")
    cp = row.get("charge_point_id") or None
    evse = row.get("evse_id")
    return Exclusion(
        start, end, reason, str(cp) if cp else None,
        int(evse) if evse not in (None, "") else None, evidence,
    )  # fmt: skip


def load_exclusions(path: str | Path) -> list[Exclusion]:
    """Read an exclusions file (``.csv`` or ``.toml``).

    Raises:
        ConfigError: missing file, unknown reason, no evidence, bad times.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: no such exclusions file")
    if file.suffix.lower() == ".toml":
        try:
            rows = tomllib.loads(file.read_text(encoding="utf-8")).get("exclusion")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not TOML: {exc}") from None
        if not isinstance(rows, list):
            raise ConfigError(f"{file}: expected [[exclusion]] tables")
    else:
        with file.open(newline="", encoding="utf-8") as fh:
            rows = [dict(r) for r in csv.DictReader(fh)]
    return [_exclusion(r, f"{file}: row {i}") for i, r in enumerate(rows, 1)]
