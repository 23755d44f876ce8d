"""The OCPP 1.5 SOAP codec: envelopes (bytes) <-> plain dicts plus headers.

Sans-I/O: bytes in, :class:`SoapMessage` out, and the reverse; the caller
owns HTTP. zeep (from the project's own WSDL, loaded once) reads and writes
bodies; xmlschema checks every body against the project's XSD, in both
directions, because zeep alone lets missing required fields and bad enum
values through; WS-Addressing 1.0 headers are read and written here.

Which side calls what (OCPP 1.5 §3, SOAP binding):

* a charge point calls the Central System service: the central system uses
  :func:`parse_request` (``Role.CENTRAL_SYSTEM``) and :func:`build_response`;
* a central system calls the Charge Point service at the charger's
  ``wsa:From`` address: :func:`build_request` (``Role.CHARGE_POINT``) and
  :func:`parse_response`.

Every problem with a peer's envelope is a :class:`SoapInputError`;
:func:`~ocppkit.translators.soap15.faults.fault_envelope` renders it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.helpers import serialize_object

from ocppkit.translators.errors import SoapError
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15 import documents
from ocppkit.translators.soap15.faults import SOAP12_ENV, WSA, SoapFault, SoapInputError, read_fault
from ocppkit.translators.soap15.normalize import to_plain, to_zeep
from ocppkit.translators.soap15.operations import (
    TYPES,
    Complex,
    Field,
    Operation,
    Role,
    service_for,
)
from ocppkit.translators.soap15.repair import repair
from ocppkit.translators.soap15.settings import DEFAULT_SETTINGS, SoapSettings
from ocppkit.translators.soap15.xmlsafe import parse_untrusted

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_ANONYMOUS = WSA + "/anonymous"

# Namespaces of the neighbouring OCPP SOAP versions, for a clear reason when
# one arrives at a 1.5 endpoint (the body namespace identifies the version).
OTHER_OCPP_NAMESPACES = {
    "urn://Ocpp/Cs/2010/08/": "OCPP 1.2",
    "urn://Ocpp/Cp/2010/08/": "OCPP 1.2",
    "urn://Ocpp/Cs/2015/10/": "OCPP 1.6 SOAP",
    "urn://Ocpp/Cp/2015/10/": "OCPP 1.6 SOAP",
}


@dataclass(frozen=True, slots=True)
class Addressing:
    """The WS-Addressing 1.0 headers of an envelope (absent ones are None)."""

    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    from_address: str | None = None
    reply_to: str | None = None
    relates_to: str | None = None


@dataclass(frozen=True, slots=True)
class SoapMessage:
    """One OCPP 1.5 request or response, decoded.

    Attributes:
        role: who hosts the service the message belongs to
            (``CENTRAL_SYSTEM``: charger-initiated operations).
        operation: the operation name, e.g. ``"StartTransaction"``.
        kind: request or response.
        payload: the body as a plain dict (see :mod:`ocppkit.translators.soap15.normalize`).
        charge_box_identity: the ``chargeBoxIdentity`` header (None only on
            responses, which need not carry it).
        addressing: the WS-Addressing headers.
    """

    role: Role
    operation: str
    kind: Kind
    payload: dict[str, Any]
    charge_box_identity: str | None
    addressing: Addressing
    repairs: tuple[str, ...] = ()  # what lenient mode lifted (settings.repair)


def _fields(op: Operation, kind: Kind) -> tuple[Field, ...]:
    return op.request if kind is Kind.REQUEST else op.response


def _read_addressing(header: etree._Element | None) -> Addressing:
    if header is None:
        return Addressing()
    found: dict[str, str] = {}
    for el in header:
        if not isinstance(el.tag, str) or etree.QName(el).namespace != WSA:
            continue
        name = etree.QName(el).localname
        text = el.findtext(f"{{{WSA}}}Address") if len(el) else el.text
        if text is not None:
            found[name] = text.strip()
    return Addressing(
        action=found.get("Action"),
        message_id=found.get("MessageID"),
        to=found.get("To"),
        from_address=found.get("From"),
        reply_to=found.get("ReplyTo"),
        relates_to=found.get("RelatesTo"),
    )


def _unwrap(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """(Header, the one Body child) of a SOAP 1.2 envelope."""
    name = etree.QName(root)
    if name.namespace == SOAP11_ENV:
        # SOAP 1.2 Part 1 §5.4.7: a 1.1 envelope at a 1.2 node is a VersionMismatch.
        raise SoapInputError(
            "SOAP 1.1 envelope received; OCPP 1.5 uses SOAP 1.2", "VersionMismatch", None
        )
    if name.namespace != SOAP12_ENV or name.localname != "Envelope":
        raise SoapInputError(f"not a SOAP 1.2 envelope: the root element is {root.tag}")
    header = root.find(f"{{{SOAP12_ENV}}}Header")
    body = root.find(f"{{{SOAP12_ENV}}}Body")
    if body is None:
        raise SoapInputError("the envelope has no env:Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapInputError(f"env:Body must hold exactly one element, found {len(children)}")
    return header, children[0]


def _locate(child: etree._Element, message_id: str | None) -> documents.BodyRef:
    ref = documents.body_index().get(child.tag)
    if ref is not None:
        return ref
    qname = etree.QName(child)
    ns = qname.namespace or ""
    other = OTHER_OCPP_NAMESPACES.get(ns)
    if ns in documents.namespaces():
        reason = f"unknown OCPP 1.5 operation: no body element {qname.localname!r} in {ns}"
    elif other:
        reason = f"wrong namespace {ns} ({other}); this endpoint speaks OCPP 1.5 (2012/06)"
    else:
        reason = f"wrong namespace {ns or '(none)'} for {qname.localname!r}: not OCPP 1.5"
    raise SoapInputError(reason, message_id=message_id)


def _prune(el: etree._Element, fields: tuple[Field, ...], dropped: list[str]) -> None:
    """Lenient mode: remove elements the description does not declare."""
    known = {f.name: f for f in fields}
    for child in list(el):
        if not isinstance(child.tag, str):
            continue
        f = known.get(etree.QName(child).localname)
        if f is None:
            dropped.append(etree.QName(child).localname)
            el.remove(child)
            continue
        t = TYPES.get(f.type)
        if isinstance(t, Complex) and t.text is None:
            _prune(child, t.fields, dropped)


def _schema_errors(role: Role, el: etree._Element) -> list[str]:
    errors = []
    for err in documents.xml_schema(role).iter_errors(el):
        where = err.path or etree.QName(el).localname
        errors.append(f"{where}: {err.reason}")
    return errors


def parse_envelope(
    data: bytes | str, settings: SoapSettings = DEFAULT_SETTINGS
) -> SoapMessage | SoapFault:
    """Decode any OCPP 1.5 envelope: a request, a response or a Fault.

    The service and the kind come from the body element's QName.

    Raises:
        SoapInputError: the envelope is malformed, oversize, not SOAP 1.2, not
            OCPP 1.5, lacks the chargeBoxIdentity of a request, or breaks the
            schema; the reason says which.
    """
    root = parse_untrusted(data, settings)  # raises SoapError (Sender)
    header, child = _unwrap(root)
    wsa = _read_addressing(header)
    if etree.QName(child).namespace == SOAP12_ENV and etree.QName(child).localname == "Fault":
        return read_fault(child, wsa.relates_to)
    ref = _locate(child, wsa.message_id)
    op, role, ns = ref.operation, ref.service.role, ref.service.namespace
    kind = Kind.REQUEST if ref.is_request else Kind.RESPONSE

    def fail(reason: str) -> SoapInputError:
        return SoapInputError(reason, message_id=wsa.message_id, namespace=ns)

    identity = header.findtext(f"{{{ns}}}chargeBoxIdentity") if header is not None else None
    if kind is Kind.REQUEST:
        if identity is None or not identity.strip():
            stray = [
                e.tag
                for e in (header if header is not None else [])
                if isinstance(e.tag, str) and etree.QName(e).localname == "chargeBoxIdentity"
            ]
            where = f" (found {stray[0]}, expected namespace {ns})" if stray else ""
            raise fail(f"missing chargeBoxIdentity header{where}")
        if settings.require_addressing and not (wsa.action and wsa.message_id):
            raise fail("missing WS-Addressing header wsa:Action or wsa:MessageID")
    expected_action = op.action if kind is Kind.REQUEST else op.response_action
    if wsa.action is not None and wsa.action != expected_action:
        raise fail(f"wsa:Action {wsa.action!r} does not match the body ({expected_action!r})")
    repairs: list[str] = []
    if settings.repair:
        repair(child, _fields(op, kind), repairs)
    if not settings.strict:
        dropped: list[str] = []
        _prune(child, _fields(op, kind), dropped)
        repairs += [f"{name}: not in the 1.5 schema, left out" for name in dropped]
    if settings.validate:
        errors = _schema_errors(role, child)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise fail(f"{op.name} {kind.value} violates the OCPP 1.5 schema: {errors[0]}{more}")
    try:
        value = documents.zeep_element(role, etree.QName(child).localname).parse(
            child, documents.wsdl_document(role).types
        )
    except ZeepError as exc:
        raise fail(f"{op.name} {kind.value}: {exc}") from None
    raw = serialize_object(value, dict) if value is not None else None  # type: ignore[no-untyped-call]
    try:
        payload = to_plain(_fields(op, kind), raw, naive_is_utc=settings.naive_datetime_is_utc)
    except SoapError as exc:
        raise fail(f"{op.name} {kind.value}: {exc.reason}") from None
    return SoapMessage(
        role, op.name, kind, payload, identity.strip() if identity else None, wsa, tuple(repairs)
    )


def parse_request(
    data: bytes | str, role: Role, settings: SoapSettings = DEFAULT_SETTINGS
) -> SoapMessage:
    """Decode a request sent to the service hosted by ``role``.

    A central system receiving from a charger passes ``Role.CENTRAL_SYSTEM``.

    Raises:
        SoapInputError: as :func:`parse_envelope`, or the envelope is not a
            request of that service.
    """
    msg = parse_envelope(data, settings)
    ns = service_for(role).namespace
    if isinstance(msg, SoapFault):
        raise SoapInputError("expected a request, got a Fault", namespace=ns)
    if msg.role is not role:
        raise SoapInputError(
            f"{msg.operation} belongs to the {service_for(msg.role).name}, "
            f"not the {service_for(role).name} ({ns})",
            message_id=msg.addressing.message_id,
            namespace=ns,
        )
    if msg.kind is not Kind.REQUEST:
        raise SoapInputError(
            f"expected a request, got {msg.operation} response",
            message_id=msg.addressing.message_id,
            namespace=ns,
        )
    return msg


def parse_response(
    data: bytes | str, role: Role, settings: SoapSettings = DEFAULT_SETTINGS
) -> SoapMessage | SoapFault:
    """Decode the answer of the service hosted by ``role`` (a response or a Fault).

    Raises:
        SoapInputError: as :func:`parse_envelope`, or it is not a response of
            that service.
    """
    msg = parse_envelope(data, settings)
    if isinstance(msg, SoapFault):
        return msg
    if msg.role is not role or msg.kind is not Kind.RESPONSE:
        raise SoapInputError(
            f"expected a {service_for(role).name} response, got {msg.operation} {msg.kind.value}"
        )
    return msg


def _finish(
    role: Role, op: Operation, kind: Kind, envelope: etree._Element, wsa: Addressing,
    settings: SoapSettings,
) -> bytes:  # fmt: skip
    header = envelope.find(f"{{{SOAP12_ENV}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP12_ENV}}}Header")
        envelope.insert(0, header)
    for name, value in (
        ("Action", wsa.action),
        ("MessageID", wsa.message_id),
        ("RelatesTo", wsa.relates_to),
        ("To", wsa.to),
    ):
        if value is not None:
            etree.SubElement(header, f"{{{WSA}}}{name}", nsmap={"wsa": WSA}).text = value
    if wsa.from_address is not None:
        frm = etree.SubElement(header, f"{{{WSA}}}From", nsmap={"wsa": WSA})
        etree.SubElement(frm, f"{{{WSA}}}Address").text = wsa.from_address
    body = envelope.find(f"{{{SOAP12_ENV}}}Body")
    assert body is not None  # zeep always writes one
    if settings.validate:
        errors = _schema_errors(role, body[0])
        if errors:
            raise SoapError(
                f"refusing to emit an invalid {op.name} {kind.value}: {errors[0]}", "Receiver"
            )
    if header is not None and not len(header):
        envelope.remove(header)
    # One declaration each, on the envelope: wsa and the OCPP service namespace.
    etree.cleanup_namespaces(envelope, top_nsmap={"wsa": WSA, "ocpp": service_for(role).namespace})
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _serialize(
    role: Role, op: Operation, kind: Kind, payload: Mapping[str, Any], extra: dict[str, Any]
) -> etree._Element:
    zop = documents.zeep_operation(role, op.name)
    message = zop.input if kind is Kind.REQUEST else zop.output
    kwargs = {**to_zeep(_fields(op, kind), payload), **extra}
    try:
        content: etree._Element = message.serialize(**kwargs).content
    except (ZeepError, TypeError, ValueError) as exc:
        raise SoapError(f"cannot build {op.name} {kind.value}: {exc}", "Receiver") from None
    return content


def build_request(
    role: Role,
    operation: str,
    payload: Mapping[str, Any],
    *,
    charge_box_identity: str,
    to: str,
    message_id: str,
    from_address: str | None = None,
    settings: SoapSettings = DEFAULT_SETTINGS,
) -> bytes:
    """Encode a request to the service hosted by ``role``.

    A central system calling a charger passes ``Role.CHARGE_POINT`` and the
    charger's address (its last ``wsa:From``) as ``to``.

    Args:
        role: the host of the called service.
        operation: e.g. ``"RemoteStopTransaction"``.
        payload: the body as a plain dict.
        charge_box_identity: the charger's identity (the SOAP header).
        to: the endpoint address (wsa:To).
        message_id: this request's wsa:MessageID (see :func:`message_id_for`).
        from_address: where the sender listens (wsa:From), if anywhere.
        settings: limits and strictness.

    Raises:
        SoapError: (Receiver) unknown operation, or the payload does not make
            a schema-valid body.
    """
    service = service_for(role)
    try:
        op = service.operation(operation)
    except KeyError:
        raise SoapError(f"{service.name} has no operation {operation!r}", "Receiver") from None
    envelope = _serialize(
        role,
        op,
        Kind.REQUEST,
        payload,
        {"_soapheaders": {"ChargeBoxIdentity": charge_box_identity}},
    )
    wsa = Addressing(op.action, message_id, to, from_address)
    return _finish(role, op, Kind.REQUEST, envelope, wsa, settings)


def build_response(
    request: SoapMessage,
    payload: Mapping[str, Any],
    *,
    message_id: str | None = None,
    settings: SoapSettings = DEFAULT_SETTINGS,
) -> bytes:
    """Encode the response to ``request`` (wsa:RelatesTo = its MessageID).

    The response travels back on the same HTTP exchange, so wsa:To is left
    out (WS-Addressing 1.0 Core §3.2: anonymous).

    Raises:
        SoapError: (Receiver) the payload does not make a schema-valid body.
    """
    op = service_for(request.role).operation(request.operation)
    envelope = _serialize(request.role, op, Kind.RESPONSE, payload, {})
    wsa = Addressing(op.response_action, message_id, relates_to=request.addressing.message_id)
    return _finish(request.role, op, Kind.RESPONSE, envelope, wsa, settings)


def message_id_for(new_id: str) -> str:
    """A wsa:MessageID IRI for an id from :class:`~ocppkit.translators.context.Context`.

    A UUID becomes ``urn:uuid:<uuid>`` (RFC 4122 §3), the form chargers and
    CXF send; any other id is placed under ``urn:ocppkit:``.
    """
    parts = new_id.split("-")
    is_uuid = len(new_id) == 36 and [len(p) for p in parts] == [8, 4, 4, 4, 12]
    return ("urn:uuid:" if is_uuid else "urn:ocppkit:") + new_id
