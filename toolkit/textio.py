"""Opening the line streams the CLI reads: files, gzip files, stdin."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ocppkit.translators.errors import ConfigError

GZIP_MAGIC = b"\x1f\x8b"


@contextmanager
def open_binary(source: str | Path) -> Iterator[BinaryIO]:
    """Open ``source`` ('-' is stdin) for reading bytes, un-gzipping by content."""
    if str(source) == "-":
        yield sys.stdin.buffer
        return
    path = Path(source)
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a file")
    with path.open("rb") as raw:
        gz = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if gz:
            with gzip.open(raw, "rb") as inner:
                yield inner  # type: ignore[misc]
        else:
            yield raw


def iter_lines(source: str | Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, line)`` for each non-blank line, 1-based, newline stripped."""
    with open_binary(source) as stream:
        for number, line in enumerate(stream, start=1):
            stripped = line.strip()
            if stripped:
                yield number, stripped
