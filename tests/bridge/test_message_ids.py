"""The bridge's message ids come from stored state: the same call gets the same id again."""

from __future__ import annotations

import orjson
import pytest

from ocppkit.translators.bridge.ids import IDS_KEY, MessageIds, pack, prefix_for, split
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.frames import Call
from tests.bridge.pair import CHARGER, CSMS, BridgePair

BOOT = {"chargePointModel": "M", "chargePointVendor": "V"}


def test_a_prefix_is_per_store_and_per_charger_and_leaves_room_for_15_digits() -> None:
    prefixes = {prefix_for(store, cp) for store in ("s1", "s2") for cp in ("CP1", "CP2")}
    assert len(prefixes) == 4
    assert all(len(p) == 21 and p.endswith("-") for p in prefixes)
    assert len(MessageIds(prefix_for("s1", "CP1"), 10**15 - 1)()) == 36


def test_the_counter_travels_inside_the_stored_state_and_an_old_state_starts_at_zero() -> None:
    state = BridgeState(charge_point_id="CP1")
    stored = orjson.loads(pack(orjson.dumps(state.to_dict()), 41))
    assert stored[IDS_KEY] == 41
    rest, counter = split(stored)
    assert counter == 41 and BridgeState.from_dict(rest) == state
    assert split(state.to_dict()) == (state.to_dict(), 0)  # stored before the counter


def test_a_prefix_longer_than_the_id_limit_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        MessageIds("x" * 22)


def booted() -> BridgePair:
    pair = BridgePair(id_prefix=prefix_for("store", "CP1"))
    pair.connect(CSMS)
    pair.connect(CHARGER)
    pair.send(CHARGER, Call("boot", "BootNotification", BOOT))
    (boot,) = pair.csms.calls("BootNotification")
    accepted = {"currentTime": "2026-03-01T12:00:00Z", "interval": 300, "status": "Accepted"}
    pair.answer(CSMS, boot, accepted)
    return pair


def test_ids_the_csms_sees_are_the_prefix_and_a_counter() -> None:
    pair = booted()
    pair.send(CHARGER, Call("a1", "Authorize", {"idTag": "T1"}))
    ids = [c.message_id for c in pair.csms.calls()]
    prefix = prefix_for("store", "CP1")
    assert ids == [f"{prefix}0", f"{prefix}1"]
