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

The journal is an observer: a failing disk (ENOSPC, EIO, a read-only
remount) must never stop the traffic it records. :meth:`JournalWriter.write`
therefore never raises :class:`OSError`: the record is dropped and counted
(:attr:`JournalWriter.dropped`), the file is abandoned (a reader
quarantines its torn last line), ``on_trouble`` is told at most once per
``report_every`` seconds, and a new file is tried again at most once per
``retry_every`` seconds, so writing resumes by itself when space returns.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ocppkit.translators.journal import JournalRecord, encode_record

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
RETRY_EVERY = 1.0  # seconds between attempts to write again after a failure
REPORT_EVERY = 60.0  # seconds between two reports of the same trouble
MIN_FREE_BYTES = 64 * 1024  # free space needed before a new file is tried after a failure

Trouble = Callable[[OSError | None, int], None]


class JournalWriter:
    """Appends records to a directory of rotated journal files (thread-safe).

    Args:
        directory: where the files go (created when missing).
        max_bytes: uncompressed bytes per file before rotating.
        compress: gzip each file.
        flush_soon: schedules a callback to run soon (``loop.call_soon``);
            given, records are flushed once per scheduling instead of each.
        on_trouble: called with ``(error, dropped so far)`` when writing fails
            (at most once per ``report_every`` seconds), and with
            ``(None, dropped so far)`` once writing works again.
        clock: monotonic seconds (for the retry and report intervals).
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        compress: bool = False,
        flush_soon: Callable[[Callable[[], None]], object] | None = None,
        on_trouble: Trouble | None = None,
        retry_every: float = RETRY_EVERY,
        report_every: float = REPORT_EVERY,
        clock: Callable[[], float] = time.monotonic,
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
        self._unflushed = 0  # records written to the buffer since the last flush
        self._on_trouble = on_trouble
        self._retry_every = retry_every
        self._report_every = report_every
        self._clock = clock
        self._failed_at: float | None = None  # when writing last failed; None: healthy
        self._reported_at: float | None = None
        self.error: OSError | None = None  # the failure in force, None while healthy
        self.dropped = 0  # records lost to write failures, since start
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
            if self._failed_at is not None and not self._may_retry():
                self._drop(1)
                return
            buffered = False
            try:
                if self._file is None or self._written >= self.max_bytes:
                    self.close_file()
                    self._file = self._open()
                line = encode_record(record) + b"\n"
                self._file.write(line)
                self._written += len(line)
                self._unflushed += 1
                buffered = True
                if self._flush_soon is None:
                    self._flush_locked()
                elif not self._flush_due:
                    self._flush_due = True
                    self._flush_soon(self.flush)
            except OSError as exc:
                self._failed(exc, 0 if buffered else 1)

    def _may_retry(self) -> bool:
        """After a failure: is it time to try again, and is there room now?"""
        assert self._failed_at is not None
        now = self._clock()
        if now - self._failed_at < self._retry_every:
            return False
        self._failed_at = now
        try:
            room = os.statvfs(self.directory)
        except OSError:
            return False
        # Not a new file per retry on a disk that is still full.
        return room.f_bavail * room.f_frsize >= MIN_FREE_BYTES

    def _flush_locked(self) -> None:
        if self._file is None:
            return
        self._file.flush()
        self._unflushed = 0
        if self._failed_at is not None:
            self._failed_at = self._reported_at = self.error = None
            if self._on_trouble is not None:
                self._on_trouble(None, self.dropped)

    def _drop(self, count: int) -> None:
        self.dropped += count
        now = self._clock()
        if (
            self._on_trouble is not None
            and self.error is not None
            and (self._reported_at is None or now - self._reported_at >= self._report_every)
        ):
            self._reported_at = now
            self._on_trouble(self.error, self.dropped)

    def _failed(self, exc: OSError, count: int) -> None:
        """Writing failed: the buffered records are lost with the file."""
        lost = self._unflushed + count
        self._unflushed = 0
        # Closing flushes the same full buffer again; the descriptor is closed anyway.
        with contextlib.suppress(OSError):
            self.close_file()
        self._file = None
        if self.paths:
            with contextlib.suppress(OSError):
                if self.paths[-1].stat().st_size == 0:  # nothing of it reached the disk
                    self.paths.pop().unlink()
        self._failed_at = self._clock()
        self.error = exc
        self._drop(lost)

    @property
    def healthy(self) -> bool:
        """False while records are being dropped."""
        return self.error is None

    def flush(self) -> None:
        """Write what is buffered to the file."""
        with self._lock:
            self._flush_due = False
            try:
                self._flush_locked()
            except OSError as exc:
                self._failed(exc, 0)

    def close_file(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def close(self) -> None:
        with self._lock:
            try:
                self.close_file()
            except OSError as exc:
                self._failed(exc, 0)

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
