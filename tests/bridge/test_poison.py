"""Poison messages (#16 item 14): a call the CSMS drops the link on, in memory.

The CSMS here "drops the link" by the test calling ``disconnect(CSMS)`` while
the bridge's call is outstanding, as the shell reports a closed WebSocket.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ocppkit.toolkit.gateway.routes import REVERSE
from ocppkit.translators.bridge import DEAD_LETTER_TEXT, PoisonRule
from ocppkit.translators.frames import Call, CallResult
from tests.bridge.pair import CHARGER, CSMS, BridgePair
from tests.bridge.test_bridge_pair import ACCEPTED_TOKEN, authorize, booted

RULE = PoisonRule(attempts=3, first_delay=1, max_delay=4)
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


def drop_link(pair: BridgePair) -> None:
    """The CSMS closes the connection; the bridge reconnects at once."""
    pair.disconnect(CSMS)
    pair.connect(CSMS)


def sends_of(pair: BridgePair, message_id: str) -> int:
    return sum(1 for c in pair.csms.calls() if c.message_id == message_id)


def test_the_rule_doubles_its_wait_up_to_the_longest_and_gives_up_at_the_last_attempt() -> None:
    rule = PoisonRule(attempts=5, first_delay=0.5, max_delay=3)
    waits = [rule.delay(n).total_seconds() for n in range(1, 7)]
    assert waits == [0.5, 1, 2, 3, 3, 3]
    assert [rule.gives_up(n) for n in range(1, 7)] == [False] * 4 + [True] * 2
    assert not PoisonRule(attempts=0).gives_up(10_000)


def test_a_call_that_lost_the_link_is_resent_only_after_its_wait() -> None:
    pair = booted(poison=RULE)
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    drop_link(pair)
    assert sends_of(pair, call.message_id) == 1  # connected again, but waiting
    assert pair.core.deadline == pair.now + timedelta(seconds=1)
    pair.advance(0.999)
    assert sends_of(pair, call.message_id) == 1
    pair.advance(0.001)
    assert sends_of(pair, call.message_id) == 2
    drop_link(pair)
    pair.advance(1.999)
    assert sends_of(pair, call.message_id) == 2
    pair.advance(0.001)
    assert sends_of(pair, call.message_id) == 3  # the same bridge id every time
    pair.answer(CSMS, pair.csms.calls("Authorize")[-1], ACCEPTED_TOKEN)
    assert pair.charger.answer_to("a1") == CallResult("a1", {"idTagInfo": {"status": "Accepted"}})
    assert pair.dead_letters == []


def test_after_the_last_attempt_the_call_is_a_dead_letter_and_the_caller_hears_internal_error() -> (
    None
):
    pair = booted(poison=RULE)
    pair.send(CHARGER, authorize("a1"))
    pair.send(CHARGER, Call("s1", "StatusNotification", STATUS))  # queued behind it
    (call,) = pair.csms.calls("Authorize")
    for wait in (1, 2):
        drop_link(pair)
        pair.advance(wait)
    assert sends_of(pair, call.message_id) == 3
    drop_link(pair)  # the third loss: given up at once, no fourth send
    assert sends_of(pair, call.message_id) == 3
    assert pair.charger.wire[-1] == [4, "a1", "InternalError", DEAD_LETTER_TEXT, {}]
    (letter,) = pair.dead_letters
    assert (letter.message_id, letter.action, letter.attempts) == (call.message_id, "Authorize", 3)
    assert letter.frame == [2, call.message_id, "Authorize", call.payload]
    assert pair.count("ocppkit_bridge_dead_letters_total") == 1
    assert call.message_id not in pair.stored_outbox
    # The dead letter left the outbox in the same commit that stored it.
    (commit,) = [c for c in pair.commits if c.dead_letters]
    assert commit.outbox_done == (call.message_id,)
    # The call behind it moves on.
    (status,) = pair.csms.calls("StatusNotification")
    pair.answer(CSMS, status, {})
    assert pair.charger.wire[-1] == [3, "s1", {}]


def test_a_dead_letter_is_not_sent_again_after_a_restart() -> None:
    pair = booted(poison=RULE)
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    for wait in (1, 2, 0):
        drop_link(pair)
        pair.advance(wait)
    pair.restart()
    pair.connect(CSMS)
    pair.advance(60)
    assert sends_of(pair, call.message_id) == 3


def test_an_answer_ends_the_count_so_the_next_call_has_every_attempt_again() -> None:
    pair = booted(poison=RULE)
    pair.send(CHARGER, authorize("a1"))
    first = pair.csms.calls("Authorize")[-1]
    drop_link(pair)
    drop_link(pair)  # lost twice, while waiting: still one loss (nothing was on the wire)
    pair.advance(1)
    drop_link(pair)
    pair.advance(2)
    pair.answer(CSMS, pair.csms.calls("Authorize")[-1], ACCEPTED_TOKEN)
    assert sends_of(pair, first.message_id) == 3 and pair.dead_letters == []
    pair.send(CHARGER, authorize("a2", "T2"))
    second = pair.csms.calls("Authorize")[-1]
    drop_link(pair)
    pair.advance(1)
    drop_link(pair)
    pair.advance(2)
    assert sends_of(pair, second.message_id) == 3 and pair.dead_letters == []


def test_a_link_lost_with_nothing_outstanding_or_after_a_timeout_is_no_loss() -> None:
    pair = booted(poison=RULE, call_timeout=5)
    for _ in range(5):
        drop_link(pair)  # idle links dropping: nothing is held
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    assert sends_of(pair, call.message_id) == 1
    pair.advance(5)  # timed out: the charger is answered, the row leaves the outbox
    assert pair.charger.wire[-1][:3] == [4, "a1", "InternalError"]
    for _ in range(5):
        drop_link(pair)
    assert pair.dead_letters == [] and pair.stored_outbox == {}


def test_a_heartbeat_is_answered_locally_while_the_head_waits_out_its_back_off() -> None:
    pair = booted(poison=RULE)
    pair.send(CHARGER, authorize("a1"))
    drop_link(pair)
    pair.send(CHARGER, Call("hb", "Heartbeat", {}))
    kind, message_id, payload = pair.charger.wire[-1]
    assert (kind, message_id) == (3, "hb") and "currentTime" in payload
    assert pair.csms.calls("Heartbeat") == []


def test_with_no_attempt_limit_the_call_is_resent_for_ever_at_the_longest_wait() -> None:
    pair = booted(poison=PoisonRule(attempts=0, first_delay=1, max_delay=4))
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    for wait in (1, 2, 4, 4, 4, 4, 4, 4):
        drop_link(pair)
        pair.advance(wait - 0.001)
        before = sends_of(pair, call.message_id)
        pair.advance(0.001)
        assert sends_of(pair, call.message_id) == before + 1
    assert sends_of(pair, call.message_id) == 9 and pair.dead_letters == []


@pytest.mark.parametrize("attempts", [1, 5])
def test_the_reverse_pair_gives_a_poison_call_up_as_internal_error_too(attempts: int) -> None:
    from tests.bridge.test_reverse_pair import authorize as authorize201
    from tests.bridge.test_reverse_pair import booted as booted_reverse

    pair = booted_reverse(poison=PoisonRule(attempts=attempts, first_delay=1, max_delay=1))
    assert pair.route is REVERSE
    pair.send(CHARGER, authorize201("a1", "T1"))
    (call,) = pair.csms.calls("Authorize")
    for _ in range(attempts):
        drop_link(pair)
        pair.advance(1)
    assert sends_of(pair, call.message_id) == attempts
    assert pair.charger.wire[-1][:3] == [4, "a1", "InternalError"]
    assert [d.attempts for d in pair.dead_letters] == [attempts]


def test_a_give_up_whose_commit_failed_is_tried_again_and_the_charger_hears_it_once() -> None:
    pair = booted(poison=PoisonRule(attempts=1, first_delay=1, max_delay=1))
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    pair.fail_commits = 1
    drop_link(pair)
    assert [f for f in pair.charger.wire if f[1] == "a1"] == [
        [4, "a1", "InternalError", DEAD_LETTER_TEXT, {}]
    ]
    (letter,) = pair.dead_letters  # stored by the second try
    assert letter.message_id == call.message_id and pair.stored_outbox == {}
    assert sends_of(pair, call.message_id) == 1
