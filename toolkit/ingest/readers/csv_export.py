"""CSV exports: a header naming the columns, then one frame per row.

The shape (field findings §4): ``timestamp,id,action,msg``, where ``id`` is
the charger, ``action`` is the CALL's action (empty for results) and
``msg`` holds the frame, as JSON or as a Python literal (single quotes,
``True``/``None``) that some generators write. A Python literal is read
with :func:`ast.literal_eval`, which accepts literals only and never runs
code.

The header's names are matched case-insensitively against the alias tables
below; a ``direction`` column is used when present. Without one, the
direction is who sends the action (:data:`ocppkit.toolkit.ingest.vocab.CS_ACTIONS`),
and a result goes the other way from its call. The file is read in one pass
(the header and the open calls belong to the whole file).
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ocppkit.toolkit.ingest import vocab
from ocppkit.toolkit.ingest.events import (
    CS_TO_CSMS,
    CSMS_TO_CS,
    REVERSE,
    Bad,
    FrameEvent,
    bad,
    decode_frame,
    frame_reason,
    parse_ts,
)
from ocppkit.toolkit.ingest.readers import ReaderOptions
from ocppkit.toolkit.ingest.readers.frames import DIRECTION_VALUES
from ocppkit.translators.errors import FrameError

NAME = "csv"
SPLITTABLE = False

TS_NAMES = ("timestamp", "time", "ts", "datetime", "date", "captured_at")
CP_NAMES = ("id", "charge_point_id", "charger_id", "chargebox_id", "cp", "station_id",
            "charging_station_id", "identity")  # fmt: skip
FRAME_NAMES = ("msg", "message", "frame", "raw", "raw_frame", "payload")
DIR_NAMES = ("direction", "dir", "origin")
_MAX_PENDING = 100_000


def _columns(header: list[str]) -> dict[str, int] | None:
    names = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for role, aliases in (("ts", TS_NAMES), ("cp", CP_NAMES), ("frame", FRAME_NAMES),
                          ("dir", DIR_NAMES)):  # fmt: skip
        for alias in aliases:
            if alias in names:
                found[role] = names.index(alias)
                break
    return found if "ts" in found and "frame" in found else None


def _row(line: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(line.decode("utf-8", "replace"))), [])


def sniff(lines: list[bytes]) -> float:
    if not lines or _columns(_row(lines[0])) is None:
        return 0.0
    return 1.0


def parse_message(text: str) -> Any:
    """The frame in a cell: JSON, else a Python literal (never evaluated as code).

    Raises:
        ValueError: neither.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError) as exc:
        raise ValueError(f"the frame is neither JSON nor a Python literal ({exc})") from None


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    version = options.version or "1.6"
    columns: dict[str, int] | None = None
    calls: dict[tuple[str | None, str], str] = {}  # (charger, id) -> direction of the call
    for number, line in lines:
        cells = _row(line)
        if columns is None:
            columns = _columns(cells)
            if columns is None:
                yield bad(number, "CSV header without timestamp and frame columns", line)
                return
            continue
        if len(cells) <= max(columns.values()):
            yield bad(number, f"CSV row with {len(cells)} of {len(columns)} named columns", line)
            continue
        try:
            message = parse_message(cells[columns["frame"]])
            mtype, mid, action, payload = decode_frame(message)
        except ValueError as exc:
            yield bad(number, str(exc), line)
            continue
        except FrameError as exc:
            yield bad(number, frame_reason(exc), line)
            continue
        cp = cells[columns["cp"]].strip() if "cp" in columns else None
        cp = cp or options.charge_point_id
        direction = None
        if "dir" in columns:
            direction = DIRECTION_VALUES.get(cells[columns["dir"]].strip().lower())
        if direction is None:
            if mtype == 2:
                direction = CS_TO_CSMS if action in vocab.CS_ACTIONS else CSMS_TO_CS
            else:
                sent = calls.pop((cp, mid), None)
                direction = REVERSE[sent] if sent else None
        if mtype == 2 and direction is not None:
            calls[(cp, mid)] = direction
            if len(calls) > _MAX_PENDING:
                calls.pop(next(iter(calls)))
        ts = parse_ts(cells[columns["ts"]].strip())
        yield FrameEvent(ts, cp, direction, version, mtype, mid, action, payload, number)
