"""Bridge metrics in the Prometheus text exposition format (version 0.0.4).

Hand-written rather than prometheus-client: a few dicts of numbers, no
dependency, no global registry (each bridge owns its :class:`Metrics`).
Every metric is declared once in :data:`METRICS`; using an undeclared name
is a programming error.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

# name -> (type, help)
METRICS: dict[str, tuple[str, str]] = {
    "ocppkit_bridge_connected_chargers": ("gauge", "Chargers connected downstream."),
    "ocppkit_bridge_upstream_connected": ("gauge", "Upstream CSMS links that are open."),
    "ocppkit_bridge_messages_total": (
        "counter",
        "Frames by leg, direction, type (call/result/error) and action (calls only).",
    ),
    "ocppkit_bridge_frame_errors_total": (
        "counter",
        "Malformed or invalid frames answered with a CALLERROR, by leg and code.",
    ),
    "ocppkit_bridge_translation_errors_total": (
        "counter",
        "Frames the translator refused or failed on, by reason.",
    ),
    "ocppkit_bridge_translation_notes_total": ("counter", "Translator notes by kind."),
    "ocppkit_bridge_dangling_transactions_total": (
        "counter",
        "Transactions the bridge ended upstream because the charger abandoned them, by rule.",
    ),
    "ocppkit_bridge_inferred_reasons_total": (
        "counter",
        "Stop reasons the bridge inferred from a cause it relayed, by rule.",
    ),
    "ocppkit_bridge_schema_violations_total": (
        "counter",
        "Translated frames that broke their target schema (a bug), by leg and action.",
    ),
    "ocppkit_bridge_timeouts_total": ("counter", "Calls left unanswered, by leg."),
    "ocppkit_bridge_stray_frames_total": (
        "counter",
        "Answers matching no call of ours, and 2.1 frames, by leg (never answered).",
    ),
    "ocppkit_bridge_late_answers_total": (
        "counter",
        "Answers that came after their call had timed out, by leg.",
    ),
    "ocppkit_bridge_in_flight_refusals_total": (
        "counter",
        "Charger calls refused because the charger had max_in_flight calls queued.",
    ),
    "ocppkit_bridge_upstream_lost_calls_total": (
        "counter",
        "Times the CSMS link closed while a call of the outbox was outstanding on it.",
    ),
    "ocppkit_bridge_dead_letters_total": (
        "counter",
        "Calls for the CSMS given up because the link closed at every attempt (poison_attempts).",
    ),
    "ocppkit_bridge_answers_dropped_total": (
        "counter",
        "Answers not sent because the connection that made the call is gone, by leg.",
    ),
    "ocppkit_bridge_upstream_reconnects_total": ("counter", "Upstream connection attempts."),
    "ocppkit_bridge_refused_total": ("counter", "Charger handshakes refused, by reason."),
    "ocppkit_bridge_outbox_depth": ("gauge", "Upstream calls stored and not yet answered."),
    "ocppkit_bridge_journal_dropped_total": (
        "counter",
        "Journal records lost because the journal could not be written (full disk, I/O error).",
    ),
    "ocppkit_bridge_journal_writable": (
        "gauge",
        "1 while the journal is written, 0 while failing.",
    ),
    "ocppkit_bridge_store_writable": (
        "gauge",
        "1 while the state database commits, 0 while its commits fail.",
    ),
    "ocppkit_bridge_owned_chargers": (
        "gauge",
        "Chargers whose lease this instance holds (it alone drives their state).",
    ),
    "ocppkit_bridge_lease_takeovers_total": (
        "counter",
        "Chargers taken over from another instance, by what its lease was (live, expired).",
    ),
    "ocppkit_bridge_fencing_rejections_total": (
        "counter",
        "Commits refused because another instance had taken the charger's lease.",
    ),
    "ocppkit_bridge_connections_closed_total": (
        "counter",
        "Connections the listener closed before admission, by reason "
        "(header_timeout, handshake_timeout, per_source_cap).",
    ),
    "ocppkit_bridge_soap_idle_closed_total": (
        "counter",
        "1.5 SOAP chargers silent past soap_idle_timeout whose CSMS connection was let go.",
    ),
    "ocppkit_bridge_soap_callbacks_refused_total": (
        "counter",
        "SOAP callbacks to a charger not made, by reason (address not allowed, "
        "redirect, answer too large...).",
    ),
    "ocppkit_bridge_credentials_rotated_total": (
        "counter",
        "Charger passwords changed through AuthorizationKey and stored.",
    ),
    "ocppkit_bridge_upstream_latency_seconds": (
        "histogram",
        "Time from sending a call upstream to its answer.",
    ),
    "ocppkit_bridge_queue_wait_seconds": (
        "histogram",
        "Time an input (a frame, a link change, a timer) waited for its charger's "
        "one-at-a-time slot before the bridge began on it.",
    ),
    "ocppkit_bridge_work_seconds": (
        "histogram",
        "The bridge's own time on one input once its turn came: deciding, "
        "committing and sending (the CSMS's answer time is not in it).",
    ),
    "ocppkit_bridge_gc_pause_seconds": (
        "histogram",
        "Garbage-collector pauses of the bridge process, by generation "
        "(recorded when the bridge runs as its own process).",
    ),
}

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Labels = tuple[tuple[str, str], ...]
_INF = 'le="+Inf"'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: str = "") -> str:
    parts = [f'{k}="{_escape(v)}"' for k, v in labels]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Metrics:
    """Counters, gauges and histograms of one bridge."""

    def __init__(self) -> None:
        self._values: dict[str, dict[Labels, float]] = {name: {} for name in METRICS}
        self._hist: dict[str, dict[Labels, list[float]]] = {}
        self._gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        series = self._values[name]
        key = tuple(sorted(labels.items()))
        series[key] = series.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        self._values[name][tuple(sorted(labels.items()))] = value

    def gauge_from(self, name: str, read: Callable[[], float]) -> None:
        """Read gauge ``name`` from ``read()`` at scrape time."""
        assert name in METRICS
        self._gauges[name] = read

    def observe(self, name: str, value: float, **labels: str) -> None:
        assert METRICS[name][0] == "histogram"
        key = tuple(sorted(labels.items()))
        # per series: one count per bucket, then +Inf count, then the sum
        counts = self._hist.setdefault(name, {}).setdefault(key, [0.0] * (len(BUCKETS) + 2))
        counts[bisect.bisect_left(BUCKETS, value)] += 1
        counts[-1] += value

    def value(self, name: str, **labels: str) -> float:
        """One series' current value (0 when never touched)."""
        if name in self._gauges:
            return self._gauges[name]()
        return self._values[name].get(tuple(sorted(labels.items())), 0.0)

    def total(self, name: str, **match: str) -> float:
        """Sum of the series of ``name`` whose labels include ``match``."""
        want = set(match.items())
        return sum(v for k, v in self._values[name].items() if want <= set(k))

    def render(self) -> str:
        """The exposition text served at ``/metrics``."""
        out: list[str] = []
        for name, (kind, text) in METRICS.items():
            out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")
            if kind == "histogram":
                for key, counts in self._hist.get(name, {}).items():
                    running = 0.0
                    for bound, n in zip(BUCKETS, counts, strict=False):
                        running += n
                        le = f'le="{bound}"'
                        out.append(f"{name}_bucket{_labels(key, le)} {running:g}")
                    running += counts[len(BUCKETS)]
                    out.append(f"{name}_bucket{_labels(key, _INF)} {running:g}")
                    out.append(f"{name}_sum{_labels(key)} {counts[-1]:g}")
                    out.append(f"{name}_count{_labels(key)} {running:g}")
                continue
            if name in self._gauges:
                out.append(f"{name} {self._gauges[name]():g}")
                continue
            for key, number in sorted(self._values[name].items()):
                out.append(f"{name}{_labels(key)} {number:g}")
        return "\n".join(out) + "\n"
