"""The bridge settings of the semantic rules: token typing and dangling transactions."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppkit.toolkit.gateway.config import load_config
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.settings import TokenRule

TOML = """
upstream = "ws://127.0.0.1:9/ocpp"
token_default_type = "Local"
dangling_grace = 30
dangling_rules = ["reboot", "status"]
[[token_rules]]
prefix = "APP-"
type = "Central"
[[token_rules]]
regex = "[0-9]{6}"
type = "KeyCode"
chargers = ["CP002"]
"""


def test_token_and_dangling_settings_reach_the_translators(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(TOML, encoding="utf-8")
    settings = load_config(path, environ={}).translator_settings()
    assert settings.token_default_type == "Local"
    assert settings.token_rules == (
        TokenRule(type="Central", prefix="APP-"),
        TokenRule(type="KeyCode", regex="[0-9]{6}", chargers=("CP002",)),
    )
    assert settings.dangling_grace == 30.0
    assert settings.dangling_rules == ("reboot", "status")


def test_token_rules_from_the_environment_are_json(tmp_path: Path) -> None:
    env = {
        "OCPPKIT_BRIDGE_UPSTREAM": "ws://127.0.0.1:9/ocpp",
        "OCPPKIT_BRIDGE_TOKEN_RULES": '[{"prefix": "X-", "type": "Local"}]',
        "OCPPKIT_BRIDGE_DANGLING_RULES": "status",
    }
    settings = load_config(None, environ=env).translator_settings()
    assert settings.token_rules == (TokenRule(type="Local", prefix="X-"),)
    assert settings.dangling_rules == ("status",)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[token_rules]]\nprefix = "A"\ntype = "RFID"\n', "RFID"),
        ('[[token_rules]]\nprefix = "A"\nregex = "B"\ntype = "Local"\n', "exactly one"),
        ('[[token_rules]]\nregex = "("\ntype = "Local"\n', "regex"),
        ('[[token_rules]]\nprefix = "A"\n', "needs type"),
        ('dangling_rules = ["sometimes"]\n', "sometimes"),
        ('token_default_type = "NoAuthorization"\n', "NoAuthorization"),
        ("dangling_grace = -1\n", "dangling_grace"),
    ],
)
def test_bad_rules_are_refused_in_one_line(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text('upstream = "ws://127.0.0.1:9/ocpp"\n' + extra, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})
