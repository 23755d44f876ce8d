"""The bridge's own message ids, derived from stored state (never random).

Every call the bridge hands a translator, and so every call the CSMS sees,
is named ``<prefix><n>``:

- ``prefix`` (:func:`prefix_for`): 20 base32 characters of a hash of the
  store's random id (kept in the store's ``meta``) and the charger id, then
  ``-``. A fresh store never reuses an old one's ids, and two chargers never
  share one (100 bits: a collision is as likely as between random UUIDs).
- ``n``: a per-charger counter, stored with the translator state in the
  same commit (:data:`IDS_KEY` in the state's JSON object).

So a bridge killed after it sent a call but before that call's commit
landed restarts with the counter as it was before that call; the charger
sends its call again, the translator (whose state was rolled back the same
way) translates it again, and the CSMS gets the same message id and the same
seqNo: a duplicate it can recognise. The core is handed the prefix and the
counter; it reads no clock or random source for ids.

36 characters at most (the OCPP-J id limit): 21 for the prefix, up to 15
digits for the counter.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

IDS_KEY = "bridge_next_id"  # the counter, inside the stored state object
PREFIX_LENGTH = 21
MAX_ID_LENGTH = 36  # OCPP-J (1.6 §4.1.1, 2.0.1 Part 4 §4.1.3)


def prefix_for(store_id: str, charge_point_id: str) -> str:
    """The id prefix of ``charge_point_id`` in the store ``store_id``."""
    digest = hashlib.blake2b(f"{store_id}\0{charge_point_id}".encode(), digest_size=13).digest()
    return base64.b32encode(digest).decode().lower()[:20] + "-"


def split(stored: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A stored state -> (the translator's part, the id counter).

    A state stored before the counter existed has none: it starts at 0, which
    meets no earlier id (those were random UUIDs, of another shape).
    """
    if IDS_KEY not in stored:
        return stored, 0
    rest = dict(stored)
    counter = rest.pop(IDS_KEY)
    return rest, int(counter) if isinstance(counter, int) and counter >= 0 else 0


def pack(state_json: bytes, counter: int) -> bytes:
    """The translator state's JSON object with the counter added as its first key."""
    head = b'{"%s":%d' % (IDS_KEY.encode(), counter)
    if state_json in (b"{}", b""):
        return head + b"}"
    if state_json[:1] != b"{":
        raise ValueError("a translator state is stored as a JSON object")
    return head + b"," + state_json[1:]


class MessageIds:
    """``prefix`` + a counter, minted in order (the counter is stored state)."""

    __slots__ = ("next", "prefix")

    def __init__(self, prefix: str, counter: int = 0) -> None:
        if len(prefix) > PREFIX_LENGTH:
            raise ValueError(f"message id prefix longer than {PREFIX_LENGTH}: {prefix!r}")
        self.prefix = prefix
        self.next = counter

    def __call__(self) -> str:
        n = self.next
        self.next = n + 1
        out = f"{self.prefix}{n}"
        if len(out) > MAX_ID_LENGTH:  # 10**15 ids for one charger: not reached
            raise OverflowError("message id counter exhausted")
        return out
