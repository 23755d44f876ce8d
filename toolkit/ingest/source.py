"""Opening a log file and telling what it is: blocks of lines, format, version."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ocppkit.toolkit.ingest import vocab
from ocppkit.toolkit.ingest.events import Bad, FrameEvent
from ocppkit.toolkit.ingest.readers import (
    GUESS_VERSION,
    SNIFF_LINES,
    ReaderOptions,
    detect,
    get_reader,
)
from ocppkit.toolkit.textio import GZIP_MAGIC
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.versions import OcppVersion

BLOCK_BYTES = 4 * 1024 * 1024


@contextmanager
def open_log(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """(decoded stream, raw file) so progress can follow the bytes on disk."""
    with path.open("rb") as raw:
        gz = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if gz:
            with gzip.open(raw, "rb") as inner:
                yield inner, raw  # type: ignore[misc]
        else:
            yield raw, raw


def blocks(stream: BinaryIO, size: int) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes) of consecutive blocks of whole lines."""
    line = 1
    rest = b""
    while True:
        chunk = stream.read(size)
        if not chunk:
            break
        chunk = rest + chunk
        cut = chunk.rfind(b"\n")
        if cut < 0:
            rest = chunk
            continue
        block, rest = chunk[: cut + 1], chunk[cut + 1 :]
        yield line, block
        line += block.count(b"\n")
    if rest:
        yield line, rest


def guess_version(sample: bytes) -> str:
    """The OCPP version of a frame log, from version-specific actions (default 1.6)."""
    if any(f'"{a}"'.encode() in sample for a in vocab.ONLY_21):
        return OcppVersion.V21
    if any(f'"{a}"'.encode() in sample for a in vocab.ONLY_201):
        return OcppVersion.V201
    if b'"connectorStatus"' in sample or b'"evseId"' in sample:
        return OcppVersion.V201
    return OcppVersion.V16


def first_lines(block: bytes) -> list[bytes]:
    return [s for s in (x.strip() for x in block.split(b"\n", 200)[:200]) if s][:SNIFF_LINES]


def lines_of(blob: bytes, first: int) -> Iterator[tuple[int, bytes]]:
    """(line number, stripped line) of a block's non-blank lines."""
    for number, line in enumerate(blob.split(b"\n"), first):
        stripped = line.strip()
        if stripped:
            yield number, stripped


def events(
    path: Path, fmt: str | None = None, version: str | None = None,
    charge_point_id: str | None = None, side: str = "csms",
) -> Iterator[tuple[str, FrameEvent | Bad]]:  # fmt: skip
    """Stream a log's events, sniffing its format and version as ``ingest`` does.

    Yields ``(format, item)``. For converters; ``ingest`` cuts files into
    blocks for its workers instead.

    Raises:
        ConfigError: the format cannot be recognised.
    """
    with open_log(path) as (stream, _raw):
        parts = blocks(stream, BLOCK_BYTES)
        first = next(parts, None)
        if first is None:
            return
        name = fmt or detect(first_lines(first[1]))
        if name is None:
            raise ConfigError(f"{path}: cannot tell the log format; give --format")
        if version is None and name in GUESS_VERSION:
            version = guess_version(first[1])
        reader = get_reader(name)
        options = ReaderOptions(version, charge_point_id, side, str(path))

        def lines() -> Iterator[tuple[int, bytes]]:
            yield from lines_of(first[1], first[0])
            for line, blob in parts:
                yield from lines_of(blob, line)

        for item in reader.read(lines(), options):
            yield name, item
