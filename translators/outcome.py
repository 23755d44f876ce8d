"""What a translation step returns: frames for each side, and notes.

A session translator (e.g. :mod:`ocppkit.translators.charger16_csms201`) is fed every frame
that arrives from either side and answers with a :class:`Step`: the frames to
send to the charger, the frames to send to the CSMS, in order, and notes on
anything lossy, local or refused. The caller sends, journals and persists;
the translator only decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ocppkit.translators.frames import Frame
from ocppkit.translators.pending import Side


class NoteKind(StrEnum):
    LOSSY = "lossy"  # a value changed or a field was dropped on the way
    LOCAL_ANSWER = "local_answer"  # answered by the translator, not the peer
    NOT_SUPPORTED = "not_supported"  # refused with a CALLERROR NotSupported
    DERIVED = "derived"  # a message the translator originated (e.g. NotifyEvent)
    DUPLICATE = "duplicate"  # a retry recognised (e.g. StartTransaction)
    ORPHAN = "orphan"  # a result or reference that matches nothing known


@dataclass(frozen=True, slots=True)
class Note:
    """What happened on the way; ``rule`` names the bridge rule that acted, if one did.

    A rule (e.g. ``dangling:status``) is counted by the gateway's /metrics.
    """

    kind: NoteKind
    action: str
    detail: str
    rule: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"kind": self.kind.value, "action": self.action, "detail": self.detail}
        if self.rule:
            out["rule"] = self.rule
        return out


# Not frozen: a frozen dataclass's __init__ sets each field through
# object.__setattr__, four times the cost of a plain one, and a step is built
# for every message. Treated as immutable all the same: change a copy
# (dataclasses.replace), never one in place.
@dataclass(slots=True)
class Step:
    """The frames to send after one input frame, and what happened.

    Attributes:
        to_charger: frames for the charging-station side, in order.
        to_csms: frames for the central-system side, in order.
        notes: lossy conversions, local answers, refusals, derived messages.
        csms_dates_fine: the handler vouches that no date-time in ``to_csms``
            has more than three decimals, so the engine's millisecond cut
            (:func:`~ocppkit.translators.timestamps.limit_step`) would change
            nothing and is skipped. Only a handler whose property test proves
            it sets this (``meter_values``); a combined step drops it.
    """

    to_charger: tuple[Frame, ...] = ()
    to_csms: tuple[Frame, ...] = ()
    notes: tuple[Note, ...] = field(default_factory=tuple)
    csms_dates_fine: bool = field(default=False, compare=False, repr=False)

    @classmethod
    def to(cls, side: Side, frames: tuple[Frame, ...], notes: tuple[Note, ...] = ()) -> Step:
        """A step sending ``frames`` to ``side``."""
        if side is Side.CHARGER:
            return cls(to_charger=frames, notes=notes)
        return cls(to_csms=frames, notes=notes)

    def __add__(self, other: Step) -> Step:
        return Step(
            self.to_charger + other.to_charger,
            self.to_csms + other.to_csms,
            self.notes + other.notes,
        )
