"""The compiled validator agrees with a reference validator, path by path."""

from __future__ import annotations

import copy
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from ocppkit.translators import schemas
from ocppkit.translators.schema_compiler import SchemaCompileError, compile_schema, is_date_time
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion
from tests.schema_examples import valid_example

CASES = [
    (version, action, kind)
    for version in (OcppVersion.V16, OcppVersion.V201)
    for action in sorted(schemas.actions(version))
    for kind in Kind
]
WRONG_VALUES: list[Any] = [None, True, 7, 1.5, "s", "x" * 2000, [], {}, ["x"], {"k": 1}]


def mutations(value: Any) -> Iterator[Any]:
    """Every single-point change of ``value``: each leaf replaced by each wrong
    value, each key removed, an unknown key added to each object."""
    yield from WRONG_VALUES
    if isinstance(value, dict):
        yield {**value, "unknownProperty": 1}
        for key in value:
            yield {k: v for k, v in value.items() if k != key}
            for changed in mutations(value[key]):
                yield {**value, key: changed}
    elif isinstance(value, list) and value:
        yield []
        yield value + value
        for changed in mutations(value[0]):
            yield [changed, *value[1:]]


@pytest.mark.parametrize(
    ("version", "action", "kind"), CASES, ids=[f"{v}-{a}-{k}" for v, a, k in CASES]
)
def test_compiled_schema_agrees_with_reference_on_every_single_point_mutation(
    version: OcppVersion, action: str, kind: Kind
) -> None:
    validator = Validator()
    strict_doc = validator._schema(version, action, kind)
    compiled = compile_schema(strict_doc)
    reference = validator.violations
    seen = 0
    for full in (False, True):
        for candidate in mutations(valid_example(schemas.schema(version, action, kind), full=full)):
            expected = not reference(version, action, kind, candidate)
            assert compiled(copy.deepcopy(candidate)) is expected, candidate
            seen += 1
    assert seen > len(WRONG_VALUES)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-03-02T08:00:00Z", True),
        ("2026-03-02T08:00:00.123+01:00", True),
        ("2024-02-29T00:00:00Z", True),
        ("2026-02-29T00:00:00Z", False),  # not a leap year
        ("2026-02-31T00:00:00Z", False),
        ("2026-03-02 08:00:00Z", False),
        ("2026-03-02T08:00:00", False),  # RFC 3339 needs an offset
        ("2026-03-02", False),
        ("yesterday", False),
    ],
)
def test_date_time_format_follows_rfc_3339_and_the_calendar(text: str, ok: bool) -> None:
    assert is_date_time(text) is ok


def test_keyword_outside_the_ocpp_subset_is_refused_not_ignored() -> None:
    with pytest.raises(SchemaCompileError, match="pattern"):
        compile_schema({"type": "string", "pattern": "^a$"})


def test_integer_semantics_follow_the_schema_draft() -> None:
    draft4 = compile_schema(
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}
    )
    draft6 = compile_schema(
        {"$schema": "http://json-schema.org/draft-06/schema#", "type": "integer"}
    )
    assert not draft4(1.0) and draft6(1.0)
    assert not draft4(True) and not draft6(True)
    assert jsonschema.Draft6Validator({"type": "integer"}).is_valid(1.0)


@pytest.mark.parametrize(
    ("version", "action", "kind"), CASES[::7], ids=[f"{v}-{a}-{k}" for v, a, k in CASES[::7]]
)
def test_open_schema_as_published_agrees_with_reference_too(
    version: OcppVersion, action: str, kind: Kind
) -> None:
    # Lenient mode compiles the schema as published (objects open to unknown keys).
    validator = Validator(ValidationMode.LENIENT)
    compiled = compile_schema(validator._schema(version, action, kind))
    for candidate in mutations(valid_example(schemas.schema(version, action, kind), full=True)):
        expected = not validator.violations(version, action, kind, candidate)
        assert compiled(copy.deepcopy(candidate)) is expected, candidate


def test_dict_subclass_is_read_without_running_its_missing_hook_or_changing_it() -> None:
    check = compile_schema(
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
            "required": ["a"],
            "additionalProperties": False,
        }
    )
    absent = defaultdict(int, {"b": "x"})
    assert check(absent) is False
    assert dict(absent) == {"b": "x"}
    assert check(OrderedDict(a=1, b="x")) is True
    assert check(OrderedDict(a=1, c="x")) is False


def test_closed_object_requiring_a_name_it_does_not_list_never_passes() -> None:
    check = compile_schema(
        {
            "type": "object",
            "properties": {"a": {}},
            "required": ["z"],
            "additionalProperties": False,
        }
    )
    assert check({"z": 1}) is False and check({"a": 1, "z": 1}) is False and check({}) is False


def test_a_date_time_seen_valid_once_is_still_judged_the_same() -> None:
    check = compile_schema({"type": "string", "format": "date-time"})
    for _ in range(2):
        assert check("2026-03-02T08:00:00Z") is True
        assert check("2026-02-31T08:00:00Z") is False
