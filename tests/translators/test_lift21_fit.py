"""The 2.0.1 <-> 2.1 fitting over every message both versions share, and id tokens.

For every shared action, request and response: a 2.0.1 payload (every optional field
filled) fitted up is 2.1-valid and comes back down unchanged with no loss noted; a 2.1
payload fitted down is 2.0.1-valid or refused with a reason, never anything else. Id
tokens: refused going down exactly when 2.0.1 cannot hold them, never cut.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.translators.engine import Notes
from ocppkit.translators.errors import TranslationError
from ocppkit.translators.lift21 import tables
from ocppkit.translators.lift21.fit import fit
from ocppkit.translators.schemas import Kind, actions, schema
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion
from tests.schema_examples import valid_example

V201, V21 = OcppVersion.V201, OcppVersion.V21
STRICT = Validator(ValidationMode.STRICT)
SHARED = sorted((a, k) for a in actions(V201) & actions(V21) for k in Kind)
ID_TYPES_201 = schema(V201, "Authorize", Kind.REQUEST)["definitions"]["IdTokenEnumType"]["enum"]


@pytest.mark.parametrize(("action", "kind"), SHARED, ids=lambda v: str(v))
def test_a_201_payload_goes_up_valid_and_comes_back_unchanged(action: str, kind: Kind) -> None:
    payload = valid_example(schema(V201, action, kind), full=True)
    notes = Notes(None, action)
    up = fit(payload, V21, action, kind, tables.UP, notes)
    STRICT.validate(V21, action, kind, up)
    down = fit(up, V201, action, kind, tables.DOWN, notes)
    assert down == payload
    # the one loss: a field 2.1 requires, filled on the way up (and dropped on the way down)
    added = {key.rsplit(".", 1)[-1] for key in tables.UP.defaults}
    assert all(any(field in n.detail for field in added) for n in notes.items), notes.items


@pytest.mark.parametrize(("action", "kind"), SHARED, ids=lambda v: str(v))
def test_a_21_payload_comes_down_valid_or_refused_with_a_reason(action: str, kind: Kind) -> None:
    payload = valid_example(schema(V21, action, kind), full=True)
    try:
        down = fit(payload, V201, action, kind, tables.DOWN, Notes(None, action))
    except TranslationError as exc:
        assert exc.reason
        return
    STRICT.validate(V201, action, kind, down)


@settings(max_examples=150, deadline=None)
@given(
    token=st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=255),
    kind=st.one_of(st.sampled_from(ID_TYPES_201), st.sampled_from(["EVCCID", "VIN", "x" * 20])),
)
def test_an_id_token_comes_down_whole_or_is_refused(token: str, kind: str) -> None:
    payload = {"idToken": {"idToken": token, "type": kind}}
    fits = len(token) <= 36 and kind in ID_TYPES_201
    try:
        down = fit(payload, V201, "Authorize", Kind.REQUEST, tables.DOWN, Notes(None, "Authorize"))
    except TranslationError as exc:
        assert not fits and ("idToken" in exc.reason)
        return
    assert fits and down == payload
