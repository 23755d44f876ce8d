"""The one settings object of the OCPP 1.5 SOAP codec: limits and strictness.

Safe by default (zeep's own ``Settings`` is the precedent): no DTDs, no
entities, no network, a size limit, strict schema checks. The gateway builds
one from its configuration and passes it to every codec call.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SoapSettings:
    """Limits and strictness of the 1.5 SOAP codec.

    Attributes:
        max_bytes: largest envelope accepted; a bigger one is refused before
            it is parsed. 1.5's largest messages (SendLocalList,
            StopTransaction with transactionData) stay far below 1 MiB.
        max_depth: deepest element nesting accepted (an OCPP 1.5 envelope is
            at most 7 levels deep; the margin allows vendor wrappers).
        validate: check every body against the project's XSD, incoming and
            outgoing (xmlschema); zeep alone lets missing required fields,
            bad enum values and over-long strings through.
        strict: refuse elements the schema does not declare. 1.5 chargers in
            the field send vendor extras; lenient mode drops them.
        require_addressing: refuse requests without wsa:Action and
            wsa:MessageID (CXF-based central systems do; many chargers omit
            them, so the default accepts).
        naive_datetime_is_utc: read a dateTime without a zone as UTC (1.5
            chargers send them); False refuses it.
        repair: lift field deviations (element names, order, missing
            wrappers, values as text) before the schema check; each repair
            is reported (:mod:`ocppkit.translators.soap15.repair`).
    """

    max_bytes: int = 256 * 1024
    max_depth: int = 32
    validate: bool = True
    strict: bool = True
    require_addressing: bool = False
    naive_datetime_is_utc: bool = True
    repair: bool = False

    @classmethod
    def for_validation(cls, mode: str) -> SoapSettings:
        """The codec settings of a gateway ``validation`` mode (``strict``/``lenient``)."""
        return LENIENT_SETTINGS if mode == "lenient" else DEFAULT_SETTINGS


DEFAULT_SETTINGS = SoapSettings()
# What ``validation = lenient`` means for 1.5 SOAP: repair what the field
# sends, then drop (and name) what still has no place.
LENIENT_SETTINGS = SoapSettings(strict=False, repair=True)
