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

from ocppkit.toolkit.translate_base import (
    CHARGER_SIDE,
    CSMS_SIDE,
    DOWN,
    UP,
    Conversation,
    HeldEvent,
    Session,
    SessionSpec,
    action_of,
    attach_notes,
    remember,
    shared_validator,
    why_nothing,
)
from ocppkit.toolkit.translate_commands import CommandRoles
from ocppkit.toolkit.translate_report import Cause, Fed, LeftOut
from ocppkit.translators.errors import FrameError
from ocppkit.translators.frames import Call, CallResult, Frame, frame_from_list
from ocppkit.translators.journal import JournalRecord
from ocppkit.translators.schemas import Kind
from ocppkit.translators.versions import OcppVersion

__all__ = ["Session", "SessionSpec", "SessionStream", "shared_validator"]

# Enum values by member: ``member.value`` is a Python-level property lookup.
_VERSION_TEXT = {v: v.value for v in OcppVersion}
_REQUEST = Kind.REQUEST


class SessionStream(CommandRoles):
    """Runs a :class:`SessionSpec` over journal records (see the module docstring).

    Args:
        spec: the session pair (and the commands pair).
        both_legs: also write the charger's leg (source version): every
            charger-side input record, and every frame the bridge would send
            the charger. By default only the target version's conversation.
        validator: shared compiled validator.
    """

    # -- input ------------------------------------------------------------

    def feed(self, record: JournalRecord, line: int) -> Fed:
        """The output records standing for ``record``, or why it is left out."""
        self.counts["records_in"] += 1
        cp = record.charge_point_id
        conv = self._conversations.get(cp)
        if conv is None:
            conv = self._conversations[cp] = Conversation(self.spec.new_state(cp))
            if self.spec.commands is not None:
                conv.commands_state = self.spec.commands.new_state(cp)
        self._clock.timestamp = record.timestamp
        held = len(conv.held)
        fed = self._feed(conv, record, line)
        if conv.held and self.spec.still_held is not None:
            self._settle_held(conv, fed, skip=held)
        records = fed.records
        if (
            records
            and records[0].ocpp_version is self.spec.target
            and records[0].meta.get("line") == line
        ):
            self.counts["in_output"] += 1  # _account's first test, inline: the common record
        else:
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
        for r in fed.records:
            if r.ocpp_version is target and r.meta.get("line") == line:
                self.counts["in_output"] += 1
                return
        if held_now:
            self.counts["held"] += 1
            return
        if not any(e.line == line for e in fed.left_out):
            # Never silently nothing: a record with no output is reported.
            reason = "no output for this record"
            fed.left_out.append(LeftOut(record, line, "", Cause.NOTHING_TO_SEND, reason))
        self.counts["left_out"] += 1

    def _feed(self, conv: Conversation, record: JournalRecord, line: int) -> Fed:
        if not isinstance(record.message, list):
            return self._leave(
                record, line, "", Cause.NOT_A_FRAME, "message is not an OCPP-J frame"
            )
        try:
            frame = frame_from_list(record.message, record.ocpp_version)
        except FrameError as exc:
            return self._leave(record, line, "", Cause.NOT_A_FRAME, f"not a frame: {exc}")
        source, target = self.spec.source, self.spec.target
        if record.direction is CHARGER_SIDE:
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
        side = "charger" if record.direction is CHARGER_SIDE else "CSMS"
        reason = (
            f"a {record.ocpp_version} frame on the {side} side of a {source} -> {target} stream"
        )
        return self._leave(record, line, action_of(frame), Cause.WRONG_VERSION, reason)

    # -- the session pair: the charger's messages --------------------------

    def _session(
        self,
        conv: Conversation,
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
        if (
            charger_side
            and not step.notes
            and not step.to_charger
            and len(step.to_csms) == 1
            and type(frame) is Call
        ):
            lean = self._one_call_up(conv, record, line, action, step.to_csms[0])
            if lean is not None:
                return lean
        self._count_notes(step)
        fed = Fed()
        if not charger_side:
            # A CSMS frame in the target version belongs to the target conversation.
            fed.records.append(self._echo(record, line, UP, step))
            self._upstream(conv, fed, record, line, step)
            self._down(conv, fed, record, line, step)
            self.counts["translated" if step.to_charger else "absorbed"] += 1
            return fed
        if self.both_legs:
            fed.records.append(self._echo(record, line, DOWN))
        self._upstream(conv, fed, record, line, step, action if isinstance(frame, Call) else None)
        up = [r for r in fed.records if r.leg is UP]
        if up:
            self.counts["translated"] += 1
            attach_notes(up, step)
            if isinstance(frame, Call) and any(
                not isinstance(f, Call) and f.message_id == frame.message_id
                for f in step.to_charger
            ):
                # Translated, but answered by the translator: the CSMS's
                # answer to it answers a call of another id (or none).
                why = f"answers the {frame.action} of line {line}, which the translator answered"
                entry = (frame.action, Cause.ANSWERED_BY_BRIDGE, why)
                remember(conv.absorbed, ("charger", frame.message_id), entry)
        elif isinstance(frame, Call):
            key = self.spec.held(conv.state, frame) if self.spec.held is not None else None
            if key is not None:
                conv.held.append(HeldEvent(key, line, record, frame.action))
                why = f"the {frame.action} of line {line} is kept for a later StartTransaction"
                remember(
                    conv.absorbed,
                    ("charger", frame.message_id),
                    (frame.action, Cause.ANSWER_OF_HELD, why),
                )
            else:
                cause, why = why_nothing(step, "the translator sent nothing for it")
                remember(
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
            cause, why = why_nothing(step, "the translator sent nothing for it")
            fed.left_out.append(LeftOut(record, line, action, cause, why))
        self._down(conv, fed, record, line, step)
        return fed

    def _one_call_up(
        self, conv: Conversation, record: JournalRecord, line: int, action: str, out: Frame
    ) -> Fed | None:
        """The common charger frame, written the short way: one call for the CSMS,
        valid (or proven), no notes, nothing for the charger, one leg.

        The same record and bookkeeping as the general path (:meth:`_upstream`);
        None when the case is not this one (then the general path runs, from
        the start: nothing here has changed the conversation yet).
        """
        if self.both_legs or type(out) is not Call:
            return None
        target = self.spec.target
        out_action = out.action
        # The source call was validated: its proven translations are not checked twice.
        if (action, out_action) not in self.spec.proven:
            check = self._checks.get((target, out_action, _REQUEST))
            if check is None or not check(out.payload):
                return None  # not compiled yet, or invalid: the general path says why
        message_id = out.message_id
        remember(conv.calls, ("to_csms", message_id), out_action)
        counts = self.counts
        counts["records_out"] += 1
        counts["translated"] += 1
        return Fed(
            [
                JournalRecord(
                    record.timestamp,
                    record.charge_point_id,
                    CHARGER_SIDE,
                    target,
                    [2, message_id, out_action, out.payload],
                    UP,
                    record.seq,
                    {"line": line},
                )
            ],
            [],
        )

    def _unmatched_answer(
        self, conv: Conversation, record: JournalRecord, line: int, frame: Frame, caller: str
    ) -> Fed:
        """An answer to no call the output holds: why, if its call was left out."""
        absorbed = conv.absorbed.pop((caller, frame.message_id), None)
        if absorbed is not None:
            return self._leave(record, line, *absorbed)
        reason = f"answer {frame.message_id!r} matches no call in the conversation"
        return self._leave(record, line, "", Cause.ANSWER_UNKNOWN, reason)

    def _replayed_csms(
        self, conv: Conversation, record: JournalRecord, line: int, frame: Frame
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
        fed = Fed([], [])  # both lists given: no default factories called
        if self.both_legs:
            fed.records.append(self._echo(record, line, DOWN))
        step = self.spec.from_csms(conv.state, up, self._clock.context)
        target = self.spec.target
        if (
            not step.notes
            and not step.to_csms
            and not fed.records
            and type(up) is CallResult
            and self._invalid(target, answered or action, up) is None
        ):
            # The common answer, written the short way: what _output does for a
            # valid CALLRESULT without notes, and _down for one leg.
            calls = conv.calls
            calls.pop(("by_charger", up.message_id), None)
            meta = {"line": line, "replayed_from": _VERSION_TEXT[record.ocpp_version]}
            fed.records.append(
                JournalRecord(
                    record.timestamp,
                    record.charge_point_id,
                    CSMS_SIDE,
                    target,
                    [3, up.message_id, up.payload],
                    UP,
                    record.seq,
                    meta,
                )
            )
            self.counts["records_out"] += 1
            for out in step.to_charger:
                if type(out) is Call:
                    remember(calls, ("to_charger", out.message_id), out.action)
                else:
                    calls.pop(("by_charger", out.message_id), None)
        else:
            self._count_notes(step)
            self._output(
                conv,
                fed,
                record,
                line,
                up,
                sender="csms",
                version=target,
                action=answered or action,
                step=step,
                meta={"replayed_from": _VERSION_TEXT[record.ocpp_version]},
            )
            self._upstream(conv, fed, record, line, step)
            self._down(conv, fed, record, line, step)
        self._purge_own_calls(conv)
        return fed

    def _purge_own_calls(self, conv: Conversation) -> None:
        """A recorded CSMS never answers the bridge's own calls: forget them.

        The calls the bridge originated (NotifyEvent, charging-state
        TransactionEvents, buffered events replayed) get no answer from a
        recorded conversation, so the state must not grow with the stream.
        """
        pending = getattr(conv.state, "pending", None)
        if not pending:
            return
        for key in [k for k, p in pending.items() if p.origin_id is None]:
            del pending[key]

    def _settle_held(self, conv: Conversation, fed: Fed, skip: int) -> None:
        """Held events carried by this record's output are listed in it; dropped ones reported."""
        assert self.spec.still_held is not None
        keep: list[HeldEvent] = []
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
