"""`ocppkit bridge` as a command: help, and one readable line for bad settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from ocppkit.toolkit.commands.bridge import register
from ocppkit.translators.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def app() -> typer.Typer:
    cli = typer.Typer()
    register(cli)

    @cli.callback()
    def root() -> None:
        """Test root, so the command keeps its name."""

    return cli


def test_bridge_command_documents_its_flags() -> None:
    result = CliRunner().invoke(app(), ["bridge", "--help"])
    assert result.exit_code == 0
    for flag in ("--listen", "--upstream", "--state", "--journal", "--config"):
        assert flag in result.output


def test_bad_settings_raise_a_config_error_before_anything_listens(tmp_path: Path) -> None:
    result = CliRunner().invoke(app(), ["bridge", "--listen", "127.0.0.1:0"], env={})
    assert isinstance(result.exception, ConfigError)
    assert "no upstream" in str(result.exception)


def test_module_entry_point_prints_one_line_and_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ocppkit.toolkit.gateway", "--upstream", "http://nope"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ocppkit: error: upstream must be a ws:// or wss:// URL, not 'http://nope'"
    ]
