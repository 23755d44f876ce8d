"""Every lossless table row round-trips: taken one way by a pair, back by the other.

The declaration (:mod:`ocppkit.translators.round_trips`) says which table
undoes which; these tests hold every table of both pairs and the 1.5 lift to
it: each lossless row comes back as itself (or through the field the
declaration names), and no table with a lossless row is left undeclared.
"""

from __future__ import annotations

import importlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.translators.engine import PAIR_MODULES, find_pair
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.round_trips import ONE_WAY, ROUND_TRIPS, RoundTrip

LIFT = importlib.import_module("ocppkit.translators.soap15.lift")
ALL_TABLES: list[EnumMap] = [
    *(table for versions in PAIR_MODULES for table in find_pair(*versions).tables),
    *LIFT.TABLES,
]
ROWS: list[tuple[RoundTrip, str]] = [
    (trip, value)
    for trip in ROUND_TRIPS
    for value in trip.there.rows
    if trip.there.is_lossless(value) and value not in trip.via
]


@settings(max_examples=4 * len(ROWS))
@given(st.sampled_from(ROWS))
def test_a_lossless_row_taken_there_and_back_is_the_value_it_was(
    row: tuple[RoundTrip, str],
) -> None:
    trip, value = row
    assert trip.undo(value) == value, f"{trip.there.name}: {value} -> {trip.there(value)[0]}"


def test_every_declared_row_comes_back() -> None:
    # The property samples; this walks every row once, so none is missed.
    lost = [(t.there.name, v, t.undo(v)) for t, v in ROWS if t.undo(v) != v]
    assert lost == []


def test_every_table_with_a_lossless_row_is_declared_either_way() -> None:
    declared = {id(trip.there) for trip in ROUND_TRIPS}
    missing = [
        t.name
        for t in ALL_TABLES
        if any(t.is_lossless(v) for v in t.rows) and id(t) not in declared and t.name not in ONE_WAY
    ]
    assert missing == []


def test_rows_said_to_travel_elsewhere_are_rows_of_their_table() -> None:
    for trip in ROUND_TRIPS:
        assert set(trip.via) <= set(trip.there.rows), trip.there.name
