"""``validation = lenient`` for 1.5 SOAP: deviations field chargers send are lifted, not refused.

The frames are written from what vasyas' charger-simulator and other 1.5
chargers are described to send (field findings §1): a ``meterValue``
element where 1.5 has ``values``, elements out of order, a missing
``transactionData`` wrapper, values as loose text. Strict mode refuses each
one; lenient mode reads each one, says what it changed, and keeps every
reading.
"""

from __future__ import annotations

import pytest

from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15 import lift, parse_request
from ocppkit.translators.soap15.faults import SoapInputError
from ocppkit.translators.soap15.operations import Role
from ocppkit.translators.soap15.settings import SoapSettings
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

LENIENT = SoapSettings.for_validation("lenient")
STRICT = SoapSettings.for_validation("strict")


def envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:cs="urn://Ocpp/Cs/2012/06/">'
        "<s:Header><cs:chargeBoxIdentity>SIM-15</cs:chargeBoxIdentity></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


# vasyas: a periodic MeterValues whose samples sit in a 1.6-named meterValue element.
METER_VALUE_ELEMENT = envelope(
    "<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
    "<cs:transactionId>77</cs:transactionId>"
    "<cs:meterValue><cs:timestamp>2026-03-05T09:15:00Z</cs:timestamp>"
    '<cs:value unit="Wh" measurand="Energy.Active.Import.Register">6200</cs:value>'
    '<cs:value unit="Amp" measurand="Current.Import">16.2</cs:value>'
    "</cs:meterValue></cs:meterValuesRequest>"
)
# Elements out of the schema's order.
OUT_OF_ORDER = envelope(
    "<cs:startTransactionRequest><cs:timestamp>2026-03-05T09:00:06Z</cs:timestamp>"
    "<cs:meterStart>1200</cs:meterStart><cs:idTag>CARD15</cs:idTag>"
    "<cs:connectorId>1</cs:connectorId></cs:startTransactionRequest>"
)
# StopTransaction samples without their transactionData wrapper.
NO_WRAPPER = envelope(
    "<cs:stopTransactionRequest><cs:transactionId>77</cs:transactionId>"
    "<cs:idTag>CARD15</cs:idTag><cs:timestamp>2026-03-05T10:00:00Z</cs:timestamp>"
    "<cs:meterStop>9600</cs:meterStop>"
    "<cs:values><cs:timestamp>2026-03-05T09:30:00Z</cs:timestamp>"
    "<cs:value>7000</cs:value></cs:values>"
    "<cs:values><cs:timestamp>2026-03-05T09:45:00Z</cs:timestamp>"
    "<cs:value>8000</cs:value></cs:values>"
    "</cs:stopTransactionRequest>"
)
# Values as loose text: white space, a decimal integer, an enum's letter case.
LOOSE_TEXT = envelope(
    "<cs:statusNotificationRequest><cs:connectorId> 2 </cs:connectorId>"
    "<cs:status>occupied</cs:status><cs:errorCode>noerror</cs:errorCode>"
    "</cs:statusNotificationRequest>"
)
LOOSE_NUMBER = envelope(
    "<cs:meterValuesRequest><cs:connectorId>1.0</cs:connectorId>"
    "<cs:values><cs:timestamp>2026-03-05T09:15:00Z</cs:timestamp>"
    '<cs:value unit="wh">6200</cs:value></cs:values></cs:meterValuesRequest>'
)


@pytest.mark.parametrize(
    ("frame", "expected_repair"),
    [
        (METER_VALUE_ELEMENT, "meterValue: read as values"),
        (OUT_OF_ORDER, "schema order"),
        (NO_WRAPPER, "missing transactionData wrapper added"),
        (LOOSE_TEXT, "'occupied' read as 'Occupied'"),
        (LOOSE_NUMBER, "'1.0' read as '1'"),
    ],
    ids=["meterValue element", "element order", "missing wrapper", "text enum", "text number"],
)
def test_strict_refuses_and_lenient_lifts_with_a_note(frame: bytes, expected_repair: str) -> None:
    with pytest.raises(SoapInputError):
        parse_request(frame, Role.CENTRAL_SYSTEM, STRICT)
    msg = parse_request(frame, Role.CENTRAL_SYSTEM, LENIENT)
    assert any(expected_repair in r for r in msg.repairs), msg.repairs
    lifted = lift(msg.operation, Kind.REQUEST, msg.payload)
    Validator().validate(OcppVersion.V16, msg.operation, Kind.REQUEST, lifted.payload)


def test_vasyas_meter_values_keep_every_reading() -> None:
    msg = parse_request(METER_VALUE_ELEMENT, Role.CENTRAL_SYSTEM, LENIENT)
    lifted = lift("MeterValues", Kind.REQUEST, msg.payload).payload
    (sample,) = lifted["meterValue"]
    assert sample["timestamp"] == "2026-03-05T09:15:00Z"
    assert [(v["value"], v.get("measurand"), v.get("unit")) for v in sample["sampledValue"]] == [
        ("6200", "Energy.Active.Import.Register", "Wh"),
        ("16.2", "Current.Import", "A"),
    ]
    assert lifted["transactionId"] == 77


def test_stop_samples_moved_into_their_wrapper_arrive_in_order() -> None:
    msg = parse_request(NO_WRAPPER, Role.CENTRAL_SYSTEM, LENIENT)
    data = lift("StopTransaction", Kind.REQUEST, msg.payload).payload["transactionData"]
    assert [(m["timestamp"], m["sampledValue"][0]["value"]) for m in data] == [
        ("2026-03-05T09:30:00Z", "7000"),
        ("2026-03-05T09:45:00Z", "8000"),
    ]


def test_what_has_no_place_is_named_with_its_text_not_silently_dropped() -> None:
    frame = envelope(
        "<cs:heartbeatRequest><cs:vendorUptime>86400</cs:vendorUptime></cs:heartbeatRequest>"
    )
    msg = parse_request(frame, Role.CENTRAL_SYSTEM, LENIENT)
    assert msg.payload == {}
    assert any("vendorUptime" in r and "86400" in r for r in msg.repairs)


def test_a_valid_frame_needs_no_repair() -> None:
    msg = parse_request(OUT_OF_ORDER, Role.CENTRAL_SYSTEM, LENIENT)
    again = parse_request(
        envelope(
            "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
            "<cs:idTag>CARD15</cs:idTag><cs:timestamp>2026-03-05T09:00:06Z</cs:timestamp>"
            "<cs:meterStart>1200</cs:meterStart></cs:startTransactionRequest>"
        ),
        Role.CENTRAL_SYSTEM,
        LENIENT,
    )
    assert again.repairs == ()
    assert again.payload == msg.payload
