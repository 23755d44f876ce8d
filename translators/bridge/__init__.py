"""The sans-I/O bridge: OCPP-J endpoints and the per-charger core.

- :class:`~ocppkit.translators.bridge.endpoint.Endpoint`: one end of an
  OCPP-J connection (one call per direction, answers by id and connection
  generation, timeouts as deadlines, which frame gets which CALLERROR).
- :class:`~ocppkit.translators.bridge.core.BridgeCore`: one charger's bridge,
  ``receive(side, text, now) -> Effects``.
- :class:`~ocppkit.translators.bridge.effects.Effects`: what a shell carries out.
- :class:`~ocppkit.translators.bridge.poison.PoisonRule`: when a call the CSMS
  keeps dropping the link on becomes a :class:`DeadLetter`.
"""

from ocppkit.translators.bridge.answers import answers_early, error_frame, failure_step, refusal
from ocppkit.translators.bridge.core import BridgeCore, Translator
from ocppkit.translators.bridge.effects import Commit, Count, Effects, LogLine, Received
from ocppkit.translators.bridge.endpoint import (
    AnswerArrived,
    BadFrame,
    CallArrived,
    CallLost,
    CallTimedOut,
    Endpoint,
    EndpointBusy,
    Event,
    RecycleDue,
    ResultErrorArrived,
    SendArrived,
    StrayFrame,
)
from ocppkit.translators.bridge.poison import DEAD_LETTER_TEXT, DeadLetter, PoisonRule
from ocppkit.translators.pending import Side

__all__ = [
    "DEAD_LETTER_TEXT",
    "AnswerArrived",
    "BadFrame",
    "BridgeCore",
    "CallArrived",
    "CallLost",
    "CallTimedOut",
    "Commit",
    "Count",
    "DeadLetter",
    "Effects",
    "Endpoint",
    "EndpointBusy",
    "Event",
    "LogLine",
    "PoisonRule",
    "Received",
    "RecycleDue",
    "ResultErrorArrived",
    "SendArrived",
    "Side",
    "StrayFrame",
    "Translator",
    "answers_early",
    "error_frame",
    "failure_step",
    "refusal",
]
