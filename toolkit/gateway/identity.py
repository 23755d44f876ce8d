"""Charger identities as OCPP-J allows them, checked at the handshake.

OCPP-J names the charger by the last path segment of the WebSocket URL
(1.6J §3.1.1; 2.0.1 Part 4 §3.1.1 "the Charging Station identity").
2.0.1 Part 4 §3.1.1 limits it to the characters of ``identifierString``
(2.0.1 Part 2, primitive datatypes: ``a-z A-Z 0-9 * - _ = : + | @ .``) and to
48 characters; nothing in that set needs percent-encoding in a URL path, so
an encoded segment (``%2F``, ``%00``, ``%41``) is refused rather than decoded:
``x%2FVICTIM`` must never reach the CSMS as station ``VICTIM``.
The same rule holds for a 1.5 charger's ``chargeBoxIdentity``.
"""

from __future__ import annotations

import re

IDENTIFIER_CHARACTERS = r"A-Za-z0-9*\-_=:+|@."
DEFAULT_MAX_LENGTH = 48  # 2.0.1 Part 4 §3.1.1
_IDENTIFIER = re.compile(f"[{IDENTIFIER_CHARACTERS}]+")


def identity_problem(cp_id: str, raw_segment: str | None = None, *, max_length: int) -> str | None:
    """Why ``cp_id`` may not connect, or None when it may.

    Args:
        cp_id: the identity as decoded from the URL (or the SOAP header).
        raw_segment: the path segment as sent, before percent-decoding.
        max_length: the longest identity allowed (``charger_id_max_length``).
    """
    if not cp_id:
        return "empty"
    if raw_segment is not None and "%" in raw_segment:
        return "percent_encoded"
    if len(cp_id) > max_length:
        return "too_long"
    if _IDENTIFIER.fullmatch(cp_id) is None:
        return "bad_characters"
    return None
