"""What the bridge answers itself: refusals, failure steps, early answers.

- :func:`refusal` is the one place an exception becomes a CALLERROR (the
  tree in ``translators/errors.py``): a :class:`FrameError` or
  :class:`TranslationError` carries its own code; anything unexpected is
  ``InternalError`` *without details*, which may be sensitive.
- :func:`failure_step` says who is told when a translation fails.
- :func:`answers_early` is the one durability shortcut: which steps may be
  sent while their commit is still being written.
"""

from __future__ import annotations

from ocppkit.translators.errors import ErrorCode, FrameError, OcppkitError, TranslationError
from ocppkit.translators.frames import Call, CallError, Frame, call_error
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import HasPending, Side, pending_key
from ocppkit.translators.versions import OcppVersion


def error_frame(message_id: str, code: ErrorCode, version: OcppVersion, text: str) -> CallError:
    """A CALLERROR as ``version`` spells ``code``, its text cut to fit (:func:`call_error`)."""
    return call_error(message_id, code, version, text)


def refusal(exc: Exception, message_id: str, version: OcppVersion) -> CallError:
    """The CALLERROR answering a call whose handling raised ``exc``."""
    if isinstance(exc, FrameError):
        return error_frame(message_id, exc.code, version, exc.description)
    if isinstance(exc, TranslationError):
        return error_frame(message_id, exc.code, version, exc.reason)
    if isinstance(exc, OcppkitError):
        return error_frame(message_id, ErrorCode.INTERNAL_ERROR, version, str(exc))
    return error_frame(message_id, ErrorCode.INTERNAL_ERROR, version, "internal error")


def failure_step(
    state: HasPending,
    side: Side,
    frame: Frame,
    exc: Exception,
    versions: dict[Side, OcppVersion],
) -> Step:
    """What to send when translating ``frame`` from ``side`` raised ``exc``.

    A call is refused to the side that sent it. For an answer the translator
    choked on, the call it answered is dropped from ``state`` and that call's
    originator on the other side gets the CALLERROR instead.
    """
    if isinstance(frame, Call):
        answer = refusal(exc, frame.message_id, versions[side])
        return Step(to_charger=(answer,)) if side is Side.CHARGER else Step(to_csms=(answer,))
    pending = state.pending.pop(pending_key(side, frame.message_id), None)
    if pending is None or pending.origin_id is None:
        return Step()
    if side is Side.CHARGER:
        return Step(to_csms=(refusal(exc, pending.origin_id, versions[Side.CSMS]),))
    return Step(to_charger=(refusal(exc, pending.origin_id, versions[Side.CHARGER]),))


def answers_early(side: Side, frame: Frame, step: Step) -> bool:
    """May ``step`` go out while its commit is being written?

    Only when the CSMS answered a call from the outbox and the translation is
    nothing but answers for the charger. Everything the charger is told was
    fixed when its call was committed (ids are minted then), and the outbox
    row that call left stays until this commit lands: if the bridge dies
    first, the row is sent again after the restart and the CSMS's new answer
    redoes this step (the charger ignores an answer to a call it no longer
    waits for). So the one disk write per message that nothing depends on is
    taken off the round trip. Every other step (calls, and answers from the
    charger, whose state is not re-derivable) is committed before anything
    leaves.
    """
    return (
        side is Side.CSMS
        and not isinstance(frame, Call)
        and not any(isinstance(f, Call) for f in (*step.to_csms, *step.to_charger))
    )
