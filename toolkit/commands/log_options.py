"""The options the log commands share: how to read a log, and whether to show progress."""

from __future__ import annotations

from typing import Annotated

import typer

from ocppkit.translators.errors import ConfigError

Logs = Annotated[list[str], typer.Argument(help="Log files (plain or gzipped), oldest first.")]
Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Force the reader: journal, trace, csv, ocpp-logger, evcc, soap15, frames, octt.",
    ),
]
OcppVersionOpt = Annotated[
    str | None,
    typer.Option("--ocpp-version", help="Version of logs that do not say it (default: guess)."),
]
ChargePointId = Annotated[
    str | None, typer.Option("--charge-point-id", help="Charger id of logs that name none.")
]
Side = Annotated[
    str, typer.Option("--side", help="Who wrote the logs: csms or cs (for 'receive', 'IN').")
]


def check_side(side: str) -> str:
    """``side`` when it is csms or cs; a one-line error otherwise."""
    if side not in ("csms", "cs"):
        raise ConfigError(f"--side must be csms or cs, not {side!r}")
    return side


ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress bar on stderr (default: only when stderr is a terminal).",
    ),
]
