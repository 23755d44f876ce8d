"""One end of an OCPP-J connection, sans-I/O: text in, events out.

The rules every OCPP-J peer follows live here, once (OCPP-J 1.6 §4,
2.0.1 Part 4 §4); the bridge core, the built-in CSMS and the simulator hold
an :class:`Endpoint` per connection and do only the I/O around it:

- **One outstanding call per direction.** :meth:`Endpoint.send_call` puts a
  call on the wire only when none of ours is outstanding; the call is held
  as data (:attr:`Endpoint.outstanding`) with its deadline. The shell arms a
  timer for :attr:`Endpoint.deadline` and calls :meth:`Endpoint.expire`.
- **Answers are matched by message id and by connection generation.** Each
  :meth:`Endpoint.open` starts a new generation; an answer is only taken as
  the answer to the outstanding call when it came on the generation that
  call was sent on. Our answers to the peer's calls are released
  (:meth:`Endpoint.answer`) only on the generation the call came on.
- **A timed-out call keeps the slot.** After ``call_timeout`` the caller is
  told (:class:`CallTimedOut`) but the next call waits: the peer may still
  be working on it and a strict peer refuses a second call meanwhile. The
  slot frees when the late answer arrives, or when the connection is
  recycled (:class:`RecycleDue`, after ``recycle_after`` more seconds).
- **Which malformed frame gets which CALLERROR** is the frame layer's table
  (:data:`ocppkit.translators.frames.FAULT_CODES`); a frame nested deeper
  than ``max_depth`` is refused FormationViolation / FormatViolation. An
  answer (types 3 and 4, and 2.1's 5 and 6) is never answered: it comes out
  as :class:`StrayFrame`, for the shell to log and count. On a 2.1 connection a
  SEND comes out as :class:`SendArrived` and a CALLRESULTERROR as
  :class:`ResultErrorArrived` (neither answered); on a 1.6 / 2.0.1 one they are stray.

Nothing here reads a clock: ``now`` is handed in, deadlines are handed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ocppkit.translators.errors import FrameError
from ocppkit.translators.frames import (
    DEFAULT_MAX_FRAME_BYTES,
    MAX_DEPTH,
    NEVER_ANSWERED,
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    Send,
    call_error_for,
    parse_frame,
    parse_frame_any,
)
from ocppkit.translators.versions import OcppVersion

Answer = CallResult | CallError


@dataclass(frozen=True, slots=True)
class CallArrived:
    """The peer sent a call; answer it with :meth:`Endpoint.answer`."""

    call: Call
    generation: int


@dataclass(frozen=True, slots=True)
class AnswerArrived:
    """The answer to our outstanding call.

    ``late`` is True when the call had timed out already (its caller was
    answered by :class:`CallTimedOut`): the answer only frees the slot.
    """

    answer: Answer
    call: Call
    generation: int
    sent_at: datetime
    late: bool = False


@dataclass(frozen=True, slots=True)
class StrayFrame:
    """A frame that is not answered and matches nothing: log and count it.

    An answer to no call of ours, an answer whose frame is broken, or a 2.1
    CALLRESULTERROR / SEND on a 1.6 / 2.0.1 connection. ``error`` is set
    when the frame could not be parsed.
    """

    text: str
    reason: str
    error: FrameError | None = None
    frame: Frame | None = None


@dataclass(frozen=True, slots=True)
class SendArrived:
    """The peer sent a 2.1 SEND: a call that is never answered."""

    send: Send
    generation: int


@dataclass(frozen=True, slots=True)
class ResultErrorArrived:
    """The peer sent a 2.1 CALLRESULTERROR: it could not use our CALLRESULT. Never answered."""

    error: CallResultError
    generation: int


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that is not a valid call; ``reply`` is its CALLERROR, if it has an id."""

    text: str
    error: FrameError
    reply: CallError | None


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """Our call got no answer within ``call_timeout`` (the slot stays busy)."""

    call: Call


@dataclass(frozen=True, slots=True)
class CallLost:
    """The connection closed while our call was outstanding."""

    call: Call
    timed_out: bool


@dataclass(frozen=True, slots=True)
class RecycleDue:
    """A timed-out call was never answered: close the connection to free the slot."""

    call: Call


Event = (
    CallArrived
    | AnswerArrived
    | StrayFrame
    | BadFrame
    | CallTimedOut
    | CallLost
    | RecycleDue
    | SendArrived
    | ResultErrorArrived
)


class EndpointBusy(RuntimeError):
    """:meth:`Endpoint.send_call` while a call is outstanding or the link is down."""


@dataclass(slots=True)
class Outstanding:
    """Our call on the wire, waiting for its answer."""

    call: Call
    generation: int
    sent_at: datetime
    deadline: datetime
    timed_out: bool = False


class Endpoint:
    """One side of an OCPP-J connection, across its reconnections.

    Args:
        version: the OCPP version spoken (decides error codes).
        call_timeout: seconds the peer has to answer each of our calls.
        recycle_after: seconds after a timeout with no late answer before
            :class:`RecycleDue` (default: ``call_timeout`` again).
        max_bytes: frames larger than this are refused unparsed.
        max_depth: frames nesting deeper than this are refused.
    """

    def __init__(
        self,
        version: OcppVersion,
        *,
        call_timeout: float,
        recycle_after: float | None = None,
        max_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.version = version
        self.call_timeout = timedelta(seconds=call_timeout)
        self.recycle_after = timedelta(
            seconds=call_timeout if recycle_after is None else recycle_after
        )
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.generation = 0
        self.connected = False
        self.outstanding: Outstanding | None = None
        self._due: dict[tuple[str, int], str] = {}  # (peer's call id, generation) -> action

    # -- the connection ---------------------------------------------------------

    def open(self) -> int:
        """A new connection is up; returns its generation."""
        self.generation += 1
        self.connected = True
        self._due.clear()
        return self.generation

    def close(self) -> CallLost | None:
        """The connection is gone: nothing due on it will be answered."""
        self.connected = False
        self._due.clear()
        held, self.outstanding = self.outstanding, None
        return None if held is None else CallLost(held.call, held.timed_out)

    # -- our calls ----------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A call of ours is outstanding (answered, lost or recycled frees it)."""
        return self.outstanding is not None

    @property
    def ready(self) -> bool:
        """A call may be sent now."""
        return self.connected and self.outstanding is None

    def send_call(self, call: Call, now: datetime) -> Call:
        """Hold ``call`` as outstanding; the shell puts it on the wire.

        Raises:
            EndpointBusy: a call is outstanding, or there is no connection.
        """
        if not self.ready:
            raise EndpointBusy("a call is outstanding" if self.connected else "not connected")
        self.outstanding = Outstanding(call, self.generation, now, now + self.call_timeout)
        return call

    def abandon(self) -> Call | None:
        """Stop waiting for the outstanding call (its answer will be stray)."""
        held, self.outstanding = self.outstanding, None
        return None if held is None else held.call

    @property
    def owed(self) -> int:
        """How many of the peer's calls on this connection still await our answer."""
        return sum(1 for _, generation in self._due if generation == self.generation)

    @property
    def deadline(self) -> datetime | None:
        """When :meth:`expire` has something to say, or None."""
        return None if self.outstanding is None else self.outstanding.deadline

    def expire(self, now: datetime) -> CallTimedOut | RecycleDue | None:
        """The outstanding call's timeout, then its recycle point, if ``now`` is past them."""
        held = self.outstanding
        if held is None or now < held.deadline:
            return None
        if not held.timed_out:
            held.timed_out = True
            held.deadline = now + self.recycle_after
            return CallTimedOut(held.call)
        held.deadline = now + self.recycle_after  # said once per period, not every tick
        return RecycleDue(held.call)

    # -- frames in ------------------------------------------------------------------

    def receive(self, text: str, now: datetime) -> Event:
        """One text message from the peer."""
        parse = parse_frame_any if self.version.has_extended_frames else parse_frame
        try:
            frame = parse(text, self.version, max_bytes=self.max_bytes, max_depth=self.max_depth)
        except FrameError as exc:
            if exc.message_type in NEVER_ANSWERED:
                return StrayFrame(text, "an answer is never answered", exc)
            return BadFrame(text, exc, call_error_for(exc, self.version))
        if isinstance(frame, Send):
            return SendArrived(frame, self.generation)
        if isinstance(frame, CallResultError):
            return ResultErrorArrived(frame, self.generation)
        return self.receive_frame(frame, now, text)

    def receive_frame(self, frame: Frame, now: datetime, text: str = "") -> Event:
        """One frame from the peer, already parsed (e.g. lifted from SOAP)."""
        if isinstance(frame, Call):
            self._due[(frame.message_id, self.generation)] = frame.action
            return CallArrived(frame, self.generation)
        held = self.outstanding
        if held is None or held.call.message_id != frame.message_id:
            reason = f"answer {frame.message_id!r} matches no call of ours"
            return StrayFrame(text, reason, frame=frame)
        if held.generation != self.generation:
            reason = f"answer {frame.message_id!r} to a call of an earlier link"
            return StrayFrame(text, reason, frame=frame)
        self.outstanding = None
        return AnswerArrived(frame, held.call, held.generation, held.sent_at, held.timed_out)

    # -- our answers --------------------------------------------------------------------

    def due(self, message_id: str, generation: int) -> str | None:
        """The action of the peer's call ``message_id`` on ``generation``, if still due."""
        return self._due.get((message_id, generation))

    def answer(self, frame: Answer, generation: int) -> Answer | None:
        """Release our answer to the peer's call; None: it must not be sent.

        It is sent only on the connection the call came on, and only once.
        A CALLERROR for a frame that never was a call (no due entry) goes
        out as it is.
        """
        action = self._due.pop((frame.message_id, generation), None)
        if generation != self.generation or not self.connected:
            return None
        if action is None and isinstance(frame, CallResult):
            return None  # a result for nothing we owe
        return frame
