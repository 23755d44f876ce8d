"""`ocppkit report`: an ingested dataset as a static HTML report with figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ocppkit.toolkit.commands.log_options import ProgressOpt


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
    period: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--period",
            metavar="START END",
            help="Analysis period (UTC unless a zone is given); default: each charger's first "
            "to last frame.",
        ),
    ] = None,
    inventory: Annotated[
        Path | None,
        typer.Option(
            "--inventory",
            help="Port inventory (CSV or TOML: chargers, ports, connectors, rated power, "
            "dates, site); default: inferred from the logs.",
        ),
    ] = None,
    offline_after: Annotated[
        str | None,
        typer.Option(
            "--offline-after",
            metavar="DURATION",
            help="Silence after which a charger counts as offline (e.g. 15min); default: "
            "3 heartbeat intervals as the CSMS set them.",
        ),
    ] = None,
    exclusions: Annotated[
        Path | None,
        typer.Option(
            "--exclusions",
            help="NEVI excluded outages with evidence (CSV or TOML: start, end, reason, "
            "evidence, charge_point_id, evse_id).",
        ),
    ] = None,
    port_rule: Annotated[
        str,
        typer.Option(
            "--port-rule",
            metavar="any|all",
            help="A port with several connectors is up while 'any' (default) or 'all' of them are.",
        ),
    ] = "any",
    charger: Annotated[
        list[str] | None,
        typer.Option("--charger", help="Only this charger (repeat for several)."),
    ] = None,
    site: Annotated[
        list[str] | None,
        typer.Option(
            "--site", help="Only the chargers of this inventory site (repeat; needs --inventory)."
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            metavar="duckdb|pandas|spark",
            help="duckdb (default): SQL over the Parquet files, per-charger KPIs a batch of "
            "chargers at a time, memory bounded whatever the dataset's size; pandas: the "
            "dataset loaded whole (the reference); spark: PySpark (the 'spark' extra and "
            "Java; spark-submit's master, else local mode), per-charger KPIs in the "
            "executors. Same numbers.",
        ),
    ] = "duckdb",
    memory_limit: Annotated[
        str,
        typer.Option("--memory-limit", help="duckdb engine: DuckDB's memory limit (it spills)."),
    ] = "256MB",
    progress: ProgressOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON summary to stdout.")
    ] = False,
) -> None:
    """Analyse a dataset: sessions, meter anomalies, availability (NEVI, UK), faults, costs."""
    from ocppkit.toolkit.analysis.exclusions import load_exclusions
    from ocppkit.toolkit.analysis.inventory import load_inventory
    from ocppkit.toolkit.analysis.report import build_report
    from ocppkit.toolkit.analysis.scope import parse_duration, parse_period
    from ocppkit.toolkit.progress import Bar
    from ocppkit.toolkit.tariff import load_tariff
    from ocppkit.translators.errors import ConfigError

    if port_rule not in ("any", "all"):
        raise ConfigError(f"--port-rule must be any or all, not {port_rule!r}")
    if engine not in ("duckdb", "pandas", "spark"):
        raise ConfigError(f"--engine must be duckdb, pandas or spark, not {engine!r}")
    duck = engine == "duckdb"
    with Bar("report", unit="batch", enabled=progress) as bar:
        summary = build_report(
            dataset,
            out,
            tariff=load_tariff(tariff) if tariff else None,
            tz=tz,
            period=parse_period(*period) if period else None,
            inventory=load_inventory(inventory) if inventory else None,
            offline_after=parse_duration(offline_after) if offline_after else None,
            exclusions=load_exclusions(exclusions) if exclusions else (),
            port_rule=port_rule,
            chargers=charger or None,
            sites=site or None,
            engine=engine,
            memory_limit=memory_limit if duck else None,
            progress=bar.update if duck else None,
        )
    if as_json:
        typer.echo(json.dumps(summary, indent=2, allow_nan=False))
    else:
        s = summary["sessions"]
        typer.echo(
            f"{s['sessions']} sessions, {s['energy_kwh']:.1f} kWh on {s['chargers']} chargers; "
            f"report written to {out / 'index.html'}"
        )
