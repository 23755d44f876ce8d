"""Rules real 2.0.1 CSMSs enforce beyond the official JSON schemas.

The schemas say ``format: date-time`` and ``IdTokenEnumType``; CSMSs in the
field check more (docs: field-findings §1), and a bridge that passes the
schemas can still be refused. The built-in CSMS checks the same, so tests
catch it:

- **milliseconds** (always): a date-time with more than three decimal
  places is a FormatViolation (2.0.1 Part 2 §2.1.1 allows three).
- **ISO14443 shape** (``strict_tokens``): an idToken of type ISO14443 must
  be a 4- or 7-byte UID in hexadecimal, 8 or 14 characters; otherwise
  PropertyConstraintViolation (CitrineOS's answer).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.errors import ErrorCode, FrameError
from ocppkit.translators.settings import ISO14443_UID
from ocppkit.translators.timestamps import violations


def _id_tokens(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if isinstance(value.get("idToken"), str) and "type" in value else []
        return found + [t for v in value.values() for t in _id_tokens(v)]
    if isinstance(value, list):
        return [t for v in value for t in _id_tokens(v)]
    return []


def check(payload: dict[str, Any], *, strict_tokens: bool, message_id: str = "") -> None:
    """Raise the CALLERROR a strict CSMS would answer ``payload`` with.

    Raises:
        FrameError: FormatViolation (date-time precision) or
            PropertyConstraintViolation (ISO14443 shape).
    """
    fine = violations(payload)
    if fine:
        raise FrameError(
            ErrorCode.FORMAT_VIOLATION,
            f"{fine[0]}: date-time with more than 3 decimal places (2.0.1 Part 2 §2.1.1)",
            message_id=message_id,
        )
    if not strict_tokens:
        return
    for token in _id_tokens(payload):
        if token["type"] == "ISO14443" and not ISO14443_UID.fullmatch(token["idToken"]):
            raise FrameError(
                ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                f"ISO14443 idToken {token['idToken']!r} is not 8 or 14 hexadecimal characters",
                message_id=message_id,
            )
