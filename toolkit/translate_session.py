"""A recorded OCPP-J conversation, both roles, into another version.

:class:`SessionStream` replays the bridge over journal records, one charger
conversation at a time (state per charge point id). Each record is read by
the side that sent it and the version it is in:

=====================  ===============================  ===============================
record                 source version                   target version
=====================  ===============================  ===============================
from the charger       its messages and its answers     not expected: left out
                       (the session pair)
from the CSMS          its answers to the charger       a bridge journal's CSMS leg:
                       (replayed, ``replay_answer``);   fed to the session pair
                       its own commands (the commands
                       pair, :mod:`.translate_pairs`)
=====================  ===============================  ===============================

A source-version CSMS command goes through the *commands* pair, which gives
the target-version command(s) a target CSMS would have sent (written out),
then through the session pair, which gives the source-version call(s) the
charger would have received for them (kept, not written). The charger's
recorded answer answers those calls and the session pair translates it into
the target answer (written out), which also settles the commands pair (a
SetVariables the 1.6 side splits into several ChangeConfiguration calls goes
on with the next one).

The output holds only target-version records (``both_legs`` adds the
charger's leg, in the source version, as a bridge journal would). Every
record written is validated against its official schema. An input record
that cannot be translated is never written in its own version: it becomes a
:class:`~ocppkit.toolkit.translate_report.LeftOut` with its line and reason.
A station event the reverse pair keeps until a StartTransaction can carry it
(a 2.0.1 transaction started before authorisation) is *held*: once carried,
its line is listed in ``meta.merged`` of the record that carries it; if the
conversation ends first, :meth:`SessionStream.finish` reports it. So every
input line ends up in exactly one place: ``meta.line`` / ``meta.merged`` of
the output, or the report.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from ocppkit.toolkit.translate_pairs import CommandSpec
from ocppkit.toolkit.translate_report import Cause, Fed, LeftOut
from ocppkit.translators.context import Context
from ocppkit.translators.errors import FrameError, ValidationFailed
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    frame_from_list,
    frame_to_list,
)
from ocppkit.translators.journal import Direction, JournalRecord, Leg
from ocppkit.translators.outcome import NoteKind, Step
from ocppkit.translators.pending import Side, pending_key
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

# Enum members as module constants: attribute lookups on an Enum class are
# slow in the per-frame path.
_CHARGER_SIDE = Direction.CS_TO_CSMS
_CSMS_SIDE = Direction.CSMS_TO_CS
_REQUEST, _RESPONSE = Kind.REQUEST, Kind.RESPONSE
_UP, _DOWN = Leg.UPSTREAM, Leg.DOWNSTREAM
MAX_REMEMBERED = 10_000  # calls / commands remembered per charger before the oldest go
MAX_ROUNDS = 64  # calls one recorded answer may settle (a split command's parts)


@cache
def shared_validator() -> Validator:
    """One strict validator per process: each schema is compiled once, then shared."""
    return Validator()


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
        commands: the pair hosting a recorded source-version CSMS's commands
            (None: they are left out).
        held: ``(state, call) -> key`` of a charger call the pair keeps for a
            later message (None: not kept); ``still_held`` tells when it is
            no longer kept, ``why_held`` why it is still kept at the end.
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


@dataclass(slots=True)
class _Command:
    """A recorded source-version CSMS command, written out in the target version."""

    line: int
    call: Call
    # (target command written out, source call the session pair made of it)
    derived: list[tuple[Call, Call]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # message ids of the target commands
    answered_locally: bool = False


@dataclass(slots=True)
class _Held:
    key: str
    line: int
    record: JournalRecord
    action: str


@dataclass(slots=True)
class _Conversation:
    state: Any
    commands_state: Any = None
    # (who, message id) -> action: "by_charger"/"by_csms" for calls a side
    # made, "to_charger"/"to_csms" for calls the bridge sent to a side.
    calls: dict[tuple[str, str], str] = field(default_factory=dict)
    commands: dict[str, _Command] = field(default_factory=dict)
    # (sender, message id) of a call not in the output -> why, for its answer
    absorbed: dict[tuple[str, str], tuple[str, Cause, str]] = field(default_factory=dict)
    held: list[_Held] = field(default_factory=list)


def _remember(table: dict[Any, Any], key: Any, value: Any) -> None:
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


def _why(step: Step, fallback: str) -> tuple[Cause, str]:
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


class SessionStream:
    """Runs a :class:`SessionSpec` over journal records (see the module docstring).

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
        self._conversations: dict[str, _Conversation] = {}
        self._clock = _Clock()

    # -- input ------------------------------------------------------------

    def feed(self, record: JournalRecord, line: int) -> Fed:
        """The output records standing for ``record``, or why it is left out."""
        self.counts["records_in"] += 1
        cp = record.charge_point_id
        conv = self._conversations.get(cp)
        if conv is None:
            conv = self._conversations[cp] = _Conversation(self.spec.new_state(cp))
            if self.spec.commands is not None:
                conv.commands_state = self.spec.commands.new_state(cp)
        self._clock.timestamp = record.timestamp
        held = len(conv.held)
        fed = self._feed(conv, record, line)
        if self.spec.still_held is not None and conv.held:
            self._settle_held(conv, fed, skip=held)
        self._account(record, line, fed, held_now=len(conv.held) > held)
        return fed

    def finish(self) -> Fed:
        """The end of the input: events still held are reported, with why."""
        fed = Fed()
        for conv in self._conversations.values():
            for item in conv.held:
                why = self.spec.why_held(conv.state, item.key) if self.spec.why_held else ""
                fed.left_out.append(LeftOut(item.record, item.line, item.action, Cause.HELD, why))
                self.counts["held"] -= 1
                self.counts["left_out"] += 1
            conv.held.clear()
        return fed

    def _account(self, record: JournalRecord, line: int, fed: Fed, held_now: bool) -> None:
        """Each input record is counted once: in the output, held, or left out."""
        target = self.spec.target
        if any(r.meta.get("line") == line and r.ocpp_version is target for r in fed.records):
            self.counts["in_output"] += 1
        elif held_now:
            self.counts["held"] += 1
        else:
            if not any(e.line == line for e in fed.left_out):
                # Never silently nothing: a record with no output is reported.
                reason = "no output for this record"
                fed.left_out.append(LeftOut(record, line, "", Cause.NOTHING_TO_SEND, reason))
            self.counts["left_out"] += 1

    def _feed(self, conv: _Conversation, record: JournalRecord, line: int) -> Fed:
        if not isinstance(record.message, list):
            return self._leave(
                record, line, "", Cause.NOT_A_FRAME, "message is not an OCPP-J frame"
            )
        try:
            frame = frame_from_list(record.message, record.ocpp_version)
        except FrameError as exc:
            return self._leave(record, line, "", Cause.NOT_A_FRAME, f"not a frame: {exc}")
        source, target = self.spec.source, self.spec.target
        if record.direction is _CHARGER_SIDE:
            if record.ocpp_version is source:
                if not isinstance(frame, Call) and frame.message_id in conv.commands:
                    return self._command_answer(conv, record, line, frame)
                return self._session(conv, record, line, frame, True)
        elif record.ocpp_version is target:
            return self._session(conv, record, line, frame, False)
        elif record.ocpp_version is source:
            if isinstance(frame, Call):
                return self._command(conv, record, line, frame)
            return self._replayed_csms(conv, record, line, frame)
        side = "charger" if record.direction is _CHARGER_SIDE else "CSMS"
        reason = (
            f"a {record.ocpp_version} frame on the {side} side of a {source} -> {target} stream"
        )
        return self._leave(record, line, _action_of(frame), Cause.WRONG_VERSION, reason)

    # -- the session pair: the charger's messages --------------------------

    def _session(
        self,
        conv: _Conversation,
        record: JournalRecord,
        line: int,
        frame: Frame,
        charger_side: bool,
    ) -> Fed:
        who = "charger" if charger_side else "csms"
        action = self._note_input(conv, frame, who)
        if action is None:
            return self._unmatched_answer(
                conv, record, line, frame, "csms" if charger_side else "charger"
            )
        problem = self._invalid(record.ocpp_version, action, frame)
        if problem is not None:
            self.counts["invalid_source"] += 1
            return self._leave(record, line, action, Cause.INVALID_SOURCE, problem)
        session = self.spec.from_charger if charger_side else self.spec.from_csms
        step = session(conv.state, frame, self._clock.context)
        self._count_notes(step)
        fed = Fed()
        if not charger_side:
            # A CSMS frame in the target version belongs to the target conversation.
            fed.records.append(self._echo(record, line, _UP, step))
            self._upstream(conv, fed, record, line, step)
            self._down(conv, fed, record, line, step)
            self.counts["translated" if step.to_charger else "absorbed"] += 1
            return fed
        if self.both_legs:
            fed.records.append(self._echo(record, line, _DOWN))
        self._upstream(conv, fed, record, line, step)
        up = [r for r in fed.records if r.leg is _UP]
        if up:
            self.counts["translated"] += 1
            _attach_notes(up, step)
            if isinstance(frame, Call) and any(
                not isinstance(f, Call) and f.message_id == frame.message_id
                for f in step.to_charger
            ):
                # Translated, but answered by the translator: the CSMS's
                # answer to it answers a call of another id (or none).
                why = f"answers the {frame.action} of line {line}, which the translator answered"
                entry = (frame.action, Cause.ANSWERED_BY_BRIDGE, why)
                _remember(conv.absorbed, ("charger", frame.message_id), entry)
        elif isinstance(frame, Call):
            key = self.spec.held(conv.state, frame) if self.spec.held is not None else None
            if key is not None:
                conv.held.append(_Held(key, line, record, frame.action))
                why = f"the {frame.action} of line {line} is kept for a later StartTransaction"
                _remember(
                    conv.absorbed,
                    ("charger", frame.message_id),
                    (frame.action, Cause.ANSWER_OF_HELD, why),
                )
            else:
                cause, why = _why(step, "the translator sent nothing for it")
                _remember(
                    conv.absorbed,
                    ("charger", frame.message_id),
                    (
                        frame.action,
                        Cause.ANSWER_LEFT_OUT,
                        f"answers the {frame.action} of line {line}, left out: {why}",
                    ),
                )
                fed.left_out.append(LeftOut(record, line, frame.action, cause, why))
        else:
            cause, why = _why(step, "the translator sent nothing for it")
            fed.left_out.append(LeftOut(record, line, action, cause, why))
        self._down(conv, fed, record, line, step)
        return fed

    def _unmatched_answer(
        self, conv: _Conversation, record: JournalRecord, line: int, frame: Frame, caller: str
    ) -> Fed:
        """An answer to no call the output holds: why, if its call was left out."""
        absorbed = conv.absorbed.pop((caller, frame.message_id), None)
        if absorbed is not None:
            return self._leave(record, line, *absorbed)
        reason = f"answer {frame.message_id!r} matches no call in the conversation"
        return self._leave(record, line, "", Cause.ANSWER_UNKNOWN, reason)

    def _replayed_csms(
        self, conv: _Conversation, record: JournalRecord, line: int, frame: Frame
    ) -> Fed:
        """A recorded source-version CSMS answer to a charger call."""
        action = conv.calls.get(("by_charger", frame.message_id))
        replay = self.spec.replay_answer
        up = replay(conv.state, frame) if replay is not None and action is not None else None
        if up is None or action is None:
            if action is not None:
                conv.calls.pop(("by_charger", frame.message_id), None)
                reason = f"no {self.spec.target} answer stands for this answer to {action}"
                return self._leave(record, line, action, Cause.ANSWER_MISMATCH, reason)
            return self._unmatched_answer(conv, record, line, frame, "charger")
        # ("by_charger", id) stays until the answer to the charger settles it (_down).
        problem = self._invalid(record.ocpp_version, action, frame)
        if problem is not None:
            self.counts["invalid_source"] += 1
            return self._leave(record, line, action, Cause.INVALID_SOURCE, problem)
        self.counts["replayed_answers"] += 1
        # The CSMS's answer, in the target version, settles the upstream call.
        answered = conv.calls.pop(("to_csms", up.message_id), None)
        fed = Fed()
        if self.both_legs:
            fed.records.append(self._echo(record, line, _DOWN))
        step = self.spec.from_csms(conv.state, up, self._clock.context)
        self._count_notes(step)
        self._output(
            conv,
            fed,
            record,
            line,
            up,
            sender="csms",
            version=self.spec.target,
            action=answered or action,
            step=step,
            meta={"replayed_from": record.ocpp_version.value},
        )
        self._upstream(conv, fed, record, line, step)
        self._down(conv, fed, record, line, step)
        self._purge_own_calls(conv)
        return fed

    def _purge_own_calls(self, conv: _Conversation) -> None:
        """A recorded CSMS never answers the bridge's own calls: forget them.

        The calls the bridge originated (NotifyEvent, charging-state
        TransactionEvents, buffered events replayed) get no answer from a
        recorded conversation, so the state must not grow with the stream.
        """
        pending = getattr(conv.state, "pending", None)
        if pending is None:
            return
        for key in [k for k, p in pending.items() if p.origin_id is None]:
            del pending[key]

    # -- the commands pair: the CSMS's own commands -------------------------

    def _command(self, conv: _Conversation, record: JournalRecord, line: int, call: Call) -> Fed:
        commands = self.spec.commands
        if commands is None:
            reason = f"no translation of {self.spec.source} central-system commands"
            return self._leave(record, line, call.action, Cause.NO_COUNTERPART, reason)
        problem = self._invalid(record.ocpp_version, call.action, call)
        if problem is not None:
            self.counts["invalid_source"] += 1
            _remember(
                conv.absorbed,
                ("csms", call.message_id),
                (
                    call.action,
                    Cause.ANSWER_LEFT_OUT,
                    f"answers the {call.action} of line {line}, left out: invalid",
                ),
            )
            return self._leave(record, line, call.action, Cause.INVALID_SOURCE, problem)
        ctx = self._clock.context
        commands.share(conv.state, conv.commands_state)
        step = commands.from_csms(conv.commands_state, call, ctx)
        self._count_notes(step)
        targets = [f for f in step.to_charger if isinstance(f, Call)]
        fed = Fed()
        if not targets:
            cause, why = _why(step, "the translator sent nothing for it")
            _remember(
                conv.absorbed,
                ("csms", call.message_id),
                (
                    call.action,
                    Cause.ANSWER_LEFT_OUT,
                    f"answers the {call.action} of line {line}, left out: {why}",
                ),
            )
            return self._leave(record, line, call.action, cause, why)
        if self.both_legs:
            fed.records.append(self._echo(record, line, _DOWN))
        command = _Command(line, call)
        for target in targets:
            self._derive(conv, fed, record, line, command, target, step)
        _remember(conv.commands, call.message_id, command)
        self.counts["translated_commands"] += 1
        return fed

    def _derive(
        self,
        conv: _Conversation,
        fed: Fed,
        record: JournalRecord,
        line: int,
        command: _Command,
        target: Call,
        step: Step | None,
    ) -> None:
        """Write ``target`` out; learn which source calls the charger gets for it."""
        assert self.spec.commands is not None
        before = len(fed.records)
        self._output(
            conv, fed, record, line, target, sender="csms", version=self.spec.target, step=step
        )
        if len(fed.records) == before:
            return  # failed its schema: reported, not sent on
        command.targets.append(target.message_id)
        derived = self.spec.from_csms(conv.state, target, self._clock.context)
        self._count_notes(derived)
        for call in derived.to_charger:
            if isinstance(call, Call):
                self.spec.commands.align(conv.state, command.call, call)
                command.derived.append((target, call))
                if self.both_legs:
                    self._output(
                        conv, fed, record, line, call, sender="csms", version=self.spec.source
                    )
        # The session pair may answer the target command itself (an address
        # the charger has no key for): that answer is the charger's.
        for answer in derived.to_csms:
            if not isinstance(answer, Call) and answer.message_id == target.message_id:
                command.answered_locally = True
                self._answered(conv, fed, record, line, command, target, answer)

    def _command_answer(
        self, conv: _Conversation, record: JournalRecord, line: int, frame: Frame
    ) -> Fed:
        """The charger's recorded answer to a recorded CSMS command."""
        assert self.spec.commands is not None and not isinstance(frame, Call)
        assert isinstance(frame, CallResult | CallError)
        command = conv.commands.pop(frame.message_id)
        conv.calls.pop(("to_charger", frame.message_id), None)
        action = command.call.action
        problem = self._invalid(record.ocpp_version, action, frame)
        if problem is not None:
            self.counts["invalid_source"] += 1
            return self._leave(record, line, action, Cause.INVALID_SOURCE, problem)
        fed = Fed()
        if self.both_legs:
            fed.records.append(self._echo(record, line, _DOWN))
        answer_for = self.spec.commands.answer_for
        mismatch: list[str] = []
        rounds = 0
        while command.derived and rounds < MAX_ROUNDS:
            rounds += 1
            target, call = command.derived.pop(0)
            answer = answer_for(frame, call)
            problem = self._invalid(self.spec.source, call.action, answer)
            if problem is not None:
                conv.state.pending.pop(pending_key(Side.CHARGER, call.message_id), None)
                mismatch.append(
                    f"the recorded {action} answer does not answer {call.action}, the "
                    f"{self.spec.source} form of the {target.action} it became: {problem}"
                )
                continue
            step = self.spec.from_charger(conv.state, answer, self._clock.context)
            self._count_notes(step)
            for more in step.to_charger:
                if isinstance(more, Call):  # the session pair goes on with a next part
                    command.derived.append((target, more))
            for out in step.to_csms:
                if isinstance(out, Call):
                    self._output(
                        conv, fed, record, line, out, sender="charger", version=self.spec.target
                    )
                elif out.message_id == target.message_id:
                    self._answered(conv, fed, record, line, command, target, out, step)
        for message_id in command.targets:  # parts no answer settled
            conv.commands_state.pending.pop(pending_key(Side.CHARGER, message_id), None)
        target_version = self.spec.target
        if not any(r.meta.get("line") == line and r.ocpp_version is target_version
                   for r in fed.records):  # fmt: skip
            if command.answered_locally and not mismatch:
                reason = f"the translator answered the {action} of line {command.line} itself"
                return self._leave(record, line, action, Cause.ANSWERED_BY_BRIDGE, reason)
            reason = "; ".join(mismatch) or f"no {self.spec.target} answer came of it"
            return self._leave(record, line, action, Cause.ANSWER_MISMATCH, reason)
        return fed

    def _answered(
        self,
        conv: _Conversation,
        fed: Fed,
        record: JournalRecord,
        line: int,
        command: _Command,
        target: Call,
        answer: Frame,
        step: Step | None = None,
    ) -> None:
        """The target answer to ``target``: written out, and settles the commands pair."""
        assert self.spec.commands is not None
        self._output(
            conv,
            fed,
            record,
            line,
            answer,
            sender="charger",
            version=self.spec.target,
            action=target.action,
            step=step,
        )
        settled = self.spec.commands.from_charger(conv.commands_state, answer, self._clock.context)
        for more in settled.to_charger:
            if isinstance(more, Call):  # the commands pair sends the next part
                self._derive(conv, fed, record, line, command, more, None)

    # -- bookkeeping --------------------------------------------------------

    def _note_input(self, conv: _Conversation, frame: Frame, who: str) -> str | None:
        """Remember a call; find the action a result answers (None: unknown)."""
        if isinstance(frame, Call):
            _remember(conv.calls, (f"by_{who}", frame.message_id), frame.action)
            return frame.action
        return conv.calls.pop((f"to_{who}", frame.message_id), None)

    def _settle_held(self, conv: _Conversation, fed: Fed, skip: int) -> None:
        """Held events carried by this record's output are listed in it; dropped ones reported."""
        assert self.spec.still_held is not None
        keep: list[_Held] = []
        for index, item in enumerate(conv.held):
            if index >= skip or self.spec.still_held(conv.state, item.key):
                keep.append(item)
                continue
            self.counts["held"] -= 1
            carriers = [r for r in fed.records if r.ocpp_version is self.spec.target]
            if carriers:
                calls = [r for r in carriers if isinstance(r.message, list) and r.message[0] == 2]
                (calls or carriers)[0].meta.setdefault("merged", []).append(item.line)
                self.counts["in_output"] += 1
            else:
                reason = "; ".join(str(e.reason) for e in fed.left_out) or "dropped"
                fed.left_out.append(
                    LeftOut(
                        item.record,
                        item.line,
                        item.action,
                        Cause.DROPPED,
                        f"kept, then dropped by the translator: {reason}",
                    )
                )
                self.counts["left_out"] += 1
        conv.held = keep

    def _invalid(self, version: OcppVersion, action: str, frame: Frame) -> str | None:
        if isinstance(frame, CallError):
            return None
        kind = _REQUEST if isinstance(frame, Call) else _RESPONSE
        try:
            self.validator.validate(version, action, kind, frame.payload)
        except ValidationFailed as exc:
            return exc.description
        except FrameError as exc:  # an action the version does not define
            return exc.description
        return None

    # -- output -----------------------------------------------------------

    def _count_notes(self, step: Step) -> None:
        for note in step.notes:
            self.counts[f"note_{note.kind.value}"] += 1

    def _output(
        self,
        conv: _Conversation,
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
    ) -> None:
        """A frame written out (validated; a call remembered to check its answer)."""
        other = "csms" if sender == "charger" else "charger"
        if isinstance(frame, Call):
            _remember(conv.calls, (f"to_{other}", frame.message_id), frame.action)
            action = frame.action
        elif action is None:
            # An answer sent to one side settles a call that side made.
            action = conv.calls.pop((f"by_{other}", frame.message_id), None)
        else:
            conv.calls.pop((f"by_{other}", frame.message_id), None)
        message = frame_to_list(frame)
        if action is None and version is self.spec.target and not isinstance(frame, CallError):
            reason = f"its {version} answer {message} answers no known call: cannot be checked"
            fed.left_out.append(LeftOut(record, line, "", Cause.INVALID_OUTPUT, reason))
            self.counts["invalid_output"] += 1
            return
        problem = None if action is None else self._invalid(version, action, frame)
        if problem is not None:
            reason = f"{version} {action}: {problem}; translation: {message}"
            fed.left_out.append(LeftOut(record, line, action or "", Cause.INVALID_OUTPUT, reason))
            self.counts["invalid_output"] += 1
            return
        meta = {"line": line, **(meta or {})}
        if step is not None and step.notes:
            meta["notes"] = [n.as_dict() for n in step.notes]
        fed.records.append(
            JournalRecord(
                timestamp=record.timestamp,
                charge_point_id=record.charge_point_id,
                direction=_CHARGER_SIDE if sender == "charger" else _CSMS_SIDE,
                ocpp_version=version,
                message=message,
                leg=_UP if version is self.spec.target else _DOWN,
                seq=record.seq,
                meta=meta,
            )
        )
        self.counts["records_out"] += 1

    def _upstream(
        self, conv: _Conversation, fed: Fed, record: JournalRecord, line: int, step: Step
    ) -> None:
        for frame in step.to_csms:
            self._output(conv, fed, record, line, frame, sender="charger", version=self.spec.target)

    def _down(
        self, conv: _Conversation, fed: Fed, record: JournalRecord, line: int, step: Step
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
                _remember(conv.calls, ("to_charger", frame.message_id), frame.action)
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


def _action_of(frame: Frame) -> str:
    return frame.action if isinstance(frame, Call) else ""


def _attach_notes(records: list[JournalRecord], step: Step) -> None:
    """The notes of a translation ride on its first output record."""
    if step.notes and records and "notes" not in records[0].meta:
        records[0].meta["notes"] = [n.as_dict() for n in step.notes]
