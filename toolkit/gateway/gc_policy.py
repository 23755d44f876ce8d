"""The bridge process's garbage-collector settings: short pauses under load.

CPython's cyclic collector stops the world, and a full (generation 2)
collection walks every tracked object. In a bridge process most of those are
import-time objects that never die (compiled validators, schemas, the
grammar jsonschema's URI check builds), plus one-off garbage from start-up.
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
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def settle_heap() -> None:
    """Apply the policy (see the module docstring); call after start-up."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
