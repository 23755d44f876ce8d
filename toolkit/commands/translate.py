"""`ocppkit translate`: journal records from one OCPP version to another."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ocppkit.translators.versions import OcppVersion


def register(app: typer.Typer) -> None:
    app.command()(translate)


def translate(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Journal files (JSON lines, may be gzipped); '-' or none for stdin."),
    ] = None,
    source_version: Annotated[
        str, typer.Option("--from", help="Version the charger speaks in the input.")
    ] = "1.6",
    target_version: Annotated[str, typer.Option("--to", help="Version to translate to.")] = "2.0.1",
    both_legs: Annotated[
        bool,
        typer.Option(
            "--both-legs",
            help="Also write the charger's leg (input records and what the bridge sends the "
            "charger), as a bridge journal would.",
        ),
    ] = False,
) -> None:
    """Translate journal records, keeping state per charger across the stream.

    Writes the translated records (JSON lines) to stdout, a summary to
    stderr. Records that cannot be translated are written unchanged with
    meta.untranslated saying why. Exit code 1 only if a translated frame
    fails its official schema (a bug), 2 for unusable arguments or files.
    """
    from ocppkit.toolkit.textio import iter_lines
    from ocppkit.toolkit.translate_stream import translate_lines, translator_for

    translator = translator_for(
        OcppVersion.parse(source_version), OcppVersion.parse(target_version), both_legs=both_legs
    )
    out = sys.stdout.buffer

    ok = True
    for name in sources or ["-"]:

        def unreadable(number: int, reason: str, name: str = name) -> None:
            print(f"{name}:{number}: unreadable: {reason}", file=sys.stderr)

        outcome = translate_lines(iter_lines(name), translator, out.write, unreadable)
        ok = ok and outcome.ok
    out.flush()
    counts = translator.counts
    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v)
    print(f"translate {source_version} -> {target_version}: {summary}", file=sys.stderr)
    raise typer.Exit(0 if ok else 1)
