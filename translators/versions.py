"""OCPP versions and the names they go by on the wire."""

from __future__ import annotations

from enum import StrEnum

from ocppkit.translators.errors import ConfigError


class OcppVersion(StrEnum):
    V15 = "1.5"
    V16 = "1.6"
    V201 = "2.0.1"

    @property
    def subprotocol(self) -> str | None:
        """The WebSocket subprotocol (OCPP-J); 1.5 is SOAP and has none."""
        return _SUBPROTOCOL[self]

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
}
_BY_KEY = {"15": OcppVersion.V15, "16": OcppVersion.V16, "201": OcppVersion.V201}
