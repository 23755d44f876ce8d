"""Load mode (for `ocppkit bench`) and the `ocppkit simulate` command, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from ocppkit.toolkit.commands.simulate import register
from ocppkit.toolkit.simulator import LoadResult, run_load
from ocppkit.translators.errors import ConfigError
from tests.simulator.strict_csms import StrictCsms

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]
ROOT = Path(__file__).resolve().parents[2]
# A typer app with the command registered, as ocppkit.toolkit.cli does for its COMMANDS.
APP_SNIPPET = (
    "import typer; from ocppkit.toolkit.commands.simulate import register; "
    "app = typer.Typer(); app.callback()(lambda: None); register(app); app()"
)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_load_mode_times_every_steady_state_call(version: str) -> None:
    async def main() -> tuple[StrictCsms, LoadResult]:
        async with StrictCsms() as csms:
            return csms, await run_load(csms.url, 5, 100, 1.0, version)

    csms, result = asyncio.run(main())
    assert not csms.violations
    assert result.connected == 5 and result.errors == 0
    assert 70 <= result.sent <= 101 and len(result.latencies) == result.sent
    assert 0 < result.percentile(50) <= result.percentile(99) < 1.0
    steady = [a for _, a in csms.received if a in ("Heartbeat", "MeterValues", "TransactionEvent")]
    heartbeats = steady.count("Heartbeat")
    assert 0.05 * result.sent <= heartbeats <= 0.15 * result.sent


def test_load_mode_counts_chargers_that_cannot_connect() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = asyncio.run(run_load(f"ws://127.0.0.1:{port}/ocpp", 3, 30, 0.2, "1.6", timeout=2))
    assert (result.connected, result.errors, result.sent) == (0, 3, 0)


def test_simulate_command_writes_a_truth_the_csms_agrees_with(tmp_path: Path) -> None:
    truth, plan = tmp_path / "truth.json", tmp_path / "plan.json"

    async def main() -> tuple[StrictCsms, int, bytes]:
        async with StrictCsms() as csms:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", APP_SNIPPET, "simulate", "--csms", csms.url,
                "--chargers", "4", "--mix", "1.6=0.5,2.0.1=0.5", "--seed", "9",
                "--duration", "12h", "--speed", "max", "--truth", str(truth),
                "--plan", str(plan), "--quiet",
                cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, _ = await asyncio.wait_for(proc.communicate(), 50)
            return csms, proc.returncode or 0, out

    csms, code, out = asyncio.run(main())
    assert code == 0, out
    assert b"4 chargers" in out and b"errors: 0" in out
    data = orjson.loads(truth.read_bytes())
    assert data["summary"]["sessions"] == len(data["sessions"]) == len(csms.transactions) > 0
    for s in data["sessions"]:
        t = csms.transactions[(s["charge_point_id"], s["transaction_id"])]
        assert t.meter_stop is not None and t.meter_start is not None
        assert s["meter_stop_wh"] - s["meter_start_wh"] == t.meter_stop - t.meter_start
    planned = orjson.loads(plan.read_bytes())
    assert len(planned["chargers"]) == 4 and planned["config"]["seed"] == 9


@pytest.mark.parametrize(
    "args",
    [["--mix", "9.9=1"], ["--duration", "soon"], ["--speed", "fast-ish"], ["--chargers", "0"]],
)
def test_simulate_command_refuses_bad_options_with_a_config_error(args: list[str]) -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    result = CliRunner().invoke(app, ["simulate", "--csms", "ws://127.0.0.1:9/ocpp", *args])
    assert isinstance(result.exception, ConfigError)
