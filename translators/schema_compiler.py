"""A JSON Schema -> Python compiler for the subset the OCPP schemas use.

Why not a general validator: validation sits on the hot path of every frame,
and the official OCPP 1.6 / 2.0.1 schemas use only a dozen keywords (type,
properties, required, additionalProperties, enum, maxLength, items,
minItems, maxItems, format, minimum, maximum, multipleOf, $ref). Compiling
exactly those to straight-line Python with frozenset lookups and early
``return False`` is several times faster than generic code generators, and
any keyword outside the subset is refused at compile time, so no constraint
is ever skipped silently.

The compiled function answers only "valid or not". When it says no, the
caller runs a full validator (jsonschema) to list every violation with its
path: the slow path runs only for bad frames.

Semantics follow the schema's draft: under draft-04 (OCPP 1.6) an
"integer" is a JSON integer only; from draft-06 (OCPP 2.0.1) a float with an
integral value counts too. ``multipleOf`` is checked in decimal, so 21.4 is a
multiple of 0.1 as the spec's authors meant (binary floats disagree).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

# Keywords that carry no constraint (annotations and containers).
_ANNOTATIONS = frozenset(
    {
        "description",
        "javaType",
        "$schema",
        "definitions",
        "comment",
        "title",
        "default",
        "$id",
        "id",
    }
)
_CONSTRAINTS = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "enum", "maxLength",
        "minLength", "items", "minItems", "maxItems", "format", "minimum", "maximum",
        "multipleOf", "$ref", "additionalItems",
    }
)  # fmt: skip

# RFC 3339 §5.6 date-time: the shape by regex, the calendar (no 31 February)
# by constructing the date.
_DATE_TIME = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[tT]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?([zZ]|[+-]([01]\d|2[0-3]):[0-5]\d)\Z"
)
# RFC 3986 in the loose form validators use: a scheme, then no whitespace.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+\Z")


# Timestamps repeat across a stream (every sample of a MeterValues shares
# one); a bounded cache of answers saves most of the regex work.
@lru_cache(maxsize=4096)
def is_date_time(value: str) -> bool:
    """True for an RFC 3339 date-time with a valid calendar date."""
    if _DATE_TIME.match(value) is None:
        return False
    try:
        date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return True


def is_uri(value: str) -> bool:
    return _URI.match(value) is not None


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {"date-time": is_date_time, "uri": is_uri}


class SchemaCompileError(ValueError):
    """The schema uses something this compiler does not implement."""


def multiple_of(value: int | float, step: str | float) -> bool:
    """``value`` is a multiple of ``step``, in decimal (21.4 of 0.1: yes)."""
    try:
        return Decimal(repr(value)) % Decimal(str(step)) == 0
    except InvalidOperation:
        return False


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        draft = str(root.get("$schema", ""))
        self.integral_floats = "draft-04" not in draft
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {"_re": re, "_multiple_of": multiple_of}
        self.counter = 0

    def const(self, value: Any) -> str:
        self.counter += 1
        name = f"_c{self.counter}"
        self.constants[name] = value
        return name

    def var(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise SchemaCompileError(f"only local $ref supported, got {ref!r}")
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part]
            node = target
            seen += 1
            if seen > 32:
                raise SchemaCompileError("recursive $ref")
        return node

    @staticmethod
    def enum_fits(node: dict[str, Any]) -> bool:
        """Every enum member meets the node's other string constraints."""
        values: list[str] = node["enum"]
        return all(
            len(v) <= node.get("maxLength", len(v))
            and len(v) >= node.get("minLength", 0)
            and ("format" not in node or FORMAT_CHECKS[node["format"]](v))
            for v in values
        )

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def node(self, node: dict[str, Any], var: str, indent: int) -> None:
        node = self.resolve(node)
        unknown = set(node) - _ANNOTATIONS - _CONSTRAINTS
        if unknown:
            raise SchemaCompileError(f"unsupported keyword(s): {sorted(unknown)}")
        kind = node.get("type")
        if isinstance(kind, list):
            raise SchemaCompileError("type lists are not used by OCPP schemas")
        if "enum" in node:
            values = node["enum"]
            if not all(isinstance(v, str) for v in values):
                raise SchemaCompileError("only string enums supported")
            allowed = self.const(frozenset(values))
            self.emit(
                indent, f"if not isinstance({var}, str) or {var} not in {allowed}: return False"
            )
        if kind == "object" or (kind is None and "properties" in node):
            self.obj(node, var, indent)
        elif kind == "array":
            self.array(node, var, indent)
        elif kind == "string" and "enum" in node and self.enum_fits(node):
            pass  # the enum check above already pins the value to valid strings
        elif kind == "string":
            self.emit(indent, f"if not isinstance({var}, str): return False")
            if "maxLength" in node:
                self.emit(indent, f"if len({var}) > {int(node['maxLength'])}: return False")
            if "minLength" in node:
                self.emit(indent, f"if len({var}) < {int(node['minLength'])}: return False")
            fmt = node.get("format")
            if fmt is not None:
                if fmt not in FORMAT_CHECKS:
                    raise SchemaCompileError(f"unsupported format {fmt!r}")
                check = self.const(FORMAT_CHECKS[fmt])
                self.emit(indent, f"if not {check}({var}): return False")
        elif kind in ("integer", "number"):
            if kind == "integer" and self.integral_floats:
                is_int = f"(isinstance({var}, int) and not isinstance({var}, bool))"
                integral = f"(isinstance({var}, float) and {var}.is_integer())"
                self.emit(indent, f"if not ({is_int} or {integral}): return False")
            elif kind == "integer":
                is_int = f"isinstance({var}, int) and not isinstance({var}, bool)"
                self.emit(indent, f"if not ({is_int}): return False")
            else:
                is_num = f"isinstance({var}, (int, float)) and not isinstance({var}, bool)"
                self.emit(indent, f"if not ({is_num}): return False")
            if "minimum" in node:
                self.emit(indent, f"if {var} < {node['minimum']!r}: return False")
            if "maximum" in node:
                self.emit(indent, f"if {var} > {node['maximum']!r}: return False")
            if "multipleOf" in node:
                self.emit(
                    indent, f"if not _multiple_of({var}, {str(node['multipleOf'])!r}): return False"
                )
        elif kind == "boolean":
            self.emit(indent, f"if not isinstance({var}, bool): return False")
        elif kind is not None and kind != "object":
            raise SchemaCompileError(f"unsupported type {kind!r}")

    def obj(self, node: dict[str, Any], var: str, indent: int) -> None:
        # Subclasses of dict are accepted (a caller's OrderedDict); JSON gives dict.
        self.emit(indent, f"if not isinstance({var}, dict): return False")
        props: dict[str, Any] = node.get("properties", {})
        required = node.get("required", [])
        if required:
            self.emit(
                indent, f"if not {var}.keys() >= {self.const(frozenset(required))}: return False"
            )
        extra = node.get("additionalProperties", True)
        if extra is False:
            self.emit(
                indent, f"if not {var}.keys() <= {self.const(frozenset(props))}: return False"
            )
        elif extra is not True:
            raise SchemaCompileError("additionalProperties must be a boolean")
        for name, sub in props.items():
            sub_var = self.var()
            if name in required:
                self.emit(indent, f"{sub_var} = {var}[{name!r}]")
                self.node(sub, sub_var, indent)
            else:
                self.emit(indent, f"if {name!r} in {var}:")
                self.emit(indent + 1, f"{sub_var} = {var}[{name!r}]")
                before = len(self.lines)
                self.node(sub, sub_var, indent + 1)
                if len(self.lines) == before:
                    self.emit(indent + 1, "pass")

    def array(self, node: dict[str, Any], var: str, indent: int) -> None:
        self.emit(indent, f"if not isinstance({var}, list): return False")
        if "minItems" in node:
            self.emit(indent, f"if len({var}) < {int(node['minItems'])}: return False")
        if "maxItems" in node:
            self.emit(indent, f"if len({var}) > {int(node['maxItems'])}: return False")
        items = node.get("items")
        if items is None:
            return
        if not isinstance(items, dict):
            raise SchemaCompileError("tuple-form items are not used by OCPP schemas")
        item = self.var()
        self.emit(indent, f"for {item} in {var}:")
        before = len(self.lines)
        self.node(items, item, indent + 1)
        if len(self.lines) == before:
            self.emit(indent + 1, "pass")


def compile_schema(schema: dict[str, Any], name: str = "schema") -> Callable[[Any], bool]:
    """Compile ``schema`` to a function returning True when an instance is valid.

    Raises:
        SchemaCompileError: the schema uses a keyword outside the OCPP subset.
    """
    compiler = _Compiler(schema)
    compiler.emit(0, "def check(v0):")
    compiler.emit(1, "try:")
    compiler.node(schema, "v0", 2)
    compiler.emit(1, "except TypeError:  # an unhashable value tested against an enum")
    compiler.emit(2, "return False")
    compiler.emit(1, "return True")
    source = "\n".join(compiler.lines)
    namespace = dict(compiler.constants)
    exec(compile(source, f"<ocpp-schema {name}>", "exec"), namespace)
    check: Callable[[Any], bool] = namespace["check"]
    return check
