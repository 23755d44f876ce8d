"""The session translator: a 2.0.1 charging station behind a 2.1 CSMS.

Same contract as the other pairs (``from_charger`` / ``from_csms``); the
handlers are the generic fitting of :mod:`ocppkit.translators.lift21.pairs`.
"""

from __future__ import annotations

from ocppkit.translators.context import Context
from ocppkit.translators.frames import Frame
from ocppkit.translators.lift21.pairs import V21, V201, build
from ocppkit.translators.lift21.state import LiftState
from ocppkit.translators.outcome import Step

PAIR = build("station201_csms21", V201, V21)


def from_charger(state: LiftState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 2.0.1 station sent."""
    return PAIR.from_charger(state, frame, ctx)


def from_csms(state: LiftState, frame: Frame, ctx: Context) -> Step:
    """Translate one frame the 2.1 CSMS sent."""
    return PAIR.from_csms(state, frame, ctx)
