"""A throwaway PostgreSQL server for the tests and ``ocppkit bench failover``.

Starts a real cluster with the server's own tools (``initdb``, ``pg_ctl``) in
a fresh directory, listening on a unix socket in that directory and on a
127.0.0.1 port, with ``fsync`` off (it is thrown away; the bench says so).
The binaries are found in ``OCPPKIT_PG_BIN``, ``pg_config --bindir``,
Debian's ``/usr/lib/postgresql/<version>/bin`` (newest first) or ``PATH``.

PostgreSQL refuses to run as root; run as root (as CI does), the cluster
belongs to the unprivileged ``nobody`` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEBIAN = Path("/usr/lib/postgresql")


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None."""
    env = os.environ.get("OCPPKIT_PG_BIN")
    candidates: list[Path] = [Path(env)] if env else []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
    if DEBIAN.is_dir():
        versions = sorted(
            (p for p in DEBIAN.iterdir() if p.name.split(".")[0].isdigit()),
            key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()],
            reverse=True,
        )
        candidates += [v / "bin" for v in versions]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One running cluster; :attr:`url` is a libpq URL for its ``postgres`` database.

    Args:
        bindir: the server binaries (default: :func:`find_bindir`).
        root: where the cluster lives (default: a new temporary directory,
            removed by :meth:`stop`).
        tcp: also listen on 127.0.0.1 (a port chosen free).
    """

    def __init__(self, bindir: Path | None = None, root: Path | None = None, *, tcp: bool = True):
        found = bindir or find_bindir()
        if found is None:
            raise FileNotFoundError(
                "PostgreSQL server binaries not found (install Debian's postgresql,"
                " or set OCPPKIT_PG_BIN to the directory holding initdb)"
            )
        self.bindir = found
        self._own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="ocppkit-pg-"))
        self.data = self.root / "data"
        self.port = _free_port() if tcp else 5432
        self.tcp = tcp
        self._user: Any = None
        if os.geteuid() == 0:
            self._user = pwd.getpwnam("nobody")

    @property
    def url(self) -> str:
        return f"postgresql://ocppkit@/postgres?host={self.root}&port={self.port}"

    @property
    def tcp_url(self) -> str:
        return f"postgresql://ocppkit@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        extra: dict[str, Any] = {}
        if self._user is not None:
            extra = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C"},
            cwd=self.root,
            **extra,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> PgServer:
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
            # The server must reach its directory through every parent.
            self.root.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-U", "ocppkit", "-A", "trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        options = " ".join([
            f"-k {self.root}", f"-p {self.port}",
            "-c listen_addresses=" + ("127.0.0.1" if self.tcp else "''"),
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=200", "-c shared_buffers=32MB",
        ])  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")
        except OSError:
            return ""

    def create_database(self, name: str) -> str:
        """A fresh database on this server; returns its URL (socket form)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.replace("/postgres?", f"/{name}?")


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[PgServer]:
    server = PgServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
