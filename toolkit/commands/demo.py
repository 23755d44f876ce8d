"""`ocppkit demo`: the README's main job, end to end (see :mod:`ocppkit.toolkit.demo`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the demo writes everything.")] = Path(
        "ocppkit-demo"
    ),
    chargers: Annotated[
        int, typer.Option(help="Simulated legacy chargers (1.5 SOAP and 1.6J).")
    ] = 6,
    hours: Annotated[float, typer.Option(help="Simulated hours of charger life.")] = 14.0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated fleet.")] = 2026,
) -> None:
    """CSMS + bridge + simulated legacy fleet, then ingest, analyse and check, all under --out."""
    from tqdm import tqdm

    from ocppkit.toolkit.demo import DemoSettings, run_demo

    settings = DemoSettings(chargers=chargers, seed=seed, simulated=timedelta(hours=hours))
    with tqdm(
        total=100, unit="%", desc="simulated time", leave=True, bar_format="{l_bar}{bar}| {elapsed}"
    ) as bar:

        def progress(fraction: float) -> None:
            bar.update(max(0, round(100 * fraction) - bar.n))

        result = run_demo(out, settings, progress=progress, say=lambda text: tqdm.write(text))
    s = result.summary
    sessions, faults, costs = s["sessions"], s["faults"], s.get("costs", {})
    avail = s["availability"]
    codes = ", ".join(f"{k} x{v}" for k, v in faults["by_code"].items()) or "none"
    check = (
        "every session in both datasets matches the simulator"
        if not result.mismatches
        else "; ".join(result.mismatches[:5])
    )
    lines = [
        "",
        f"sessions  {sessions['sessions']} on {sessions['chargers']} chargers, "
        f"{sessions['energy_kwh']:.1f} kWh, mean {sessions['mean_energy_kwh']:.1f} kWh / "
        f"{sessions['mean_duration_h']:.2f} h; "
        f"{sessions['charging_pct']:.1f} % of port time charging",
        f"faults    {faults['faults']} ({codes}); {faults['reboots']} boots; "
        f"NEVI uptime over the period: {avail['nevi_ports_meeting_97']}/{avail['nevi_ports']} "
        "ports >= 97 % (indicative: the rule is annual)",
        f"costs     {costs.get('revenue_incl_vat', 0):.2f} {costs.get('currency', '')} incl. VAT "
        f"for {costs.get('sessions_priced', 0)} sessions; CSMS-reported totals matching ours: "
        f"{costs.get('matching_reported', 0)}/{costs.get('reported', 0)}",
        f"bridge    {result.csms_violations} schema violations seen by the strict CSMS; "
        f"{len(result.truth.sessions)} sessions run by the simulator",
        f"check     {check}",
        "",
        f"written to {out}/: journal/ (bridge, both legs), csms-journal/, bridge.db, truth.json,",
        "           dataset-legacy/ (1.5/1.6 leg), dataset-2.0.1/ (CSMS leg), report/index.html",
    ]
    for line in lines:
        typer.echo(line)
    raise typer.Exit(0 if result.ok else 1)
