"""Writing journal records to size-rotated JSON-lines files.

Files are named ``journal-<UTC start>-<n>.jsonl`` (``.jsonl.gz`` when
gzipped) in one directory; a file is closed and a new one started when it
passes ``max_bytes``. By default every record is flushed as written, so a
crash loses at most the line being written (and a reader quarantines a torn
last line). A busy event loop may pass ``flush_soon`` (e.g. ``loop.call_soon``)
instead: the records written during one turn of the loop then reach the file
in one write at the end of the turn, and a kill -9 loses at most that turn's
records (measured in the bridge: a write per record was the largest cost of
journaling).
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ocppkit.translators.journal import JournalRecord, encode_record

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class JournalWriter:
    """Appends records to a directory of rotated journal files (thread-safe).

    Args:
        directory: where the files go (created when missing).
        max_bytes: uncompressed bytes per file before rotating.
        compress: gzip each file.
        flush_soon: schedules a callback to run soon (``loop.call_soon``);
            given, records are flushed once per scheduling instead of each.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        compress: bool = False,
        flush_soon: Callable[[Callable[[], None]], object] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.compress = compress
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._written = 0
        self._index = 0
        self._seq = 0
        self._flush_soon = flush_soon
        self._flush_due = False
        self.paths: list[Path] = []

    def _open(self) -> IO[bytes]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self._index += 1
        suffix = ".jsonl.gz" if self.compress else ".jsonl"
        path = self.directory / f"journal-{stamp}-{self._index:04d}{suffix}"
        self.paths.append(path)
        self._written = 0
        if self.compress:
            return gzip.open(path, "ab")  # type: ignore[return-value]
        return path.open("ab")

    def write(self, record: JournalRecord) -> None:
        """Append one record (its ``seq`` is set here when missing)."""
        with self._lock:
            if record.seq is None:
                record = JournalRecord(
                    timestamp=record.timestamp,
                    charge_point_id=record.charge_point_id,
                    direction=record.direction,
                    ocpp_version=record.ocpp_version,
                    message=record.message,
                    leg=record.leg,
                    seq=self._seq,
                    meta=record.meta,
                )
            self._seq += 1
            if self._file is None or self._written >= self.max_bytes:
                self.close_file()
                self._file = self._open()
            line = encode_record(record) + b"\n"
            self._file.write(line)
            self._written += len(line)
            if self._flush_soon is None:
                self._file.flush()
            elif not self._flush_due:
                self._flush_due = True
                self._flush_soon(self.flush)

    def flush(self) -> None:
        """Write what is buffered to the file."""
        with self._lock:
            self._flush_due = False
            if self._file is not None:
                self._file.flush()

    def close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        with self._lock:
            self.close_file()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
