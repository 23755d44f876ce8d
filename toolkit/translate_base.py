"""What the conversation converter keeps per charger, and how it writes records.

:class:`StreamBase` holds the per-charger :class:`Conversation` (the session
pair's state, the commands pair's state, the calls seen both ways, the
commands awaiting the charger's answer, the events held) and writes every
output record through :meth:`StreamBase._output`, which validates it against
its official schema first: a translation failing it is reported, never
written. :mod:`ocppkit.toolkit.translate_session` reads the records,
:mod:`ocppkit.toolkit.translate_commands` translates the CSMS's commands.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from ocppkit.toolkit.translate_report import Cause, Fed, LeftOut
from ocppkit.translators.context import Context
from ocppkit.translators.errors import FrameError, ValidationFailed
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    frame_to_list,
)
from ocppkit.translators.journal import Direction, JournalRecord, Leg
from ocppkit.translators.outcome import NoteKind, Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

# Enum members as module constants: attribute lookups on an Enum class are
# slow in the per-frame path.
CHARGER_SIDE = Direction.CS_TO_CSMS
CSMS_SIDE = Direction.CSMS_TO_CS
_REQUEST, _RESPONSE = Kind.REQUEST, Kind.RESPONSE
UP, DOWN = Leg.UPSTREAM, Leg.DOWNSTREAM
MAX_REMEMBERED = 10_000  # calls / commands remembered per charger before the oldest go
MAX_ROUNDS = 64  # calls one recorded answer may settle (a split command's parts)
# Keys of Conversation.calls, by side: "by_x" a call x made, "to_x" one sent to x.
_BY = {"charger": "by_charger", "csms": "by_csms"}
_TO = {"charger": "to_charger", "csms": "to_csms"}


@cache
def shared_validator() -> Validator:
    """One strict validator per process: each schema is compiled once, then shared."""
    return Validator()


Session = Callable[[Any, Frame, Context], Step]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """How a recorded source-version CSMS's commands are translated.

    Attributes:
        new_state: a fresh state of the commands pair for a charge point id.
        from_csms: the commands pair's CSMS entry (source command in).
        from_charger: the commands pair's charger entry (target answer in).
        share: ``(session state, commands state)``: copy what the commands
            pair must know from the session pair (transactions).
        align: ``(session state, recorded command, re-derived call)``: rename
            ids the session pair minted to the recorded ones.
        answer_for: ``(recorded answer, re-derived call)``: the recorded
            answer as the answer to one re-derived call (its id and, for a
            split command, its part).
    """

    new_state: Callable[[str], Any]
    from_csms: Session
    from_charger: Session
    share: Callable[[Any, Any], None]
    align: Callable[[Any, Call, Call], None]
    answer_for: Callable[[CallResult | CallError, Call], CallResult | CallError]


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
        commands: the pair hosting a recorded source-version CSMS's commands
            (None: they are left out).
        held: ``(state, call) -> key`` of a charger call the pair keeps for a
            later message (None: not kept); ``still_held`` tells when it is
            no longer kept, ``why_held`` why it is still kept at the end.
        proven: ``(source action, target action)`` of charger calls whose
            target-version calls are schema-valid whenever the source call
            is (the pair proves it by a property test): the stream, which
            has validated the source call, does not check those twice.
    """

    source: OcppVersion
    target: OcppVersion
    new_state: Callable[[str], Any]
    from_charger: Session
    from_csms: Session
    replay_answer: Callable[[Any, Frame], Frame | None] | None = None
    commands: CommandSpec | None = None
    held: Callable[[Any, Call], str | None] | None = None
    still_held: Callable[[Any, str], bool] | None = None
    why_held: Callable[[Any, str], str] | None = None
    proven: frozenset[tuple[str, str]] = frozenset()


@dataclass(slots=True)
class RecordedCommand:
    """A recorded source-version CSMS command, written out in the target version."""

    line: int
    call: Call
    # (target command written out, source call the session pair made of it)
    derived: list[tuple[Call, Call]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # message ids of the target commands
    answered_locally: bool = False


@dataclass(slots=True)
class HeldEvent:
    key: str
    line: int
    record: JournalRecord
    action: str


@dataclass(slots=True)
class Conversation:
    state: Any
    commands_state: Any = None
    # (who, message id) -> action: "by_charger"/"by_csms" for calls a side
    # made, "to_charger"/"to_csms" for calls the bridge sent to a side.
    calls: dict[tuple[str, str], str] = field(default_factory=dict)
    commands: dict[str, RecordedCommand] = field(default_factory=dict)
    # (sender, message id) of a call not in the output -> why, for its answer
    absorbed: dict[tuple[str, str], tuple[str, Cause, str]] = field(default_factory=dict)
    held: list[HeldEvent] = field(default_factory=list)


def remember(table: dict[Any, Any], key: Any, value: Any) -> None:
    table[key] = value
    if len(table) > MAX_REMEMBERED:
        del table[next(iter(table))]


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


def why_nothing(step: Step, fallback: str) -> tuple[Cause, str]:
    """The cause of a step that wrote nothing, from its notes."""
    by_kind = {
        NoteKind.NOT_SUPPORTED: Cause.NO_COUNTERPART,
        NoteKind.LOCAL_ANSWER: Cause.ANSWERED_BY_BRIDGE,
        NoteKind.DUPLICATE: Cause.DROPPED,
        NoteKind.LOSSY: Cause.DROPPED,
        NoteKind.ORPHAN: Cause.ANSWER_UNKNOWN,
    }
    for kind, cause in by_kind.items():
        details = [n.detail for n in step.notes if n.kind is kind]
        if details:
            return cause, "; ".join(details)
    return Cause.NOTHING_TO_SEND, fallback


class StreamBase:
    """The state and the output of a conversation converter (see the module docstring).

    Args:
        spec: the session pair (and the commands pair).
        both_legs: also write the charger's leg (source version): every
            charger-side input record, and every frame the bridge would send
            the charger. By default only the target version's conversation.
        validator: shared compiled validator.
    """

    def __init__(
        self, spec: SessionSpec, *, both_legs: bool = False, validator: Validator | None = None
    ) -> None:
        self.spec = spec
        self.both_legs = both_legs
        self.validator = validator or shared_validator()
        self.counts: Counter[str] = Counter()
        self._conversations: dict[str, Conversation] = {}
        self._clock = _Clock()
        self._checks = self.validator.compiled_checks
        # (version, action, kind) whose schema accepts {}: a pure function of
        # the schema, so remembered (an invalid {} is checked, and explained, each time).
        self._empty_ok: set[tuple[OcppVersion, str, Kind]] = set()

    # -- bookkeeping --------------------------------------------------------

    def _note_input(self, conv: Conversation, frame: Frame, who: str) -> str | None:
        """Remember a call; find the action a result answers (None: unknown)."""
        if isinstance(frame, Call):
            remember(conv.calls, (_BY[who], frame.message_id), frame.action)
            return frame.action
        return conv.calls.pop((_TO[who], frame.message_id), None)

    def _invalid(self, version: OcppVersion, action: str, frame: Frame) -> str | None:
        if isinstance(frame, CallError):
            return None
        kind = _REQUEST if isinstance(frame, Call) else _RESPONSE
        key = (version, action, kind)
        if not frame.payload:
            # {} (most answers): valid or not once and for all, per schema.
            if key in self._empty_ok:
                return None
        else:
            # The hot path: the compiled check straight from the validator's table.
            check = self._checks.get(key)
            if check is not None and check(frame.payload):
                return None
        try:
            self.validator.validate(version, action, kind, frame.payload)
        except ValidationFailed as exc:
            return exc.description
        except FrameError as exc:  # an action the version does not define
            return exc.description
        if not frame.payload:
            self._empty_ok.add(key)
        return None

    # -- output -----------------------------------------------------------

    def _count_notes(self, step: Step) -> None:
        for note in step.notes:
            self.counts["note_" + note.kind] += 1  # a StrEnum joins as its value

    def _output(
        self,
        conv: Conversation,
        fed: Fed,
        record: JournalRecord,
        line: int,
        frame: Frame,
        *,
        sender: str,
        version: OcppVersion,
        action: str | None = None,
        step: Step | None = None,
        meta: dict[str, Any] | None = None,
        proven: bool = False,
    ) -> None:
        """A frame written out (validated unless ``proven``, see :attr:`SessionSpec.proven`;
        a call remembered to check its answer)."""
        other = "csms" if sender == "charger" else "charger"
        if isinstance(frame, Call):
            remember(conv.calls, (_TO[other], frame.message_id), frame.action)
            action = frame.action
        elif action is None:
            # An answer sent to one side settles a call that side made.
            action = conv.calls.pop((_BY[other], frame.message_id), None)
        else:
            conv.calls.pop((_BY[other], frame.message_id), None)
        message = frame_to_list(frame)
        if action is None and version is self.spec.target and not isinstance(frame, CallError):
            reason = f"its {version} answer {message} answers no known call: cannot be checked"
            fed.left_out.append(LeftOut(record, line, "", Cause.INVALID_OUTPUT, reason))
            self.counts["invalid_output"] += 1
            return
        problem = None if action is None or proven else self._invalid(version, action, frame)
        if problem is not None:
            reason = f"{version} {action}: {problem}; translation: {message}"
            fed.left_out.append(LeftOut(record, line, action or "", Cause.INVALID_OUTPUT, reason))
            self.counts["invalid_output"] += 1
            return
        meta = {"line": line, **meta} if meta else {"line": line}
        if step is not None and step.notes:
            meta["notes"] = [n.as_dict() for n in step.notes]
        fed.records.append(
            JournalRecord(
                record.timestamp,
                record.charge_point_id,
                CHARGER_SIDE if sender == "charger" else CSMS_SIDE,
                version,
                message,
                UP if version is self.spec.target else DOWN,
                record.seq,
                meta,
            )
        )
        self.counts["records_out"] += 1

    def _upstream(
        self,
        conv: Conversation,
        fed: Fed,
        record: JournalRecord,
        line: int,
        step: Step,
        source: str | None = None,
    ) -> None:
        """The frames for the CSMS; ``source``: the action of the validated charger call
        they stand for (its proven translations are not validated twice)."""
        proven = self.spec.proven
        for frame in step.to_csms:
            self._output(
                conv,
                fed,
                record,
                line,
                frame,
                sender="charger",
                version=self.spec.target,
                proven=source is not None
                and isinstance(frame, Call)
                and (source, frame.action) in proven,
            )

    def _down(
        self, conv: Conversation, fed: Fed, record: JournalRecord, line: int, step: Step
    ) -> None:
        """The frames the bridge sends the charger (written only with both legs).

        Without both legs they are not written, so not built or validated;
        only the call bookkeeping is kept, to match the charger's answers.
        """
        if self.both_legs:
            for frame in step.to_charger:
                self._output(
                    conv, fed, record, line, frame, sender="csms", version=self.spec.source
                )
            return
        for frame in step.to_charger:
            if isinstance(frame, Call):
                remember(conv.calls, ("to_charger", frame.message_id), frame.action)
            else:
                conv.calls.pop(("by_charger", frame.message_id), None)

    def _echo(
        self, record: JournalRecord, line: int, leg: Leg, step: Step | None = None
    ) -> JournalRecord:
        self.counts["records_out"] += 1
        meta = {**record.meta, "line": line}
        if step is not None and step.notes:
            meta["notes"] = [n.as_dict() for n in step.notes]
        return replace(record, leg=leg, meta=meta)

    def _leave(
        self, record: JournalRecord, line: int, action: str, cause: Cause, reason: str
    ) -> Fed:
        return Fed(left_out=[LeftOut(record, line, action, cause, reason)])


def action_of(frame: Frame) -> str:
    return frame.action if isinstance(frame, Call) else ""


def attach_notes(records: list[JournalRecord], step: Step) -> None:
    """The notes of a translation ride on its first output record."""
    if step.notes and records and "notes" not in records[0].meta:
        records[0].meta["notes"] = [n.as_dict() for n in step.notes]
