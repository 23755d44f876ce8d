"""Fit a payload of one version to the official schema of another, by the schema.

2.0.1 and 2.1 share every message shape but for what the newer version adds:
fields, enum values, longer strings, free-string types. So the translation of
a payload is one walk of the *target* schema over it, applying the tables of
:mod:`ocppkit.translators.lift21.tables` where the payload does not fit:

- a property the target does not know is dropped, with a lossy note;
- an enum value the target does not know is mapped by the table of its
  definition (``TriggerReasonEnumType`` ...), noted lossy, or refused with the
  reason the table gives (or a generic one);
- a string longer than the target allows is refused, never cut: a cut id
  token could authorise somebody else (``IdToken.idToken`` 255 -> 36); only
  free texts for people (``StatusInfo.additionalInfo``, message content) are cut, noted;
- an array item that cannot fit is dropped, where its definition allows that
  (a sampled value of a 2.1-only measurand), else the payload is refused;
- a property the target requires and the source lacks is filled from the
  table's defaults, or refused.

Anything else (types, bounds) the source and target share; a payload that
still does not fit after the walk is refused with the violation the target's
schema names, so nothing invalid is ever sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocppkit.translators.engine import Notes
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.schemas import Kind, schema
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class FitRules:
    """The tables one direction of the fitting applies.

    Attributes:
        enums: definition name -> how its values unknown to the target map.
        refusals: (definition name, value) -> why a value is refused.
        droppable: definitions whose array items may be dropped when they do not fit.
        defaults: "<definition>.<property>" -> value for a property the target requires.
        cuttable: "<definition>.<property>" free texts cut to the target's length
            (noted lossy); every other string too long is refused.
    """

    enums: Mapping[str, EnumMap]
    refusals: Mapping[tuple[str, str], str]
    droppable: frozenset[str]
    defaults: Mapping[str, Any]
    cuttable: frozenset[str] = frozenset()


_VALIDATOR = Validator()  # strict: objects closed, so an unknown field is not "valid"


class _Drop(Exception):
    """An array item (or the object holding it) does not fit and may be dropped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def fit(
    payload: dict[str, Any],
    target: OcppVersion,
    action: str,
    kind: Kind,
    rules: FitRules,
    notes: Notes,
) -> dict[str, Any]:
    """``payload`` as the official ``target`` schema of ``action`` wants it.

    A payload already valid in ``target`` (most are: 2.1 keeps every 2.0.1 message)
    is returned as it is, by the compiled validator's fast path, for the walk would
    change nothing; otherwise a fitted copy.

    Raises:
        TranslationError: the payload cannot fit without losing what matters.
    """
    if _VALIDATOR.is_valid(target, action, kind, payload):
        return payload
    root = schema(target, action, kind)
    walker = _Walker(root, target, rules, notes)
    try:
        out = walker.value(payload, root, "", "")
    except _Drop as exc:
        raise TranslationError(exc.reason) from None
    assert isinstance(out, dict)
    if not _VALIDATOR.is_valid(target, action, kind, out):
        # what no table covers (a bound 2.1 added): refused, never sent invalid
        found = _VALIDATOR.violations(target, action, kind, out)
        raise TranslationError(f"does not fit OCPP {target}: {found[0]}")
    return out


class _Walker:
    def __init__(
        self, root: dict[str, Any], target: OcppVersion, rules: FitRules, notes: Notes
    ) -> None:
        self.definitions: dict[str, Any] = root.get("definitions", {})
        self.target = target
        self.rules = rules
        self.notes = notes

    def _resolve(self, node: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
        ref = node.get("$ref")
        if ref is None:
            return node, name
        ref_name = ref.rsplit("/", 1)[-1]
        return self.definitions[ref_name], ref_name

    def value(self, value: Any, node: dict[str, Any], path: str, name: str, field: str = "") -> Any:
        node, name = self._resolve(node, name)
        if isinstance(value, dict) and "properties" in node:
            return self._object(value, node, path, name)
        if isinstance(value, list) and "items" in node:
            return self._array(value, node, path, name)
        if isinstance(value, str):
            return self._string(value, node, path, name, field)
        return value

    def _object(
        self, value: dict[str, Any], node: dict[str, Any], path: str, name: str
    ) -> dict[str, Any]:
        props: dict[str, Any] = node["properties"]
        out: dict[str, Any] = {}
        unknown: list[str] = []
        emptied: list[str] = []
        # customData is open for vendor extensions (no additionalProperties: false)
        open_object = node.get("additionalProperties", True) is not False
        for key, item in value.items():
            sub = props.get(key)
            if sub is None:
                if open_object:
                    out[key] = item
                else:
                    unknown.append(key)
                continue
            where = f"{path}.{key}" if path else key
            try:
                out[key] = self.value(item, sub, where, "", f"{name}.{key}")
            except _Drop:
                if key in node.get("required", ()):
                    raise
                emptied.append(key)
            except TranslationError as exc:
                # an optional object of a droppable kind (a display message in a
                # format 2.0.1 lacks) goes, noted; the rest of the payload stays
                droppable = self._resolve(sub, "")[1] in self.rules.droppable
                if key in node.get("required", ()) or not droppable:
                    raise
                self.notes.lossy(where, f"dropped ({exc.reason})")
        if unknown:
            what = ", ".join(unknown)
            self.notes.lossy(path or "payload", f"no OCPP {self.target} field for {what}")
        for key in emptied:
            self.notes.lossy(f"{path}.{key}" if path else key, "dropped: nothing left in it")
        for key in node.get("required", ()):
            if key in out:
                continue
            default = self.rules.defaults.get(f"{name}.{key}")
            if default is None:
                raise TranslationError(f"{path or 'payload'}.{key}: required in OCPP {self.target}")
            out[key] = default
            self.notes.lossy(f"{path}.{key}" if path else key, f"set to {default!r}")
        return out

    def _array(self, value: list[Any], node: dict[str, Any], path: str, name: str) -> list[Any]:
        items_node, items_name = self._resolve(node["items"], "")
        out: list[Any] = []
        for item in value:
            try:
                out.append(self.value(item, items_node, f"{path}[]", items_name))
            except (_Drop, TranslationError) as exc:
                if items_name not in self.rules.droppable:
                    raise
                reason = exc.reason
                self.notes.lossy(f"{path}[]", f"an item dropped ({reason})")
        if len(out) < node.get("minItems", 0):
            raise _Drop(f"{path}: nothing left that OCPP {self.target} can carry")
        return out

    def _string(self, value: str, node: dict[str, Any], path: str, name: str, field: str) -> str:
        enum = node.get("enum")
        if enum is not None and value not in enum:
            table = self.rules.enums.get(name)
            refusal = self.rules.refusals.get((name, value))
            if refusal is not None or table is None or value not in table.rows:
                reason = refusal or f"{path} {value!r} has no OCPP {self.target} form"
                raise TranslationError(f"{path}: {reason}" if refusal else reason)
            target, _ = table(value)
            self.notes.lossy(path, f"{value} -> {target} ({table.name})")
            return target
        limit = node.get("maxLength")
        if limit is not None and len(value) > limit:
            if field in self.rules.cuttable:
                return self.notes.cut(value, limit, path)
            raise TranslationError(
                f"{path} of {len(value)} characters: OCPP {self.target} allows {limit}"
                " (never cut: a cut value names something else)"
            )
        return value
