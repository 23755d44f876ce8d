"""The bridge bench's accounting of CPU and collector pauses, against counters read another way."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ocppkit.toolkit.gateway.bench import (
    GC_PAUSES,
    _cpu_seconds,
    _cpu_use,
    _gc_during,
    _machine_busy,
)
from ocppkit.toolkit.gateway.metrics import Metrics

SPIN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_a_child_that_spins_for_300_ms_of_cpu_is_read_as_about_that_much() -> None:
    child = subprocess.Popen([sys.executable, "-c", SPIN + "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        used = 0.0
        while used < 0.3 and time.monotonic() < deadline:  # bounded: until its spin is done
            time.sleep(0.05)
            used = _cpu_seconds(child.pid)
        # At least the spin (the interpreter's start-up comes on top), in clock ticks.
        assert 0.29 <= used < 5.0
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)


def test_this_process_is_read_from_its_own_times() -> None:
    t = os.times()
    assert _cpu_seconds(None) >= t.user + t.system


def test_cores_are_cpu_seconds_over_wall_seconds_and_the_machine_counters_only_grow() -> None:
    assert _cpu_use({"bridge": 1.0, "csms": 2.0}, {"bridge": 3.0, "csms": 2.5}, 2.0) == {
        "bridge": 1.0,
        "csms": 0.25,
    }
    busy, total = _machine_busy()
    time.sleep(0.05)
    busy2, total2 = _machine_busy()
    assert 0 <= busy <= total and busy2 >= busy and total2 > total


def test_the_collector_pauses_of_a_run_are_read_from_the_bridges_own_metrics_page() -> None:
    metrics = Metrics()
    metrics.observe(GC_PAUSES, 0.002, generation="0")
    before = metrics.render()
    for seconds, generation in ((0.001, "0"), (0.003, "0"), (0.12, "2"), (0.02, "2")):
        metrics.observe(GC_PAUSES, seconds, generation=generation)
    during = _gc_during(metrics.render(), before)
    assert during == {
        "0": {"count": 2, "total_ms": 4.0, "over_25_ms": 0},
        "2": {"count": 2, "total_ms": 140.0, "over_25_ms": 1},
    }
    assert _gc_during(before, before) == {}  # no collection in the run: nothing said
