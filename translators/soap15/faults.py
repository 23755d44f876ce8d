"""SOAP 1.2 Faults: rendering a :class:`SoapError`, reading a peer's Fault.

zeep builds no faults, so they are written here (SOAP 1.2 Part 1 §5.4).
The code is ``env:Sender`` when the peer's message is at fault and
``env:Receiver`` when we are; the subcode follows SteVe's practice for OCPP
1.5 (``ProtocolError`` for a message that breaks the protocol,
``SecurityError`` for an unauthorised sender), qualified by the OCPP service
namespace. An error that is not an :class:`OcppkitError` becomes a Receiver
fault *without* its text, which may be security-sensitive (websockets does
the same for close reasons).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ocppkit.translators.errors import OcppkitError, SoapError
from ocppkit.translators.soap15.operations import CS_NAMESPACE

SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
# WS-Addressing 1.0 SOAP Binding §6: the action of every fault message.
WSA_FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"
FAULT_CODES = frozenset(
    {"VersionMismatch", "MustUnderstand", "DataEncodingUnknown", "Sender", "Receiver"}
)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class SoapInputError(SoapError):
    """A :class:`SoapError` found in a peer's envelope, with what was readable.

    Attributes:
        message_id: the offending message's wsa:MessageID, if it was read
            (the Fault then carries it as wsa:RelatesTo).
        namespace: the OCPP service namespace the message used, if known
            (the subcode is qualified by it).
    """

    def __init__(
        self,
        reason: str,
        fault_code: str = "Sender",
        subcode: str | None = "ProtocolError",
        *,
        message_id: str | None = None,
        namespace: str | None = None,
    ) -> None:
        super().__init__(reason, fault_code, subcode)
        self.message_id = message_id
        self.namespace = namespace


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A Fault a peer sent: its code, subcode (local name) and reason text."""

    code: str
    subcode: str | None
    reason: str
    relates_to: str | None = None


def fault_envelope(
    error: SoapError,
    *,
    relates_to: str | None = None,
    message_id: str | None = None,
    namespace: str | None = None,
) -> bytes:
    """The SOAP 1.2 Fault envelope that answers ``error``.

    Args:
        error: what went wrong; its ``fault_code``, ``subcode`` and ``reason``
            are written as they are.
        relates_to: the wsa:MessageID of the request being answered (default:
            the one :class:`SoapInputError` carries).
        message_id: this fault's own wsa:MessageID, if the caller has one.
        namespace: the namespace that qualifies the subcode (default: the
            error's, else the Central System service's).

    Returns:
        The envelope, UTF-8 with an XML declaration.
    """
    if isinstance(error, SoapInputError):
        relates_to = relates_to or error.message_id
        namespace = namespace or error.namespace
    code = error.fault_code if error.fault_code in FAULT_CODES else "Receiver"
    env = etree.Element(f"{{{SOAP12_ENV}}}Envelope", nsmap={"env": SOAP12_ENV, "wsa": WSA})
    header = etree.SubElement(env, f"{{{SOAP12_ENV}}}Header")
    etree.SubElement(header, f"{{{WSA}}}Action").text = WSA_FAULT_ACTION
    if message_id:
        etree.SubElement(header, f"{{{WSA}}}MessageID").text = message_id
    if relates_to:
        etree.SubElement(header, f"{{{WSA}}}RelatesTo").text = relates_to
    fault = etree.SubElement(
        etree.SubElement(env, f"{{{SOAP12_ENV}}}Body"), f"{{{SOAP12_ENV}}}Fault"
    )
    code_el = etree.SubElement(fault, f"{{{SOAP12_ENV}}}Code")
    etree.SubElement(code_el, f"{{{SOAP12_ENV}}}Value").text = f"env:{code}"
    if error.subcode:
        sub = etree.SubElement(code_el, f"{{{SOAP12_ENV}}}Subcode")
        value = etree.SubElement(
            sub, f"{{{SOAP12_ENV}}}Value", nsmap={"ocpp": namespace or CS_NAMESPACE}
        )
        value.text = f"ocpp:{error.subcode}"
    reason = etree.SubElement(fault, f"{{{SOAP12_ENV}}}Reason")
    text = etree.SubElement(reason, f"{{{SOAP12_ENV}}}Text")
    text.set(XML_LANG, "en")
    text.text = error.reason
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def fault_for_exception(exc: BaseException, *, relates_to: str | None = None) -> bytes:
    """A Fault for any exception: a SoapError as it is, anything else hidden.

    The one place a server turns exceptions into Faults. An unexpected
    exception becomes ``env:Receiver`` with a fixed text: its message may
    reveal internals.
    """
    if isinstance(exc, SoapError):
        return fault_envelope(exc, relates_to=relates_to)
    if isinstance(exc, OcppkitError):
        error = SoapError(str(exc), "Receiver", "InternalError")
    else:
        error = SoapError("internal error", "Receiver", "InternalError")
    return fault_envelope(error, relates_to=relates_to)


def read_fault(fault: etree._Element, relates_to: str | None) -> SoapFault:
    """A peer's ``env:Fault`` element as a :class:`SoapFault`."""
    value = fault.findtext(f"{{{SOAP12_ENV}}}Code/{{{SOAP12_ENV}}}Value") or ""
    sub = fault.findtext(f"{{{SOAP12_ENV}}}Code/{{{SOAP12_ENV}}}Subcode/{{{SOAP12_ENV}}}Value")
    reason = fault.findtext(f"{{{SOAP12_ENV}}}Reason/{{{SOAP12_ENV}}}Text") or ""
    return SoapFault(
        code=value.strip().rpartition(":")[2] or "Receiver",
        subcode=sub.strip().rpartition(":")[2] if sub else None,
        reason=reason.strip(),
        relates_to=relates_to,
    )
