"""The official OCPP JSON schemas, as shipped by the ``ocpp`` package.

The schemas are package data of a dependency, read once through
:mod:`importlib.resources` and cached: the one "file" the sans-I/O core
touches, the same way zeep loads a WSDL before any traffic flows.

Naming on disk: 1.6 ``<Action>.json`` / ``<Action>Response.json``; 2.0.1
``<Action>Request.json`` / ``<Action>Response.json``; 2.1 as 2.0.1.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from ocppkit.translators.errors import ConfigError
from ocppkit.translators.versions import OcppVersion


class Kind(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"


# Folders of the ``ocpp`` package, reached from its (empty) top-level package:
# importing ``ocpp.v16`` would run its ``__init__``, which imports the
# package's ChargePoint, jsonschema and the URI grammar jsonschema builds
# (about 0.9 s and 150k objects in every process that reads a schema).
_PACKAGE = {
    OcppVersion.V16: ("v16", "schemas"),
    OcppVersion.V201: ("v201", "schemas"),
    OcppVersion.V21: ("v21", "schemas"),
}
_REQUEST_SUFFIX = {OcppVersion.V16: "", OcppVersion.V201: "Request", OcppVersion.V21: "Request"}
# 1.6 files that name no draft are draft-04 like their siblings (OCPP-J 1.6 §4.1.5);
# these are also the only drafts the official files name.
DEFAULT_DRAFT = {
    OcppVersion.V16: "http://json-schema.org/draft-04/schema#",
    OcppVersion.V201: "http://json-schema.org/draft-06/schema#",
    OcppVersion.V21: "http://json-schema.org/draft-06/schema#",
}


def _folder(version: OcppVersion) -> Traversable:
    try:
        parts = _PACKAGE[version]
    except KeyError:
        raise ConfigError(f"OCPP {version} has no JSON schemas (it is SOAP)") from None
    folder = resources.files("ocpp")
    for part in parts:
        folder = folder / part
    return folder


@cache
def actions(version: OcppVersion) -> frozenset[str]:
    """Every action the official schemas of ``version`` define."""
    names = {p.name.removesuffix(".json") for p in _folder(version).iterdir()}
    responses = {n.removesuffix("Response") for n in names if n.endswith("Response")}
    return frozenset(responses)


@cache
def send_actions(version: OcppVersion) -> frozenset[str]:
    """The actions ``version`` sends as SEND (2.1's NotifyPeriodicEventStream): one schema
    file, named after the action alone."""
    if not version.has_extended_frames:
        return frozenset()
    names = {p.name.removesuffix(".json") for p in _folder(version).iterdir()}
    return frozenset(n for n in names if not n.endswith(("Request", "Response")))


@cache
def schema(version: OcppVersion, action: str, kind: Kind) -> dict[str, Any]:
    """The official schema of one payload, as a dict (do not mutate).

    A SEND's payload is a request without a response (:func:`send_actions`).
    """
    if action in send_actions(version) and kind is Kind.REQUEST:
        suffix = ""
    elif action not in actions(version):
        raise KeyError(action)
    else:
        suffix = _REQUEST_SUFFIX[version] if kind is Kind.REQUEST else "Response"
    path = _folder(version) / f"{action}{suffix}.json"
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    doc.setdefault("$schema", DEFAULT_DRAFT[version])
    return doc
