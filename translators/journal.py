"""The journal record: one OCPP message per JSON line.

The format every part of ocppkit shares (the bridge writes it; ingest,
convert, translate and validate read it). Its JSON Schema ships as
``translators/journal-record.schema.json`` and the README documents
it. Decoding and encoding are pure: the caller owns the files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import orjson

from ocppkit.translators.errors import JournalError
from ocppkit.translators.schema_compiler import is_date_time
from ocppkit.translators.versions import OcppVersion


class Direction(StrEnum):
    CS_TO_CSMS = "cs_to_csms"
    CSMS_TO_CS = "csms_to_cs"

    @property
    def reverse(self) -> Direction:
        return Direction.CSMS_TO_CS if self is Direction.CS_TO_CSMS else Direction.CS_TO_CSMS


class Leg(StrEnum):
    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"


# Not frozen: a frozen dataclass's __init__ sets each field through
# object.__setattr__, four times the cost of a plain one, and a record is built
# for every message. Treated as immutable all the same: change a copy
# (dataclasses.replace), never one in place.
@dataclass(slots=True)
class JournalRecord:
    timestamp: str
    charge_point_id: str
    direction: Direction
    ocpp_version: OcppVersion
    message: list[Any] | str
    leg: Leg | None = None
    seq: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "timestamp": self.timestamp,
            "charge_point_id": self.charge_point_id,
            "direction": self.direction.value,
            "ocpp_version": self.ocpp_version.value,
            "message": self.message,
        }
        if self.leg is not None:
            out["leg"] = self.leg.value
        if self.seq is not None:
            out["seq"] = self.seq
        if self.meta:
            out["meta"] = self.meta
        return out


@cache
def journal_schema() -> dict[str, Any]:
    """The project's JSON Schema of a journal record."""
    text = (resources.files("ocppkit.translators") / "journal-record.schema.json").read_text()
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def _max_cpid_length() -> int:
    """charge_point_id's maxLength, as the journal schema states it."""
    return int(journal_schema()["properties"]["charge_point_id"]["maxLength"])


@cache
def _check() -> Any:
    return fastjsonschema.compile(journal_schema())


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a Z, as records carry."""
    if moment.tzinfo is None:
        raise JournalError("journal timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_REQUIRED = frozenset({"timestamp", "charge_point_id", "direction", "ocpp_version", "message"})
_ALLOWED = _REQUIRED | {"leg", "seq", "meta"}
_DIRECTIONS = {d.value: d for d in Direction}
_VERSIONS = {v.value: v for v in OcppVersion}
_LEGS = {leg.value: leg for leg in Leg}
_MAX_CPID = _max_cpid_length()


def _is_record(obj: Any) -> bool:
    """The journal schema, checked by hand (:func:`_record`)."""
    return _record(obj) is not None


def _record(obj: Any) -> JournalRecord | None:
    """The record, or None if ``obj`` breaks the journal schema: checked by hand and
    built in one pass, as this runs for every line read."""
    if not isinstance(obj, dict):
        return None
    size = len(obj)
    if size == 5:  # none of the optional fields: the common line
        try:
            stamp, cpid, message = obj["timestamp"], obj["charge_point_id"], obj["message"]
            direction, version = obj["direction"], obj["ocpp_version"]
        except KeyError:
            return None
    else:
        keys = obj.keys()
        if not _REQUIRED <= keys <= _ALLOWED:
            return None
        stamp, cpid, message = obj["timestamp"], obj["charge_point_id"], obj["message"]
        direction, version = obj["direction"], obj["ocpp_version"]
    if not (type(stamp) is str and stamp in _good_stamps) and not (
        isinstance(stamp, str) and stamp.endswith("Z") and _remember_stamp(stamp)
    ):
        return None
    if not (isinstance(cpid, str) and 0 < len(cpid) <= _MAX_CPID):
        return None
    direction = _DIRECTIONS.get(direction) if isinstance(direction, str) else None
    version = _VERSIONS.get(version) if isinstance(version, str) else None
    if direction is None or version is None:
        return None
    if type(message) is list:
        if not 3 <= len(message) <= 5:
            return None
    elif not (isinstance(message, str) and message) and not (
        isinstance(message, list) and 3 <= len(message) <= 5
    ):
        return None
    if size == 5:
        return JournalRecord(stamp, cpid, direction, version, message, None, None, {})
    leg = obj.get("leg")
    if leg is not None:
        leg = _LEGS.get(leg) if isinstance(leg, str) else None
        if leg is None:
            return None
    elif "leg" in obj:
        return None  # "leg": null is not a leg
    seq = obj.get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return None
    meta = obj.get("meta", {})
    if not isinstance(meta, dict):
        return None
    return JournalRecord(stamp, cpid, direction, version, message, leg, obj.get("seq"), meta or {})


# Timestamps a line carried, valid: a stream repeats them (a call and its answer
# share one), and a set lookup costs less than the check. Bounded: emptied when full.
_good_stamps: set[str] = set()
_GOOD_STAMPS_MAX = 4096


def _remember_stamp(stamp: str) -> bool:
    if not is_date_time(stamp):
        return False
    if len(_good_stamps) >= _GOOD_STAMPS_MAX:
        _good_stamps.clear()
    _good_stamps.add(stamp)
    return True


def record_from_dict(obj: Any) -> JournalRecord:
    """Check a decoded JSON object against the record schema and wrap it.

    Raises:
        JournalError: the object is not a journal record (the reason says why).
    """
    record = _record(obj)
    if record is None:
        # The published schema names what is wrong (a test holds the hand
        # check and the schema to the same verdicts).
        try:
            _check()(obj)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise JournalError(f"not a journal record: {exc.message}") from None
        raise JournalError("not a journal record")  # pragma: no cover - the two disagree
    return record


def decode_record(line: str | bytes) -> JournalRecord:
    """Parse one journal line.

    Raises:
        JournalError: the line is not JSON or not a journal record.
    """
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise JournalError(f"not JSON: {exc}") from None
    return record_from_dict(obj)


def encode_record(record: JournalRecord) -> bytes:
    """One journal line, without the trailing newline."""
    return orjson.dumps(record.to_dict())
