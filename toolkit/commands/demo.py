"""`ocppkit demo`: the README's main job, end to end, on the bundled sample data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the demo writes its results.")] = Path(
        "ocppkit-demo"
    ),
) -> None:
    """Run ocppkit's main job end to end on the sample data and summarise it."""
    from toolkit.textio import iter_lines
    from toolkit.validate_report import validate_lines

    out.mkdir(parents=True, exist_ok=True)
    samples = sorted(DATASETS.glob("*.jsonl"))
    if not samples:
        typer.echo(f"no sample logs found in {DATASETS}", err=True)
        raise typer.Exit(1)
    failed = False
    for sample in samples:
        report = validate_lines(iter_lines(sample))
        lines = report.summary_lines()
        (out / f"{sample.stem}.validation.txt").write_text("\n".join(lines) + "\n")
        typer.echo(f"== {sample.name}: schema validation against the official OCPP schemas")
        for row in lines:
            typer.echo(row)
        failed |= not report.ok
    typer.echo(f"results written to {out}/")
    raise typer.Exit(1 if failed else 0)
