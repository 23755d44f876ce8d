"""A charger's call goes to the CSMS while its commit is written: the crash cases it opens.

In memory, on the virtual clock: commits are held in flight (``hold_commits``) and
then land, fail, or never land (a kill -9: :meth:`BridgePair.restart`). Ids are
minted as the gateway mints them (a stored counter behind a prefix), so a call
translated again from the same stored state must reach the CSMS with the same
message id and the same seqNo.
"""

from __future__ import annotations

from typing import Any

from ocppkit.toolkit.gateway.routes import REVERSE
from ocppkit.translators.bridge.ids import prefix_for
from ocppkit.translators.frames import Call, CallResult
from ocppkit.translators.outcome import NoteKind
from tests.bridge.pair import CHARGER, CSMS, BridgePair

BOOT = {"chargePointModel": "M", "chargePointVendor": "V"}
ACCEPTED = {"currentTime": "2026-03-01T12:00:00.000Z", "interval": 300, "status": "Accepted"}
STARTED = {"idTokenInfo": {"status": "Accepted"}}
START = {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000,
         "timestamp": "2026-03-01T12:00:05.000Z"}  # fmt: skip


def booted() -> BridgePair:
    """Both links up, the charger booted, the next commits held in flight."""
    pair = BridgePair(id_prefix=prefix_for("store-1", "CP1"), overlap=True)
    pair.connect(CSMS)
    pair.connect(CHARGER)
    pair.send(CHARGER, Call("boot", "BootNotification", BOOT))
    (boot,) = pair.csms.calls("BootNotification")
    pair.answer(CSMS, boot, ACCEPTED)
    assert pair.charger.answer_to("boot") == CallResult("boot", ACCEPTED)
    pair.hold_commits = True
    return pair


def events(pair: BridgePair) -> list[Call]:
    return pair.csms.calls("TransactionEvent")


def seq_and_id(call: Call) -> tuple[str, Any, Any]:
    return call.message_id, call.payload["seqNo"], call.payload["transactionInfo"]["transactionId"]


def test_a_charger_call_goes_upstream_before_its_commit_lands() -> None:
    pair = booted()
    pair.send(CHARGER, Call("s1", "StartTransaction", START))
    (event,) = events(pair)
    assert pair.stored_outbox == {}  # not stored yet, already sent
    assert pair.held is not None and [c.message_id for c in pair.held.commit.outbox_add] == [  # type: ignore[union-attr]
        event.message_id
    ]
    assert [f[1] for f in pair.charger.wire] == ["boot"]  # nothing acknowledged
    pair.land()
    assert list(pair.stored_outbox) == [event.message_id]
    pair.answer(CSMS, event, STARTED)
    pair.land()
    assert pair.charger.wire[-1][:2] == [3, "s1"]


def test_the_csms_answer_that_comes_before_the_commit_lands_waits_for_it() -> None:
    pair = booted()
    pair.send(CHARGER, Call("s1", "StartTransaction", START))
    (event,) = events(pair)
    pair.answer(CSMS, event, STARTED)  # the CSMS is faster than the disk
    assert [f[1] for f in pair.charger.wire] == ["boot"]  # the charger is not answered yet
    assert pair.waiting  # the answer waits behind the commit, as behind the session lock
    pair.land()  # the call's commit; then the answer is taken (its own commit is held)
    assert pair.charger.wire[-1][:2] == [3, "s1"]  # an early answer, while it is written
    pair.land()
    assert pair.stored_outbox == {}


def test_a_commit_that_fails_after_the_send_is_not_acknowledged_and_the_retry_repeats_id_and_seqno() -> (  # noqa: E501
    None
):
    pair = booted()
    pair.send(CHARGER, Call("s1", "StartTransaction", START))
    (first,) = events(pair)
    pair.land(ok=False)  # the disk refused it: rolled back
    pair.answer(CSMS, first, STARTED)  # the CSMS answers the call the bridge forgot
    assert [f[1] for f in pair.charger.wire] == ["boot"]  # never acknowledged
    assert pair.notes[-1].kind is NoteKind.ORPHAN  # dropped by the translator
    assert pair.held is None  # nothing changed, so nothing to store
    pair.hold_commits = False
    pair.send(CHARGER, Call("s2", "StartTransaction", START))  # the charger's own retry
    first_again, second = events(pair)
    assert first_again is first
    assert seq_and_id(second) == seq_and_id(first)  # a duplicate the CSMS can recognise
    assert second.payload == first.payload
    pair.answer(CSMS, second, STARTED)
    assert pair.charger.wire[-1][:2] == [3, "s2"]
    assert pair.stored_outbox == {}


def test_a_retry_that_comes_before_the_answer_to_the_rolled_back_send_takes_that_answer() -> None:
    pair = booted()
    pair.send(CHARGER, Call("s1", "StartTransaction", START))
    (first,) = events(pair)
    pair.land(ok=False)
    pair.hold_commits = False
    pair.send(CHARGER, Call("s2", "StartTransaction", START))  # the retry, same id minted
    assert events(pair) == [first]  # the slot is still busy with the first copy
    pair.answer(CSMS, first, STARTED)
    assert pair.charger.wire[-1][:2] == [3, "s2"]
    assert events(pair) == [first] and pair.stored_outbox == {}  # sent once, answered once


def test_a_kill_between_the_send_and_the_commit_resends_the_same_id_and_seqno() -> None:
    pair = booted()
    pair.send(CHARGER, Call("s1", "StartTransaction", START))
    (first,) = events(pair)
    pair.restart()  # kill -9: the commit in flight never lands
    pair.hold_commits = False
    pair.connect(CSMS)
    pair.connect(CHARGER)
    assert events(pair) == [first]  # nothing stored to resend
    pair.send(CHARGER, Call("s1", "StartTransaction", START))  # the charger resends
    _, again = events(pair)
    assert seq_and_id(again) == seq_and_id(first)
    assert again.payload == first.payload
    pair.answer(CSMS, again, STARTED)
    assert pair.charger.wire[-1][:2] == [3, "s1"]


def test_the_upstream_lost_between_the_send_and_the_commit_resends_after_the_reconnect() -> None:
    pair = booted()
    pair.send(CHARGER, Call("s1", "StartTransaction", START))
    (first,) = events(pair)
    pair.disconnect(CSMS)  # before the commit lands
    pair.land()
    assert list(pair.stored_outbox) == [first.message_id]
    pair.hold_commits = False
    pair.connect(CSMS)
    pair.advance(60)  # past the poison back-off
    _, again = events(pair)
    assert seq_and_id(again) == seq_and_id(first)
    pair.answer(CSMS, again, STARTED)
    assert pair.charger.wire[-1][:2] == [3, "s1"]
    assert pair.stored_outbox == {}


def test_without_overlap_nothing_goes_upstream_before_its_commit() -> None:
    pair = BridgePair(id_prefix=prefix_for("store-1", "CP1"), overlap=False)
    pair.connect(CSMS)
    pair.connect(CHARGER)
    pair.hold_commits = True
    pair.send(CHARGER, Call("boot", "BootNotification", BOOT))
    assert pair.csms.calls() == []
    pair.land()
    assert [c.action for c in pair.csms.calls()] == ["BootNotification"]


def test_an_answer_whose_translation_queues_a_call_does_not_send_the_answered_call_again() -> None:
    """A 2.0.1 station's Started event, buffered until StartTransaction.conf, is replayed
    as MeterValues in the commit that removes the StartTransaction from the outbox: the
    call sent ahead is the MeterValues, not the StartTransaction still listed."""
    pair = BridgePair(route=REVERSE, id_prefix=prefix_for("store-1", "ST1"))
    pair.connect(CSMS)
    pair.connect(CHARGER)
    boot = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
    pair.send(CHARGER, Call("s1", "BootNotification", boot))
    pair.answer(CSMS, pair.csms.calls("BootNotification")[-1], ACCEPTED)
    sample = {"value": 1000, "measurand": "Energy.Active.Import.Register",
              "unitOfMeasure": {"unit": "Wh"}}  # fmt: skip
    started = {"eventType": "Started", "timestamp": "2026-03-01T12:00:05.000Z",
               "triggerReason": "Authorized", "seqNo": 0,
               "transactionInfo": {"transactionId": "tx-201-a"},
               "idToken": {"idToken": "TAG1", "type": "ISO14443"},
               "evse": {"id": 1, "connectorId": 1},
               "meterValue": [{"timestamp": "2026-03-01T12:00:05.000Z",
                               "sampledValue": [sample]}]}  # fmt: skip
    pair.send(CHARGER, Call("s2", "TransactionEvent", started))
    (start,) = pair.csms.calls("StartTransaction")
    pair.answer(CSMS, start, {"transactionId": 4711, "idTagInfo": {"status": "Accepted"}})
    assert [c.action for c in pair.csms.calls()][-2:] == ["StartTransaction", "MeterValues"]
    assert len(pair.csms.calls("StartTransaction")) == 1
