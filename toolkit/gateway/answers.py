"""What the bridge answers, and the checks every outgoing frame passes.

- :func:`refusal` is the one place an exception becomes a CALLERROR
  (the tree in ``translators/errors.py``): a :class:`FrameError` or
  :class:`TranslationError` carries its own code; anything unexpected is
  ``InternalError`` *without details*, which may be sensitive.
- :class:`AnswerBook` remembers, per leg, the calls a peer is waiting on us
  to answer, and on which connection they came. An answer is only sent on
  that same connection: after a reconnect the peer would see an answer to an
  id it never used. Every frame we send is checked against its official
  schema (compiled fast path); a violation is our bug, counted and logged.
"""

from __future__ import annotations

import logging
from typing import Any

from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.translators.charger16_csms201.handlers import Side, pending_key
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.errors import ErrorCode, FrameError, OcppkitError, TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult, Frame
from ocppkit.translators.journal import Leg
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
MAX_DESCRIPTION = 255  # 2.0.1 Part 4 §4.2.3: errorDescription maximum length


def error_frame(message_id: str, code: ErrorCode, version: OcppVersion, text: str) -> CallError:
    return CallError(message_id, code.wire(version), text[:MAX_DESCRIPTION], {})


def refusal(exc: Exception, message_id: str, version: OcppVersion) -> CallError:
    """The CALLERROR answering a call whose handling raised ``exc``."""
    if isinstance(exc, FrameError):
        return error_frame(message_id, exc.code, version, exc.description)
    if isinstance(exc, TranslationError):
        return error_frame(message_id, exc.code, version, exc.reason)
    if isinstance(exc, OcppkitError):
        return error_frame(message_id, ErrorCode.INTERNAL_ERROR, version, str(exc))
    return error_frame(message_id, ErrorCode.INTERNAL_ERROR, version, "internal error")


def failure_step(state: BridgeState, side: Side, frame: Frame, exc: Exception) -> Step:
    """What to send when translating ``frame`` from ``side`` raised ``exc``.

    A call is refused to the side that sent it. For an answer the translator
    choked on, the call it answered is dropped from ``state`` and that call's
    originator on the other side gets the CALLERROR instead.
    """
    if isinstance(frame, Call):
        if side is Side.CHARGER:
            return Step(to_charger=(refusal(exc, frame.message_id, V16),))
        return Step(to_csms=(refusal(exc, frame.message_id, V201),))
    pending = state.pending.pop(pending_key(side, frame.message_id), None)
    if pending is None or pending.origin_id is None:
        return Step()
    if side is Side.CHARGER:
        return Step(to_csms=(refusal(exc, pending.origin_id, V201),))
    return Step(to_charger=(refusal(exc, pending.origin_id, V16),))


class AnswerBook:
    """Calls awaiting our answer, per leg and connection; checks on outgoing frames.

    Args:
        charge_point_id: for the logs.
        validator: a strict validator (our output must be exact).
        metrics: where schema violations are counted.
        log: structured logger.
    """

    def __init__(
        self, charge_point_id: str, validator: Validator, metrics: Metrics, log: logging.Logger
    ) -> None:
        self.cp_id = charge_point_id
        self.validator = validator
        self.metrics = metrics
        self.log = log
        self._due: dict[tuple[Leg, str], tuple[str, int]] = {}  # -> (action, generation)

    def expect(self, leg: Leg, call: Call, generation: int) -> None:
        """``call`` arrived on ``leg``'s connection number ``generation``."""
        self._due[(leg, call.message_id)] = (call.action, generation)

    def forget(self, leg: Leg) -> None:
        """``leg``'s connection is gone: nothing due on it will be sent."""
        for key in [k for k in self._due if k[0] is leg]:
            del self._due[key]

    def release(self, leg: Leg, frame: Frame, version: OcppVersion, generation: int) -> bool:
        """Check ``frame`` before it leaves on ``leg``; False: it must not be sent."""
        if isinstance(frame, Call):
            self.check_schema(leg, version, frame.action, Kind.REQUEST, frame.payload)
            return True
        due = self._due.pop((leg, frame.message_id), None)
        if due is None:  # e.g. the CALLERROR for a frame that was never a valid call
            return True
        action, came_on = due
        if came_on != generation:
            event(
                self.log,
                logging.INFO,
                "answer_dropped_peer_reconnected",
                cp=self.cp_id,
                leg=leg.value,
                action=action,
            )
            return False
        if isinstance(frame, CallResult):
            self.check_schema(leg, version, action, Kind.RESPONSE, frame.payload)
        return True

    def check_schema(
        self, leg: Leg, version: OcppVersion, action: str, kind: Kind, payload: dict[str, Any]
    ) -> None:
        if self.validator.is_valid(version, action, kind, payload):  # compiled fast path
            return
        found = self.validator.violations(version, action, kind, payload)
        self.metrics.inc("ocppkit_bridge_schema_violations_total", leg=leg.value, action=action)
        event(
            self.log,
            logging.ERROR,
            "translated_frame_invalid",
            cp=self.cp_id,
            action=action,
            violations="; ".join(map(str, found[:3])),
        )
