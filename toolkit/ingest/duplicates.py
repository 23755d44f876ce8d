"""What counts as a duplicate message id, decided the same way in a block and across blocks.

OCPP-J (1.6 and 2.0.1 Part 4, "Message ID") asks a sender for an id unique
among its CALLs on one WebSocket connection; what matters in practice is that
a result can be matched to exactly one outstanding CALL. A log does not show
connections, and chargers often restart a counter ("1", "2", ...) on every
reboot, so a rule of "never reuse an id" would flag every reboot. The rule:

    A CALL is a **duplicate_message_id** when the same sender (charge point
    id and direction) sent an earlier CALL with the same message id that is
    still unanswered, and that earlier CALL is at most
    :data:`OPEN_CALL_WINDOW_US` older than it by the log's clock.

* Only CALLs are judged (results name the call they answer; a result
  without one is an ``orphan_result``). The action does not have to match:
  two outstanding CALLs with one id make their results ambiguous either way.
* Once a CALL is answered, its id is free again: a charger reusing "1"
  after its "1" was answered (a moment or hours earlier) is not flagged.
* An unanswered CALL older than the window counts as timed out (OCPP
  response timeouts are 30-60 s in common implementations; the specs leave
  it to configuration): a charger that lost an answer, rebooted and started
  its counter again is not flagged. Five minutes gives those timeouts ample
  margin while staying well below the usual reboot-and-resume pattern.
* Without a log time on either side (a bare frame log) the earlier CALL is
  taken as still open.
* Either way the new CALL supersedes the earlier one: a later result matches
  the new CALL (in a block this is the ``pending`` table being overwritten;
  across blocks the carried call is dropped).

Across blocks the parent remembers only the calls still unanswered at block
ends (at most :data:`ocppkit.toolkit.ingest.pipeline.CARRIED_CALLS_MAX`, oldest
forgotten first and counted as ``unanswered_calls_forgotten``); a block
hands back the rows of the CALLs that opened a new id in it, and those are
compared with what is carried. So memory is bounded by the unanswered calls
and the calls of the blocks in flight, never by the log's length.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ocppkit.toolkit.ingest.rows import as_us

OPEN_CALL_WINDOW_US = 300_000_000  # an unanswered CALL older than 5 min counts as timed out

Key = tuple[str | None, str | None, str]
Call = tuple[Any, Any, str | None, int]  # (action, log time, direction, row)


def still_open(call_ts: Any, ts: Any) -> bool:
    """Whether an unanswered CALL logged at ``call_ts`` still holds its id at ``ts``.

    Both are a reader's times (epoch microseconds, RFC 3339 text or None).
    """
    earlier, now = as_us(call_ts), as_us(ts)
    return earlier is None or now is None or now - earlier <= OPEN_CALL_WINDOW_US


def across_blocks(
    carried: dict[Key, Call], frames: pa.RecordBatch, call_rows: np.ndarray
) -> list[int]:
    """Rows of ``frames`` whose CALL reuses the id of a CALL carried from earlier blocks.

    Every carried call a block CALL reuses is dropped from ``carried``
    (superseded, duplicate or not).

    Args:
        carried: unanswered calls of earlier blocks (after this block's late
            results were taken off); changed in place.
        frames: the block's frames batch.
        call_rows: rows of the block's CALLs that opened a new id in it.

    Returns:
        The rows to flag duplicate_message_id, in row order.
    """
    if not carried or not len(call_rows):
        return []
    rows = pa.array(call_rows)
    ids = frames.column("message_id")
    hit = pc.is_in(ids.take(rows), value_set=pa.array(list({k[2] for k in carried}), pa.string()))
    if not pc.any(hit).as_py():
        return []
    flagged = []
    times = frames.column("timestamp").cast(pa.int64())
    cps, directions = frames.column("charge_point_id"), frames.column("direction")
    for row in rows.filter(hit).to_pylist():
        cp, mid = cps[row].as_py(), ids[row].as_py()
        # The frame holds the direction as written, or as inferred when the log did not
        # say it; the key of such a call has None there.
        for key in ((cp, directions[row].as_py(), mid), (cp, None, mid)):
            call = carried.pop(key, None)
            if call is not None:
                if still_open(call[1], times[row].as_py()):
                    flagged.append(row)
                break
    return flagged
