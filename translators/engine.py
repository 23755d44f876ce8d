"""The translator engine: one set of rules for every version pair.

A translator pair (a 1.6 charger behind a 2.0.1 CSMS, a 2.0.1 station behind
a 1.6 CSMS, ...) is a package of handlers and tables; it describes itself as
one :class:`Pair` record, and this module does the rest, the same way for
every pair:

- **dispatch**: a CALL goes to the handler for its action in the table of the
  side that sent it; a CALLRESULT or CALLERROR to the handler for the action
  of the pending call it answers (h11-style tables, no branch on an action);
- **refusal**: a CALL whose action the sender's version does not define is
  answered CALLERROR NotImplemented ("Requested Action is not known by
  receiver"), a defined one without a handler NotSupported ("recognized but
  not supported"), both per OCPP-J 1.6 §4.2.3 / 2.0.1 Part 4 §4.3. A handler
  that raises a :class:`~ocppkit.translators.errors.TranslationError` or a
  :class:`~ocppkit.translators.errors.FrameError` (before changing the state)
  refuses with the code the error names; one that trips
  over a payload that is not schema-valid (the caller is expected to
  validate; a lenient one may not) answers FormatViolation. A failed answer
  translation tells the side whose call caused it, rather than leaving it
  waiting. An answer matching no pending call is noted ORPHAN and dropped;
- **lossy notes**: :class:`Notes` collects a step's notes and counts the lossy
  ones in the state (``lossy_counts``), one way for every handler;
- **truncation**: every CALLERROR is built by
  :func:`~ocppkit.translators.frames.call_error`, the one place the
  errorDescription limit is written;
- **error spelling**: :func:`relay_error` re-spells a peer's CALLERROR for the
  other side's version (:meth:`ErrorCode.wire`).

Adding a pair is one package (handlers, tables, a ``PAIR = Pair(...)``
record) and one row of :data:`PAIR_MODULES`, plus its rows in
:mod:`ocppkit.translators.round_trips`. Nothing here names a version. Pairs
compose: :func:`chain` runs one pair after another (1.6 -> 2.0.1 -> 2.1), one
row of :data:`CHAINS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from itertools import pairwise
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import (
    ERROR_CODE_BY_WIRE,
    ConfigError,
    ErrorCode,
    FrameError,
    TranslationError,
)
from ocppkit.translators.frames import Call, CallError, CallResult, Frame, call_error
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending, Side, expect_answer, pending_key
from ocppkit.translators.schemas import actions
from ocppkit.translators.timestamps import limit_step
from ocppkit.translators.versions import OcppVersion

__all__ = [
    "CHAINS",
    "MALFORMED",
    "PAIR_MODULES",
    "CallHandler",
    "Chain",
    "ChainState",
    "Notes",
    "Pair",
    "PairState",
    "ResultHandler",
    "Side",
    "answer",
    "answer_locally",
    "chain",
    "derive",
    "expect_answer",
    "find_pair",
    "find_translator",
    "lossy_note",
    "other",
    "pass_on",
    "pending_key",
    "receive",
    "refuse",
    "relay_error",
    "respell",
    "send",
]


class PairState(Protocol):
    """What the engine needs of a pair's state: its outstanding calls and lossy
    counters, and plain data to persist (``to_dict``; the pair's ``load_state``
    reads it back)."""

    pending: dict[str, Pending]

    def count_lossy(self, key: str) -> None: ...

    def to_dict(self) -> dict[str, Any]: ...


S = TypeVar("S", bound=PairState)

CallHandler: TypeAlias = Callable[[S, Call, Context], Step]
ResultHandler: TypeAlias = Callable[[S, Pending, CallResult | CallError, Context], Step]

# The versions whose date-times the engine cuts to milliseconds in every frame it sends.
MILLISECOND_VERSIONS = frozenset({OcppVersion.V201, OcppVersion.V21})

# Enum members as module constants: attribute lookups on an Enum class are slow per frame.
_CHARGER, _CSMS = Side.CHARGER, Side.CSMS

# What a handler raises on a payload that is not schema-valid.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass(frozen=True, slots=True)
class Pair(Generic[S]):
    """A translator pair, as the engine hosts it.

    Attributes:
        name: the package name, after what it bridges (``charger16_csms201``).
        versions: the version each side speaks.
        calls: by sending side, the CALL handlers by action.
        results: by answering side, the answer handlers by the action of the
            call they answer.
        refusals: by sending side, actions that side sends which the pair
            does not translate, each with the reason it is refused.
        wrong_sender: by sending side, the reason for refusing any other
            action of the sender's version without a handler (the other role
            sends it).
        new_state: a fresh state for a charger never seen.
        load_state: the state back from its ``to_dict`` (after a restart).
        tables: every value table of the pair (for docs/mapping.md and the
            round-trip property).
        after: by sending side, what the pair does after every frame that
            side sent, whatever it was (e.g. end transactions a charger
            abandoned: its every frame is a moment to check).
    """

    name: str
    versions: Mapping[Side, OcppVersion]
    new_state: Callable[[], S]
    load_state: Callable[[dict[str, Any]], S]
    calls: Mapping[Side, Mapping[str, CallHandler[S]]]
    results: Mapping[Side, Mapping[str, ResultHandler[S]]]
    refusals: Mapping[Side, Mapping[str, str]] = field(default_factory=dict)
    wrong_sender: Mapping[Side, str] = field(default_factory=dict)
    tables: tuple[EnumMap, ...] = ()
    after: Mapping[Side, Callable[[S, Context], Step]] = field(default_factory=dict)

    @property
    def charger(self) -> OcppVersion:
        return self.versions[Side.CHARGER]

    @property
    def csms(self) -> OcppVersion:
        return self.versions[Side.CSMS]

    def refusal_reason(self, side: Side, action: str) -> str:
        reason = self.refusals.get(side, {}).get(action)
        return reason if reason is not None else f"{action} {self.wrong_sender[side]}"

    def from_charger(self, state: S, frame: Frame, ctx: Context) -> Step:
        """One frame the charger sent, translated (see :func:`receive`)."""
        return receive(self, state, _CHARGER, frame, ctx)

    def from_csms(self, state: S, frame: Frame, ctx: Context) -> Step:
        """One frame the CSMS sent, translated (see :func:`receive`)."""
        return receive(self, state, _CSMS, frame, ctx)


def other(side: Side) -> Side:
    return _CSMS if side is _CHARGER else _CHARGER


def receive(pair: Pair[S], state: S, side: Side, frame: Frame, ctx: Context) -> Step:
    """Translate one frame ``side`` sent, under ``pair``'s tables.

    Args:
        pair: the pair's record.
        state: the pair's state for this charger; updated in place.
        frame: a parsed (and, by the caller, schema-checked) frame.
        ctx: clock and id source.

    Returns:
        The frames for each side, in order, and the notes. Never raises for
        a frame of the sender's version: refusals are CALLERROR frames.
    """
    if isinstance(frame, Call):
        step = _call(pair, state, side, frame, ctx)
    else:
        step = _answer(pair, state, side, frame, ctx)
    after = pair.after.get(side)
    if after is not None:
        extra = after(state, ctx)
        if extra.to_charger or extra.to_csms or extra.notes:
            step = step + extra
    # 2.0.1 and 2.1 date-times carry milliseconds at most (CitrineOS refuses more).
    versions = pair.versions
    if step.to_charger and versions[_CHARGER] in MILLISECOND_VERSIONS:
        step = limit_step(step, to_csms=False)
    if step.to_csms and versions[_CSMS] in MILLISECOND_VERSIONS and not step.csms_dates_fine:
        step = limit_step(step, to_csms=True)
    return step


def _failure(exc: Exception, what: str) -> tuple[ErrorCode, str] | None:
    """The CALLERROR code and reason for a handler's exception, or None to let it through."""
    if isinstance(exc, TranslationError):
        return exc.code, exc.reason
    if isinstance(exc, FrameError):
        return exc.code, exc.description
    if isinstance(exc, MALFORMED):
        return ErrorCode.FORMAT_VIOLATION, f"{what} could not be translated ({type(exc).__name__})"
    return None


def _refuse(pair: Pair[S], side: Side, call: Call, code: ErrorCode, reason: str) -> Step:
    return refuse(call, side, pair.versions[side], reason, code)


def _call(pair: Pair[S], state: S, side: Side, call: Call, ctx: Context) -> Step:
    handler = pair.calls[side].get(call.action)
    version = pair.versions[side]
    if handler is None:
        if call.action not in actions(version):
            reason = f"{call.action!r} is not an OCPP {version} action"
            return _refuse(pair, side, call, ErrorCode.NOT_IMPLEMENTED, reason)
        reason = pair.refusal_reason(side, call.action)
        return _refuse(pair, side, call, ErrorCode.NOT_SUPPORTED, reason)
    try:
        return handler(state, call, ctx)
    except (TranslationError, FrameError, *MALFORMED) as exc:
        failure = _failure(exc, f"{call.action} payload")
        assert failure is not None
        return _refuse(pair, side, call, *failure)


def _answer(
    pair: Pair[S], state: S, side: Side, frame: CallResult | CallError, ctx: Context
) -> Step:
    pending = state.pending.pop(side + ":" + frame.message_id, None)  # pending_key, inline
    if pending is None:
        kind = "CALLERROR" if isinstance(frame, CallError) else "CALLRESULT"
        detail = f"{kind} {frame.message_id} answers no pending call"
        return Step(notes=(Note(NoteKind.ORPHAN, "", detail),))
    handler = pair.results[side].get(pending.action)
    code, reason = ErrorCode.INTERNAL_ERROR, f"no translation for answers to {pending.action}"
    if handler is not None:
        try:
            return handler(state, pending, frame, ctx)
        except (TranslationError, FrameError, *MALFORMED) as exc:
            failure = _failure(exc, f"answer to {pending.action}")
            assert failure is not None
            code, reason = failure
    note = Note(NoteKind.NOT_SUPPORTED, pending.origin_action, reason)
    if pending.origin_id is None:
        return Step(notes=(note,))
    origin = other(side)
    error = call_error(pending.origin_id, code, pair.versions[origin], reason)
    return Step.to(origin, (error,), notes=(note,))


# -- lossy notes ----------------------------------------------------------------


class HasLossyCounts(Protocol):
    def count_lossy(self, key: str) -> None: ...


def lossy_note(state: HasLossyCounts | None, action: str, field: str, detail: str) -> Note:
    """A LOSSY note for ``action.field``, counted in the state's ``lossy_counts``."""
    if state is not None:
        state.count_lossy(f"{action}.{field}")
    return Note(NoteKind.LOSSY, action, f"{field}: {detail}")


class Notes:
    """Collects the notes of one step and counts the lossy ones in the state.

    Args:
        state: the pair's state (its ``count_lossy`` is called for each lossy
            note), or None where nothing is counted (a stateless lift).
        action: the action the notes are about, unless one says otherwise.
    """

    def __init__(self, state: HasLossyCounts | None, action: str) -> None:
        self.state = state
        self.action = action
        self.items: list[Note] = []

    def add(self, kind: NoteKind, detail: str, action: str | None = None) -> None:
        self.items.append(Note(kind, action or self.action, detail))

    def lossy(self, field: str, detail: str) -> None:
        self.items.append(lossy_note(self.state, self.action, field, detail))

    def enum(self, table: EnumMap, value: str, field: str) -> str:
        """``table(value)``, noting the row when it is lossy."""
        target, was_lossy = table(value)
        if was_lossy:
            self.lossy(field, f"{value} -> {target} ({table.name})")
        return target

    def cut(self, value: str, limit: int, field: str) -> str:
        """``value`` shortened to ``limit`` characters, noting the cut."""
        if len(value) <= limit:
            return value
        self.lossy(field, f"cut to {limit} characters")
        return value[:limit]

    def step(self, to_charger: tuple[Frame, ...] = (), to_csms: tuple[Frame, ...] = ()) -> Step:
        return Step(to_charger, to_csms, tuple(self.items))


# -- the moves every handler makes ----------------------------------------------------


def send(
    state: PairState,
    to: Side,
    action: str,
    payload: dict[str, Any],
    *,
    message_id: str,
    origin_action: str,
    origin_id: str | None,
    data: dict[str, Any] | None = None,
) -> Call:
    """A call for ``to``, registered so that its answer can be translated."""
    call = Call(message_id, action, payload)
    # expect_answer, inline (a call per frame the translator sends).
    state.pending[to + ":" + message_id] = Pending(action, origin_action, origin_id, data or {})
    return call


def pass_on(
    state: PairState,
    to: Side,
    call: Call,
    action: str,
    payload: dict[str, Any],
    *,
    data: dict[str, Any] | None = None,
    notes: tuple[Note, ...] | list[Note] = (),
) -> Step:
    """``call`` sent on to ``to`` as ``action``: the same message id (the two
    legs of a journal line up), its answer due to the caller."""
    # relay and send, inline: this runs for nearly every call a charger makes.
    message_id = call.message_id
    out = Call(message_id, action, payload)
    state.pending[to + ":" + message_id] = Pending(action, call.action, message_id, data or {})
    notes = notes if type(notes) is tuple else tuple(notes)
    return Step((), (out,), notes) if to is _CSMS else Step((out,), (), notes)


def relay(
    state: PairState,
    to: Side,
    call: Call,
    action: str,
    payload: dict[str, Any],
    *,
    data: dict[str, Any] | None = None,
) -> Call:
    """The call :func:`pass_on` sends, for a handler that builds its own step."""
    return send(
        state,
        to,
        action,
        payload,
        message_id=call.message_id,
        origin_action=call.action,
        origin_id=call.message_id,
        data=data,
    )


def derive(
    state: PairState,
    ctx: Context,
    to: Side,
    action: str,
    payload: dict[str, Any],
    *,
    origin_action: str,
    why: str,
) -> Step:
    """A call the translator originates (fresh id; its answer settles nothing)."""
    out = send(
        state,
        to,
        action,
        payload,
        message_id=ctx.new_id(),
        origin_action=origin_action,
        origin_id=None,
    )
    return Step.to(to, (out,), notes=(Note(NoteKind.DERIVED, action, why),))


def answer_locally(
    call: Call,
    payload: dict[str, Any],
    to: Side,
    detail: str,
    *,
    kind: NoteKind = NoteKind.LOCAL_ANSWER,
    notes: tuple[Note, ...] = (),
) -> Step:
    """Answer ``call`` (which ``to`` sent) from the translator itself, and say why."""
    note = Note(kind, call.action, detail)
    return Step.to(to, (CallResult(call.message_id, payload),), notes=(note, *notes))


def answer(
    pending: Pending, payload: dict[str, Any], to: Side, notes: tuple[Note, ...] = ()
) -> Step:
    """The translated CALLRESULT for the call ``pending`` came from, sent to ``to``.

    A call the translator originated has no one to answer: only the notes remain.
    """
    if pending.origin_id is None:
        return Step(notes=notes)
    return Step.to(to, (CallResult(pending.origin_id, payload),), notes=notes)


def refuse(
    call: Call,
    to: Side,
    version: OcppVersion,
    reason: str,
    code: ErrorCode = ErrorCode.NOT_SUPPORTED,
) -> Step:
    """Answer ``call`` (which ``to``, speaking ``version``, sent) with a CALLERROR."""
    error = call_error(call.message_id, code, version, reason)
    return Step.to(to, (error,), notes=(Note(NoteKind.NOT_SUPPORTED, call.action, reason),))


# -- CALLERRORs passed from one side to the other ------------------------------------


def respell(error: CallError, message_id: str, target: OcppVersion) -> tuple[CallError, bool]:
    """A peer's CALLERROR as ``target`` spells it, answering ``message_id``.

    1.6 and 2.0.1 share the RPC error codes but for spelling (FormationViolation,
    OccurenceConstraintViolation) and for two codes 1.6 lacks (their nearest
    1.6 code, :meth:`ErrorCode.wire`). A code ``target`` does not know becomes
    GenericError with the original kept in the text.

    Returns:
        the CALLERROR, and whether the code was unknown (the relay is lossy).
    """
    known = ERROR_CODE_BY_WIRE.get(error.error_code)
    if known is not None:
        text = error.error_description
        return call_error(message_id, known, target, text, error.error_details), False
    text = f"{error.error_code}: {error.error_description}"
    return call_error(message_id, ErrorCode.GENERIC_ERROR, target, text, error.error_details), True


def relay_error(pending: Pending, error: CallError, to: Side, version: OcppVersion) -> Step:
    """Pass a CALLERROR on to ``to`` (speaking ``version``), whose call caused the failed one.

    An error for a call the translator originated has no one to go to: it is
    noted ORPHAN.
    """
    if pending.origin_id is None:
        detail = f"{error.error_code}: {error.error_description}"
        return Step(notes=(Note(NoteKind.ORPHAN, pending.action, detail),))
    frame, unknown = respell(error, pending.origin_id, version)
    notes: tuple[Note, ...] = ()
    if unknown:
        notes = (Note(NoteKind.LOSSY, pending.origin_action, f"error code {error.error_code}"),)
    return Step.to(to, (frame,), notes=notes)


# -- chained pairs --------------------------------------------------------------------


@dataclass(slots=True)
class ChainState:
    """The states of a chain's stages, charger side first.

    ``pending`` is the first stage's (the calls out to the charger, which the
    bridge core forgets after a restart); the lossy counts are each stage's.
    """

    stages: list[Any]

    @property
    def pending(self) -> dict[str, Pending]:
        pending: dict[str, Pending] = self.stages[0].pending
        return pending

    @property
    def charge_point_id(self) -> str:
        return str(getattr(self.stages[0], "charge_point_id", ""))

    def count_lossy(self, key: str) -> None:
        self.stages[0].count_lossy(key)

    def to_dict(self) -> dict[str, Any]:
        return {"stages": [stage.to_dict() for stage in self.stages]}


# A chain's stages hand frames to each other until none is left; a handful of
# hops is all a real exchange takes, so more means two tables feed each other.
MAX_CHAIN_HOPS = 64


@dataclass(frozen=True, slots=True)
class Chain:
    """Pairs composed: the first's CSMS version is the second's charger version.

    ``chain(A, B)`` bridges A's charger to B's CSMS: what A sends towards its
    CSMS is fed to B as coming from B's charger, what B sends towards its
    charger is fed to A as coming from A's CSMS, until no frame is left in the
    middle. Each stage keeps its own state, tables and notes; the chain has the
    same surface as a :class:`Pair` (``from_charger`` / ``from_csms``,
    ``new_state`` / ``load_state``, ``versions``, ``tables``).
    """

    name: str
    stages: tuple[Pair[Any], ...]

    @property
    def versions(self) -> Mapping[Side, OcppVersion]:
        return {Side.CHARGER: self.charger, Side.CSMS: self.csms}

    @property
    def charger(self) -> OcppVersion:
        return self.stages[0].charger

    @property
    def csms(self) -> OcppVersion:
        return self.stages[-1].csms

    @property
    def tables(self) -> tuple[EnumMap, ...]:
        return tuple(t for stage in self.stages for t in stage.tables)

    def new_state(self) -> ChainState:
        return ChainState([stage.new_state() for stage in self.stages])

    def load_state(self, data: dict[str, Any]) -> ChainState:
        return ChainState(
            [stage.load_state(d) for stage, d in zip(self.stages, data["stages"], strict=True)]
        )

    def from_charger(self, state: ChainState, frame: Frame, ctx: Context) -> Step:
        return self._run(state, 0, Side.CHARGER, frame, ctx)

    def from_csms(self, state: ChainState, frame: Frame, ctx: Context) -> Step:
        return self._run(state, len(self.stages) - 1, Side.CSMS, frame, ctx)

    def _run(self, state: ChainState, index: int, side: Side, frame: Frame, ctx: Context) -> Step:
        last = len(self.stages) - 1
        to_charger: list[Frame] = []
        to_csms: list[Frame] = []
        notes: list[Note] = []
        work: list[tuple[int, Side, Frame]] = [(index, side, frame)]
        hops = 0
        while work:
            hops += 1
            if hops > MAX_CHAIN_HOPS:
                raise RuntimeError(f"chain {self.name}: stages keep feeding each other")
            at, from_side, item = work.pop(0)
            step = receive(self.stages[at], state.stages[at], from_side, item, ctx)
            notes.extend(step.notes)
            for out in step.to_charger:
                if at == 0:
                    to_charger.append(out)
                else:
                    work.append((at - 1, Side.CSMS, out))
            for out in step.to_csms:
                if at == last:
                    to_csms.append(out)
                else:
                    work.append((at + 1, Side.CHARGER, out))
        return Step(tuple(to_charger), tuple(to_csms), tuple(notes))


def chain(*stages: Pair[Any]) -> Chain:
    """The pairs composed charger side first (see :class:`Chain`).

    Raises:
        ConfigError: a stage's CSMS version is not the next one's charger version.
    """
    for first, second in pairwise(stages):
        if first.csms is not second.charger:
            raise ConfigError(
                f"cannot chain {first.name} ({first.csms} upstream) "
                f"to {second.name} ({second.charger} downstream)"
            )
    return Chain("+".join(stage.name for stage in stages), tuple(stages))


# -- the pairs ------------------------------------------------------------------------

# (charger version, CSMS version) -> the module holding the pair's ``PAIR``
# record. Imported on first use, so a process pays only for the pairs it hosts.
PAIR_MODULES: dict[tuple[OcppVersion, OcppVersion], str] = {
    (OcppVersion.V16, OcppVersion.V201): "ocppkit.translators.charger16_csms201.session",
    (OcppVersion.V201, OcppVersion.V16): "ocppkit.translators.station201_csms16.session",
    (OcppVersion.V201, OcppVersion.V21): "ocppkit.translators.lift21.session",
    (OcppVersion.V21, OcppVersion.V201): "ocppkit.translators.lift21.session_down",
}
# (charger version, CSMS version) -> the versions a chain passes through, in
# order: 1.6 -> 2.1 is 1.6 -> 2.0.1, then 2.0.1 -> 2.1.
CHAINS: dict[tuple[OcppVersion, OcppVersion], tuple[OcppVersion, ...]] = {
    (OcppVersion.V16, OcppVersion.V21): (OcppVersion.V16, OcppVersion.V201, OcppVersion.V21),
}


def find_pair(charger: OcppVersion, csms: OcppVersion) -> Pair[Any]:
    """The pair bridging a ``charger`` charger to a ``csms`` CSMS.

    Raises:
        ConfigError: no pair bridges those versions.
    """
    try:
        name = PAIR_MODULES[(charger, csms)]
    except KeyError:
        known = ", ".join(f"{c} -> {m}" for c, m in PAIR_MODULES)
        raise ConfigError(f"no translator pair for {charger} -> {csms} (known: {known})") from None
    pair: Pair[Any] = import_module(name).PAIR
    return pair


def find_translator(charger: OcppVersion, csms: OcppVersion) -> Pair[Any] | Chain:
    """The pair, or the chain of pairs (:data:`CHAINS`), bridging ``charger`` to ``csms``.

    Raises:
        ConfigError: neither a pair nor a chain bridges those versions.
    """
    hops = CHAINS.get((charger, csms))
    if hops is None:
        return find_pair(charger, csms)
    return chain(*(find_pair(a, b) for a, b in pairwise(hops)))
