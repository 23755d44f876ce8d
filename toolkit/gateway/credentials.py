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

Both are written to the state database in the writer's queue before the
translated answer's own commit, so the CSMS never hears Accepted for a key
the bridge could forget. Stored keys override the configured
``charger_passwords`` / ``upstream_passwords`` for that charger.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.toolkit.gateway.store import PutPassword, Store
from ocppkit.translators.bridge import Received, Side
from ocppkit.translators.frames import Call, CallResult, Frame

DOWN, UP = "downstream", "upstream"
KEY = "AuthorizationKey"


class Credentials:
    """The passwords in force, per charger and leg.

    Args:
        cfg: the configured passwords (the fallback).
        store: where rotated passwords live.
        metrics: counts rotations.
        log: logs them (never the key itself).
    """

    def __init__(self, cfg: BridgeConfig, store: Store, metrics: Metrics, log: logging.Logger):
        self.cfg = cfg
        self.store = store
        self.metrics = metrics
        self.log = log
        self._stored = store.passwords()
        self._offered: dict[tuple[str, str], str] = {}  # (charger, message id) -> new key

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

    def sent(self, cp_id: str, frame: Frame) -> None:
        """A frame went to the charger (the session calls this for each call)."""
        if (
            isinstance(frame, Call)
            and frame.action == "ChangeConfiguration"
            and frame.payload.get("key") == KEY
            and isinstance(frame.payload.get("value"), str)
        ):
            self._offered[(cp_id, frame.message_id)] = frame.payload["value"]

    def seen(self, cp_id: str, received: Received) -> None:
        """A frame arrived (the session calls this for each): a charger's answer?"""
        if received.side is Side.CHARGER and received.frame is not None:
            self.answered(cp_id, received.frame)

    def answered(self, cp_id: str, frame: Frame) -> None:
        """The charger answered a call (before the answer's own commit)."""
        value = self._offered.pop((cp_id, frame.message_id), None)
        if value is None or not isinstance(frame, CallResult):
            return
        if frame.payload.get("status") != "Accepted":
            return
        current = self.downstream(cp_id)
        previous = current[0] if current and current[0] != value else None
        self._put(PutPassword(cp_id, DOWN, value, previous))
        self._put(PutPassword(cp_id, UP, value, None))
        self.metrics.inc("ocppkit_bridge_credentials_rotated_total")
        event(self.log, logging.INFO, "charger_password_rotated", cp=cp_id)

    def _put(self, op: PutPassword) -> None:
        self._stored[(op.charge_point_id, op.leg)] = (op.value, op.previous)
        done = self.store.submit([op])
        done.add_done_callback(self._written)

    def _written(self, done: asyncio.Future[None]) -> None:
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
