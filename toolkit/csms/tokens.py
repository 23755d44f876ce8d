"""The built-in CSMS's token store: idTokens with statuses, groups and expiry dates.

A conformance suite needs tokens that are refused in each documented way, so
the store holds, per idToken, what 2.0.1 ``IdTokenInfoType`` says of it:
``status`` (Accepted, Blocked, Expired, Invalid, ConcurrentTx, NoCredit, ...),
an optional ``group`` (groupIdToken), an optional ``expiry``
(cacheExpiryDateTime; once past, the token is answered Expired) and an
optional ``type``: given, the token matches only with that IdTokenEnumType,
as CSMSs that match by value and type do. A token not in the store is
Unknown.

TOML (``tokens.toml``)::

    [[token]]
    id = "TAG-001"
    status = "Accepted"
    [[token]]
    id = "MASTERC47"
    status = "Accepted"
    group = "GROUP001"
    expiry = "2030-01-01T00:00:00Z"
    [[token]]
    id = "04A2B3C4"
    type = "ISO14443"
    status = "Blocked"

CSV (``tokens.csv``), a header line and the same columns::

    id,status,type,group,expiry
    TAG-001,Accepted,,,
    100000C06,Blocked,,,
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ocppkit.toolkit.csms.records import parse_ocpp_time
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.journal import format_timestamp
from ocppkit.translators.settings import ID_TOKEN_TYPES

MAX_ID_TOKEN = 36  # 2.0.1 IdTokenType.idToken maxLength
# 2.0.1 AuthorizationStatusEnumType
STATUSES = frozenset(
    {
        "Accepted",
        "Blocked",
        "ConcurrentTx",
        "Expired",
        "Invalid",
        "NoCredit",
        "NotAllowedTypeEVSE",
        "NotAtThisLocation",
        "NotAtThisTime",
        "Unknown",
    }
)
COLUMNS = ("id", "status", "type", "group", "expiry")


@dataclass(frozen=True, slots=True)
class TokenEntry:
    id_token: str
    status: str = "Accepted"
    type: str | None = None
    group: str | None = None
    expiry: datetime | None = None


class TokenStore:
    """idToken -> :class:`TokenEntry`; answers 2.0.1 IdTokenInfoType."""

    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        self.entries = {e.id_token: e for e in entries}

    def __len__(self) -> int:
        return len(self.entries)

    def info(self, id_token: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """The idTokenInfo for ``id_token`` (a 2.0.1 IdTokenType) at ``now``."""
        entry = self.entries.get(str(id_token.get("idToken", "")))
        if entry is None or (entry.type is not None and entry.type != id_token.get("type")):
            return {"status": "Unknown"}
        status = entry.status
        out: dict[str, Any] = {}
        if entry.expiry is not None:
            if status == "Accepted" and entry.expiry <= now:
                status = "Expired"
            out["cacheExpiryDateTime"] = format_timestamp(entry.expiry)
        if entry.group is not None:
            out["groupIdToken"] = {"idToken": entry.group, "type": "Central"}
        return {"status": status, **out}


def _entry(row: Mapping[str, Any], where: str) -> TokenEntry:
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise ConfigError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    token = str(row.get("id") or "").strip()
    if not token or len(token) > MAX_ID_TOKEN:
        raise ConfigError(f"{where}: id must be 1 to {MAX_ID_TOKEN} characters")
    status = str(row.get("status") or "Accepted").strip()
    if status not in STATUSES:
        raise ConfigError(f"{where}: status {status!r} is not a 2.0.1 AuthorizationStatus")
    type_ = str(row.get("type") or "").strip() or None
    if type_ is not None and type_ not in ID_TOKEN_TYPES:
        raise ConfigError(f"{where}: type {type_!r} is not a 2.0.1 IdTokenEnumType")
    group = str(row.get("group") or "").strip() or None
    expiry_text = row.get("expiry")
    expiry = None
    if isinstance(expiry_text, datetime):
        expiry = expiry_text
    elif expiry_text:
        try:
            expiry = parse_ocpp_time(str(expiry_text).strip())
        except ValueError:
            raise ConfigError(f"{where}: expiry {expiry_text!r} is not a date-time") from None
    if expiry is not None and expiry.tzinfo is None:
        raise ConfigError(f"{where}: expiry needs a time zone (e.g. Z)")
    return TokenEntry(token, status, type_, group, expiry)


def parse_tokens(text: str, kind: str, origin: str = "tokens") -> TokenStore:
    """A store from TOML (``kind="toml"``) or CSV (``kind="csv"``) text.

    Raises:
        ConfigError: unreadable text, or a bad row (with its place).
    """
    rows: list[tuple[str, Mapping[str, Any]]] = []
    if kind == "toml":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
        tables = doc.get("token", [])
        if set(doc) - {"token"} or not isinstance(tables, list):
            raise ConfigError(f"{origin}: expected [[token]] tables only")
        rows = [(f"{origin}: token {i + 1}", t) for i, t in enumerate(tables)]
    elif kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or "id" not in reader.fieldnames:
            raise ConfigError(f"{origin}: the first line must name the columns (id,status,...)")
        rows = [(f"{origin}:{i + 2}", r) for i, r in enumerate(reader)]
    else:
        raise ConfigError(f"{origin}: token files are .toml or .csv")
    entries = [_entry(row, where) for where, row in rows]
    seen: set[str] = set()
    for entry in entries:
        if entry.id_token in seen:
            raise ConfigError(f"{origin}: token {entry.id_token!r} listed twice")
        seen.add(entry.id_token)
    return TokenStore(entries)


def load_token_store(path: str | Path) -> TokenStore:
    """Read a ``.toml`` or ``.csv`` token file (see the module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror}") from None
    return parse_tokens(text, p.suffix.lower().lstrip("."), str(p))
