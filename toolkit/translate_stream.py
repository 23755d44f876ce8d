"""Translating journal streams between OCPP versions (``ocppkit translate``).

A stream translator takes journal records one at a time and returns the
records that stand for them in the other version. Version pairs plug in
through one table, :data:`PAIRS`: ``(from, to)`` -> a factory of a
:class:`RecordTranslator`. A pair whose two sides are OCPP-J sessions
(1.6 -> 2.0.1, 2.0.1 -> 1.6) is a :class:`SessionSpec` run by
:class:`SessionStream`; a pair with a pre-stage (1.5 SOAP lifted to 1.6,
then 1.6 -> 2.0.1) chains record translators with :class:`Chain`.

How a session pair reads a conversation. The stream replays the bridge: a
record from the charger side goes to ``from_charger``, one from the CSMS
side to ``from_csms``, each in the version that side speaks, and every
frame the bridge would send becomes an output record on its leg
(``upstream`` towards the CSMS in the target version, ``downstream``
towards the charger in the source version). A CALLRESULT is matched to the
call it answers by message id, per charger.

A recorded conversation in the source version only (a 1.6 charger talking
to a 1.6 CSMS) also has the CSMS's side in 1.6:

- its answers to the charger's calls are turned into the 2.0.1 answers a
  CSMS would give (``SessionSpec.replay_answer``) and fed to the session,
  which then settles its state as if the CSMS had answered;
- its own commands (RemoteStartTransaction, ChangeConfiguration...) are not
  translated *up*: the bridge translates a 2.0.1 CSMS's commands *down*,
  and a 1.6 command has no 2.0.1 sender to stand for. Such records, and
  the charger's answers to them, are written unchanged with
  ``meta.untranslated`` saying why.

Nothing is dropped silently: an input record that yields no frame is
written unchanged with ``meta.untranslated`` (and its notes), and counted.
Each record written carries ``meta.line`` (its input line) and the notes of
its translation. Every frame written is validated against the official
schema of its version; a failure is a bug of ocppkit and counted in
``invalid_output`` (the command then exits non-zero).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

import orjson

from ocppkit.translators.context import Context
from ocppkit.translators.errors import ConfigError, FrameError, OcppkitError, ValidationFailed
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    frame_from_list,
    frame_to_list,
)
from ocppkit.translators.journal import Direction, JournalRecord, Leg
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

# Enum members as module constants: attribute lookups on an Enum class are
# slow in the per-frame path.
_CHARGER_SIDE = Direction.CS_TO_CSMS
_CSMS_SIDE = Direction.CSMS_TO_CS
_REQUEST, _RESPONSE = Kind.REQUEST, Kind.RESPONSE
_UP, _DOWN = Leg.UPSTREAM, Leg.DOWNSTREAM


@cache
def shared_validator() -> Validator:
    """One strict validator per process: each schema is compiled once, then shared."""
    return Validator()


class RecordTranslator(Protocol):
    """What a version pair provides: records in, records out."""

    counts: Counter[str]

    def feed(self, record: JournalRecord, line: int) -> list[JournalRecord]:
        """The records standing for ``record`` (at least one, never silently none)."""
        ...


Session = Callable[[Any, Frame, Context], Step]


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """An OCPP-J session translator, as the stream drives it.

    Attributes:
        source: the charger's version.
        target: the CSMS's version.
        new_state: a fresh state for a charge point id.
        from_charger / from_csms: the session's two entry points.
        replay_answer: ``(state, answer in the source version) -> answer in the
            target version`` for a recorded source-version CSMS, or None when
            the pair does not replay such answers (returns None for no match).
    """

    source: OcppVersion
    target: OcppVersion
    new_state: Callable[[str], Any]
    from_charger: Session
    from_csms: Session
    replay_answer: Callable[[Any, Frame], Frame | None] | None = None


@dataclass(slots=True)
class _Conversation:
    state: Any
    # (who, message id) -> action: "by_charger"/"by_csms" for calls a side
    # made, "to_charger"/"to_csms" for calls the bridge sent to a side.
    calls: dict[tuple[str, str], str] = field(default_factory=dict)


class _Clock:
    """The context of a replay: the record's own time, deterministic ids."""

    def __init__(self) -> None:
        self.timestamp = "1970-01-01T00:00:00Z"
        ids = itertools.count(1)
        self.context = Context(now=self._now, new_id=lambda: f"ocppkit-{next(ids)}")

    def _now(self) -> datetime:
        try:
            return datetime.fromisoformat(self.timestamp).astimezone(UTC)
        except ValueError:
            return datetime(1970, 1, 1, tzinfo=UTC)


class SessionStream:
    """Runs a :class:`SessionSpec` over journal records (see the module docstring).

    Args:
        spec: the session pair.
        both_legs: also write the charger's leg (source version): every input
            record, and every frame the bridge would send the charger. By
            default only the target version's conversation is written.
        validator: shared compiled validator.
    """

    def __init__(
        self, spec: SessionSpec, *, both_legs: bool = False, validator: Validator | None = None
    ) -> None:
        self.spec = spec
        self.both_legs = both_legs
        self.validator = validator or shared_validator()
        self.counts: Counter[str] = Counter()
        self._conversations: dict[str, _Conversation] = {}
        self._clock = _Clock()

    # -- input ------------------------------------------------------------

    def feed(self, record: JournalRecord, line: int) -> list[JournalRecord]:
        self.counts["records_in"] += 1
        cp = record.charge_point_id
        conv = self._conversations.get(cp)
        if conv is None:
            conv = self._conversations[cp] = _Conversation(self.spec.new_state(cp))
        self._clock.timestamp = record.timestamp
        charger_side = record.direction is _CHARGER_SIDE
        side_version = self.spec.source if charger_side else self.spec.target
        if not isinstance(record.message, list):
            return [self._untranslated(record, line, "message is not an OCPP-J frame")]
        try:
            frame = frame_from_list(record.message, record.ocpp_version)
        except FrameError as exc:
            return [self._untranslated(record, line, f"not a frame: {exc}")]
        if record.ocpp_version is side_version:
            return self._session(conv, record, line, frame, charger_side)
        if not charger_side and record.ocpp_version is self.spec.source:
            return self._replayed_csms(conv, record, line, frame)
        side = "charger" if charger_side else "CSMS"
        pair = f"{self.spec.source} -> {self.spec.target}"
        reason = f"a {record.ocpp_version} frame on the {side} side of a {pair} stream"
        return [self._untranslated(record, line, reason)]

    def _session(
        self,
        conv: _Conversation,
        record: JournalRecord,
        line: int,
        frame: Frame,
        charger_side: bool,
    ) -> list[JournalRecord]:
        who = "charger" if charger_side else "csms"
        action = self._note_input(conv, frame, who)
        if action is not None:
            problem = self._invalid(record.ocpp_version, action, frame)
            if problem is not None:
                self.counts["invalid_source"] += 1
                return [self._untranslated(record, line, f"invalid source frame: {problem}")]
        session = self.spec.from_charger if charger_side else self.spec.from_csms
        step = session(conv.state, frame, self._clock.context)
        self._count_notes(step)
        if charger_side:
            up = [self._output(conv, record, line, f, False) for f in step.to_csms]
            down = self._down(conv, record, line, step)
            if up:
                self.counts["translated"] += 1
                _attach_notes(up, step)
                head = [self._echo(record, line, Leg.DOWNSTREAM)] if self.both_legs else []
                return head + up + down
            reason = "answered by the bridge" if step.to_charger else "nothing to send"
            return [self._untranslated(record, line, reason, step), *down]
        # A CSMS frame in the target version belongs to the target conversation.
        echo = self._echo(record, line, Leg.UPSTREAM)
        up = [self._output(conv, record, line, f, False) for f in step.to_csms]
        down = self._down(conv, record, line, step)
        if step.notes:
            echo.meta["notes"] = [n.as_dict() for n in step.notes]
        self.counts["translated" if step.to_charger else "absorbed"] += 1
        return [echo, *up, *down]

    def _replayed_csms(
        self, conv: _Conversation, record: JournalRecord, line: int, frame: Frame
    ) -> list[JournalRecord]:
        if isinstance(frame, Call):
            self.counts["untranslated_commands"] += 1
            reason = (
                f"a {self.spec.source} central-system command: the bridge translates "
                f"{self.spec.target} commands down, not {self.spec.source} commands up"
            )
            return [self._untranslated(record, line, reason)]
        replay = self.spec.replay_answer
        action = conv.calls.get(("by_charger", frame.message_id))
        up = replay(conv.state, frame) if replay is not None and action is not None else None
        if up is None or action is None:
            return [self._untranslated(record, line, "answers a call that was not translated")]
        problem = self._invalid(record.ocpp_version, action, frame)
        if problem is not None:
            self.counts["invalid_source"] += 1
            return [self._untranslated(record, line, f"invalid source frame: {problem}")]
        self.counts["replayed_answers"] += 1
        # The CSMS's answer, in the target version, settles the upstream call.
        answered = conv.calls.pop(("to_csms", up.message_id), None)
        meta: dict[str, Any] = {"line": line, "replayed_from": record.ocpp_version.value}
        if answered is not None:
            self._check(self.spec.target, answered, up, meta)
        out = [
            JournalRecord(
                record.timestamp,
                record.charge_point_id,
                record.direction,
                self.spec.target,
                frame_to_list(up),
                _UP,
                record.seq,
                meta,
            )
        ]
        self.counts["records_out"] += 1
        step = self.spec.from_csms(conv.state, up, self._clock.context)
        self._count_notes(step)
        if step.notes:
            meta["notes"] = [n.as_dict() for n in step.notes]
        out += [self._output(conv, record, line, f, False) for f in step.to_csms]
        down = self._down(conv, record, line, step)
        return ([self._echo(record, line, Leg.DOWNSTREAM)] if self.both_legs else []) + out + (down)

    def _note_input(self, conv: _Conversation, frame: Frame, who: str) -> str | None:
        """Remember a call; find the action a result answers (None: unknown)."""
        if isinstance(frame, Call):
            conv.calls[(f"by_{who}", frame.message_id)] = frame.action
            return frame.action
        return conv.calls.pop((f"to_{who}", frame.message_id), None)

    def _invalid(self, version: OcppVersion, action: str, frame: Frame) -> str | None:
        if isinstance(frame, CallError):
            return None
        kind = _REQUEST if isinstance(frame, Call) else _RESPONSE
        try:
            self.validator.validate(version, action, kind, frame.payload)
        except ValidationFailed as exc:
            return exc.description
        except FrameError as exc:  # an action the version does not define
            return None if isinstance(frame, Call) else exc.description
        return None

    # -- output -----------------------------------------------------------

    def _count_notes(self, step: Step) -> None:
        for note in step.notes:
            self.counts[f"note_{note.kind.value}"] += 1

    def _check(self, version: OcppVersion, action: str, frame: Frame, meta: dict[str, Any]) -> None:
        problem = self._invalid(version, action, frame)
        if problem is not None:
            self.counts["invalid_output"] += 1
            meta["invalid"] = problem

    def _output(
        self,
        conv: _Conversation,
        record: JournalRecord,
        line: int,
        frame: Frame,
        to_charger: bool,
    ) -> JournalRecord:
        """A frame the bridge sends, as a record (validated, call remembered)."""
        version = self.spec.source if to_charger else self.spec.target
        who = "charger" if to_charger else "csms"
        if isinstance(frame, Call):
            conv.calls[(f"to_{who}", frame.message_id)] = frame.action
            action: str | None = frame.action
        else:
            # An answer sent to one side settles a call that side made.
            action = conv.calls.pop((f"by_{who}", frame.message_id), None)
        meta: dict[str, Any] = {"line": line}
        if action is not None:
            self._check(version, action, frame, meta)
        self.counts["records_out"] += 1
        return JournalRecord(
            timestamp=record.timestamp,
            charge_point_id=record.charge_point_id,
            direction=_CSMS_SIDE if to_charger else _CHARGER_SIDE,
            ocpp_version=version,
            message=frame_to_list(frame),
            leg=_DOWN if to_charger else _UP,
            seq=record.seq,
            meta=meta,
        )

    def _down(
        self, conv: _Conversation, record: JournalRecord, line: int, step: Step
    ) -> list[JournalRecord]:
        """Records of the frames sent to the charger (only written with both legs).

        Without both legs they are not written, so not built or validated;
        only the call bookkeeping is kept, to match the charger's answers.
        """
        if self.both_legs:
            return [self._output(conv, record, line, f, True) for f in step.to_charger]
        for frame in step.to_charger:
            if isinstance(frame, Call):
                conv.calls[("to_charger", frame.message_id)] = frame.action
            else:
                conv.calls.pop(("by_charger", frame.message_id), None)
        return []

    def _echo(self, record: JournalRecord, line: int, leg: Leg) -> JournalRecord:
        self.counts["records_out"] += 1
        return replace(record, leg=leg, meta={**record.meta, "line": line})

    def _untranslated(
        self, record: JournalRecord, line: int, reason: str, step: Step | None = None
    ) -> JournalRecord:
        self.counts["untranslated"] += 1
        self.counts["records_out"] += 1
        meta = {**record.meta, "line": line, "untranslated": reason}
        if step is not None and step.notes:
            meta["notes"] = [n.as_dict() for n in step.notes]
        return replace(record, meta=meta)


def _attach_notes(records: list[JournalRecord], step: Step) -> None:
    """The notes of a translation ride on its first output record."""
    if step.notes and records:
        records[0].meta["notes"] = [n.as_dict() for n in step.notes]


class Chain:
    """Record translators run one after the other (e.g. 1.5 -> 1.6 -> 2.0.1)."""

    def __init__(self, *stages: RecordTranslator) -> None:
        self.stages = stages
        self.counts: Counter[str] = Counter()

    def feed(self, record: JournalRecord, line: int) -> list[JournalRecord]:
        records = [record]
        for stage in self.stages:
            records = [out for rec in records for out in _carry_notes(rec, stage.feed(rec, line))]
        self.counts = sum((s.counts for s in self.stages), Counter())
        return records


def _carry_notes(record: JournalRecord, made: list[JournalRecord]) -> list[JournalRecord]:
    """What an earlier stage noted (e.g. a lossy 1.5 lift) rides on what a later one made of it."""
    carried = record.meta.get("notes") or []
    if carried and made and made[0] is not record:
        own = [n for n in made[0].meta.get("notes") or [] if n not in carried]
        made[0].meta["notes"] = [*carried, *own]
    return made


def _charger16_csms201(both_legs: bool = False) -> RecordTranslator:
    from ocppkit.translators.charger16_csms201 import session
    from ocppkit.translators.charger16_csms201.handlers import Side, pending_key
    from ocppkit.translators.charger16_csms201.replay import ANSWERS_UP, answer_up
    from ocppkit.translators.charger16_csms201.state import BridgeState

    def replay(state: BridgeState, frame: Frame) -> Frame | None:
        if isinstance(frame, Call):
            return None
        pending = state.pending.get(pending_key(Side.CSMS, frame.message_id))
        if pending is None or pending.action not in ANSWERS_UP:
            return None
        assert isinstance(frame, CallResult | CallError)
        return answer_up(state, pending, frame.message_id, frame)

    spec = SessionSpec(
        source=OcppVersion.V16,
        target=OcppVersion.V201,
        new_state=lambda cp: BridgeState(charge_point_id=cp),
        from_charger=session.from_charger,
        from_csms=session.from_csms,
        replay_answer=replay,
    )
    return _PurgingStream(spec, both_legs=both_legs)


class _PurgingStream(SessionStream):
    """1.6 -> 2.0.1: a recorded 1.6 CSMS never answers the bridge's own calls.

    Once the CSMS side turns out to be 1.6, the bridge-originated calls
    (NotifyEvent, charging-state TransactionEvents) will get no answer: they
    are forgotten, so the state does not grow with the stream.
    """

    def _replayed_csms(
        self, conv: _Conversation, record: JournalRecord, line: int, frame: Frame
    ) -> list[JournalRecord]:
        out = super()._replayed_csms(conv, record, line, frame)
        pending = conv.state.pending
        for key in [k for k, p in pending.items() if p.origin_id is None]:
            del pending[key]
        return out


def _station201_csms16(both_legs: bool = False) -> RecordTranslator:
    from ocppkit.translators.station201_csms16 import replay_answer, session
    from ocppkit.translators.station201_csms16.state import StationState

    spec = SessionSpec(
        source=OcppVersion.V201,
        target=OcppVersion.V16,
        new_state=lambda cp: StationState(charge_point_id=cp),
        from_charger=session.from_charger,
        from_csms=session.from_csms,
        replay_answer=replay_answer,
    )
    return _PurgingStream(spec, both_legs=both_legs)


class _Lift15:
    """1.5 SOAP records -> 1.6 records (ocppkit.translators.soap15.stream)."""

    def __init__(self, both_legs: bool = False) -> None:
        from ocppkit.translators.soap15.stream import StreamState

        self.state = StreamState()
        self.counts: Counter[str] = Counter()

    def feed(self, record: JournalRecord, line: int) -> list[JournalRecord]:
        from ocppkit.translators.soap15.stream import record_to_j16

        if record.ocpp_version is not OcppVersion.V15:
            return [record]
        try:
            lifted, _ = record_to_j16(record, self.state)
        except OcppkitError as exc:
            self.counts["untranslated"] += 1
            return [replace(record, meta={**record.meta, "line": line, "untranslated": str(exc)})]
        return [lifted]


# (from, to) -> factory of the stream translator, given ``both_legs``. Add a
# pair here: that is the whole plug-in point.
PAIRS: dict[tuple[OcppVersion, OcppVersion], Callable[[bool], RecordTranslator]] = {
    (OcppVersion.V16, OcppVersion.V201): _charger16_csms201,
    (OcppVersion.V201, OcppVersion.V16): _station201_csms16,
    (OcppVersion.V15, OcppVersion.V16): _Lift15,
    (OcppVersion.V15, OcppVersion.V201): lambda both: Chain(_Lift15(), _charger16_csms201(both)),
}


def translator_for(
    source: OcppVersion, target: OcppVersion, *, both_legs: bool = False
) -> RecordTranslator:
    """The stream translator of a version pair.

    Raises:
        ConfigError: the pair is not supported.
    """
    factory = PAIRS.get((source, target))
    if factory is None:
        known = ", ".join(f"{a} -> {b}" for a, b in PAIRS)
        raise ConfigError(f"cannot translate {source} -> {target} (known: {known})")
    return factory(both_legs)


def encode_line(record: JournalRecord) -> bytes:
    """:func:`ocppkit.translators.journal.encode_record` plus a newline, faster.

    The same bytes (a test holds them equal): orjson writes the StrEnum
    members as their values, which skips the slow ``Enum.value`` lookups.
    """
    out: dict[str, Any] = {
        "timestamp": record.timestamp,
        "charge_point_id": record.charge_point_id,
        "direction": record.direction,
        "ocpp_version": record.ocpp_version,
        "message": record.message,
    }
    if record.leg is not None:
        out["leg"] = record.leg
    if record.seq is not None:
        out["seq"] = record.seq
    if record.meta:
        out["meta"] = record.meta
    return orjson.dumps(out, option=orjson.OPT_APPEND_NEWLINE)


@dataclass(slots=True)
class Outcome:
    """What a stream translation did."""

    counts: Counter[str]
    unreadable: list[tuple[int, str]]

    @property
    def ok(self) -> bool:
        """False only for real failures: a frame of ours failing its schema."""
        return self.counts["invalid_output"] == 0


def translate_lines(
    lines: Iterable[tuple[int, bytes]],
    translator: RecordTranslator,
    write: Callable[[bytes], object],
    on_unreadable: Callable[[int, str], object] | None = None,
) -> Outcome:
    """Translate journal lines, writing each output record as one JSON line.

    Args:
        lines: ``(line number, bytes)`` pairs (:func:`ocppkit.toolkit.textio.iter_lines`).
        translator: from :func:`translator_for`.
        write: receives each output line, newline included.
        on_unreadable: called with (line number, reason) for a line that is
            not a journal record; processing continues.
    """
    from ocppkit.translators.errors import JournalError
    from ocppkit.translators.journal import decode_record

    unreadable: list[tuple[int, str]] = []
    for number, raw in lines:
        try:
            record = decode_record(raw)
        except JournalError as exc:
            unreadable.append((number, str(exc)))
            if on_unreadable is not None:
                on_unreadable(number, str(exc))
            continue
        for out in translator.feed(record, number):
            write(encode_line(out))
    counts = translator.counts
    counts["unreadable"] += len(unreadable)
    return Outcome(counts, unreadable)
