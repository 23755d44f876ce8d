"""Structured logs: one event per line, ``key=value`` or JSON.

Callers log through :func:`event` (``event(log, "upstream_down", cp="CP1",
error="...")``); the fields travel in ``record.fields`` and the formatter
chosen by :func:`configure` renders them, so the call sites do not care
about the format.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

LOGGER_NAME = "ocppkit.bridge"


def event(log: logging.Logger, level: int, name: str, **fields: Any) -> None:
    """Log event ``name`` with ``fields`` at ``level``."""
    if log.isEnabledFor(level):
        log.log(level, name, extra={"fields": fields}, stacklevel=2)


def printable(value: Any) -> str:
    """``value`` as text with every control or non-printable character escaped
    (``\\r``, ``\\x1b``, ``\\x00``...): a peer-chosen field (a charger id, a reason)
    can neither forge a log line nor send escape sequences to a terminal."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _quote(value: Any) -> str:
    text = str(value)
    if text and text.isprintable() and not any(c in text for c in ' "='):
        return text
    return '"' + printable(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def _stamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        parts = [f"ts={_stamp(record)}", f"level={record.levelname.lower()}"]
        parts.append(f"event={_quote(record.getMessage())}")
        parts += [f"{k}={_quote(v)}" for k, v in fields.items()]
        if record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": _stamp(record),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def configure(fmt: str = "kv", level: str = "INFO") -> logging.Logger:
    """Send the bridge's logs to stderr in ``fmt`` (``kv`` or ``json``)."""
    log = logging.getLogger(LOGGER_NAME)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False
    return log
