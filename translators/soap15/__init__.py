"""OCPP 1.5 over SOAP: the project's WSDL/XSD, a sans-I/O codec, and 1.5 <-> 1.6 lifting.

* :mod:`.operations`: every 1.5 operation, declared once; :mod:`.wsdl_gen`
  renders the shipped WSDL/XSD from it.
* :mod:`.codec`: envelopes <-> plain dicts plus headers (zeep + xmlschema),
  hardened by :mod:`.xmlsafe` and configured by :class:`SoapSettings`;
  :mod:`.faults` renders errors as SOAP 1.2 Faults.
* :mod:`.lift`: 1.5 payloads <-> 1.6J payloads (tables in :mod:`.lift_tables`).
* :mod:`.stream`: 1.5 journal records -> 1.6 records, for ``ocppkit translate``.
"""

from ocppkit.translators.soap15.codec import (
    Addressing,
    SoapMessage,
    build_request,
    build_response,
    message_id_for,
    new_message_id,
    parse_envelope,
    parse_request,
    parse_response,
)
from ocppkit.translators.soap15.faults import (
    SoapFault,
    SoapInputError,
    fault_envelope,
    fault_for_exception,
)
from ocppkit.translators.soap15.lift import NOT_SUPPORTED, TABLES, Lifted, lift, lower
from ocppkit.translators.soap15.operations import CENTRAL_SYSTEM, CHARGE_POINT, SERVICES, Role
from ocppkit.translators.soap15.settings import DEFAULT_SETTINGS, SoapSettings
from ocppkit.translators.soap15.stream import (
    StreamState,
    envelope_to_frame,
    frame_id,
    record_to_j16,
)

__all__ = [
    "CENTRAL_SYSTEM",
    "CHARGE_POINT",
    "DEFAULT_SETTINGS",
    "NOT_SUPPORTED",
    "SERVICES",
    "TABLES",
    "Addressing",
    "Lifted",
    "Role",
    "SoapFault",
    "SoapInputError",
    "SoapMessage",
    "SoapSettings",
    "StreamState",
    "build_request",
    "build_response",
    "envelope_to_frame",
    "fault_envelope",
    "fault_for_exception",
    "frame_id",
    "lift",
    "lower",
    "message_id_for",
    "new_message_id",
    "parse_envelope",
    "parse_request",
    "parse_response",
    "record_to_j16",
]
