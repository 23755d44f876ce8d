"""Running the built-in CSMS as a process: settings from files, signals, shutdown."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

from ocppkit.toolkit.csms.admin import AdminApi
from ocppkit.toolkit.csms.handlers import CsmsSettings
from ocppkit.toolkit.csms.octt_trigger import OcttTrigger
from ocppkit.toolkit.csms.server import Csms
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.errors import ConfigError

MAX_ID_TOKEN = 36  # 2.0.1 IdTokenType.idToken maxLength


def load_tokens(path: str | Path) -> frozenset[str]:
    """Read an allow-list: one idToken per line; blank lines and ``#`` comments skipped.

    Raises:
        ConfigError: a token is longer than 2.0.1 allows.
    """
    tokens = set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        token = line.split("#", 1)[0].strip()
        if not token:
            continue
        if len(token) > MAX_ID_TOKEN:
            raise ConfigError(f"{path}:{number}: idToken longer than {MAX_ID_TOKEN} characters")
        tokens.add(token)
    return frozenset(tokens)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) to a host and a port."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--listen expects HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


async def serve(
    settings: CsmsSettings,
    host: str,
    port: int,
    *,
    journal_dir: Path | None = None,
    on_ready: Callable[[Csms], None] | None = None,
    stop: asyncio.Event | None = None,
    admin: tuple[str, int, str] | None = None,
    on_admin_ready: Callable[[str], None] | None = None,
    octt_trigger: tuple[str, int] | None = None,
    on_trigger_ready: Callable[[str], None] | None = None,
) -> Csms:
    """Run a CSMS until SIGINT/SIGTERM (or ``stop`` is set), then close it cleanly.

    ``admin`` (host, port, token) also serves the admin API (:mod:`.admin`);
    ``octt_trigger`` (host, port) the tzi-OCTT trigger API (:mod:`.octt_trigger`).

    Returns:
        the stopped CSMS, for its counters.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    journal = JournalWriter(journal_dir) if journal_dir is not None else None
    csms = Csms(settings, journal=journal)
    api = AdminApi(csms, admin[2]) if admin is not None else None
    trigger = OcttTrigger(csms) if octt_trigger is not None else None
    try:
        await csms.start(host, port)
        if on_ready is not None:
            on_ready(csms)
        if api is not None and admin is not None:
            await api.start(admin[0], admin[1])
            if on_admin_ready is not None:
                on_admin_ready(api.url)
        if trigger is not None and octt_trigger is not None:
            await trigger.start(*octt_trigger)
            if on_trigger_ready is not None:
                on_trigger_ready(trigger.url)
        await stop.wait()
    finally:
        if trigger is not None:
            await trigger.stop()
        if api is not None:
            await api.stop()
        await csms.stop()
        if journal is not None:
            journal.close()
        for sig in signals:
            loop.remove_signal_handler(sig)
    return csms
