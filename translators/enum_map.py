"""Declarative value mappings between versions, with their losses stated.

Every enum conversion in the translators is an :class:`EnumMap` literal: the
table says which source value becomes which target value, which rows lose
information, and where the choice comes from. One generic call applies it;
the mapping document (docs/mapping.md) is rendered from the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ocppkit.translators.errors import TranslationError


@dataclass(frozen=True, slots=True)
class EnumMap:
    """One enum's translation from a source version to a target version.

    Attributes:
        name: what is mapped, e.g. ``"StopTransaction.reason -> stoppedReason"``.
        rows: source value -> target value.
        lossy: source values whose row loses information (the reverse map
            cannot recover them).
        default: target value for a source value not in ``rows``; None means
            an unknown value is an error (:class:`TranslationError`).
        reference: where the rows come from (spec section, implementation).
    """

    name: str
    rows: Mapping[str, str]
    lossy: frozenset[str] = field(default_factory=frozenset)
    default: str | None = None
    reference: str = ""

    def __call__(self, value: str) -> tuple[str, bool]:
        """``(target value, lossy?)`` for one source value.

        Raises:
            TranslationError: unknown value and no default.
        """
        target = self.rows.get(value)
        if target is not None:
            return target, value in self.lossy
        if self.default is None:
            raise TranslationError(f"{self.name}: no counterpart for {value!r}")
        return self.default, True

    def is_lossless(self, value: str) -> bool:
        return value in self.rows and value not in self.lossy
