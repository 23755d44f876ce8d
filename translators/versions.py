"""OCPP versions and the names they go by on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from ocppkit.translators.errors import V16_SPELLING, ConfigError, ErrorCode


class OcppVersion(StrEnum):
    V15 = "1.5"
    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @property
    def subprotocol(self) -> str | None:
        """The WebSocket subprotocol (OCPP-J); 1.5 is SOAP and has none."""
        return _SUBPROTOCOL[self]

    @property
    def error_code_spelling(self) -> Mapping[ErrorCode, str]:
        """The codes this version spells differently from 2.0.1 (:meth:`ErrorCode.wire`)."""
        return _ERROR_SPELLING[self]

    @property
    def has_extended_frames(self) -> bool:
        """CALLRESULTERROR (5) and SEND (6) exist: OCPP 2.1 Part 4 §4.2."""
        return self is OcppVersion.V21

    @property
    def is_json(self) -> bool:
        return self is not OcppVersion.V15

    @classmethod
    def parse(cls, text: str) -> OcppVersion:
        """Accept ``1.6``, ``16``, ``1.6J``, ``ocpp1.6``, ``2.0.1``, ``201``..."""
        key = text.strip().lower().removeprefix("ocpp").removesuffix("j").replace(".", "")
        try:
            return _BY_KEY[key]
        except KeyError:
            known = ", ".join(v.value for v in cls)
            raise ConfigError(f"unknown OCPP version {text!r} (known: {known})") from None


_SUBPROTOCOL = {
    OcppVersion.V15: None,
    OcppVersion.V16: "ocpp1.6",
    OcppVersion.V201: "ocpp2.0.1",
    OcppVersion.V21: "ocpp2.1",
}
_BY_KEY = {
    "15": OcppVersion.V15,
    "16": OcppVersion.V16,
    "201": OcppVersion.V201,
    "21": OcppVersion.V21,
}
_ERROR_SPELLING: dict[OcppVersion, Mapping[ErrorCode, str]] = {
    OcppVersion.V15: V16_SPELLING,  # a 1.5 fault lifted to 1.6 speaks 1.6
    OcppVersion.V16: V16_SPELLING,
    OcppVersion.V201: MappingProxyType({}),
    OcppVersion.V21: MappingProxyType({}),  # 2.1 Part 4 §4.3 keeps 2.0.1's codes
}
