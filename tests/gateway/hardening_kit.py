"""Shared pieces of the hardening tests: raw HTTP on real sockets, small filesystems."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

UPGRADE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode() + "\r\n"
    "Sec-WebSocket-Version: 13\r\n{extra}\r\n"
)


async def raw_handshake(port: int, path: str, extra: str = "", timeout: float = 5.0) -> str:
    """Send a WebSocket upgrade for ``path`` exactly as written; the status line and headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(UPGRADE.format(path=path, extra=extra).encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        return head.decode("latin-1")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@contextlib.contextmanager
def small_filesystem(where: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (root only), unmounted after."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        timeout=10,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)


def remount(where: Path, mode: str) -> None:
    """``mode``: ``ro`` or ``rw``."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True, timeout=10)


def fill(where: Path) -> Path:
    """Fill the filesystem under ``where`` until ENOSPC; the filler file."""
    filler = where / "filler"
    with filler.open("wb", buffering=0) as f:
        block = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                f.write(block)
    return filler
