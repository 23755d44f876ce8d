"""A recorded CSMS's own commands, and the charger's answers, into the target version.

A source-version command goes through the *commands* pair
(:class:`~ocppkit.toolkit.translate_base.CommandSpec`, built in
:mod:`ocppkit.toolkit.translate_pairs`), which gives the
target-version command(s) a target CSMS would have sent: written out. Each
goes on through the *session* pair, which gives the source-version call(s)
the charger would have received for it: kept, not written. The charger's
recorded answer answers those calls (cut to each part for a command the
source side splits) and the session pair translates it into the target
answer: written out, and fed to the commands pair, which settles its state
or sends the next part (a SetVariables a 1.6 charger takes as one
ChangeConfiguration per entry). An answer that does not fit the call it
must answer is reported, with the schema's reason.
"""

from __future__ import annotations

from ocppkit.toolkit.translate_base import (
    DOWN,
    MAX_ROUNDS,
    Conversation,
    RecordedCommand,
    StreamBase,
    remember,
    why_nothing,
)
from ocppkit.toolkit.translate_report import Cause, Fed
from ocppkit.translators.frames import Call, CallError, CallResult, Frame
from ocppkit.translators.journal import JournalRecord
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Side, pending_key


class CommandRoles(StreamBase):
    """The CSMS's side of a recorded conversation (mixed into the session stream)."""

    def _command(self, conv: Conversation, record: JournalRecord, line: int, call: Call) -> Fed:
        commands = self.spec.commands
        if commands is None:
            reason = f"no translation of {self.spec.source} central-system commands"
            return self._leave(record, line, call.action, Cause.NO_COUNTERPART, reason)
        problem = self._invalid(record.ocpp_version, call.action, call)
        if problem is not None:
            self.counts["invalid_source"] += 1
            remember(
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
            cause, why = why_nothing(step, "the translator sent nothing for it")
            remember(
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
            fed.records.append(self._echo(record, line, DOWN))
        command = RecordedCommand(line, call)
        for target in targets:
            self._derive(conv, fed, record, line, command, target, step)
        remember(conv.commands, call.message_id, command)
        self.counts["translated_commands"] += 1
        return fed

    def _derive(
        self,
        conv: Conversation,
        fed: Fed,
        record: JournalRecord,
        line: int,
        command: RecordedCommand,
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
        self, conv: Conversation, record: JournalRecord, line: int, frame: Frame
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
            fed.records.append(self._echo(record, line, DOWN))
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
        conv: Conversation,
        fed: Fed,
        record: JournalRecord,
        line: int,
        command: RecordedCommand,
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
