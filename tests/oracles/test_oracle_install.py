"""Installing the ocpp-rpc oracle: a machine without Node skips, it does not fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracles.ocpp_rpc.oracle import OracleUnavailable, ensure_installed


def test_missing_node_makes_the_oracle_unavailable_not_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node, no npm
    with pytest.raises(OracleUnavailable, match="node and npm"):
        ensure_installed()
