"""The report's figures stay readable with 5,000 chargers: aggregates and top-N, not a line each.

Each figure is drawn from inputs shaped like a 5,000-charger fleet's and its
artists are counted: bars, lines and markers stay bounded whatever the fleet.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from ocppkit.toolkit.analysis import figures
from ocppkit.toolkit.analysis.findings import state_minutes_per_day

CHARGERS = 5_000
T0 = pd.Timestamp("2026-01-01T00:00:00Z")


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    yield
    plt.close("all")


def nevi_table(ports: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    uptime = 100 - rng.exponential(1.5, ports)
    return pd.DataFrame(
        {
            "charge_point_id": [f"CP{i // 2:05d}" for i in range(ports)],
            "evse_id": [1 + i % 2 for i in range(ports)],
            "total_min": 525_600.0,
            "outage_min": (100 - uptime) * 5256,
            "excluded_min": 0.0,
            "unknown_min": 0.0,
            "uptime_pct": uptime,
            "meets_97": uptime > 97,
        }
    )


def bars(fig: plt.Figure) -> int:
    return sum(len(ax.patches) for ax in fig.axes)


def test_uptime_of_10000_ports_is_a_distribution_and_the_20_lowest_ports() -> None:
    nevi = nevi_table(2 * CHARGERS)
    fig = figures.uptime_bars(nevi)
    hist, lowest = fig.axes
    assert len(hist.patches) == 40  # histogram bins, not ports
    assert len(lowest.patches) == 20
    worst = nevi.sort_values("uptime_pct").head(20)
    labels = [t.get_text() for t in lowest.get_xticklabels()]
    assert labels == [f"{c}/{e}" for c, e in zip(worst["charge_point_id"], worst["evse_id"],
                                                 strict=True)]  # fmt: skip
    assert str(2 * CHARGERS) in hist.get_title()


def test_a_few_ports_keep_one_bar_each() -> None:
    fig = figures.uptime_bars(nevi_table(8))
    assert len(fig.axes) == 1 and bars(fig) == 8


def test_energy_register_of_5000_chargers_draws_the_12_with_most_anomalies() -> None:
    times = pd.Series(pd.date_range(T0, periods=3, freq="h"))
    lines = [
        figures.RegisterLine(f"CP{i:05d}", times, pd.Series([1.0, 2.0, 3.0]), times[:0],
                             pd.Series([], dtype=float), flagged_sessions=i % 97)
        for i in range(CHARGERS)
    ]  # fmt: skip
    fig = figures.energy_register_of(lines)
    (ax,) = fig.axes
    assert len(ax.lines) == 12
    drawn = {line.get_label() for line in ax.lines}
    assert all(int(cp[2:]) % 97 == 96 for cp in drawn)  # the most flagged sessions
    assert "of 5000" in ax.get_title()


def test_port_states_of_many_ports_are_one_stacked_bar_per_day() -> None:
    days, ports = 30, 200  # as many ports as it takes: the figure's bars follow the days
    rows = [
        (f"CP{p:04d}", 1, T0 + pd.Timedelta(days=d), T0 + pd.Timedelta(days=d, hours=20),
         "Available", "working")
        for p in range(ports) for d in range(days)
    ] + [
        (f"CP{p:04d}", 1, T0 + pd.Timedelta(days=d, hours=20), T0 + pd.Timedelta(days=d + 1),
         "Faulted", "out_of_order")
        for p in range(ports) for d in range(days)
    ]  # fmt: skip
    intervals = pd.DataFrame(
        rows, columns=["charge_point_id", "evse_id", "start", "end", "status", "state"]
    )
    per_day = state_minutes_per_day(intervals)
    fig = figures.state_shares(per_day, ports)
    (ax,) = fig.axes
    assert bars(fig) == days * len(figures.STATE_COLOURS)
    heights = {(round(p.get_height(), 6)) for p in ax.patches if p.get_height() > 0}
    assert heights == {round(100 * 20 / 24, 6), round(100 * 4 / 24, 6)}


def test_many_fault_codes_are_the_top_14_and_the_rest() -> None:
    by_code = pd.DataFrame(
        {"code": [f"E{i}" for i in range(300)], "vendor": "", "faults": range(300, 0, -1)}
    )
    fig = figures.fault_pareto(by_code)
    assert bars(fig) == 15
    assert fig.axes[0].patches[-1].get_height() == sum(range(1, 300 - 14 + 1))


def test_session_histograms_from_counted_bins_draw_the_bins() -> None:
    energy = figures.histogram(np.arange(1_000_000) % 70)
    duration = figures.histogram(np.arange(1_000_000) % 9)
    fig = figures.session_histograms_of(energy, duration)
    assert [len(ax.patches) for ax in fig.axes] == [1, 1]  # one stairs patch each
    assert energy[0].sum() == duration[0].sum() == 1_000_000
