"""Basic auth passwords that change while the bridge runs (password rotation).

A 2.0.1 CSMS rotates a station's password with SetVariables
``SecurityCtrlr.BasicAuthPassword``; the bridge turns that into 1.6
ChangeConfiguration ``AuthorizationKey`` (1.6 security whitepaper §3.3).
Once the charger answers Accepted it reconnects with the new key, and the
CSMS expects the station to present it from then on. So, on that Accepted:

- downstream, the new key is what the charger must show; the key it had
  before stays accepted until the new one has been seen once (a charger
  that reconnects before it stored the new key is not locked out);
- upstream, the bridge presents the new key towards the CSMS, which set it.

The reverse bridge (a 2.0.1 station behind a 1.6 CSMS) is the same rotation
with the versions swapped: the 1.6 CSMS's ChangeConfiguration AuthorizationKey
reaches the station as SetVariables ``SecurityCtrlr.BasicAuthPassword``
(translators/station201_csms16/config.py), and the station's Accepted
``setVariableResult`` is what makes the key the one in force. :data:`OFFERS`
says, per action sent to the charger, where the new key is and what accepts it.

Both are written to the state database in the writer's queue before the
translated answer's own commit, so the CSMS never hears Accepted for a key
the bridge could forget. Stored keys override the configured
``charger_passwords`` / ``upstream_passwords`` for that charger.

Several instances share one store (HA): the charger whose key instance A
rotated may reconnect to instance B, with the new key or, before it stored
it, with the old one. So each instance reads the charger's stored keys again
whenever the charger connects (:meth:`Credentials.refresh`, one indexed read
beside the lease claim of that same connection); the copy in memory serves
only between connections. A key this instance is still writing is not
overwritten by the older stored one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.toolkit.gateway.state import StateStore
from ocppkit.toolkit.gateway.state.ops import PutPassword
from ocppkit.translators.bridge import Received, Side
from ocppkit.translators.frames import AnyFrame, Call, CallResult

DOWN, UP = "downstream", "upstream"
KEY = "AuthorizationKey"
PASSWORD_VARIABLE = ("SecurityCtrlr", "BasicAuthPassword")  # 2.0.1 A01


def _is_password(entry: Mapping[str, Any]) -> bool:
    component, variable = entry.get("component", {}), entry.get("variable", {})
    return (component.get("name"), variable.get("name")) == PASSWORD_VARIABLE


def _key_16(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("value")
    return value if payload.get("key") == KEY and isinstance(value, str) else None


def _accepted_16(payload: Mapping[str, Any]) -> bool:
    return bool(payload.get("status") == "Accepted")


def _key_201(payload: Mapping[str, Any]) -> str | None:
    for entry in payload.get("setVariableData", []):
        if _is_password(entry) and isinstance(entry.get("attributeValue"), str):
            return str(entry["attributeValue"])
    return None


def _accepted_201(payload: Mapping[str, Any]) -> bool:
    return any(
        _is_password(r) and r.get("attributeStatus") == "Accepted"
        for r in payload.get("setVariableResult", [])
    )


# Action sent to the charger -> (the new key it carries, its answer accepts it).
OFFERS: dict[
    str, tuple[Callable[[Mapping[str, Any]], str | None], Callable[[Mapping[str, Any]], bool]]
] = {
    "ChangeConfiguration": (_key_16, _accepted_16),  # 1.6 charger (forward bridge)
    "SetVariables": (_key_201, _accepted_201),  # 2.0.1 station (reverse bridge)
}


class Credentials:
    """The passwords in force, per charger and leg.

    Args:
        cfg: the configured passwords (the fallback).
        store: where rotated passwords live.
        metrics: counts rotations.
        log: logs them (never the key itself).
        stored: the passwords the store holds (``await store.passwords()``);
            default: read now from a SQLite store.
    """

    def __init__(
        self,
        cfg: BridgeConfig,
        store: StateStore,
        metrics: Metrics,
        log: logging.Logger,
        stored: dict[tuple[str, str], tuple[str, str | None]] | None = None,
    ):
        self.cfg = cfg
        self.store = store
        self.metrics = metrics
        self.log = log
        self._stored = dict(stored) if stored is not None else store.stored_passwords()  # type: ignore[attr-defined]
        # (charger, message id) -> (new key, action that offered it)
        self._offered: dict[tuple[str, str], tuple[str, str]] = {}
        # (charger, leg) -> writes of this instance not yet stored
        self._writing: dict[tuple[str, str], int] = {}

    async def refresh(self, cp_id: str) -> None:
        """Take the charger's keys from the store, which other instances write too.

        A store that cannot be read is logged and the keys in memory serve
        (the charger's lease claim, next, meets the same store and says so).
        """
        try:
            stored = await self.store.passwords(cp_id)
        except Exception as exc:
            event(self.log, logging.ERROR, "password_refresh_failed", cp=cp_id, error=repr(exc))
            return
        for leg in (DOWN, UP):
            key = (cp_id, leg)
            if self._writing.get(key):
                continue  # ours is newer than what the store holds yet
            if key in stored:
                self._stored[key] = stored[key]
            else:
                self._stored.pop(key, None)

    # -- what is accepted and presented -------------------------------------------

    def downstream(self, cp_id: str) -> tuple[str, ...]:
        """The passwords the charger may show; empty: no password is asked for."""
        stored = self._stored.get((cp_id, DOWN))
        if stored is not None:
            value, previous = stored
            return (value,) if previous is None else (value, previous)
        configured = self.cfg.charger_passwords.get(cp_id)
        return (configured,) if configured is not None else ()

    def requires_password(self, cp_id: str) -> bool:
        """Configured passwords bind every charger (one missing from the table
        may not connect); without them, only chargers whose key was rotated."""
        return bool(self.cfg.charger_passwords) or (cp_id, DOWN) in self._stored

    def upstream_passwords(self) -> Mapping[str, str]:
        """A live view for ``BridgeConfig.upstream_passwords``."""
        return _UpstreamView(self)

    def confirmed(self, cp_id: str, password: str) -> None:
        """The charger authenticated with ``password``: the previous key retires."""
        stored = self._stored.get((cp_id, DOWN))
        if stored is None or stored[1] is None or password != stored[0]:
            return
        self._put(PutPassword(cp_id, DOWN, stored[0], None))

    # -- watching AuthorizationKey go by -------------------------------------------

    def sent(self, cp_id: str, frame: AnyFrame) -> None:
        """A frame went to the charger (the session calls this for each call)."""
        if not isinstance(frame, Call) or frame.action not in OFFERS:
            return
        value = OFFERS[frame.action][0](frame.payload)
        if value is not None:
            self._offered[(cp_id, frame.message_id)] = (value, frame.action)

    def seen(self, cp_id: str, received: Received) -> None:
        """A frame arrived (the session calls this for each): a charger's answer?"""
        if received.side is Side.CHARGER and received.frame is not None:
            self.answered(cp_id, received.frame)

    def answered(self, cp_id: str, frame: AnyFrame) -> None:
        """The charger answered a call (before the answer's own commit)."""
        offered = self._offered.pop((cp_id, frame.message_id), None)
        if offered is None or not isinstance(frame, CallResult):
            return
        value, action = offered
        if not OFFERS[action][1](frame.payload):
            return
        current = self.downstream(cp_id)
        previous = current[0] if current and current[0] != value else None
        self._put(PutPassword(cp_id, DOWN, value, previous))
        self._put(PutPassword(cp_id, UP, value, None))
        self.metrics.inc("ocppkit_bridge_credentials_rotated_total")
        event(self.log, logging.INFO, "charger_password_rotated", cp=cp_id)

    def _put(self, op: PutPassword) -> None:
        key = (op.charge_point_id, op.leg)
        self._stored[key] = (op.value, op.previous)
        self._writing[key] = self._writing.get(key, 0) + 1
        done = self.store.submit([op])
        done.add_done_callback(lambda d: self._written(key, d))

    def _written(self, key: tuple[str, str], done: asyncio.Future[None]) -> None:
        left = self._writing.pop(key, 1) - 1
        if left:
            self._writing[key] = left
        if not done.cancelled() and done.exception() is not None:
            event(self.log, logging.ERROR, "password_not_stored", error=repr(done.exception()))

    def upstream(self, cp_id: str) -> str | None:
        stored = self._stored.get((cp_id, UP))
        return stored[0] if stored is not None else None


class _UpstreamView(Mapping[str, str]):
    """Rotated upstream passwords first, then the configured ones."""

    def __init__(self, credentials: Credentials) -> None:
        self._c = credentials

    def __getitem__(self, cp_id: str) -> str:
        rotated = self._c.upstream(cp_id)
        if rotated is not None:
            return rotated
        return self._c.cfg.upstream_passwords[cp_id]

    def _keys(self) -> set[str]:
        rotated = {cp for cp, leg in self._c._stored if leg == UP}
        return rotated | set(self._c.cfg.upstream_passwords)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys()))

    def __len__(self) -> int:
        return len(self._keys())
