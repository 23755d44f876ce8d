"""`ocppkit bench`: throughput and latency against same-run baselines."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from ocppkit.translators.errors import ConfigError

_SHOWN = {"value", "unit", "baseline", "ratio", "target", "met"}


def register(app: typer.Typer) -> None:
    app.command()(bench)


def bench(
    suites: Annotated[
        list[str] | None,
        typer.Argument(
            help="Suites to run (default: all): validate translate bridge scale ingest report"
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Smaller sizes, shorter runs (< 3 min).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure ocppkit against baselines measured in the same run."""
    from ocppkit.toolkit.bench import SUITES, run_suites

    names = suites or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ConfigError(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
    results = run_suites(names, quick)
    if as_json:
        typer.echo(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
        return
    typer.echo(f"machine: {results['machine']}")
    for name in names:
        r = results[name]
        if "error" in r:
            typer.echo(f"{name:10} {r['error']}")
            continue
        verdict = "" if r.get("met", True) else "  (target NOT met)"
        typer.echo(
            f"{name:10} {r['value']:>12,} {r['unit']:10} baseline {r['baseline']:>12,} "
            f"ratio {r['ratio']:>6}x  target {r['target']}{verdict}"
        )
        extras = {k: v for k, v in r.items() if k not in _SHOWN and not _is_table(v)}
        if extras:
            typer.echo("           " + ", ".join(f"{k}={v}" for k, v in extras.items()))
        for key, rows in r.items():
            if _is_table(rows):
                for row in rows:
                    typer.echo(f"           {key}: " + ", ".join(_flat(row)))


def _is_table(value: object) -> bool:
    """A list of records (e.g. the bridge suite's fleets): one line each."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _flat(row: dict[str, object], prefix: str = "") -> list[str]:
    out: list[str] = []
    for k, v in row.items():
        if isinstance(v, dict):
            out += _flat(v, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k}={v}")
    return out
