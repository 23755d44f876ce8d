"""Lifting OCPP 1.5 payloads to OCPP 1.6 (and lowering them back).

1.5 -> 2.0.1 is 1.5 -> 1.6 -> 2.0.1: this module does the first hop, on the
plain dicts of :mod:`ocppkit.translators.soap15.codec` and the JSON payloads of
1.6J. Both services keep their operation names in 1.6, so the action name
is the same on both sides. :func:`lift` goes up (1.5 -> 1.6), :func:`lower`
goes down (1.6 -> 1.5), for requests and responses of every 1.5 operation.

The work is table-driven (:mod:`ocppkit.translators.soap15.lift_tables`), applied in
one order: fields only one side has, renamed fields, enum fields, 1.6 length
limits, then the two reshaped structures (meter values, StopTransaction's
transactionData). Every change that loses information adds a LOSSY note.
1.6 actions 1.5 lacks raise :class:`TranslationError` (NotSupported) with the
reason from :data:`NOT_SUPPORTED`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ocppkit.translators.engine import Notes
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.outcome import Note, NoteKind
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15.lift_meter import meter_values_down, meter_values_up
from ocppkit.translators.soap15.lift_tables import (
    ENUM_FIELDS,
    ENUM_TABLES,
    ERROR_CODE_DOWN,
    LENGTH_LIMITS_16,
    NOT_SUPPORTED,
    ONLY_IN_15,
    ONLY_IN_16,
    RENAMES,
    STATUS_DOWN,
)
from ocppkit.translators.soap15.operations import CHARGE_POINT, SERVICES

__all__ = [
    "NOT_SUPPORTED",
    "OCCUPIED_CHOICES",
    "TABLES",
    "Lifted",
    "charge_point_operations",
    "lift",
    "lower",
    "operations",
]

TABLES = ENUM_TABLES

# What 1.5 "Occupied" may become when the caller knows the transaction state.
OCCUPIED_CHOICES = frozenset(k for k, v in STATUS_DOWN.rows.items() if v == "Occupied")


@dataclass(frozen=True, slots=True)
class Lifted:
    """A translated payload and the notes on what it lost."""

    payload: dict[str, Any]
    notes: tuple[Note, ...] = ()


def operations() -> frozenset[str]:
    """Every action that exists in both 1.5 and 1.6."""
    return frozenset(op.name for s in SERVICES for op in s.operations)


def _check(action: str) -> None:
    if action in NOT_SUPPORTED:
        raise TranslationError(f"{action}: {NOT_SUPPORTED[action]}")
    if action not in operations():
        raise TranslationError(f"{action} is not an OCPP 1.5 operation")


class _Notes(Notes):
    """The engine's note collector; a lift keeps no state, so nothing is counted."""

    def __init__(self, action: str) -> None:
        super().__init__(None, action)

    def __call__(self, detail: str) -> None:
        self.add(NoteKind.LOSSY, detail)


def lift(
    action: str, kind: Kind, payload: dict[str, Any], *, occupied_as: str | None = None
) -> Lifted:
    """A 1.5 payload (codec dict) as the 1.6J payload of the same action.

    Args:
        action: the operation, e.g. ``"MeterValues"``.
        kind: request or response.
        payload: the 1.5 body as a plain dict.
        occupied_as: the 1.6 status a 1.5 ``Occupied`` becomes, for a caller
            that tracks transactions (one of :data:`OCCUPIED_CHOICES`);
            default Charging.

    Raises:
        TranslationError: not a 1.5 operation, or a value with no 1.6 form.
    """
    _check(action)
    key = (action, kind.value)
    note = _Notes(action)
    out = copy.deepcopy(payload)
    for name, why in ONLY_IN_15.get(key, {}).items():
        if out.pop(name, None) is not None:
            note(f"{name} dropped: {why}")
    for old, new in RENAMES.get(key, ()):
        if old in out:
            out[new] = out.pop(old)
    for name, up, _ in ENUM_FIELDS.get(key, ()):
        if up is None or name not in out:
            continue
        value = out[name]
        out[name], was_lossy = up(value)
        if name == "status" and value == "Occupied" and occupied_as is not None:
            if occupied_as not in OCCUPIED_CHOICES:
                raise TranslationError(f"occupied_as must be one of {sorted(OCCUPIED_CHOICES)}")
            out[name] = occupied_as
        if was_lossy:
            note(f"{name} {value} became {out[name]} ({up.reference})")
    for (act, knd, name), limit in LENGTH_LIMITS_16.items():
        value = out.get(name)
        if (act, knd) == key and isinstance(value, str) and len(value) > limit:
            out[name] = value[:limit]
            note(f"{name} cut to the 1.6 limit of {limit} characters")
    if key == ("MeterValues", "request"):
        out["meterValue"] = meter_values_up(out.get("meterValue", []))
        if not out["meterValue"]:
            # 1.6J requires minItems 1; an empty 1.5 MeterValues says nothing.
            raise TranslationError("MeterValues without values has no 1.6 form (minItems 1)")
    if key == ("StopTransaction", "request") and "transactionData" in out:
        # 1.5 wraps samples one level deeper: transactionData[].values[].
        groups = out.pop("transactionData")
        flat = [mv for td in groups for mv in td.get("values", [])]
        if len(groups) > 1:
            note(f"{len(groups)} transactionData groups merged (1.6 has one flat list)")
        if flat:
            out["transactionData"] = meter_values_up(flat)
    return Lifted(out, tuple(note.items))


def lower(action: str, kind: Kind, payload: dict[str, Any]) -> Lifted:
    """A 1.6J payload as the 1.5 payload (codec dict) of the same action.

    Raises:
        TranslationError: the action has no 1.5 operation (NotSupported, with
            the reason), or a value has no 1.5 form (e.g. a 1.6-only status).
    """
    _check(action)
    key = (action, kind.value)
    note = _Notes(action)
    out = copy.deepcopy(payload)
    for name, why in ONLY_IN_16.get(key, {}).items():
        if out.pop(name, None) is not None:
            note(f"{name} dropped: {why}")
    for old, new in RENAMES.get(key, ()):
        if new in out:
            out[old] = out.pop(new)
    for name, _, down in ENUM_FIELDS.get(key, ()):
        if down is None or name not in out:
            continue
        value = out[name]
        out[name], was_lossy = down(value)
        if was_lossy:
            note(f"{name} {value} became {out[name]} ({down.reference})")
        if down is ERROR_CODE_DOWN and was_lossy and "vendorErrorCode" not in out:
            out["vendorErrorCode"] = value  # keep the 1.6 code where 1.5 has room
    if key == ("MeterValues", "request"):
        values = meter_values_down(out.pop("values", []), note)
        if values:
            out["values"] = values
    if key == ("StopTransaction", "request") and "transactionData" in out:
        values = meter_values_down(out.pop("transactionData"), note)
        if values:
            out["transactionData"] = [{"values": values}]
    return Lifted(out, tuple(note.items))


def charge_point_operations() -> frozenset[str]:
    """Actions a 1.6 CSMS may send that a 1.5 charger understands."""
    return frozenset(op.name for op in CHARGE_POINT.operations)
