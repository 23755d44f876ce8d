"""Compact JSON text for any JSON value, fast.

orjson is the fast path; it refuses integers beyond 64 bits, which a peer
may legally send (JSON has no integer limit) and which Python's parser keeps
exact, so the standard library takes over for those.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_text(value: Any) -> str:
    """``value`` as compact JSON text."""
    return dumps_bytes(value).decode()
