"""Credentials of the built-in CSMS: station passwords (Basic auth) and the admin token."""

from __future__ import annotations

import base64
import binascii
import hmac
import tomllib
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from ocppkit.translators.errors import ConfigError


def password_ok(header: str, station_id: str, passwords: Mapping[str, str]) -> bool:
    """True when ``header`` is Basic auth of ``station_id`` with its password (profile 1)."""
    expected = passwords.get(station_id)
    scheme, _, encoded = header.partition(" ")
    if expected is None or scheme.lower() != "basic":
        return False
    try:
        user, sep, given = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return bool(sep) and user == station_id and hmac.compare_digest(given, expected)


def bearer_ok(header: str, token: str) -> bool:
    """True when ``header`` is ``Bearer <token>`` (compared in constant time)."""
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and bool(token) and hmac.compare_digest(given, token)


def load_passwords(path: str | Path) -> dict[str, str]:
    """Station passwords from TOML: ``[stations]`` with ``ID = "password"`` lines.

    Raises:
        ConfigError: unreadable file or a value that is not a string.
    """
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    table = doc.get("stations")
    if not isinstance(table, dict) or set(doc) != {"stations"}:
        raise ConfigError(f'{path}: expected one [stations] table of ID = "password"')
    if not all(isinstance(v, str) and v for v in table.values()):
        raise ConfigError(f"{path}: every password must be a non-empty string")
    return {str(k): str(v) for k, v in table.items()}


def rotate_password(
    passwords: Mapping[str, str],
    station_id: str,
    action: str,
    request: Mapping[str, Any],
    answer: Mapping[str, Any],
) -> bool:
    """Keep a password the station accepted (SetVariables SecurityCtrlr.BasicAuthPassword).

    2.0.1 A01: once the station answers Accepted it reconnects with the new
    password, so the CSMS must expect it from then on. Only a station that has
    a password here gets a new one. True when stored.
    """
    if action != "SetVariables" or not isinstance(passwords, MutableMapping):
        return False
    if station_id not in passwords:  # a CSMS without passwords for it asks for none
        return False
    results = answer.get("setVariableResult", [])
    for entry, result in zip(request.get("setVariableData", []), results, strict=False):
        if (
            entry["component"]["name"] == "SecurityCtrlr"
            and entry["variable"]["name"] == "BasicAuthPassword"
            and result.get("attributeStatus") == "Accepted"
        ):
            passwords[station_id] = entry["attributeValue"]
            return True
    return False
