"""Migration readiness: can this fleet's 1.5/1.6 traffic run through the bridge to 2.0.1?

Measured, not guessed: each charger's recorded conversation is replayed
through the same 1.6 -> 2.0.1 translator the bridge runs
(:mod:`ocppkit.toolkit.translate_stream`), and every message is classed by what the
translator did with it:

- ``lossless``: translated, nothing dropped or changed in meaning;
- ``lossy``: translated, with at least one lossy note (the note says what);
- ``not translated``: a message with no 2.0.1 counterpart, left out of the
  converted conversation with its reason. A legacy CSMS command is classed
  by the 2.0.1 command a 2.0.1 CSMS would send in its place (ChangeConfiguration
  -> SetVariables, ...), which the bridge translates back down.

Configuration keys the fleet reads or writes are classed by the bridge's
key table: ``standard`` (a 2.0.1 device-model variable with the same
meaning) or ``legacy`` (reachable only as ``OCPP16Config.<key>``, which a
2.0.1 CSMS will not know by itself).

1.5 frames are lifted to 1.6 first (:func:`ocppkit.translators.soap15.lift.lift`).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pandas as pd

from ocppkit.toolkit.translate_stream import translator_for
from ocppkit.translators.errors import OcppkitError
from ocppkit.translators.j16_to_201.config_keys import LEGACY_COMPONENT, row_for_key
from ocppkit.translators.journal import Direction, JournalRecord
from ocppkit.translators.schemas import Kind
from ocppkit.translators.versions import OcppVersion

LOSSLESS, LOSSY, NOT_TRANSLATED = "lossless", "lossy", "not translated"


def _message(row: Any, payload: Any) -> list[Any]:
    if row.message_type == 2:
        return [2, row.message_id, row.action, payload]
    if row.message_type == 3:
        return [3, row.message_id, payload]
    return [
        4,
        row.message_id,
        payload.get("errorCode", "GenericError"),
        payload.get("errorDescription", ""),
        payload.get("errorDetails", {}),
    ]


def _as_16(row: Any, actions: dict[tuple[str, str], str]) -> tuple[list[Any] | None, str]:
    """The frame of a frames-table row as 1.6 (1.5 lifted); None with a reason if not liftable."""
    payload = json.loads(row.payload)
    if row.ocpp_version == "1.5" and row.message_type in (2, 3):
        from ocppkit.translators.soap15.lift import lift

        action = (
            row.action
            if row.message_type == 2
            else actions.get((row.charge_point_id, row.message_id))
        )
        if action is None:
            return None, "1.5 response without its request"
        kind = Kind.REQUEST if row.message_type == 2 else Kind.RESPONSE
        try:
            payload = lift(action, kind, payload).payload
        except OcppkitError as exc:
            return None, str(exc)
    return _message(row, payload), ""


def replay_outcomes(frames: pd.DataFrame) -> pd.DataFrame:
    """One row per legacy frame: charger, action, who sent it, and its outcome with notes."""
    legacy = frames[frames["ocpp_version"].isin(["1.5", "1.6"]) & frames["direction"].notna()]
    legacy = legacy.sort_values(["charge_point_id", "timestamp", "line"], kind="stable")
    translator = translator_for(OcppVersion.V16, OcppVersion.V201)
    calls: dict[tuple[str, str], str] = {}
    rows: list[dict[str, Any]] = []
    for number, row in enumerate(legacy.itertuples(index=False)):
        action = row.action if row.message_type == 2 else row.matched_action
        if row.message_type == 2:
            calls[(row.charge_point_id, row.message_id)] = row.action
        base = {
            "charge_point_id": row.charge_point_id,
            "ocpp_version": row.ocpp_version,
            "direction": row.direction,
            "message_type": int(row.message_type),
            "action": action or "(unmatched result)",
        }
        message, why = _as_16(row, calls)
        if message is None:
            rows.append({**base, "outcome": NOT_TRANSLATED, "detail": why})
            continue
        stamp = (
            row.timestamp.isoformat().replace("+00:00", "Z")
            if not pd.isna(row.timestamp)
            else ("1970-01-01T00:00:00Z")
        )
        record = JournalRecord(
            stamp, row.charge_point_id, Direction(row.direction), OcppVersion.V16, message
        )
        fed = translator.feed(record, number)
        notes = [n for out in fed.records for n in out.meta.get("notes", [])]
        untranslated = [entry.reason for entry in fed.left_out]
        refused = [n for n in notes if n["kind"] == "not_supported"]
        if untranslated or refused:
            detail = "; ".join([*map(str, untranslated), *(n["detail"] for n in refused)])
            rows.append({**base, "outcome": NOT_TRANSLATED, "detail": detail})
        elif any(n["kind"] == "lossy" for n in notes):
            detail = "; ".join(sorted({n["detail"] for n in notes if n["kind"] == "lossy"}))
            rows.append({**base, "outcome": LOSSY, "detail": detail})
        else:
            rows.append({**base, "outcome": LOSSLESS, "detail": ""})
    return pd.DataFrame(
        rows,
        columns=[
            "charge_point_id",
            "ocpp_version",
            "direction",
            "message_type",
            "action",
            "outcome",
            "detail",
        ],
    )


def actions_used(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per action and sender: how many messages, and how many of each outcome."""
    calls = outcomes[outcomes["message_type"] == 2]
    table = pd.crosstab([calls["action"], calls["direction"]], calls["outcome"]).reset_index()
    for column in (LOSSLESS, LOSSY, NOT_TRANSLATED):
        if column not in table:
            table[column] = 0
    table["messages"] = table[[LOSSLESS, LOSSY, NOT_TRANSLATED]].sum(axis=1)
    return table.sort_values("messages", ascending=False, kind="stable").reset_index(drop=True)


def configuration_keys(frames: pd.DataFrame) -> pd.DataFrame:
    """Configuration keys the fleet reads (GetConfiguration) or writes (ChangeConfiguration)."""
    seen: Counter[tuple[str, str]] = Counter()
    legacy = frames[frames["ocpp_version"].isin(["1.5", "1.6"])]
    for row in legacy.itertuples(index=False):
        body = json.loads(row.payload)
        if row.message_type == 2 and row.action == "ChangeConfiguration" and "key" in body:
            seen[(row.charge_point_id, body["key"])] += 1
        elif row.message_type == 3 and row.matched_action == "GetConfiguration":
            for item in body.get("configurationKey", []) or []:
                seen[(row.charge_point_id, item["key"])] += 1
    rows = []
    for (cp, key), count in sorted(seen.items()):
        known = row_for_key(key)
        target = f"{known.component}.{known.variable}" if known else f"{LEGACY_COMPONENT}.{key}"
        rows.append(
            {
                "charge_point_id": cp,
                "key": key,
                "uses": count,
                "class": "standard" if known else "legacy",
                "2.0.1 variable": target,
            }
        )
    return pd.DataFrame(rows, columns=["charge_point_id", "key", "uses", "class", "2.0.1 variable"])


def charger_models(frames: pd.DataFrame) -> pd.DataFrame:
    """Vendor and model per charger, from its last BootNotification."""
    boots = frames[(frames["message_type"] == 2) & (frames["action"] == "BootNotification")]
    rows = {}
    for row in boots.itertuples(index=False):
        body = json.loads(row.payload)
        station = body.get("chargingStation", {})
        vendor = body.get("chargePointVendor") or station.get("vendorName") or "unknown"
        model = body.get("chargePointModel") or station.get("model") or "unknown"
        rows[row.charge_point_id] = (vendor, model)
    return pd.DataFrame(
        [(cp, v, m) for cp, (v, m) in sorted(rows.items())],
        columns=["charge_point_id", "vendor", "model"],
    )


def readiness_by_model(
    outcomes: pd.DataFrame, keys: pd.DataFrame, models: pd.DataFrame
) -> pd.DataFrame:
    """Per charger model: share of messages lossless / lossy / not translated, and of standard keys.

    ``ready`` means every call the chargers sent translated (lossless or lossy)
    and every key the fleet uses is reachable (all are, as OCPP16Config at
    worst); ``lossless_pct`` is the headline readiness figure.
    """
    by_cp = outcomes.merge(models, on="charge_point_id", how="left").fillna(
        {"vendor": "unknown", "model": "unknown"}
    )
    rows = []
    for (vendor, model), group in by_cp.groupby(["vendor", "model"], sort=True):
        counts = group["outcome"].value_counts()
        total = len(group)
        charger_sent = group[(group["direction"] == "cs_to_csms") & (group["message_type"] == 2)]
        key_rows = keys[keys["charge_point_id"].isin(group["charge_point_id"].unique())]
        rows.append(
            {
                "vendor": vendor,
                "model": model,
                "chargers": int(group["charge_point_id"].nunique()),
                "messages": total,
                "lossless_pct": 100.0 * counts.get(LOSSLESS, 0) / total,
                "lossy_pct": 100.0 * counts.get(LOSSY, 0) / total,
                "not_translated_pct": 100.0 * counts.get(NOT_TRANSLATED, 0) / total,
                "standard_keys_pct": 100.0 * float((key_rows["class"] == "standard").mean())
                if len(key_rows)
                else float("nan"),
                "ready": bool((charger_sent["outcome"] != NOT_TRANSLATED).all()),
            }
        )
    return pd.DataFrame(rows)
