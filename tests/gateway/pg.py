"""A real PostgreSQL for the tests (``ocppkit.toolkit.gateway.state.pgserver``).

``.ci/run`` installs Debian's ``postgresql``; elsewhere, without the server
binaries or psycopg, the tests that need it skip, but under ``CI`` they fail.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from ocppkit.toolkit.gateway.state.pgserver import PgServer, find_bindir

BINDIR = find_bindir()
try:
    import psycopg  # noqa: F401

    PSYCOPG = True
except ImportError:
    PSYCOPG = False
WHY = "PostgreSQL server binaries not found" if BINDIR is None else "psycopg is not installed"
AVAILABLE = BINDIR is not None and PSYCOPG
_names = itertools.count()


def require_pg() -> None:
    """Skip outside CI when PostgreSQL cannot run here; fail under CI."""
    if AVAILABLE:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {WHY} (.ci/run installs postgresql)")
    pytest.skip(WHY)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    require_pg()
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.create_database(f"t{os.getpid()}_{next(_names)}")
