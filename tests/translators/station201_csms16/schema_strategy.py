"""Hypothesis strategies drawn from the official OCPP JSON schemas.

hypothesis-jsonschema 0.23.1 (the newest) cannot run with the installed
hypothesis 6.170 (``from_object_schema`` calls ``many.more()``, which
hypothesis removed), so this module covers the JSON-schema subset the OCPP
1.6 / 2.0.1 schemas use: ``$ref``/``definitions``, ``enum``, objects with
``required`` (closed, as strict validation reads them), arrays with
``minItems``/``maxItems``, strings with ``maxLength`` and the ``date-time`` /
``uri`` formats, integers, numbers (``multipleOf`` 0.1), booleans, and
untyped values (DataTransfer ``data``). Lengths hit their limits on purpose:
that is where truncation bugs live.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from hypothesis import strategies as st

from ocppkit.translators import schemas
from ocppkit.translators.schemas import Kind
from ocppkit.translators.versions import OcppVersion

INT64 = 2**63 - 1
_TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _string(node: dict[str, Any]) -> st.SearchStrategy[str]:
    if node.get("format") == "date-time":
        return _TIMES
    if node.get("format") == "uri":
        return st.from_regex(r"\Ahttps?://[a-z]{1,12}\.example/[a-z0-9/]{0,20}\Z")
    limit = node.get("maxLength", 60)
    low = node.get("minLength", 0)
    short = st.text(min_size=low, max_size=min(limit, 24))
    return short | st.text(min_size=limit, max_size=limit) if limit <= 600 else short


def _number(node: dict[str, Any]) -> st.SearchStrategy[float | int]:
    if node.get("multipleOf") == 0.1:
        return st.integers(-(10**7), 10**7).map(lambda n: n / 10)
    return st.integers(-(10**6), 10**6) | st.floats(
        -1e9, 1e9, allow_nan=False, allow_infinity=False
    )


def strategy(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for the values ``node`` (a part of schema ``root``) allows."""
    while "$ref" in node:
        node = root["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        required = set(node.get("required", []))
        fixed = {name: strategy(props[name], root) for name in props if name in required}
        optional = {name: strategy(props[name], root) for name in props if name not in required}
        return st.fixed_dictionaries(fixed, optional=optional)
    if kind == "array":
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + 3), low + 3)
        return st.lists(strategy(node.get("items", {}), root), min_size=low, max_size=high)
    if kind == "string":
        return _string(node)
    if kind == "integer":
        return st.integers(node.get("minimum", -INT64), node.get("maximum", INT64))
    if kind == "number":
        return _number(node)
    if kind == "boolean":
        return st.booleans()
    return _ANY


@cache
def payloads(version: OcppVersion, action: str, kind: Kind) -> st.SearchStrategy[Any]:
    """Payloads of one action's request or response, per its official schema."""
    doc = schemas.schema(version, action, kind)
    return strategy(doc, doc)
