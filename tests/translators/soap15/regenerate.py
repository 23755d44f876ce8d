"""Rewrite the shipped OCPP 1.5 WSDL/XSD files from the declarative description.

Run after changing translators/soap15/operations.py or wsdl_gen.py:
``.venv/bin/python tests/translators/soap15/regenerate.py``. The test
``test_shipped_wsdl_and_xsd_equal_the_generator_output`` fails until you do.
"""

from __future__ import annotations

from pathlib import Path

from ocppkit.translators.soap15 import wsdl_gen

PACKAGE = Path(__file__).resolve().parents[3] / "translators" / "soap15"


def main() -> None:
    for name, text in wsdl_gen.render_files().items():
        (PACKAGE / name).write_text(text, encoding="utf-8")
        print("wrote", PACKAGE / name)


if __name__ == "__main__":
    main()
