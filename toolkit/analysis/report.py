"""`ocppkit report`: the analyses as a static HTML page with PNG figures and a JSON summary.

The page is plain HTML and CSS (no script), so it opens anywhere and prints
well. Each section has its figure and a sentence saying what the figure
shows and how to read it; the rules behind availability are stated next to
the numbers.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ocppkit.toolkit.analysis import figures
from ocppkit.toolkit.analysis.availability import NEVI_EXCLUSION_REASONS, Exclusion
from ocppkit.toolkit.analysis.dataset import Dataset
from ocppkit.toolkit.analysis.findings import TIMELINE_PORTS, Findings, Options, findings
from ocppkit.toolkit.analysis.inventory import Inventory
from ocppkit.toolkit.tariff import Tariff

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:right}th{background:#f4f4f4}
img{max-width:100%;border:1px solid #eee}.scroll{overflow-x:auto}.note{color:#555;font-size:.9em}
.kpis{display:flex;flex-wrap:wrap;gap:1em}
.kpi{background:#f6f8fa;padding:.6em 1em;border-radius:6px}
.kpi b{display:block;font-size:1.3em}
"""


PERIOD_RULE = (
    " (the given period). Sessions, charge attempts, faults, CALLERRORs and boots count in the"
    " period they start in, a session's energy and cost with it, so consecutive periods add up"
    " to the whole; availability and utilisation are the time inside the period, from the"
    " status in force at its start."
)


@dataclass
class _Page:
    out: Path
    parts: list[str] = field(default_factory=list)
    figures: int = 0

    def h2(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def p(self, text: str) -> None:
        self.parts.append(f"<p class='note'>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame, rows: int = 30, total: int | None = None) -> None:
        """The first ``rows`` rows; ``total``: how many the whole table has (default: all)."""
        shown = frame.head(rows)
        table = shown.to_html(index=False, float_format=lambda v: f"{v:,.2f}", na_rep="-")
        self.parts.append(f"<div class='scroll'>{table}</div>")
        whole = len(frame) if total is None else total
        if whole > rows:
            self.p(f"first {rows} of {whole} rows")

    def figure(self, fig: Figure, name: str, caption: str) -> None:
        self.figures += 1
        path = self.out / f"{self.figures:02d}-{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        self.parts.append(f"<img src='{path.name}' alt='{html.escape(caption)}'>")
        self.p(caption)

    def kpis(self, values: dict[str, str]) -> None:
        cells = "".join(
            f"<div class='kpi'>{html.escape(k)}<b>{html.escape(v)}</b></div>"
            for k, v in values.items()
        )
        self.parts.append(f"<div class='kpis'>{cells}</div>")


def _jsonable(value: Any) -> Any:
    """``value`` as strict JSON data: NaN and infinities become None (``null``),
    numpy and pandas scalars plain Python, timestamps RFC 3339 text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


SUMMARY_SCHEMA = Path(__file__).with_name("summary.schema.json")


def summary_violations(summary: Any) -> list[str]:
    """Where ``summary`` breaks :data:`SUMMARY_SCHEMA` (empty: it conforms)."""
    import jsonschema

    schema = json.loads(SUMMARY_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
        for e in validator.iter_errors(summary)
    ]


def strict_json(summary: dict[str, Any]) -> str:
    """The summary as strict JSON (RFC 8259: no NaN, no Infinity)."""
    return json.dumps(_jsonable(summary), indent=2, allow_nan=False)


def build_report(
    dataset: str | Path | Dataset,
    out: str | Path,
    *,
    tariff: Tariff | None = None,
    tz: str = "UTC",
    rated_power_kw: dict[str, float] | None = None,
    offline_after: pd.Timedelta | None = None,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    inventory: Inventory | None = None,
    exclusions: Sequence[Exclusion] = (),
    port_rule: str = "any",
    chargers: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    engine: str = "pandas",
    batch_size: int | None = None,
    batch_rows: int | None = None,
    memory_limit: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    spark: Any = None,
) -> dict[str, Any]:
    """Write ``out/index.html``, its PNG figures and ``out/summary.json``.

    Args:
        dataset: a dataset directory (or a loaded :class:`Dataset`, pandas engine only).
        out: the report directory (created).
        tariff: when given, sessions are priced and compared with reported costs.
        tz: time zone for the start-time heat map.
        rated_power_kw: per charger, for the UK rapid-network rule (absent:
            the inventory's, else the largest power seen in its sessions).
        offline_after: silence after which a charger counts as offline
            (default: 3 heartbeat intervals, see :mod:`ocppkit.toolkit.analysis.scope`).
        period: the analysis period (default: first to last frame per charger).
        inventory: the port inventory (default: inferred from the logs).
        exclusions: NEVI excluded outages, with their evidence.
        port_rule: how a port with several connectors counts ("any" / "all").
        chargers, sites: only these chargers, or the chargers of these
            inventory sites (both: those in both).
        engine: "pandas" (the dataset in memory), "duckdb" (bounded memory) or "spark"
            (:mod:`ocppkit.toolkit.analysis.engine_spark`); the same numbers
            (:mod:`ocppkit.toolkit.analysis.findings`).
        batch_size, batch_rows, memory_limit: the duckdb engine's chargers and
            rows per batch at most, and DuckDB's memory limit.
        progress: duckdb engine: called with (batches done, batches).
        spark: spark engine: the SparkSession (None: a local one, or spark-submit's).

    Returns:
        the JSON summary (also written to ``summary.json``).
    """
    options = Options(
        tariff=tariff, tz=tz, rated_power_kw=rated_power_kw, offline_after=offline_after,
        period=period, inventory=inventory, exclusions=exclusions, port_rule=port_rule,
        chargers=chargers, sites=sites,
    )  # fmt: skip
    duck: dict[str, Any] = {}
    if engine == "duckdb":
        duck = {"batch_size": batch_size, "batch_rows": batch_rows,
                "memory_limit": memory_limit, "progress": progress}  # fmt: skip
    elif engine == "spark":
        duck = {"batch_size": batch_size, "batch_rows": batch_rows, "spark": spark}
    found = findings(dataset, options, engine, **duck)
    return render(found, out, options)


def render(found: Findings, out: str | Path, options: Options) -> dict[str, Any]:
    """The report page, its figures and ``summary.json`` from :class:`Findings`."""
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    page = _Page(target)
    scope = found.scope
    start, end = scope.start, scope.end
    port_rule, tz, tariff = options.port_rule, options.tz, options.tariff
    summary: dict[str, Any] = {
        "dataset": str(found.root),
        "period": [start.isoformat(), end.isoformat()],
        "scope": scope.describe(),
    }

    # -- sessions
    fleet, use = found.fleet, found.use
    summary["sessions"] = {**fleet, **use}
    page.h2("Sessions")
    page.kpis(
        {
            "sessions": f"{fleet['sessions']}",
            "chargers": f"{fleet['chargers']}",
            "energy": f"{fleet['energy_kwh']:,.1f} kWh",
            "mean session": f"{fleet['mean_energy_kwh']:.1f} kWh, {fleet['mean_duration_h']:.2f} h",
            "charging / idle": f"{fleet['charging_h']:.1f} h / {fleet['idle_h']:.1f} h",
            "utilisation": (
                f"{use['charging_pct']:.1f} % charging, {use['occupancy_pct']:.1f} % occupied"
            ),
        }
    )
    page.p(
        f"Utilisation is over all {len(scope.ports)} ports of the "
        + ("inventory" if not scope.inventory.inferred else "inventory inferred from the logs")
        + ", each over its own period: charging time / port time; ports that never charged "
        "count with 0 %."
    )
    page.figure(
        figures.session_histograms_of(found.energy_hist, found.duration_hist),
        "sessions",
        "How much energy sessions took and how long cars stayed plugged in. Long plug-in times "
        "with little energy point at idle cars blocking ports.",
    )
    page.figure(
        figures.start_heatmap(found.heat, tz),
        "starts",
        "When drivers start charging: darker cells are busier weekday-hour slots.",
    )
    page.table(found.kpis_head, total=int(fleet["sessions"]))

    # -- meter values and anomalies
    flagged = found.flagged
    summary["anomalies"] = dict(found.anomaly_counts)
    page.h2("Meter values and anomalies")
    page.figure(
        figures.power_curves_of(found.curves),
        "power",
        "Charging power over each session: the taper near the end is the battery filling; a "
        "flat zero tail is idle time.",
    )
    page.figure(
        figures.energy_register_of(found.register_lines),
        "register",
        "Each charger's energy register should only rise; red crosses mark sessions with an "
        "anomaly.",
    )
    page.p(
        f"{len(flagged)} of {found.anomaly_sessions} sessions carry at least one anomaly flag "
        "(flags are never corrected: a person decides)."
    )
    page.table(flagged)

    # -- availability
    nevi, uk_network, uk_table = found.nevi, found.uk_network, found.uk_table
    summary["availability"] = {
        "offline_assessed": scope.offline_assessed,
        "inventory_inferred": scope.inventory.inferred,
        "port_rule": port_rule,
        "nevi_ports": len(nevi),
        "nevi_ports_meeting_97": int(nevi["meets_97"].sum()) if len(nevi) else 0,
        "nevi_mean_uptime_pct": float(nevi["uptime_pct"].mean()) if len(nevi) else None,
        "unknown_min": float(nevi["unknown_min"].sum()) if len(nevi) else 0.0,
        "excluded_min": float(nevi["excluded_min"].sum()) if len(nevi) else 0.0,
        "uk_rapid_network_pct": uk_network,
        "ports": [
            {
                "charge_point_id": str(r.charge_point_id),
                "evse_id": int(r.evse_id),
                "total_min": float(r.total_min),
                "outage_min": float(r.outage_min),
                "excluded_min": float(r.excluded_min),
                "unknown_min": float(r.unknown_min),
                "uptime_pct": float(r.uptime_pct),
                "meets_97": bool(r.meets_97),
            }
            for r in nevi.itertuples(index=False)
        ],
    }
    page.h2("Availability")
    if found.ports_seen <= TIMELINE_PORTS:
        page.figure(
            figures.status_timeline(found.timeline),
            "timeline",
            "Each port's state over the period: green working, amber taken out of service, red "
            "faulted, grey unknown (no report yet, the charger offline, or no frame at all).",
        )
    else:
        page.figure(
            figures.state_shares(found.state_days, found.ports_seen),
            "timeline",
            "All ports' time per day by state, as a share of the port time: green working, "
            "amber taken out of service, red faulted, grey unknown (no report yet, the charger "
            "offline, or no frame at all).",
        )
    page.figure(
        figures.uptime_bars(nevi),
        "uptime",
        "Uptime per port by the 23 CFR 680.116(b) formula over this period; red bars are below "
        "97 %.",
    )
    thresholds = sorted({t.total_seconds() / 60 for t in scope.thresholds.values()})
    page.p(
        "Period: "
        + (
            "as given"
            if scope.explicit
            else "each charger's first to last frame of any kind (heartbeats included)"
        )
        + ". Ports: "
        + (
            "from the inventory"
            if not scope.inventory.inferred
            else "inferred from the logs (statuses, sessions, meter values, configuration "
            "answers); give --inventory to list ports that never reported"
        )
        + f"; a port with several connectors is up while {port_rule} of them "
        + ("is" if port_rule == "any" else "are")
        + " up (23 CFR 680.104: a port charges one EV at a time; 680.116(b)(1): up when "
        "available for use or in use). "
        "NEVI (23 CFR 680.116(b)): uptime = (T - (T_outage - T_excluded)) / T; outage is any time "
        "not working, unknown time (no status yet, offline, no frame) included; allowed "
        "exclusions: "
        + ", ".join(sorted(NEVI_EXCLUSION_REASONS))
        + f" and hours outside operating hours ({len(scope.exclusions)} supplied). "
        + (
            "Offline: silence longer than "
            + ", ".join(f"{m:g}" for m in thresholds)
            + " min (3 heartbeat intervals, or --offline-after), from the threshold on. "
            if scope.offline_assessed
            else "Offline time is not assessed: the frames' receive times do not cover the "
            "period (a replayed or accelerated log). "
        )
        + "The rule is annual: over a shorter period the figure is indicative. UK PCPR 2023: "
        "rapid points (>= 50 kW) only, unknown time ineligible; network average "
        + ("n/a (no rapid point)" if uk_network != uk_network else f"{uk_network:.2f} %")
        + "."
    )
    page.table(nevi)
    page.table(found.per_port_use)
    if not uk_table.empty:
        page.table(uk_table)

    # -- faults
    by_code = found.by_code
    summary["faults"] = {
        "faults": found.faults,
        "by_code": {str(c): int(n) for c, n in zip(by_code["code"], by_code["faults"], strict=True)}
        if len(by_code)
        else {},
        "reboots": int(found.reboots["boots"].sum()) if len(found.reboots) else 0,
    }
    chargex = found.chargex
    summary["chargex"] = chargex
    page.h2("Faults and reliability")
    page.figure(
        figures.fault_pareto(by_code),
        "faults",
        "Which error codes occur most: fix the tallest bar first.",
    )
    page.table(by_code)
    page.table(found.reliability)
    page.table(found.reboots)
    page.table(found.callerrors)
    page.p(
        "ChargeX: charge start success "
        + ", ".join(
            f"{k.replace('_', ' ')} {v:.1f}" for k, v in chargex.items() if isinstance(v, float)
        )
        + f" ({chargex['scope']})."
    )

    # -- costs
    if tariff is not None and found.costs is not None:
        summary["costs"] = found.costs
        page.h2("Costs")
        revenue = found.daily_revenue
        page.figure(
            figures.daily_energy_and_revenue(found.daily, revenue, tariff.currency),
            "revenue",
            f"Energy per day and what it earns under tariff {tariff.id or '(unnamed)'}.",
        )
        compared = found.compared_head
        assert compared is not None
        page.table(compared, total=int(compared.attrs.get("rows", len(compared))))

    # -- data quality
    summary["quarantine"] = found.quarantine
    page.h2("Data quality")
    page.p(
        f"{found.quarantine} log lines or frames could not be used; each is listed with its reason."
    )
    page.table(found.quarantine_head, total=found.quarantine)

    title = f"ocppkit report: {found.root.name}"
    body = "\n".join(page.parts)
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p class='note'>{html.escape(start.isoformat())} to {html.escape(end.isoformat())}"
        f"{html.escape(PERIOD_RULE if scope.explicit else '')}</p>"
        f"{body}</body></html>"
    )
    (target / "index.html").write_text(document, encoding="utf-8")
    text = strict_json(summary)
    (target / "summary.json").write_text(text, encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result
