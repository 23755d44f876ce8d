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

import builtins
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


# Date-times a compiled schema has met valid: a stream repeats them (every sample of a
# MeterValues shares one), and a set lookup costs less than a call. Bounded: emptied when full.
_valid_stamps: set[str] = set()
_STAMPS_MAX = 4096


def _remember_stamp(value: str) -> bool:
    """:func:`is_date_time`, remembering a valid ``value`` in :data:`_valid_stamps`."""
    if not is_date_time(value):
        return False
    if len(_valid_stamps) >= _STAMPS_MAX:
        _valid_stamps.clear()
    _valid_stamps.add(value)
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


# The compiled functions read every name through their closure (a local-speed
# load), builtins included.
_BUILTINS = ("isinstance", "len", "type", "dict", "list", "str", "int", "float", "bool")


class _Compiler:
    """Emits the body of ``check(v0)``; each constant becomes a closure variable.

    The code is shaped by what a valid payload costs, the common case:

    * a type test is ``type(v) is T`` first (one pointer comparison), the
      ``isinstance`` that admits subclasses only when that fails;
    * a required property is read by subscript, and a missing one raises
      KeyError, caught once around the whole body: no separate ``required``
      test. A dict subclass is copied to a plain dict first, so a
      ``__missing__`` hook never runs and the payload is never modified;
    * an optional property is a membership test, then a subscript;
    * a closed object (``additionalProperties: false``) counts the known
      properties it met and compares the count with its length, instead of a
      key-set comparison;
    * an enum of strings is one frozenset lookup (only a string can equal one
      of its members; an unhashable value raises TypeError, caught too);
    * a date-time already seen valid is one set lookup.
    """

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        draft = str(root.get("$schema", ""))
        self.integral_floats = "draft-04" not in draft
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {
            "_multiple_of": multiple_of,
            "_stamps": _valid_stamps,
            "_stamp_ok": _remember_stamp,
        }
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
            # Only a str (or subclass) equals a str member; unhashables raise TypeError.
            allowed = self.const(frozenset(values))
            self.emit(indent, f"if {var} not in {allowed}: return False")
        if kind == "object" or (kind is None and "properties" in node):
            self.obj(node, var, indent)
        elif kind == "array":
            self.array(node, var, indent)
        elif kind == "string" and "enum" in node and self.enum_fits(node):
            pass  # the enum check above already pins the value to valid strings
        elif kind == "string":
            self.emit(
                indent, f"if type({var}) is not str and not isinstance({var}, str): return False"
            )
            if "maxLength" in node:
                self.emit(indent, f"if len({var}) > {int(node['maxLength'])}: return False")
            if "minLength" in node:
                self.emit(indent, f"if len({var}) < {int(node['minLength'])}: return False")
            fmt = node.get("format")
            if fmt == "date-time":
                self.emit(indent, f"if {var} not in _stamps and not _stamp_ok({var}): return False")
            elif fmt is not None:
                if fmt not in FORMAT_CHECKS:
                    raise SchemaCompileError(f"unsupported format {fmt!r}")
                check = self.const(FORMAT_CHECKS[fmt])
                self.emit(indent, f"if not {check}({var}): return False")
        elif kind in ("integer", "number"):
            is_int = f"(isinstance({var}, int) and not isinstance({var}, bool))"
            if kind == "integer" and self.integral_floats:
                integral = f"(isinstance({var}, float) and {var}.is_integer())"
                test = f"type({var}) is not int and not ({is_int} or {integral})"
            elif kind == "integer":
                test = f"type({var}) is not int and not {is_int}"
            else:
                is_num = f"(isinstance({var}, (int, float)) and not isinstance({var}, bool))"
                test = f"type({var}) is not float and type({var}) is not int and not {is_num}"
            self.emit(indent, f"if {test}: return False")
            if "minimum" in node:
                self.emit(indent, f"if {var} < {node['minimum']!r}: return False")
            if "maximum" in node:
                self.emit(indent, f"if {var} > {node['maximum']!r}: return False")
            if "multipleOf" in node:
                self.emit(
                    indent, f"if not _multiple_of({var}, {str(node['multipleOf'])!r}): return False"
                )
        elif kind == "boolean":
            self.emit(indent, f"if type({var}) is not bool: return False")
        elif kind is not None and kind != "object":
            raise SchemaCompileError(f"unsupported type {kind!r}")

    def obj(self, node: dict[str, Any], var: str, indent: int) -> None:
        # Subclasses of dict are accepted (a caller's OrderedDict), read as a plain copy.
        self.emit(indent, f"if type({var}) is not dict:")
        self.emit(indent + 1, f"if not isinstance({var}, dict): return False")
        self.emit(indent + 1, f"{var} = dict({var})")
        props: dict[str, Any] = node.get("properties", {})
        required = node.get("required", [])
        unlisted = [name for name in required if name not in props]
        if unlisted:
            self.emit(
                indent, f"if not {var}.keys() >= {self.const(frozenset(unlisted))}: return False"
            )
        extra = node.get("additionalProperties", True)
        if extra is not True and extra is not False:
            raise SchemaCompileError("additionalProperties must be a boolean")
        closed = extra is False
        optional = [name for name in props if name not in required]
        count = f"n{var}"
        if closed and optional:
            self.emit(indent, f"{count} = {sum(1 for name in required if name in props)}")
        for name, sub in props.items():
            sub_var = self.var()
            if name in required:
                self.emit(indent, f"{sub_var} = {var}[{name!r}]")  # KeyError: missing
                self.node(sub, sub_var, indent)
                continue
            # Measured: a membership test then a subscript beats one dict.get
            # against a sentinel (both specialise; a method call does not).
            self.emit(indent, f"if {name!r} in {var}:")
            if closed:
                self.emit(indent + 1, f"{count} += 1")
            before = len(self.lines)
            self.emit(indent + 1, f"{sub_var} = {var}[{name!r}]")
            self.node(sub, sub_var, indent + 1)
            if len(self.lines) == before + 1:  # no constraint: the read is not needed
                self.lines[-1] = "    " * (indent + 1) + "pass"
        if closed:
            known = count if optional else str(len(required))
            # Every required name is present (KeyError otherwise); an unlisted one
            # is counted by len() only, so a closed object requiring it never passes.
            self.emit(indent, f"if len({var}) != {known}: return False")

    def array(self, node: dict[str, Any], var: str, indent: int) -> None:
        self.emit(
            indent, f"if type({var}) is not list and not isinstance({var}, list): return False"
        )
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
    compiler.emit(1, "def check(v0):")
    compiler.emit(2, "try:")
    compiler.node(schema, "v0", 3)
    compiler.emit(2, "except (KeyError, TypeError):  # a required property missing; unhashable")
    compiler.emit(3, "return False")
    compiler.emit(2, "return True")
    compiler.emit(1, "return check")
    names = [*_BUILTINS, *compiler.constants]
    source = "\n".join([f"def make({', '.join(names)}):", *compiler.lines])
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<ocpp-schema {name}>", "exec"), namespace)
    found = [getattr(builtins, b) for b in _BUILTINS]
    check: Callable[[Any], bool] = namespace["make"](*found, *compiler.constants.values())
    return check
