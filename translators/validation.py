"""Fast validation of OCPP-J payloads against the official schemas.

Each (version, action, kind) schema is compiled once to Python code
(:mod:`ocppkit.translators.schema_compiler`) and called inline: no thread hop, no
re-encoding, and the payload is never modified. Only when a payload fails does the slow path run
(jsonschema's ``iter_errors``) to list *every* violation with its JSON path.

Two modes (see :class:`ValidationMode`): STRICT raises
:class:`ValidationFailed`; LENIENT returns the violations so a caller can
report and carry on. Strict mode also closes every object of the schema
(``additionalProperties: false``) except 2.0.1's ``customData``, which the
spec keeps open for vendor extensions.

Keyword -> CALLERROR code is the table :data:`KEYWORD_CODES`.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from functools import cache
from typing import Any

from ocppkit.translators import schemas
from ocppkit.translators.errors import ErrorCode, FrameError, ValidationFailed
from ocppkit.translators.schema_compiler import FORMAT_CHECKS, compile_schema, multiple_of
from ocppkit.translators.schemas import Kind
from ocppkit.translators.versions import OcppVersion
from ocppkit.translators.violations import Violation


class ValidationMode(StrEnum):
    STRICT = "strict"
    LENIENT = "lenient"


# 1.6 OCPP-J §4.2.3 / 2.0.1 Part 4 §4.3 wordings:
#  Occurrence: "violates occurrence constraints" (missing / too many),
#  Type: "violates data type constraints (e.g. "somestring": 12)",
#  Property: "at least one field contains an invalid value",
#  Format(ion): "not conform the PDU structure for Action".
KEYWORD_CODES: dict[str, ErrorCode] = {
    "required": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minLength": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "format": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMAT_VIOLATION,
}


# jsonschema imports these, when installed, only for format checks this module
# never enables (its checker is built from FORMAT_CHECKS alone); rfc3987_syntax
# compiles some forty grammars at import, about a CPU second for every process
# that starts (the profile of a bridge start, where it was most of the time).
_UNUSED_FORMAT_LIBRARIES = ("rfc3987_syntax",)


def _jsonschema() -> Any:
    """``import jsonschema`` without the format libraries it would not use here."""
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    blocked = [name for name in _UNUSED_FORMAT_LIBRARIES if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import jsonschema
    finally:
        for name in blocked:
            del sys.modules[name]
    return jsonschema


@cache
def _slow_validator_class(draft: str) -> Any:
    """jsonschema's validator for ``draft``, agreeing with the compiled path.

    Imported on first use: jsonschema costs a second or more to import, and
    only a failing payload ever needs it. The slow path must agree with the
    fast one: the same format checks and the same decimal multipleOf.
    """
    jsonschema = _jsonschema()

    def multiple_of_rule(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[Any]:
        is_number = isinstance(instance, int | float) and not isinstance(instance, bool)
        if is_number and not multiple_of(instance, step):
            yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {step}")

    base = jsonschema.validators.validator_for({"$schema": draft})
    return jsonschema.validators.extend(base, {"multipleOf": multiple_of_rule})


@cache
def _format_checker() -> Any:
    jsonschema = _jsonschema()

    checker = jsonschema.FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        # jsonschema applies formats to any type; they constrain strings only.
        checker.checks(name)(lambda v, _c=check: not isinstance(v, str) or _c(v))
    return checker


# Which violation names the CALLERROR when there are several: the most
# structural first (a wrong type makes the other checks moot).
_CODE_PRIORITY = ("type", "required", "additionalProperties", "minItems", "maxItems")


def load_slow_path() -> None:
    """Import jsonschema and build the slow path's validator classes now.

    A long-running process (the bridge) calls this at start-up: otherwise the
    first invalid payload pays the import (about 0.9 s, jsonschema builds a
    URI grammar) while every charger waits.
    """
    for draft in set(schemas.DEFAULT_DRAFT.values()):
        _slow_validator_class(draft)
    _format_checker()


def _closed(node: Any) -> Any:
    """A copy of a schema with every object closed to unknown properties."""
    if isinstance(node, dict):
        out = {k: _closed(v) for k, v in node.items()}
        is_custom = node.get("javaType") == "CustomData"
        if "properties" in out and "additionalProperties" not in out and not is_custom:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


def _path(parts: Any) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


class Validator:
    """Validates payloads of any action of 1.6 and 2.0.1, compiled once.

    Args:
        mode: STRICT raises on a violation; LENIENT returns them.
    """

    def __init__(self, mode: ValidationMode = ValidationMode.STRICT) -> None:
        self.mode = mode
        self._fast: dict[tuple[OcppVersion, str, Kind], Callable[[Any], Any]] = {}
        self._slow: dict[tuple[OcppVersion, str, Kind], Any] = {}

    @property
    def compiled_checks(self) -> Mapping[tuple[OcppVersion, str, Kind], Callable[[Any], Any]]:
        """The checks compiled so far, by (version, action, kind): each returns
        truthy for a valid payload. A hot loop may call one directly and fall
        back to :meth:`validate` (which compiles, and explains a failure)."""
        return self._fast

    def _schema(self, version: OcppVersion, action: str, kind: Kind) -> dict[str, Any]:
        doc = schemas.schema(version, action, kind)
        # Strict closes objects; lenient validates against the schema as
        # published. Both work on a copy: the cached original stays pristine.
        return _closed(doc) if self.mode is ValidationMode.STRICT else copy.deepcopy(doc)

    def _compiled(self, version: OcppVersion, action: str, kind: Kind) -> Callable[[Any], Any]:
        key = (version, action, kind)
        fn = self._fast.get(key)
        if fn is None:
            try:
                doc = self._schema(version, action, kind)
            except KeyError:
                raise FrameError(
                    ErrorCode.NOT_IMPLEMENTED,
                    f"{action!r} is not an OCPP {version} action",
                    action=action,
                ) from None
            fn = self._fast[key] = compile_schema(doc, f"{version} {action} {kind}")
        return fn

    def violations(
        self, version: OcppVersion, action: str, kind: Kind, payload: Any
    ) -> tuple[Violation, ...]:
        """Every violation of ``payload``, each with its JSON path (slow path)."""
        key = (version, action, kind)
        slow = self._slow.get(key)
        if slow is None:
            doc = self._schema(version, action, kind)
            cls = _slow_validator_class(str(doc.get("$schema", "")))
            slow = self._slow[key] = cls(doc, format_checker=_format_checker())
        found = [
            Violation(_path(e.absolute_path), str(e.validator), e.message)
            for e in slow.iter_errors(payload)
        ]
        return tuple(sorted(found, key=lambda v: (v.path, v.keyword)))

    def validate(
        self,
        version: OcppVersion,
        action: str,
        kind: Kind,
        payload: Any,
        *,
        message_id: str | None = None,
    ) -> tuple[Violation, ...]:
        """Validate one payload.

        Returns:
            ``()`` when valid; in LENIENT mode, the violations found.

        Raises:
            FrameError: NotImplemented when ``action`` is unknown to ``version``.
            ValidationFailed: in STRICT mode, when the payload is invalid; its
                ``code`` comes from :data:`KEYWORD_CODES` for the first violation.
        """
        # The hot path: one dict lookup and the compiled function.
        check = self._fast.get((version, action, kind)) or self._compiled(version, action, kind)
        if check(payload):
            return ()
        found = self.violations(version, action, kind, payload) or (
            # The two paths disagree only on a bug of ours; never let it pass.
            Violation("$", "schema", "payload rejected by the compiled schema"),
        )
        if self.mode is ValidationMode.LENIENT:
            return found
        keywords = [v.keyword for v in found]
        first = next((k for k in _CODE_PRIORITY if k in keywords), keywords[0])
        code = KEYWORD_CODES.get(first, ErrorCode.FORMAT_VIOLATION)
        text = f"{action} {kind}: " + "; ".join(str(v) for v in found[:5])
        raise ValidationFailed(code, text, found, message_id=message_id, action=action)

    def is_valid(self, version: OcppVersion, action: str, kind: Kind, payload: Any) -> bool:
        """True when ``payload`` passes (never raises for a known action)."""
        return bool(self._compiled(version, action, kind)(payload))
