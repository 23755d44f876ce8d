"""The shipped WSDL/XSD are exactly the generator's output, and describe every operation."""

from __future__ import annotations

from importlib import resources

import pytest
from lxml import etree

from ocppkit.translators.soap15 import wsdl_gen
from ocppkit.translators.soap15.documents import wsdl_document, xml_schema, zeep_operation
from ocppkit.translators.soap15.operations import SERVICES, Role, Service


@pytest.mark.parametrize("name", sorted(wsdl_gen.render_files()))
def test_shipped_wsdl_and_xsd_equal_the_generator_output(name: str) -> None:
    shipped = (resources.files("ocppkit.translators.soap15") / name).read_text(encoding="utf-8")
    assert shipped == wsdl_gen.render_files()[name], (
        f"{name} is stale: run .venv/bin/python tests/translators/soap15/regenerate.py"
    )


def test_generator_is_deterministic() -> None:
    assert wsdl_gen.render_files() == wsdl_gen.render_files()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_wsdl_binding_offers_every_declared_operation_with_its_action(service: Service) -> None:
    binding = wsdl_document(service.role).bindings[f"{{{service.namespace}}}{service.binding}"]
    assert type(binding).__name__ == "Soap12Binding"
    assert sorted(binding._operations) == sorted(op.name for op in service.operations)
    for op in service.operations:
        zop = zeep_operation(service.role, op.name)
        assert zop.soapaction == op.action
        assert zop.input.body.qname == f"{{{service.namespace}}}{op.request_element}"
        assert zop.abstract.input_message.parts["ChargeBoxIdentity"] is not None


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_wsdl_declares_ws_addressing_actions_for_input_and_output(service: Service) -> None:
    text = wsdl_gen.render_wsdl(service)
    root = etree.fromstring(text.encode())
    ns = {"wsdl": wsdl_gen.WSDL, "wsaw": wsdl_gen.WSAW}
    actions = set(root.xpath("//wsdl:portType/wsdl:operation/*/@wsaw:Action", namespaces=ns))
    expected = {op.action for op in service.operations} | {
        op.response_action for op in service.operations
    }
    assert actions == expected
    assert root.xpath("//wsdl:binding/wsaw:UsingAddressing", namespaces=ns)


@pytest.mark.parametrize("role", list(Role))
def test_xsd_has_a_body_element_per_message_and_the_header(role: Role) -> None:
    schema = xml_schema(role)
    service = next(s for s in SERVICES if s.role is role)
    names = {etree.QName(q).localname for q in schema.elements}
    for op in service.operations:
        assert {op.request_element, op.response_element} <= names
    assert "chargeBoxIdentity" in names
