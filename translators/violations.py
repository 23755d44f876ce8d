"""One schema violation, as the validator reports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """A payload property that breaks its schema.

    Attributes:
        path: JSON path of the offending value, e.g. ``$.meterValue[0].timestamp``.
        keyword: the JSON Schema keyword that failed (``required``, ``enum``, ...).
        message: a readable explanation.
    """

    path: str
    keyword: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"
