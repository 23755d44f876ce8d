"""The handler contract of the 2.0.1-station / 1.6-CSMS session translator.

Mirrors :mod:`ocppkit.translators.charger16_csms201.handlers` with the roles swapped: the
session (:mod:`ocppkit.translators.station201_csms16.session`) dispatches every frame through
tables of handlers keyed by action:

- a **call handler** translates a CALL arriving from one side and returns the
  :class:`Step` (frames for each side); a call it sends on that needs an
  answer is registered with :func:`expect_answer`;
- a **result handler** translates the CALLRESULT or CALLERROR answering a
  call registered that way; it receives the :class:`Pending` record.

The charger side speaks 2.0.1, the CSMS side 1.6.
"""

from __future__ import annotations

from ocppkit.translators.engine import CallHandler as _CallHandler
from ocppkit.translators.engine import ResultHandler as _ResultHandler
from ocppkit.translators.pending import Pending, Side, expect_answer, pending_key
from ocppkit.translators.station201_csms16.state import StationState

CallHandler = _CallHandler[StationState]
ResultHandler = _ResultHandler[StationState]

# The handler types are the engine's (:mod:`ocppkit.translators.engine`), bound to
# this pair's state; Side, Pending, expect_answer and pending_key live in
# ocppkit.translators.pending and are re-exported here for the handler modules.
__all__ = ["CallHandler", "Pending", "ResultHandler", "Side", "expect_answer", "pending_key"]
