"""No-crash property of conversation conversion: shuffled, cut and mixed journals.

Whatever order the records come in, whatever is missing, whichever version
they are in: the converter raises nothing, writes only strictly valid
target-version records whose answers follow their calls (with ``both_legs``, plus the
charger's leg in its own version), and accounts for
every input line exactly once: in the output (``meta.line``, or
``meta.merged`` for an event carried by a later record) or in the report,
with a reason. The counts add up to the same.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocppkit.toolkit.translate_report import LeftOut
from ocppkit.toolkit.translate_stream import translate_lines, translator_for
from ocppkit.translators.journal import Leg, decode_record
from ocppkit.translators.versions import OcppVersion

from .test_conversation import check_conversation, load

V16, V201 = OcppVersion.V16, OcppVersion.V201
LINES = load("commands-1.6") + load("commands-2.0.1")  # two chargers, two versions


def _nearly_in_order(draw: Any) -> list[bytes]:
    """A prefix of the recording with some records swapped with a neighbour or dropped."""
    lines = list(LINES[: draw(st.integers(0, len(LINES)))])
    for index in draw(st.lists(st.integers(0, max(len(lines) - 2, 0)), max_size=12)):
        if index + 1 < len(lines):
            lines[index], lines[index + 1] = lines[index + 1], lines[index]
    for index in sorted(set(draw(st.lists(st.integers(0, len(LINES)), max_size=6))), reverse=True):
        if index < len(lines):
            del lines[index]
    return lines


@st.composite
def journals(draw: Any) -> list[bytes]:
    if draw(st.booleans()):
        return _nearly_in_order(draw)
    # Any records, in any order: answers before calls, commands without charger.
    return draw(st.lists(st.sampled_from(LINES), max_size=60, unique=True))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    journal=journals(),
    pair=st.sampled_from([(V16, V201), (V201, V16)]),
    both_legs=st.booleans(),
)
def test_every_record_ends_in_the_output_valid_or_in_the_report_with_a_reason(
    journal: list[bytes], pair: tuple[OcppVersion, OcppVersion], both_legs: bool
) -> None:
    source, target = pair
    translator = translator_for(source, target, both_legs=both_legs)
    out: list[bytes] = []
    left: list[LeftOut] = []
    outcome = translate_lines(enumerate(journal, 1), translator, out.append, report=left.append)
    assert outcome.ok, [e.reason for e in left]
    everything = [decode_record(line) for line in out]
    # With both legs the charger's leg comes too, in its own version, on its own leg.
    records = [r for r in everything if r.ocpp_version is target]
    assert all(r.leg is Leg.DOWNSTREAM for r in everything if r.ocpp_version is not target)
    assert both_legs or len(records) == len(everything)
    check_conversation(records, target)
    covered: list[int] = []
    for record in records:
        covered.append(record.meta["line"])
        covered.extend(record.meta.get("merged", []))
    in_output = set(covered)
    reported = [e.line for e in left]
    assert all(e.reason and e.cause for e in left)
    assert len(reported) == len(set(reported)), "a record reported twice"
    assert not in_output & set(reported), "a record both in the output and the report"
    assert in_output | set(reported) == set(range(1, len(journal) + 1)), "a record lost"
    counts = translator.counts
    assert counts["records_in"] == len(journal)
    assert counts["in_output"] == len(in_output) and counts["left_out"] == len(reported)
    assert counts["held"] == 0
