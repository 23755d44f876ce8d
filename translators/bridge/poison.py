"""Poison messages: a call the CSMS drops the link on, every time.

The outbox sends its head call again after every reconnect (at-least-once
delivery). A call that makes the CSMS close the connection (a bug of the
CSMS's, a payload it cannot digest) would so be sent for ever, over a hundred
times a minute, and hold up every call behind it. The rule, as data
(:class:`PoisonRule`), and its bookkeeping (:class:`PoisonWatch`, one per
charger core):

- a **loss** is the CSMS link closing while the head call is outstanding on
  it (not yet answered, not yet timed out). A link that cannot be opened is
  no loss: no call was on it;
- after each loss the head waits ``delay(losses)`` before it is sent again:
  ``first_delay`` doubling up to ``max_delay`` (on top of the reconnect's own
  back-off);
- after ``attempts`` losses of the same call it is **given up**: taken out of
  the outbox, kept as a :class:`DeadLetter` in the same commit, and answered
  as if the CSMS had said ``InternalError`` with :data:`DEAD_LETTER_TEXT`
  (neutral: it names no host or cause), so the charger hears a CALLERROR and
  the calls behind it move on;
- an answer (or a timeout, which also takes the call out of the outbox)
  ends the count. Losses are not stored: after a restart they count from 0.

Nothing here reads a clock; ``now`` is handed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DEAD_LETTER_TEXT = "the call was given up after repeated upstream failures"
REASON_LINK_LOST = "link_lost_every_attempt"


@dataclass(frozen=True, slots=True)
class PoisonRule:
    """When to give a call up, and how long to wait between its resends.

    Attributes:
        attempts: sends of one call that may each lose the link; at the last
            loss it is given up (0: never, resend for ever).
        first_delay: seconds before the resend after the first loss.
        max_delay: the longest wait between resends.
    """

    attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, losses: int) -> timedelta:
        """The wait before the resend that follows loss number ``losses`` (1-based)."""
        step = self.first_delay * 2.0 ** min(max(losses - 1, 0), 30)
        return timedelta(seconds=min(self.max_delay, step))

    def gives_up(self, losses: int) -> bool:
        return 0 < self.attempts <= losses


DEFAULT_POISON_RULE = PoisonRule()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A call for the CSMS given up; stored with the commit that drops it from the outbox.

    Attributes:
        message_id: the bridge's id of the call (as the CSMS saw it).
        action: its action.
        payload: its payload.
        attempts: how many times it was sent and lost the link.
        reason: why it was given up (:data:`REASON_LINK_LOST`).
    """

    message_id: str
    action: str
    payload: dict[str, Any]
    attempts: int
    reason: str = REASON_LINK_LOST

    @property
    def frame(self) -> list[Any]:
        """The call as an OCPP-J array, as the CSMS was sent it."""
        return [2, self.message_id, self.action, self.payload]


@dataclass(slots=True)
class PoisonWatch:
    """One charger's count of link losses for its outbox head."""

    rule: PoisonRule
    message_id: str | None = None
    losses: int = 0
    resend_at: datetime | None = None

    def lost(self, message_id: str, now: datetime) -> None:
        """The link closed while ``message_id`` was outstanding on it."""
        if message_id != self.message_id:
            self.message_id, self.losses = message_id, 0
        self.losses += 1
        self.resend_at = now + self.rule.delay(self.losses)

    def losses_of(self, message_id: str) -> int:
        return self.losses if message_id == self.message_id else 0

    def poisoned(self, message_id: str) -> bool:
        """Give ``message_id`` up now."""
        return self.rule.gives_up(self.losses_of(message_id))

    def may_send(self, message_id: str, now: datetime) -> bool:
        """The back-off for ``message_id`` is over (or it never lost a link)."""
        return message_id != self.message_id or self.resend_at is None or now >= self.resend_at

    def held(self, message_id: str) -> datetime | None:
        """Until when ``message_id`` waits, if it does."""
        return self.resend_at if message_id == self.message_id else None

    def sent(self, message_id: str) -> None:
        """``message_id`` went on the wire: its wait is over (its count stays)."""
        if message_id == self.message_id:
            self.resend_at = None

    def forget(self) -> None:
        """The head was answered, timed out or given up: the count starts again."""
        self.message_id, self.losses, self.resend_at = None, 0, None
