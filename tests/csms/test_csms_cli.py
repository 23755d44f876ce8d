"""`ocppkit csms` as a real process: listens, serves a station, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import base64
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import orjson
import pytest
import typer
from typer.testing import CliRunner

from ocppkit.toolkit.commands import csms as csms_command
from ocppkit.toolkit.textio import iter_lines
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.journal import decode_record

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.timeout(60), pytest.mark.network]

# The command registered on its own app, as ocppkit.toolkit.cli registers it.
APP_SCRIPT = (
    "import typer\n"
    "from ocppkit.toolkit.commands import csms\n"
    "app = typer.Typer()\n"
    "app.callback()(lambda: None)\n"
    "csms.register(app)\n"
    "app()\n"
)


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    csms_command.register(app)
    return app


def test_csms_command_serves_until_sigterm_and_writes_the_journal(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# allow-list\nTAG-1\n\n")
    journal = tmp_path / "journal"
    tariff = ROOT / "datasets" / "tariffs" / "sample-tariff.toml"
    args = ["csms", "--listen", "127.0.0.1:0", "--tokens", str(tokens)]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            APP_SCRIPT,
            *args,
            "--journal",
            str(journal),
            "--tariff",
            str(tariff),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"listening on (ws://127\.0\.0\.1:\d+/ocpp)/\{stationId\}", line)
        assert match, line

        async def station() -> list[object]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{match[1]}/CP-7", protocols=("ocpp2.0.1",)) as ws,
            ):
                await ws.send_str(
                    '[2,"1","Authorize",{"idToken":{"idToken":"TAG-1","type":"Local"}}]'
                )
                frame: list[object] = orjson.loads((await ws.receive(timeout=10)).data)
                return frame

        frame = asyncio.run(station())
        assert frame == [3, "1", {"idTokenInfo": {"status": "Accepted"}}]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        rest = proc.stderr.read()
        assert "stopped; 1 station(s), 0 transaction(s), 0 violation(s)" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    records = [decode_record(raw) for path in journal.iterdir() for _, raw in iter_lines(path)]
    assert [r.message[0] for r in records] == [2, 3]


def test_csms_command_needs_tokens_or_accept_all() -> None:
    result = CliRunner().invoke(make_app(), ["csms", "--listen", "127.0.0.1:0"])
    assert isinstance(result.exception, ConfigError)
    assert "--accept-all" in str(result.exception)


def test_csms_command_refuses_a_bad_listen_address() -> None:
    result = CliRunner().invoke(make_app(), ["csms", "--accept-all", "--listen", "localhost"])
    assert isinstance(result.exception, ConfigError)


def test_csms_command_serves_the_octt_trigger_api_whose_passwords_and_tokens_take_effect(
    tmp_path: Path,
) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text('[[token]]\nid = "100000C06"\nstatus = "Accepted"\n')
    passwords = tmp_path / "passwords.toml"
    passwords.write_text('[stations]\nCP16_SP1 = "test1234"\n')
    args = ["csms", "--listen", "127.0.0.1:0", "--tokens", str(tokens),
            "--station-passwords", str(passwords), "--octt-trigger", "0"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", APP_SCRIPT, *args], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        ws_url = re.search(r"listening on (ws://\S+/ocpp)/", proc.stderr.readline())
        trigger = re.search(r"trigger API on (http://\S+)/api/octt/1\.6/", proc.stderr.readline())
        assert ws_url and trigger

        async def drive() -> list[object]:
            out: list[object] = []
            async with aiohttp.ClientSession() as http:
                for path, body in (
                    ("create-token", {"token_id": "100000C06", "status": "Blocked"}),
                    ("set-basic-auth-password", {"station_id": "CP16_SP1", "password": "new-pw-1"}),
                ):
                    async with http.post(f"{trigger[1]}/api/octt/{path}", json=body) as resp:
                        out.append(resp.status)
                for password in ("test1234", "new-pw-1"):
                    token = base64.b64encode(f"CP16_SP1:{password}".encode()).decode()
                    headers = {"Authorization": f"Basic {token}"}
                    try:
                        async with http.ws_connect(
                            f"{ws_url[1]}/CP16_SP1", protocols=("ocpp2.0.1",), headers=headers
                        ) as ws:
                            await ws.send_str(
                                '[2,"1","Authorize",'
                                '{"idToken":{"idToken":"100000C06","type":"Central"}}]'
                            )
                            out.append(orjson.loads((await ws.receive(timeout=10)).data))
                    except aiohttp.WSServerHandshakeError as exc:
                        out.append(exc.status)
            return out

        out = asyncio.run(drive())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out == [200, 200, 401, [3, "1", {"idTokenInfo": {"status": "Blocked"}}]]


def test_csms_command_needs_both_signing_ca_files(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    result = CliRunner().invoke(make_app(), ["csms", "--accept-all", "--signing-ca", str(ca)])
    assert isinstance(result.exception, ConfigError)
    assert "--signing-ca-key" in str(result.exception)
