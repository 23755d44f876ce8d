"""zeep values <-> the plain dicts the translators see, driven by the description.

Plain dicts are JSON-shaped: wire field names, no ``None`` (an absent
optional field is an absent key), no empty lists, date-times as RFC 3339
strings in UTC with a ``Z``, and the text of a 1.5 meter reading under
:data:`~ocppkit.translators.soap15.operations.TEXT_KEY` instead of zeep's
``_value_1``. The walk follows :mod:`ocppkit.translators.soap15.operations`, so it
knows which fields are date-times, lists or simple content without looking
at values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ocppkit.translators.errors import SoapError
from ocppkit.translators.soap15.operations import TEXT_KEY, TYPES, Complex, Field, Restricted

ZEEP_TEXT_KEY = "_value_1"


def rfc3339(moment: datetime, *, naive_is_utc: bool = True) -> str:
    """An aware (or, if allowed, naive = UTC) datetime as RFC 3339 with ``Z``.

    Whole seconds are written without a fraction; otherwise milliseconds
    (OCPP-J date-times; 1.6 and 2.0.1 chargers expect at most that).

    Raises:
        SoapError: a naive datetime while ``naive_is_utc`` is False.
    """
    if moment.tzinfo is None:
        if not naive_is_utc:
            raise SoapError(f"date-time {moment.isoformat()} has no time zone", "Sender")
        moment = moment.replace(tzinfo=UTC)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _is_text(type_name: str) -> bool:
    t = TYPES.get(type_name)
    return type_name in ("string", "anyURI") or (isinstance(t, Restricted) and not t.enum)


def _plain_value(type_name: str, value: Any, naive_is_utc: bool) -> Any:
    if type_name == "dateTime" and isinstance(value, datetime):
        return rfc3339(value, naive_is_utc=naive_is_utc)
    t = TYPES.get(type_name)
    if isinstance(t, Complex) and isinstance(value, Mapping):
        return _plain_complex(t, value, naive_is_utc)
    return value


def _plain_complex(t: Complex, value: Mapping[str, Any], naive_is_utc: bool) -> dict[str, Any]:
    if t.text is None:
        return to_plain(t.fields, value, naive_is_utc=naive_is_utc)
    # Simple content always has a text, possibly empty (zeep says None then).
    text = value.get(ZEEP_TEXT_KEY)
    out: dict[str, Any] = {TEXT_KEY: "" if text is None else text}
    for a in t.attributes:
        if value.get(a.name) is not None:
            out[a.name] = value[a.name]
    return out


def to_plain(
    fields: tuple[Field, ...], value: Mapping[str, Any] | None, *, naive_is_utc: bool = True
) -> dict[str, Any]:
    """A zeep-serialised sequence (``serialize_object(..., dict)``) as a plain dict."""
    out: dict[str, Any] = {}
    if value is None:
        return out
    for f in fields:
        v = value.get(f.name)
        if v is None:
            # zeep reads an empty string element as None; a required one that
            # passed the schema check was there, so it is the empty string.
            if f.min >= 1 and not f.repeated and _is_text(f.type):
                out[f.name] = ""
            continue
        if f.repeated:
            blank = "" if _is_text(f.type) else None
            items = [
                _plain_value(f.type, item, naive_is_utc) if item is not None else blank
                for item in v
            ]
            items = [item for item in items if item is not None]
            if items:
                out[f.name] = items
        else:
            out[f.name] = _plain_value(f.type, v, naive_is_utc)
    return out


def _zeep_value(type_name: str, value: Any) -> Any:
    t = TYPES.get(type_name)
    if not isinstance(t, Complex) or not isinstance(value, Mapping):
        return value
    if t.text is None:
        return to_zeep(t.fields, value)
    out = {k: v for k, v in value.items() if k != TEXT_KEY}
    out[ZEEP_TEXT_KEY] = value.get(TEXT_KEY)
    return out


def to_zeep(fields: tuple[Field, ...], value: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict as zeep serialisation keyword arguments.

    Date-times stay RFC 3339 strings (zeep writes strings as given; the XSD
    check afterwards catches a malformed one). Unknown keys are kept so that
    zeep names them in its error.
    """
    out: dict[str, Any] = dict(value)
    for f in fields:
        if f.name not in value:
            continue
        v = value[f.name]
        if f.repeated and isinstance(v, list):
            out[f.name] = [_zeep_value(f.type, item) for item in v]
        else:
            out[f.name] = _zeep_value(f.type, v)
    return out
