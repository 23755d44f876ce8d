"""Parsing of the simulator's command-line values (durations, version mixes, speeds)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ocppkit.translators.errors import ConfigError
from ocppkit.translators.versions import OcppVersion

_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(text: str) -> timedelta:
    """``1d``, ``6h``, ``90m``, ``2d12h``, ``45s`` or plain seconds (``300``)."""
    raw = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        seconds = float(raw)
    elif raw and _PART.sub("", raw) == "":
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(raw))
    else:
        raise ConfigError(f"bad duration {text!r} (use e.g. 1d, 6h, 90m, 2d12h, 45s)")
    if seconds <= 0:
        raise ConfigError(f"duration {text!r} must be positive")
    return timedelta(seconds=seconds)


def parse_mix(text: str) -> tuple[tuple[OcppVersion, float], ...]:
    """``1.6=0.7,2.0.1=0.3`` (shares need not sum to 1; a bare ``2.0.1`` means all)."""
    out: list[tuple[OcppVersion, float]] = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, _, share = item.partition("=")
        try:
            value = float(share) if share else 1.0
        except ValueError:
            raise ConfigError(f"bad share in mix item {item!r}") from None
        if value < 0:
            raise ConfigError(f"negative share in mix item {item!r}")
        out.append((OcppVersion.parse(name), value))
    if not out or sum(v for _, v in out) <= 0:
        raise ConfigError(f"empty version mix {text!r}")
    return tuple(out)


def parse_speed(text: str) -> float | None:
    """A speed-up factor (``2000``) or ``max`` (as fast as the CSMS answers: None)."""
    if text.strip().lower() in ("max", "fast", "inf", "0"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"bad speed {text!r} (a factor such as 2000, or 'max')") from None
    if value <= 0:
        raise ConfigError("speed must be positive")
    return value


def parse_start(text: str) -> datetime:
    """An ISO 8601 moment; without a zone it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"bad start time {text!r} (ISO 8601, e.g. 2026-03-02T00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
