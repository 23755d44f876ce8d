"""The bridge process's garbage-collector settings: short pauses under load.

CPython's cyclic collector stops the world, and a full (generation 2)
collection walks every tracked object. In a bridge process most of those are
import-time objects that never die (compiled validators, schemas, the
validation slow path with jsonschema's URI grammar), plus one-off garbage from start-up.
Measured with 1,000 chargers at 2,000 messages/s (``ocppkit bench bridge``),
full collections paused the loop for 100-300 ms several times a minute, which
was the whole of the bridge's p99 latency.

So, once the bridge is up (a process-wide policy: only the ``bridge``
command applies it, never a library import):

1. collect once, then :func:`gc.freeze` what is left: the start-up heap moves
   to the permanent generation, which collections no longer walk;
2. raise the generation-0 threshold from 700 to :data:`YOUNG_THRESHOLD`
   allocations. Objects of a message in flight live for about a millisecond;
   collecting every 700 allocations promoted them to the older generations,
   whose growth is what triggers full collections. Collected less often,
   they are mostly freed by reference counting before any collection sees
   them, and a young collection only walks what is still alive.

What remains is proportional to the connected chargers' own objects (about
200 per charger) and rare: a full collection runs when the objects promoted
since the last one exceed a quarter of the long-lived ones.

The pauses that remain are measured: ``observe`` is told each collection's
duration and generation (the bridge exports them as the histogram
``ocppkit_bridge_gc_pause_seconds``), so an operator sees them grow with the
fleet instead of guessing.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

YOUNG_THRESHOLD = 20_000


def settle_heap(observe: Callable[[float, int], None] | None = None) -> None:
    """Apply the policy (see the module docstring); call after start-up.

    Args:
        observe: told ``(seconds, generation)`` after every collection.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if observe is not None:
        gc.callbacks.append(_timer(observe))


def _timer(observe: Callable[[float, int], None]) -> Callable[[str, dict[str, Any]], None]:
    started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            observe(time.perf_counter() - started[0], info["generation"])

    return on_gc
