"""Interoperability with the official OCA OCPP 1.5 WSDLs (read from ../shared, never copied).

zeep clients built from the official Central System and Charge Point WSDLs
create and decode envelopes; the project's codec must accept what they
create and produce what they decode, for every operation, both kinds. The
tests skip when the reference files are absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.helpers import serialize_object
from zeep.transports import Transport

from ocppkit.translators.errors import SoapError
from ocppkit.translators.soap15 import (
    SoapMessage,
    build_request,
    build_response,
    fault_envelope,
    parse_request,
    parse_response,
)
from ocppkit.translators.soap15.faults import SOAP12_ENV
from ocppkit.translators.soap15.normalize import to_plain, to_zeep
from ocppkit.translators.soap15.operations import Role, service_for
from tests.translators.soap15.samples import SAMPLES, sample_id

REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "ocpp15-soap"
OFFICIAL = {
    Role.CENTRAL_SYSTEM: REFERENCE / "ocpp_centralsystemservice_1.5_final.wsdl",
    Role.CHARGE_POINT: REFERENCE / "ocpp_chargepointservice_1.5_final.wsdl",
}
pytestmark = pytest.mark.skipif(
    not all(p.is_file() for p in OFFICIAL.values()), reason="official OCPP 1.5 WSDLs not available"
)
KEYS = sorted(SAMPLES, key=sample_id)


class OfflineTransport(Transport):
    def load(self, url: str) -> bytes:
        if url.startswith(("http://", "https://")):
            raise RuntimeError("refusing network fetch: " + url)
        return bytes(super().load(url))


_CLIENTS: dict[Role, zeep.Client] = {}


def official(role: Role) -> zeep.Client:
    if role not in _CLIENTS:
        settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_external=True)
        _CLIENTS[role] = zeep.Client(
            str(OFFICIAL[role]), transport=OfflineTransport(), settings=settings
        )
    return _CLIENTS[role]


def official_operation(role: Role, name: str) -> Any:
    svc = service_for(role)
    return official(role).wsdl.bindings[f"{{{svc.namespace}}}{svc.binding}"].get(name)


def official_decode(role: Role, envelope: bytes, *, request: bool) -> dict[str, Any]:
    """Decode the body of ``envelope`` with the official schema, as a plain dict."""
    client = official(role)
    body = etree.fromstring(envelope).find(f"{{{SOAP12_ENV}}}Body")
    assert body is not None
    value = client.wsdl.types.get_element(body[0].tag).parse(body[0], client.wsdl.types)
    op = service_for(role).operation(official_operation(role, _op_name(body[0])).name)
    fields = op.request if request else op.response
    return to_plain(fields, serialize_object(value, dict) if value is not None else None)


def _op_name(body_el: etree._Element) -> str:
    local = etree.QName(body_el).localname
    name = local.removesuffix("Request").removesuffix("Response")
    return name[0].upper() + name[1:]


@pytest.mark.parametrize("key", KEYS, ids=sample_id)
def test_official_client_request_parses_with_the_project_codec(key: tuple[Role, str]) -> None:
    role, op = key
    request, _ = SAMPLES[key]
    client = official(role)
    fields = service_for(role).operation(op).request
    envelope = client.create_message(
        client.service, op, **to_zeep(fields, request), _soapheaders={"ChargeBoxIdentity": "CB-1"}
    )
    msg = parse_request(etree.tostring(envelope), role)
    assert (msg.operation, msg.payload, msg.charge_box_identity) == (op, request, "CB-1")
    assert msg.addressing.action == f"/{op}"  # zeep's WS-Addressing plugin, from wsaw:Action
    assert msg.addressing.message_id


@pytest.mark.parametrize("key", KEYS, ids=sample_id)
def test_project_request_decodes_with_the_official_wsdl(key: tuple[Role, str]) -> None:
    role, op = key
    request, _ = SAMPLES[key]
    data = build_request(
        role, op, request, charge_box_identity="CB-1", to="http://x/", message_id="urn:uuid:1"
    )
    assert official_decode(role, data, request=True) == request
    parsed = official_operation(role, op).input.deserialize(etree.fromstring(data))
    assert parsed.header.ChargeBoxIdentity == "CB-1"


@pytest.mark.parametrize("key", KEYS, ids=sample_id)
def test_official_response_parses_with_the_project_codec(key: tuple[Role, str]) -> None:
    role, op = key
    _, response = SAMPLES[key]
    fields = service_for(role).operation(op).response
    content = official_operation(role, op).output.serialize(**to_zeep(fields, response)).content
    msg = parse_response(etree.tostring(content), role)
    assert isinstance(msg, SoapMessage)
    assert (msg.operation, msg.payload) == (op, response)


@pytest.mark.parametrize("key", KEYS, ids=sample_id)
def test_project_response_decodes_with_the_official_wsdl(key: tuple[Role, str]) -> None:
    role, op = key
    request, response = SAMPLES[key]
    incoming = parse_request(
        build_request(
            role, op, request, charge_box_identity="CB-1", to="http://x/", message_id="urn:uuid:1"
        ),
        role,
    )
    data = build_response(incoming, response)
    assert official_decode(role, data, request=False) == response


def test_project_fault_is_understood_by_an_official_zeep_client() -> None:
    data = fault_envelope(SoapError("missing chargeBoxIdentity header", "Sender", "ProtocolError"))
    binding_op = official_operation(Role.CENTRAL_SYSTEM, "Heartbeat")
    svc = service_for(Role.CENTRAL_SYSTEM)
    binding = official(Role.CENTRAL_SYSTEM).wsdl.bindings[f"{{{svc.namespace}}}{svc.binding}"]
    with pytest.raises(Fault) as info:
        binding.process_error(etree.fromstring(data), binding_op)
    assert info.value.code == "env:Sender"
    assert info.value.message == "missing chargeBoxIdentity header"
    assert [q.localname for q in info.value.subcodes] == ["ProtocolError"]
