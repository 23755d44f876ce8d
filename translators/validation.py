"""Fast validation of OCPP-J payloads against the official schemas.

Each (version, action, kind) schema is compiled once to Python code by
fastjsonschema and called inline: no thread hop, no re-encoding, and the
payload is never modified. Only when a payload fails does the slow path run
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
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import fastjsonschema
import jsonschema
from fastjsonschema.draft04 import CodeGeneratorDraft04

from translators import schemas
from translators.errors import ErrorCode, FrameError, ValidationFailed
from translators.schemas import Kind
from translators.versions import OcppVersion
from translators.violations import Violation


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

_FORMATS: dict[str, str] = dict(CodeGeneratorDraft04.FORMAT_REGEXS)
_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


def _regex_check(pattern: str) -> Callable[[object], bool]:
    compiled = re.compile(pattern)
    return lambda value: not isinstance(value, str) or compiled.match(value) is not None


# The slow path must agree with the fast one: same regexes for the formats
# the OCPP schemas use.
for _name in ("date-time", "uri"):
    _FORMAT_CHECKER.checks(_name)(_regex_check(_FORMATS[_name]))


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
        self._slow: dict[tuple[OcppVersion, str, Kind], jsonschema.protocols.Validator] = {}

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
            fn = self._fast[key] = fastjsonschema.compile(doc, formats=_FORMATS)
        return fn

    def violations(
        self, version: OcppVersion, action: str, kind: Kind, payload: Any
    ) -> tuple[Violation, ...]:
        """Every violation of ``payload``, each with its JSON path (slow path)."""
        key = (version, action, kind)
        slow = self._slow.get(key)
        if slow is None:
            doc = self._schema(version, action, kind)
            cls = jsonschema.validators.validator_for(doc)
            slow = self._slow[key] = cls(doc, format_checker=_FORMAT_CHECKER)
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
        fn = self._compiled(version, action, kind)
        try:
            fn(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            found = self.violations(version, action, kind, payload) or (
                Violation(_path(exc.path[1:]), exc.rule or "schema", exc.message),
            )
            if self.mode is ValidationMode.LENIENT:
                return found
            code = KEYWORD_CODES.get(exc.rule or "", ErrorCode.FORMAT_VIOLATION)
            text = f"{action} {kind}: " + "; ".join(str(v) for v in found[:5])
            raise ValidationFailed(
                code, text, found, message_id=message_id, action=action
            ) from None
        return ()

    def is_valid(self, version: OcppVersion, action: str, kind: Kind, payload: Any) -> bool:
        """True when ``payload`` passes (never raises for a known action)."""
        try:
            self._compiled(version, action, kind)(payload)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True
