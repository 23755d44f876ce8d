"""The 1.6 key <-> 2.0.1 variable table and the rule for every other key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.translators.charger16_csms201 import config_keys
from ocppkit.translators.charger16_csms201.config_keys import KEY_TABLE, LEGACY_COMPONENT


@pytest.mark.parametrize("row", KEY_TABLE, ids=lambda r: r.key)
def test_table_key_round_trips_through_its_2_0_1_address(row: config_keys.KeyRow) -> None:
    component, variable = config_keys.address_of(row.key)
    assert config_keys.resolve(component, variable).key == row.key
    assert len(row.key) <= 50 and len(row.variable) <= 50


def test_table_has_no_duplicate_keys_or_addresses() -> None:
    keys = [r.key.lower() for r in KEY_TABLE]
    addresses = [(r.component, r.variable, r.instance) for r in KEY_TABLE]
    assert len(set(keys)) == len(keys) and len(set(addresses)) == len(addresses)


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,49}", fullmatch=True))
@settings(max_examples=100, deadline=None)
def test_any_1_6_key_is_reachable_under_the_legacy_component(key: str) -> None:
    found = config_keys.resolve({"name": LEGACY_COMPONENT}, {"name": key})
    assert found.key == key
    component, variable = config_keys.address_of(key)
    assert str(config_keys.resolve(component, variable).key).lower() == key.lower()


def test_names_compare_case_insensitively_as_cistrings() -> None:
    found = config_keys.resolve({"name": "ocppcommctrlr"}, {"name": "HEARTBEATINTERVAL"})
    assert found.key == "HeartbeatInterval"


def test_instance_qualified_variable_needs_its_instance() -> None:
    comp = {"name": "OCPPCommCtrlr"}
    with_instance = config_keys.resolve(
        comp, {"name": "MessageAttempts", "instance": "TransactionEvent"}
    )
    assert with_instance.key == "TransactionMessageAttempts"
    assert config_keys.resolve(comp, {"name": "MessageAttempts"}).status == "UnknownVariable"


def test_evse_level_components_are_unknown_to_1_6() -> None:
    found = config_keys.resolve(
        {"name": "OCPPCommCtrlr", "evse": {"id": 1}}, {"name": "HeartbeatInterval"}
    )
    assert found.key is None and found.status == "UnknownComponent"


def test_unknown_variable_of_a_known_component_and_unknown_component() -> None:
    assert config_keys.resolve({"name": "TxCtrlr"}, {"name": "Nope"}).status == "UnknownVariable"
    assert config_keys.resolve({"name": "Nope"}, {"name": "Nope"}).status == "UnknownComponent"


def test_rate_unit_values_convert_both_ways_losslessly() -> None:
    row = config_keys.row_for_key("ChargingScheduleAllowedChargingRateUnit")
    assert config_keys.value_up(row, "Current,Power") == ("A,W", True)
    assert config_keys.value_down(row, "A,W") == ("Current,Power", True)
    assert config_keys.value_up(row, "Current,Volts") == ("A,Volts", False)


def test_legacy_route_keeps_raw_values() -> None:
    found = config_keys.resolve(
        {"name": LEGACY_COMPONENT}, {"name": "ChargingScheduleAllowedChargingRateUnit"}
    )
    assert found.row is None
    assert config_keys.value_down(found.row, "Current") == ("Current", True)


def test_authorization_key_is_write_only() -> None:
    assert config_keys.is_write_only("authorizationkey")
    assert not config_keys.is_write_only("HeartbeatInterval")
