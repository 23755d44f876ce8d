"""The handler contract of the 1.6-charger / 2.0.1-CSMS session translator.

The session (:mod:`ocppkit.translators.charger16_csms201.session`) dispatches every frame
through tables of handlers keyed by action:

- a **call handler** translates a CALL arriving from one side and returns the
  :class:`Step` (frames for each side); a call it sends on that needs an
  answer is registered with :func:`expect_answer`;
- a **result handler** translates the CALLRESULT or CALLERROR answering a
  call registered that way; it receives the :class:`Pending` record.
"""

from __future__ import annotations

from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.engine import CallHandler as _CallHandler
from ocppkit.translators.engine import ResultHandler as _ResultHandler
from ocppkit.translators.pending import Pending, Side, expect_answer, pending_key

CallHandler = _CallHandler[BridgeState]
ResultHandler = _ResultHandler[BridgeState]

# The handler types are the engine's (:mod:`ocppkit.translators.engine`), bound to
# this pair's state; Side, Pending, expect_answer and pending_key live in
# ocppkit.translators.pending and are re-exported here for the handler modules.
__all__ = ["CallHandler", "Pending", "ResultHandler", "Side", "expect_answer", "pending_key"]
