"""Fixtures of the oracle tests."""

from __future__ import annotations

import pytest

from tests.oracles.ocpp_rpc.oracle import OracleUnavailable, ensure_installed


@pytest.fixture(scope="session")
def ocpp_rpc_installed() -> None:
    """``npm ci`` once (a no-op when node_modules is current); skip cleanly without Node."""
    try:
        ensure_installed()
    except OracleUnavailable as exc:
        pytest.skip(f"ocpp-rpc oracle unavailable: {exc}")
