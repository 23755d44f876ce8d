"""Log readers: one module per log shape, chosen per file by sniffing.

A reader module defines:

* ``NAME`` — the ``--format`` value;
* ``SPLITTABLE`` — True when every line stands alone, so a large file can
  be cut into blocks at line ends and read by several processes;
* ``sniff(lines: list[bytes]) -> float`` — the share of the first non-blank
  lines it recognises (0.0 to 1.0);
* ``read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) ->
  Iterator[FrameEvent | Bad]``.

Adding a format is adding a module and one row to :data:`READERS`. Sniffing
tries the rows in order and takes the best score (ties go to the earlier
row, so the more specific shapes come first).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Protocol, cast

from ocppkit.toolkit.ingest.events import Bad, FrameEvent
from ocppkit.translators.errors import ConfigError

READERS: dict[str, str] = {
    "journal": "ocppkit.toolkit.ingest.readers.journal",
    "trace": "ocppkit.toolkit.ingest.readers.trace",
    "csv": "ocppkit.toolkit.ingest.readers.csv_export",
    "ocpp-logger": "ocppkit.toolkit.ingest.readers.ocpp_logger",
    "evcc": "ocppkit.toolkit.ingest.readers.evcc",
    "soap15": "ocppkit.toolkit.ingest.readers.soap15",
    "frames": "ocppkit.toolkit.ingest.readers.frames",
    "octt": "ocppkit.toolkit.ingest.readers.octt",
}

# Formats whose lines do not say the OCPP version: it is guessed per file from the
# actions seen (the others name it per record or in a header).
GUESS_VERSION = frozenset({"frames", "ocpp-logger", "csv", "evcc"})

SNIFF_LINES = 20
MIN_SCORE = 0.3


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """What a log may not say about itself.

    Attributes:
        version: OCPP version of frames whose log does not name it ("1.6",
            "2.0.1"); None = guess per file from the actions seen.
        charge_point_id: charger id for logs that do not name it.
        side: who wrote the log, "csms" or "cs", for relative direction words
            (``receive``, ``IN``, ``<-``).
        source_file: the file's name as it goes in the tables.
        leg: for a bridge journal (records with ``leg``), read only this leg
            ("downstream": the chargers' side, "upstream": the CSMS side);
            records of the other leg are counted as skipped, not quarantined.
    """

    version: str | None = None
    charge_point_id: str | None = None
    side: str = "csms"
    source_file: str = ""
    leg: str | None = None


class Reader(Protocol):
    NAME: str
    SPLITTABLE: bool

    def sniff(self, lines: list[bytes]) -> float: ...

    def read(
        self, lines: Iterable[tuple[int, bytes]], options: ReaderOptions
    ) -> Iterator[FrameEvent | Bad]: ...


def get_reader(name: str) -> Reader:
    """The reader module registered as ``name``.

    Raises:
        ConfigError: no such format.
    """
    if name not in READERS:
        raise ConfigError(f"unknown log format {name!r}; known: {', '.join(READERS)}")
    module: ModuleType = import_module(READERS[name])
    return cast(Reader, module)


def detect(lines: list[bytes]) -> str | None:
    """The best-matching format for a file's first non-blank lines, or None."""
    best, best_score = None, MIN_SCORE
    for name in READERS:
        score = get_reader(name).sniff(lines[:SNIFF_LINES])
        if score > best_score:
            best, best_score = name, score
    return best
