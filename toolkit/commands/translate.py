"""`ocppkit translate`: a recorded conversation from one OCPP version to another."""

from __future__ import annotations

import sys
from collections import Counter
from contextlib import ExitStack
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
    report: Annotated[
        str | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="Write each record left out (not translatable) as a JSON line: the record, "
            "its line and the reason.",
        ),
    ] = None,
    both_legs: Annotated[
        bool,
        typer.Option(
            "--both-legs",
            help="Also write the charger's leg in its own version (input records and what the "
            "bridge sends the charger), as a bridge journal would.",
        ),
    ] = False,
) -> None:
    """Translate a recorded conversation, both roles, keeping state per charger.

    The charger's messages and the CSMS's own commands, requests and
    responses, become the conversation the two would have had in the target
    version. Writes the translated records (JSON lines, target version only)
    to stdout and a summary to stderr; a record that cannot be translated is
    left out, counted by kind on stderr and listed with its reason in
    --report FILE. Exit code 1 only if a translated frame fails its official
    schema (a bug), 2 for unusable arguments or files.
    """
    from ocppkit.toolkit.textio import iter_lines
    from ocppkit.toolkit.translate_report import LeftOut, encode_left_out, summary
    from ocppkit.toolkit.translate_stream import translate_lines, translator_for

    translator = translator_for(
        OcppVersion.parse(source_version), OcppVersion.parse(target_version), both_legs=both_legs
    )
    out = sys.stdout.buffer
    names = sources or ["-"]
    left_out: Counter[str] = Counter()
    ok = True
    with ExitStack() as stack:
        sink = stack.enter_context(open(report, "wb")) if report else None

        for index, name in enumerate(names):

            def write_left_out(entry: LeftOut, name: str = name) -> None:
                if sink is not None:
                    sink.write(encode_left_out(entry, source=name))

            def unreadable(number: int, reason: str, name: str = name) -> None:
                print(f"{name}:{number}: unreadable: {reason}", file=sys.stderr)

            outcome = translate_lines(
                iter_lines(name),
                translator,
                out.write,
                unreadable,
                write_left_out,
                finish=index == len(names) - 1,
            )
            left_out += outcome.left_out
            ok = ok and outcome.ok
    out.flush()
    counts = translator.counts
    totals = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v)
    print(f"translate {source_version} -> {target_version}: {totals}", file=sys.stderr)
    line = summary(left_out)
    if line:
        print(line + (f" (listed in {report})" if report else ""), file=sys.stderr)
    raise typer.Exit(0 if ok else 1)
