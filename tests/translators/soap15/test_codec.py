"""The OCPP 1.5 SOAP codec: every operation both ways, headers, and bad input as Faults."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from ocppkit.translators.errors import SoapError
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15 import (
    SoapFault,
    SoapMessage,
    SoapSettings,
    build_request,
    build_response,
    fault_envelope,
    fault_for_exception,
    message_id_for,
    parse_envelope,
    parse_request,
    parse_response,
)
from ocppkit.translators.soap15.documents import xml_schema
from ocppkit.translators.soap15.faults import SOAP12_ENV, WSA, SoapInputError
from ocppkit.translators.soap15.operations import CS_NAMESPACE, Role, service_for
from tests.translators.soap15.samples import SAMPLES, T0, sample_id

KEYS = sorted(SAMPLES, key=sample_id)
CS_URL = "http://csms.example/ocpp15"
CP_URL = "http://10.0.0.7:8080/ocpp"
MID = "urn:uuid:6f1c2a4e-0b7d-4c55-9d8e-2f6a1b3c4d5e"


def _request(role: Role, op: str, payload: dict[str, Any], **kw: Any) -> bytes:
    return build_request(
        role, op, payload, charge_box_identity="CB-1", to=CS_URL, message_id=MID, **kw
    )


def _body(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    body = root.find(f"{{{SOAP12_ENV}}}Body")
    assert body is not None
    return body[0]


def _fault(data: bytes | str, role: Role = Role.CENTRAL_SYSTEM, **kw: Any) -> SoapFault:
    """Parse ``data`` as a request; it must fail, and its Fault must read back."""
    with pytest.raises(SoapError) as info:
        parse_request(data, role, **kw)
    fault = parse_envelope(fault_envelope(info.value))
    assert isinstance(fault, SoapFault)
    assert fault.reason == info.value.reason
    return fault


@pytest.mark.parametrize("key", KEYS, ids=sample_id)
def test_request_round_trips_with_headers_and_validates_against_the_xsd(
    key: tuple[Role, str],
) -> None:
    role, op = key
    request, _ = SAMPLES[key]
    data = _request(role, op, request, from_address=CP_URL)
    xml_schema(role).validate(_body(data))
    msg = parse_request(data, role)
    assert (msg.operation, msg.kind, msg.payload) == (op, Kind.REQUEST, request)
    assert msg.charge_box_identity == "CB-1"
    wsa = msg.addressing
    assert (wsa.action, wsa.message_id, wsa.to, wsa.from_address) == (f"/{op}", MID, CS_URL, CP_URL)


@pytest.mark.parametrize("key", KEYS, ids=sample_id)
def test_response_relates_to_the_request_and_round_trips(key: tuple[Role, str]) -> None:
    role, op = key
    request, response = SAMPLES[key]
    incoming = parse_request(_request(role, op, request), role)
    data = build_response(incoming, response, message_id="urn:uuid:answer")
    xml_schema(role).validate(_body(data))
    msg = parse_response(data, role)
    assert isinstance(msg, SoapMessage)
    assert (msg.operation, msg.kind, msg.payload) == (op, Kind.RESPONSE, response)
    assert msg.addressing.relates_to == MID
    assert msg.addressing.action == f"/{op}Response"


def test_charge_box_identity_uses_the_namespace_of_the_called_service() -> None:
    data = _request(Role.CHARGE_POINT, "Reset", {"type": "Hard"})
    header = etree.fromstring(data).find(f"{{{SOAP12_ENV}}}Header")
    assert header is not None
    assert header.findtext("{urn://Ocpp/Cp/2012/06/}chargeBoxIdentity") == "CB-1"


def test_datetimes_are_normalised_to_utc_rfc3339() -> None:
    data = _request(Role.CENTRAL_SYSTEM, "Heartbeat", {})
    incoming = parse_request(data, Role.CENTRAL_SYSTEM)
    for sent, read in (
        ("2026-03-05T10:00:06+01:00", T0),
        ("2026-03-05T09:00:06", T0),  # no zone: read as UTC
        ("2026-03-05T09:00:06.250Z", "2026-03-05T09:00:06.250Z"),
    ):
        raw = build_response(incoming, {"currentTime": sent})
        msg = parse_response(raw, Role.CENTRAL_SYSTEM)
        assert isinstance(msg, SoapMessage)
        assert msg.payload == {"currentTime": read}


def test_naive_datetime_is_refused_when_settings_say_so() -> None:
    incoming = parse_request(_request(Role.CENTRAL_SYSTEM, "Heartbeat", {}), Role.CENTRAL_SYSTEM)
    raw = build_response(incoming, {"currentTime": "2026-03-05T09:00:06"})
    with pytest.raises(SoapError, match="no time zone"):
        parse_response(raw, Role.CENTRAL_SYSTEM, SoapSettings(naive_datetime_is_utc=False))


def test_building_an_invalid_payload_is_refused_before_emitting() -> None:
    with pytest.raises(SoapError, match="greater than 20") as info:
        _request(Role.CENTRAL_SYSTEM, "Authorize", {"idTag": "X" * 21})
    assert info.value.fault_code == "Receiver"
    with pytest.raises(SoapError, match="unexpected keyword"):
        _request(Role.CENTRAL_SYSTEM, "Authorize", {"idTag": "X", "extra": 1})
    with pytest.raises(SoapError, match="no operation"):
        _request(Role.CENTRAL_SYSTEM, "TriggerMessage", {})


def test_message_ids_are_iris() -> None:
    assert message_id_for("6f1c2a4e-0b7d-4c55-9d8e-2f6a1b3c4d5e") == MID
    assert message_id_for("id-7") == "urn:ocppkit:id-7"


# --- bad input: every case is a Fault with a clear reason -------------------

GOOD = _request(Role.CENTRAL_SYSTEM, "Authorize", {"idTag": "CARD15"}).decode()


def test_malformed_xml_is_a_sender_fault() -> None:
    fault = _fault(GOOD[:-30])
    assert fault.code == "Sender"
    assert fault.reason.startswith("malformed XML")


def test_wrong_namespace_names_the_version_it_belongs_to() -> None:
    fault = _fault(GOOD.replace(CS_NAMESPACE, "urn://Ocpp/Cs/2015/10/"))
    assert "OCPP 1.6 SOAP" in fault.reason
    assert fault.subcode == "ProtocolError"
    assert "not OCPP 1.5" in _fault(GOOD.replace(CS_NAMESPACE, "urn:example")).reason


def test_unknown_operation_is_a_fault() -> None:
    data = GOOD.replace("authorizeRequest", "triggerMessageRequest")
    assert "unknown OCPP 1.5 operation" in _fault(data).reason


def test_missing_charge_box_identity_is_a_protocol_error() -> None:
    root = etree.fromstring(GOOD.encode())
    header = root.find(f"{{{SOAP12_ENV}}}Header")
    assert header is not None
    header.remove(header[0])
    fault = _fault(etree.tostring(root))
    assert (fault.code, fault.subcode) == ("Sender", "ProtocolError")
    assert fault.reason == "missing chargeBoxIdentity header"


def test_charge_box_identity_in_the_other_service_namespace_is_named() -> None:
    data = GOOD.replace(
        "<ocpp:chargeBoxIdentity>",
        '<ocpp:chargeBoxIdentity xmlns:ocpp="urn://Ocpp/Cp/2012/06/">',
    )
    assert "expected namespace urn://Ocpp/Cs/2012/06/" in _fault(data).reason


def test_schema_violations_are_faults_naming_the_field() -> None:
    too_long = GOOD.replace("CARD15", "C" * 21)
    assert "idTag" in _fault(too_long).reason and "20" in _fault(too_long).reason
    missing = _request(Role.CENTRAL_SYSTEM, "Heartbeat", {}).decode()
    missing = missing.replace("heartbeatRequest", "startTransactionRequest")
    missing = missing.replace("/Heartbeat", "/StartTransaction")
    assert "violates the OCPP 1.5 schema" in _fault(missing).reason


def test_vendor_extra_elements_are_refused_when_strict_and_dropped_when_lenient() -> None:
    extra = GOOD.replace("</ocpp:idTag>", "</ocpp:idTag><ocpp:vendorBlob>1</ocpp:vendorBlob>")
    assert "vendorBlob" in _fault(extra).reason
    msg = parse_request(extra, Role.CENTRAL_SYSTEM, SoapSettings(strict=False))
    assert msg.payload == {"idTag": "CARD15"}


def test_mismatched_wsa_action_is_a_fault() -> None:
    assert "does not match" in _fault(GOOD.replace(">/Authorize<", ">/Heartbeat<")).reason


def test_missing_addressing_is_refused_only_when_required() -> None:
    root = etree.fromstring(GOOD.encode())
    for el in root.iter(f"{{{WSA}}}MessageID"):
        el.getparent().remove(el)  # type: ignore[union-attr]
    data = etree.tostring(root)
    assert parse_request(data, Role.CENTRAL_SYSTEM).addressing.message_id is None
    assert "WS-Addressing" in _fault(data, settings=SoapSettings(require_addressing=True)).reason


def test_xxe_payload_is_refused_without_reading_the_file() -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + GOOD.split("?>", 1)[1].replace("CARD15", "&x;")
    )
    fault = _fault(xxe)
    assert "document type declaration" in fault.reason
    assert "root:" not in fault.reason


def test_billion_laughs_payload_is_refused() -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE e [{entities}]>' + GOOD.split("?>", 1)[1].replace(
        "CARD15", "&a9;"
    )
    assert "document type declaration" in _fault(bomb).reason


def test_oversize_envelope_is_refused_before_parsing() -> None:
    fault = _fault(GOOD, settings=SoapSettings(max_bytes=200))
    assert "over the limit of 200" in fault.reason


def test_deep_nesting_is_refused() -> None:
    deep = "<a>" * 50 + "</a>" * 50
    assert "deeper than" in _fault(deep).reason


def test_soap11_envelope_is_a_version_mismatch() -> None:
    data = GOOD.replace(SOAP12_ENV, "http://schemas.xmlsoap.org/soap/envelope/")
    assert _fault(data).code == "VersionMismatch"


def test_not_an_envelope_and_empty_body_are_faults() -> None:
    assert "not a SOAP 1.2 envelope" in _fault("<hello/>").reason
    empty = f'<e:Envelope xmlns:e="{SOAP12_ENV}"><e:Body/></e:Envelope>'
    assert "exactly one element" in _fault(empty).reason
    assert "malformed XML" in _fault(b"").reason


def test_request_to_the_wrong_service_or_a_response_is_refused() -> None:
    cp_request = _request(Role.CHARGE_POINT, "Reset", {"type": "Hard"})
    assert "ChargePointService" in _fault(cp_request).reason
    incoming = parse_request(GOOD, Role.CENTRAL_SYSTEM)
    answer = build_response(incoming, {"idTagInfo": {"status": "Accepted"}})
    assert "expected a request" in _fault(answer).reason


def test_fault_relates_to_the_offending_request() -> None:
    with pytest.raises(SoapInputError) as info:
        parse_request(GOOD.replace("CARD15", "C" * 21), Role.CENTRAL_SYSTEM)
    fault = parse_envelope(fault_envelope(info.value))
    assert isinstance(fault, SoapFault)
    assert fault.relates_to == MID


def test_unexpected_exceptions_become_receiver_faults_without_details() -> None:
    fault = parse_envelope(fault_for_exception(RuntimeError("secret path /etc/x")))
    assert isinstance(fault, SoapFault)
    assert (fault.code, fault.subcode, fault.reason) == (
        "Receiver",
        "InternalError",
        "internal error",
    )


def test_a_peer_fault_is_returned_from_parse_response() -> None:
    data = fault_envelope(SoapError("not registered", "Sender", "SecurityError"), relates_to=MID)
    fault = parse_response(data, Role.CHARGE_POINT)
    assert fault == SoapFault("Sender", "SecurityError", "not registered", MID)


def test_every_service_operation_has_a_sample() -> None:
    for role in Role:
        names = {op.name for op in service_for(role).operations}
        assert names == {op for r, op in SAMPLES if r is role}


def test_new_message_ids_come_from_the_injected_id_source() -> None:
    from ocppkit.translators.context import fixed_context
    from ocppkit.translators.soap15 import new_message_id

    ctx = fixed_context(prefix="soap")
    assert [new_message_id(ctx), new_message_id(ctx)] == [
        "urn:ocppkit:soap-1",
        "urn:ocppkit:soap-2",
    ]
