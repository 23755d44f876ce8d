"""Poison messages: a call the CSMS drops the link on, every time.

The outbox sends its head call again after every reconnect (at-least-once
delivery, see :mod:`ocppkit.toolkit.gateway.session`). A call that makes the
CSMS close the connection (a bug of the CSMS's, a payload it cannot digest)
would so be sent for ever, some 128 times a minute, and block every call
behind it. :class:`PoisonWatch` counts, per charger, how many times in a row
the link was lost while the same head call was on the wire, and waits before
each resend (``backoff_min`` doubling up to ``backoff_max``). After
``poison_attempts`` losses the call is given up: it goes to the
``dead_letters`` table (the operator's to inspect: ``sqlite3 bridge.db
'SELECT * FROM dead_letters'``, also counted in /metrics and /healthz), and
the session answers it as the CSMS's CALLERROR, so the charger hears a
CALLERROR and the calls behind it move on.
"""

from __future__ import annotations

import asyncio
import logging

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.toolkit.gateway.store import AddDeadLetter, Store
from ocppkit.translators.frames import Call

DEAD_LETTER_TEXT = "the CSMS dropped the connection on this message at every attempt"


class PoisonWatch:
    """Back-off and give-up for calls that lose the CSMS link (one per bridge)."""

    def __init__(self, cfg: BridgeConfig, store: Store, metrics: Metrics, log: logging.Logger):
        self.cfg = cfg
        self.store = store
        self.metrics = metrics
        self.log = log
        self._head: dict[str, tuple[str, int]] = {}  # charger -> (head call id, losses)

    def losses(self, cp_id: str, message_id: str) -> int:
        head = self._head.get(cp_id)
        return head[1] if head is not None and head[0] == message_id else 0

    async def lost(self, cp_id: str, call: Call) -> bool:
        """The link dropped with ``call`` on the wire; True: give it up (it is
        stored as a dead letter), False: send it again (after the back-off)."""
        if self.cfg.poison_attempts <= 0:
            await asyncio.sleep(0.05)
            return False
        losses = self.losses(cp_id, call.message_id) + 1
        self._head[cp_id] = (call.message_id, losses)
        if losses < self.cfg.poison_attempts:
            step = self.cfg.backoff_min * 2 ** min(losses - 1, 30)
            await asyncio.sleep(min(self.cfg.backoff_max, step))
            return False
        del self._head[cp_id]
        frame = [2, call.message_id, call.action, call.payload]
        await self.store.commit(
            [AddDeadLetter(cp_id, call.message_id, frame, losses, "link_lost_every_attempt")]
        )
        self.metrics.inc("ocppkit_bridge_dead_letters_total")
        event(
            self.log,
            logging.ERROR,
            "dead_letter",
            cp=cp_id,
            action=call.action,
            message_id=call.message_id,
            attempts=losses,
        )
        return True
