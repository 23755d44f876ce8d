"""Parsing untrusted XML: no DTD, no entities, no network, bounded size and depth.

Every envelope a peer sends goes through :func:`parse_untrusted` before zeep
or xmlschema sees it. The defences, and the attack each one stops:

* size checked on the raw bytes first (memory exhaustion);
* ``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``: an
  external entity (XXE, ``file://`` or ``http://``) is never fetched and an
  internal one never expanded (billion laughs);
* any ``<!DOCTYPE>`` at all is refused: SOAP 1.2 Part 1 §5 says an envelope
  "MUST NOT contain a Document Type Declaration";
* ``huge_tree=False`` keeps libxml2's own limits; the depth limit bounds
  what the tree walkers after us have to recurse through.
"""

from __future__ import annotations

from lxml import etree

from ocppkit.translators.soap15.faults import SoapInputError
from ocppkit.translators.soap15.settings import SoapSettings

_NO_DTD = "a SOAP envelope must not contain a document type declaration (DTD/entities)"
# "<!DOCTYPE" in the encodings an XML document may use without a declaration
# naming another one (XML 1.0 Appendix F).
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _depth(root: etree._Element, limit: int) -> bool:
    """True when the tree nests deeper than ``limit``."""
    stack = [(root, 1)]
    while stack:
        el, d = stack.pop()
        if d > limit:
            return True
        stack.extend((child, d + 1) for child in el)
    return False


def parse_untrusted(data: bytes | str, settings: SoapSettings) -> etree._Element:
    """The root element of an untrusted XML document.

    Raises:
        SoapInputError: (Sender) too large, not well-formed, has a DTD, or too deep.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > settings.max_bytes:
        raise SoapInputError(
            f"envelope is {len(raw)} bytes, over the limit of {settings.max_bytes}", "Sender"
        )
    if any(marker in raw for marker in _DOCTYPE_MARKERS):
        # Refused before parsing: libxml2 would otherwise expand internal
        # entities (and report a billion-laughs bomb only as "malformed").
        raise SoapInputError(_NO_DTD)
    if not raw.strip():
        raise SoapInputError("malformed XML: empty message", "Sender")
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise SoapInputError(f"malformed XML: {exc.msg}", "Sender") from None
    if root is None:
        raise SoapInputError("malformed XML: no root element", "Sender")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SoapInputError(_NO_DTD)
    if _depth(root, settings.max_depth):
        raise SoapInputError(f"XML nests deeper than {settings.max_depth} levels", "Sender")
    return root
