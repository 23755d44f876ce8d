"""Prometheus exposition: declared metrics only, valid text, cumulative buckets."""

from __future__ import annotations

import pytest

from ocppkit.toolkit.gateway.metrics import METRICS, Metrics


def test_render_lists_every_metric_with_help_and_type() -> None:
    text = Metrics().render()
    for name, (kind, _) in METRICS.items():
        assert f"# TYPE {name} {kind}" in text


def test_counters_labels_and_histogram_buckets_render_cumulatively() -> None:
    m = Metrics()
    m.inc("ocppkit_bridge_messages_total", leg="upstream", action='Odd"Name')
    m.inc("ocppkit_bridge_messages_total", leg="upstream", action='Odd"Name')
    for seconds in (0.0005, 0.003, 0.003, 50.0):
        m.observe("ocppkit_bridge_upstream_latency_seconds", seconds)
    text = m.render()
    assert 'ocppkit_bridge_messages_total{action="Odd\\"Name",leg="upstream"} 2' in text
    assert 'ocppkit_bridge_upstream_latency_seconds_bucket{le="0.001"} 1' in text
    assert 'ocppkit_bridge_upstream_latency_seconds_bucket{le="0.005"} 3' in text
    assert 'ocppkit_bridge_upstream_latency_seconds_bucket{le="30.0"} 3' in text
    assert 'ocppkit_bridge_upstream_latency_seconds_bucket{le="+Inf"} 4' in text
    assert "ocppkit_bridge_upstream_latency_seconds_count 4" in text


def test_undeclared_metric_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        Metrics().inc("ocppkit_bridge_made_up_total")
