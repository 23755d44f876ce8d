"""docs/mapping.md is generated from the code's tables and kept up to date."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ocppkit.translators import mapping_doc
from ocppkit.translators.charger16_csms201 import session
from ocppkit.translators.enum_map import EnumMap

DOC = Path(__file__).resolve().parents[1] / "docs" / "mapping.md"
render = cache(mapping_doc.render)


def test_mapping_document_is_up_to_date() -> None:
    # Regenerate with: .venv/bin/python -m ocppkit.translators.mapping_doc > docs/mapping.md
    assert DOC.read_text(encoding="utf-8") == render()


def test_every_charger_action_and_its_targets_appear_in_the_coverage_table() -> None:
    text = render()
    for action, (targets, how) in session.CHARGER_TARGETS.items():
        assert f"| {action} | charger | translated | {how} |" in text
        assert all(f"| {t} | station | translated |" in text for t in targets)


def test_enum_map_renders_lossy_rows_and_default() -> None:
    table = EnumMap("x -> y", {"a": "A", "b": "A"}, lossy=frozenset({"b"}), default="Z",
                    reference="spec §1")  # fmt: skip
    lines = mapping_doc.render_enum_map(table)
    assert lines[:4] == ["#### x -> y", "", "Source: spec §1", ""]
    assert "| `a` | `A` |  |" in lines and "| `b` | `A` | **lossy** |" in lines
    assert "| *any other* | `Z` | **lossy** |" in lines


def test_every_table_of_the_charger_side_is_in_the_document() -> None:
    text = render()
    from ocppkit.translators.charger16_csms201 import (
        charger_messages,
        id_tokens,
        meter_values,
        status,
        transactions,
    )

    for module in (charger_messages, id_tokens, meter_values, status, transactions):
        for table in module.TABLES:
            assert f"#### {table.name}\n" in text


def test_readme_carries_the_current_coverage_table() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = mapping_doc.readme_coverage()
    assert block in readme, "regenerate the README block: mapping_doc.readme_coverage()"
