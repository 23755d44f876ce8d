"""What 2.1 adds to each message both versions share, read from the two official schemas.

For docs/mapping.md: per action, the fields 2.1 adds (dropped on the way down, noted
lossy) and the enum values it adds (mapped by a value table, or refused with a reason).
Computed from the schemas, so the document cannot drift from them.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.lift21 import tables
from ocppkit.translators.schemas import Kind, schema
from ocppkit.translators.versions import OcppVersion

V201, V21 = OcppVersion.V201, OcppVersion.V21
# optional fields of a droppable definition (MessageContentType), by property name
_DROPPED_OBJECTS = frozenset({"personalMessage", "updatedPersonalMessage"})


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], str]:
    ref = node.get("$ref")
    if ref is None:
        return node, ""
    name = ref.rsplit("/", 1)[-1]
    definition: dict[str, Any] = root["definitions"][name]
    return definition, name


def additions(action: str, kind: Kind) -> tuple[list[str], list[str]]:
    """(fields 2.1 adds, ``field=value@item`` enum values 2.1 adds) to one payload of
    ``action``; ``item`` names the definition of the array item holding the value."""
    old_root, new_root = schema(V201, action, kind), schema(V21, action, kind)
    fields: list[str] = []
    values: list[str] = []
    seen: set[tuple[str, str]] = set()

    def walk(old: dict[str, Any], new: dict[str, Any], path: str, item: str = "") -> None:
        old, _ = _resolve(old_root, old)
        new, name = _resolve(new_root, new)
        if (path, name) in seen:
            return
        seen.add((path, name))
        if "enum" in old and "enum" in new:
            for value in new["enum"]:
                if value not in old["enum"]:
                    values.append(f"{path}={value}@{item}")
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for key, sub in new_props.items():
            where = f"{path}.{key}" if path else key
            if key == "customData":
                continue
            if key not in old_props:
                fields.append(where)
            else:
                walk(old_props[key], sub, where, item)
        if "items" in old and "items" in new:
            _, item_name = _resolve(new_root, new["items"])
            walk(old["items"], new["items"], path, item_name or item)

    walk(old_root, new_root, "")
    return fields, values


def _value_fate(entry: str) -> str:
    """How the way down treats one added enum value: mapped to X, dropped with the array
    item holding it, or refused."""
    path, rest = entry.rsplit("=", 1)
    value, item = rest.split("@", 1)
    for table in tables.TABLES:
        if value in table.rows:
            return f"{path} {value} -> {table.rows[value]}"
    if item in tables.DOWN.droppable:
        return f"{path} {value}: that item dropped"
    if path.rsplit(".", 1)[0].rsplit(".", 1)[-1] in _DROPPED_OBJECTS:
        return f"{path} {value}: {path.rsplit('.', 1)[0]} dropped"
    return f"{path} {value} refused"


def _some(items: list[str], limit: int) -> list[str]:
    return items[:limit] + ([f"(+{len(items) - limit} more)"] if len(items) > limit else [])


def down_note(action: str, kind: Kind) -> str:
    """What happens to the 2.1 ``kind`` payload of ``action`` on its way down to 2.0.1."""
    fields, values = additions(action, kind)
    what = "answer" if kind is Kind.RESPONSE else "call"
    parts: list[str] = []
    if fields:
        parts.append("drops " + ", ".join(_some(fields, 5)))
    if values:
        parts.append("; ".join(_some([_value_fate(v) for v in values], 3)))
    return f"{what} down: " + "; ".join(parts) if parts else ""
