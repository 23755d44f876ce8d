"""The shipped OCPP 1.5 WSDL/XSD, loaded once and shared.

Loading is offline by construction: the documents import nothing, and the
transport handed to zeep refuses every fetch (so a future edit that adds an
import fails loudly instead of reaching for the network). Both loaders are
cached per service for the life of the process.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import xmlschema
import zeep
from zeep.wsdl import Document

from ocppkit.translators.soap15.operations import SERVICES, Operation, Role, Service, service_for
from ocppkit.translators.soap15.wsdl_gen import file_stem


class _OfflineTransport:
    """The only transport zeep gets: it never loads anything."""

    def load(self, url: str) -> bytes:
        raise RuntimeError(f"ocppkit loads no external WSDL/XSD documents (asked for {url})")


# WSDLs are trusted package data, but the same hardening costs nothing.
_ZEEP_SETTINGS = zeep.Settings(
    strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True
)


def package_text(name: str) -> str:
    """A shipped file of this package, as text."""
    return (resources.files("ocppkit.translators.soap15") / name).read_text(encoding="utf-8")


@cache
def wsdl_document(role: Role) -> Any:
    """The zeep ``Document`` of the service hosted by ``role``."""
    service = service_for(role)
    data = package_text(file_stem(service) + ".wsdl").encode("utf-8")
    return Document(
        io.BytesIO(data),
        _OfflineTransport(),  # type: ignore[arg-type]
        base=f"urn:ocppkit:soap15:{service.name}",
        settings=_ZEEP_SETTINGS,
    )


@cache
def xml_schema(role: Role) -> xmlschema.XMLSchema:
    """The xmlschema validator of the service hosted by ``role``."""
    return xmlschema.XMLSchema(package_text(file_stem(service_for(role)) + ".xsd"))


@dataclass(frozen=True, slots=True)
class BodyRef:
    """What a body element's QName identifies."""

    service: Service
    operation: Operation
    is_request: bool


@cache
def body_index() -> dict[str, BodyRef]:
    """``{ns}element`` -> operation, for every body element of both services."""
    out: dict[str, BodyRef] = {}
    for svc in SERVICES:
        for op in svc.operations:
            out[f"{{{svc.namespace}}}{op.request_element}"] = BodyRef(svc, op, True)
            out[f"{{{svc.namespace}}}{op.response_element}"] = BodyRef(svc, op, False)
    return out


def zeep_element(role: Role, element_name: str) -> Any:
    """The zeep schema element ``{ns}element_name`` of ``role``'s service."""
    ns = service_for(role).namespace
    return wsdl_document(role).types.get_element(f"{{{ns}}}{element_name}")


def zeep_operation(role: Role, name: str) -> Any:
    """The zeep binding operation ``name`` of ``role``'s service."""
    service = service_for(role)
    binding = wsdl_document(role).bindings[f"{{{service.namespace}}}{service.binding}"]
    return binding.get(name)


def namespaces() -> frozenset[str]:
    """The two OCPP 1.5 service namespaces."""
    return frozenset(s.namespace for s in SERVICES)
