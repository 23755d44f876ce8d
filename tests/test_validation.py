"""Official-schema validation: every action of 1.6 and 2.0.1, both kinds."""

from __future__ import annotations

import subprocess
import sys

import jsonschema
import pytest

from ocppkit.translators import schemas
from ocppkit.translators.errors import ErrorCode, FrameError, ValidationFailed
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion
from tests.schema_examples import invalid_example, valid_example

CASES = [
    (version, action, kind)
    for version in (OcppVersion.V16, OcppVersion.V201)
    for action in sorted(schemas.actions(version))
    for kind in Kind
]
IDS = [f"{v.value}-{a}-{k.value}" for v, a, k in CASES]

strict = Validator(ValidationMode.STRICT)
lenient = Validator(ValidationMode.LENIENT)


def test_every_action_of_both_versions_is_known() -> None:
    # 1.6 with the security extension: 39 actions; 2.0.1: 64 actions.
    assert len(schemas.actions(OcppVersion.V16)) >= 28
    assert len(schemas.actions(OcppVersion.V201)) >= 64
    assert {"BootNotification", "StartTransaction", "SetChargingProfile"} <= schemas.actions(
        OcppVersion.V16
    )
    assert "TransactionEvent" in schemas.actions(OcppVersion.V201)


@pytest.mark.parametrize(("version", "action", "kind"), CASES, ids=IDS)
def test_validator_accepts_valid_and_rejects_invalid_payload(
    version: OcppVersion, action: str, kind: Kind
) -> None:
    official = schemas.schema(version, action, kind)
    oracle = jsonschema.validators.validator_for(official)(official)
    for full in (False, True):
        good = valid_example(official, full=full)
        oracle.validate(good)  # the example really is valid per the official schema
        assert strict.validate(version, action, kind, good) == ()
        assert lenient.validate(version, action, kind, good) == ()
    bad = invalid_example(official)
    with pytest.raises(ValidationFailed) as caught:
        strict.validate(version, action, kind, bad, message_id="m1")
    assert caught.value.violations
    assert caught.value.message_id == "m1"
    assert lenient.validate(version, action, kind, bad)


def test_strict_mode_rejects_unknown_property_that_official_schema_leaves_open() -> None:
    payload = {"idTag": "ABC", "extra": 1}
    with pytest.raises(ValidationFailed) as caught:
        strict.validate(OcppVersion.V16, "Authorize", Kind.REQUEST, payload)
    assert caught.value.code is ErrorCode.FORMAT_VIOLATION
    assert caught.value.violations[0].keyword == "additionalProperties"


def test_strict_mode_keeps_custom_data_open_for_vendor_extensions() -> None:
    payload = {
        "idToken": {"idToken": "A", "type": "ISO14443"},
        "customData": {"vendorId": "v", "x": 1},
    }
    assert strict.validate(OcppVersion.V201, "Authorize", Kind.REQUEST, payload) == ()


@pytest.mark.parametrize(
    ("payload", "code", "path"),
    [
        ({}, ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, "$"),
        ({"idTag": 5}, ErrorCode.TYPE_CONSTRAINT_VIOLATION, "$.idTag"),
        ({"idTag": "X" * 21}, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "$.idTag"),
    ],
    ids=["missing-required", "wrong-type", "too-long"],
)
def test_violation_maps_to_the_callerror_code_the_spec_names(
    payload: dict[str, object], code: ErrorCode, path: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        strict.validate(OcppVersion.V16, "Authorize", Kind.REQUEST, payload)
    assert caught.value.code is code
    assert caught.value.violations[0].path == path


def test_bad_date_time_is_a_property_constraint_violation_with_its_path() -> None:
    payload = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "yesterday", "sampledValue": [{"value": "1"}]}],
    }
    with pytest.raises(ValidationFailed) as caught:
        strict.validate(OcppVersion.V16, "MeterValues", Kind.REQUEST, payload)
    assert caught.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert [v.path for v in caught.value.violations] == ["$.meterValue[0].timestamp"]


def test_lenient_mode_reports_every_violation_with_its_json_path() -> None:
    payload = {"chargePointVendor": 1, "chargePointModel": "M" * 30}
    found = lenient.validate(OcppVersion.V16, "BootNotification", Kind.REQUEST, payload)
    assert {(v.path, v.keyword) for v in found} == {
        ("$.chargePointVendor", "type"),
        ("$.chargePointModel", "maxLength"),
    }


def test_unknown_action_is_not_implemented() -> None:
    with pytest.raises(FrameError) as caught:
        strict.validate(OcppVersion.V16, "TransactionEvent", Kind.REQUEST, {})
    assert caught.value.code is ErrorCode.NOT_IMPLEMENTED


def test_validation_does_not_modify_the_payload() -> None:
    payload = {"csChargingProfiles": {"chargingProfileId": 1}, "connectorId": 1}
    before = repr(payload)
    lenient.validate(OcppVersion.V16, "SetChargingProfile", Kind.REQUEST, payload)
    assert repr(payload) == before


def test_one_decimal_multiple_of_accepts_binary_float_representations() -> None:
    # 1.6 SetChargingProfile limits are multipleOf 0.1; 21.4 has no exact binary form.
    official = schemas.schema(OcppVersion.V16, "SetChargingProfile", Kind.REQUEST)
    payload = valid_example(official)
    period = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]
    period["limit"] = 21.4
    assert strict.is_valid(OcppVersion.V16, "SetChargingProfile", Kind.REQUEST, payload)
    period["limit"] = 4.11
    assert not strict.is_valid(OcppVersion.V16, "SetChargingProfile", Kind.REQUEST, payload)


def test_reading_schemas_and_fast_validation_import_no_jsonschema_until_asked() -> None:
    code = (
        "import sys\n"
        "from ocppkit.translators.schemas import Kind\n"
        "from ocppkit.translators.validation import Validator, load_slow_path\n"
        "from ocppkit.translators.versions import OcppVersion\n"
        "Validator().validate(OcppVersion.V201, 'Heartbeat', Kind.REQUEST, {})\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported by the fast path'\n"
        "load_slow_path()\n"
        "assert 'jsonschema' in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
