"""`ocppkit report`: an ingested dataset as a static HTML report with figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command()(report)


def report(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory written by `ocppkit ingest`.")],
    out: Annotated[
        Path, typer.Option("--out", help="Report directory (index.html, PNGs, summary.json).")
    ],
    tariff: Annotated[
        Path | None,
        typer.Option(
            "--tariff", help="Price sessions with this tariff (OCPI 2.2.1 JSON or simple form)."
        ),
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="Time zone for time-of-day figures.")] = "UTC",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON summary to stdout.")
    ] = False,
) -> None:
    """Analyse a dataset: sessions, meter anomalies, availability (NEVI, UK), faults, costs."""
    from ocppkit.toolkit.analysis.report import build_report
    from ocppkit.toolkit.tariff import load_tariff

    summary = build_report(dataset, out, tariff=load_tariff(tariff) if tariff else None, tz=tz)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        s = summary["sessions"]
        typer.echo(
            f"{s['sessions']} sessions, {s['energy_kwh']:.1f} kWh on {s['chargers']} chargers; "
            f"report written to {out / 'index.html'}"
        )
