"""What the operator decides for the translators: token typing and dangling-transaction rules.

Handed in with the :class:`~ocppkit.translators.context.Context` (like the
clock), never persisted with a charger's state: a changed configuration
applies from the next frame on. The gateway builds it from its
configuration file (``token_default_type``, ``[[token_rules]]``,
``dangling_grace``, ``dangling_rules``); tests build it directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ocppkit.translators.errors import ConfigError

# 2.0.1 IdTokenEnumType (2.0.1 Part 2 §2.29)
ID_TOKEN_TYPES = frozenset(
    {
        "Central",
        "eMAID",
        "ISO14443",
        "ISO15693",
        "KeyCode",
        "Local",
        "MacAddress",
        "NoAuthorization",
    }
)
# A 4- or 7-byte ISO 14443 UID written as hexadecimal: the only ISO14443
# idToken strict CSMSs accept (2.0.1 IdTokenEnumType; CitrineOS checks it).
ISO14443_UID = re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}")
# The rules of translators/j16_to_201/dangling.py an operator can switch off.
DANGLING_RULES = ("new_transaction", "reboot", "status")


@dataclass(frozen=True, slots=True)
class TokenRule:
    """One ordered typing rule: tags matching it get ``type``.

    Attributes:
        type: the 2.0.1 IdTokenEnumType to use.
        prefix: the tag starts with this (case-sensitive), or
        regex: the tag matches this regular expression completely;
            exactly one of the two is set.
        chargers: charger ids the rule applies to; empty: the whole fleet.
    """

    type: str
    prefix: str = ""
    regex: str = ""
    chargers: tuple[str, ...] = ()
    _compiled: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.type not in ID_TOKEN_TYPES:
            raise ConfigError(
                f"token rule type {self.type!r} is not one of {', '.join(sorted(ID_TOKEN_TYPES))}"
            )
        if bool(self.prefix) == bool(self.regex):
            raise ConfigError("a token rule needs exactly one of prefix or regex")
        if self.regex:
            try:
                object.__setattr__(self, "_compiled", re.compile(self.regex))
            except re.error as exc:
                raise ConfigError(f"token rule regex {self.regex!r}: {exc}") from None

    def matches(self, charge_point_id: str, id_tag: str) -> bool:
        if self.chargers and charge_point_id not in self.chargers:
            return False
        if self._compiled is not None:
            return self._compiled.fullmatch(id_tag) is not None
        return id_tag.startswith(self.prefix)


@dataclass(frozen=True, slots=True)
class Settings:
    """The operator's choices (defaults: the documented behaviour).

    Attributes:
        token_default_type: the type of a 1.6 idTag no rule claims and that
            does not look like a 4- or 7-byte card UID.
        token_rules: ordered; the first rule that matches a tag decides.
        dangling_grace: seconds a charger has to send StopTransaction after
            its connector went Available/Finishing, or after a reboot, before
            the bridge ends the transaction upstream itself.
        dangling_rules: which rules of ``j16_to_201.dangling`` are on.
    """

    token_default_type: str = "Central"
    token_rules: tuple[TokenRule, ...] = ()
    dangling_grace: float = 120.0
    dangling_rules: tuple[str, ...] = DANGLING_RULES

    def __post_init__(self) -> None:
        if self.token_default_type not in ID_TOKEN_TYPES - {"NoAuthorization"}:
            raise ConfigError(
                f"token_default_type {self.token_default_type!r} must be a 2.0.1 IdTokenEnumType "
                "other than NoAuthorization"
            )
        unknown = set(self.dangling_rules) - set(DANGLING_RULES)
        if unknown:
            raise ConfigError(
                f"unknown dangling rule {sorted(unknown)[0]!r} (known: {', '.join(DANGLING_RULES)})"
            )
        if self.dangling_grace < 0:
            raise ConfigError("dangling_grace must be >= 0 seconds")


DEFAULT_SETTINGS = Settings()
