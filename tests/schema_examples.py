"""Minimal valid and invalid payloads generated from the official schemas.

Deterministic (no randomness): for each schema, the smallest instance that
fills every required property with the first allowed value, and a
variant with every optional property filled too. Used to check the validator
on every action of 1.6 and 2.0.1.
"""

from __future__ import annotations

import copy
from typing import Any

DATE_TIME = "2026-01-01T00:00:00Z"


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        target: Any = root
        for part in parts:
            target = target[part]
        node = target
    return node


def instance(node: dict[str, Any], root: dict[str, Any], *, full: bool = False) -> Any:
    """A valid instance of ``node``; ``full`` fills optional properties too."""
    node = _resolve(node, root)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        names = list(props) if full else node.get("required", [])
        return {
            name: instance(props[name], root, full=full)
            for name in names
            if not (name == "customData" and not full)
        }
    if kind == "array":
        count = max(1, node.get("minItems", 1))
        return [instance(node.get("items", {}), root, full=full) for _ in range(count)]
    if kind == "string":
        if node.get("format") == "date-time":
            return DATE_TIME
        if node.get("format") == "uri":
            return "https://example.org/x"
        return "x" * max(1, node.get("minLength", 1))
    if kind == "integer":
        return int(node.get("minimum", 1))
    if kind == "number":
        return float(node.get("minimum", 1.0))
    if kind == "boolean":
        return True
    return {}


def valid_example(schema: dict[str, Any], *, full: bool = False) -> Any:
    return instance(schema, schema, full=full)


def invalid_example(schema: dict[str, Any]) -> Any:
    """A payload that breaks ``schema``: a required property of the wrong type,
    or (for schemas with no required property) an unknown property of the
    wrong type for strict mode and a wrong type on a known one."""
    example = valid_example(schema)
    required = schema.get("required", [])
    if required:
        broken = copy.deepcopy(example)
        broken[required[0]] = (
            {"not": "the right type"} if not isinstance(broken[required[0]], dict) else 12
        )
        return broken
    props = schema.get("properties", {})
    name = next((n for n in props if n != "customData"), None)
    if name is None:
        return {"unexpectedProperty": 1}
    return {name: [] if not isinstance(instance(props[name], schema), list) else 1}
