"""Salted hashing of id tokens, so a dataset can be shared without card numbers.

A token becomes HMAC-SHA256(salt, token) as 32 hex characters: the same
token gives the same value within a dataset (sessions stay linkable per
user), and without the salt it cannot be recovered by hashing a list of
card numbers. Keys hashed wherever they occur in a payload: 1.5/1.6
``idTag`` and ``parentIdTag``, 2.0.1 ``idToken.idToken`` and
``groupIdToken.idToken``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

TOKEN_KEYS = frozenset({"idTag", "parentIdTag", "idToken"})


def hash_token(salt: bytes, token: str) -> str:
    return hmac.new(salt, token.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def redact(value: Any, salt: bytes) -> Any:
    """A copy of ``value`` with every id token hashed (other values untouched)."""
    if isinstance(value, dict):
        return {
            k: hash_token(salt, v) if k in TOKEN_KEYS and isinstance(v, str) else redact(v, salt)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, salt) for v in value]
    return value
