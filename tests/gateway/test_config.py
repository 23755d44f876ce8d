"""Bridge settings: file < environment < flags, unknown keys refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppkit.toolkit.gateway.config import BridgeConfig, load_config
from ocppkit.translators.errors import ConfigError

FILE = """
listen = "0.0.0.0:9100"
upstream = "wss://csms.example/ocpp"
call_timeout = 12
allow = ["CP1", "CP2"]

[charger_passwords]
CP1 = "pw1"
"""


def test_file_environment_and_flags_layer_in_that_order(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(FILE)
    env = {"OCPPKIT_BRIDGE_CALL_TIMEOUT": "7.5", "OCPPKIT_BRIDGE_STATE": "/tmp/x.db"}
    cfg = load_config(path, {"state": "flag.db", "listen": None}, env)
    assert (cfg.host, cfg.port) == ("0.0.0.0", 9100)  # file
    assert cfg.call_timeout == 7.5  # env beats file
    assert cfg.state == "flag.db"  # flag beats env; None flags are ignored
    assert cfg.allow == ("CP1", "CP2")
    assert cfg.charger_passwords == {"CP1": "pw1"}


def test_environment_gives_lists_and_tables_as_text() -> None:
    env = {
        "OCPPKIT_BRIDGE_UPSTREAM": "ws://csms:9001/ocpp",
        "OCPPKIT_BRIDGE_ALLOW": "A, B",
        "OCPPKIT_BRIDGE_UPSTREAM_PASSWORDS": "A=x,B=y",
        "OCPPKIT_BRIDGE_JOURNAL_COMPRESS": "yes",
    }
    cfg = load_config(None, None, env)
    assert cfg.allow == ("A", "B")
    assert cfg.upstream_password_for("B") == "y"
    assert cfg.upstream_password_for("C") == ""
    assert cfg.journal_compress is True


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({}, "no upstream"),
        ({"upstream": "http://csms"}, "ws:// or wss://"),
        ({"upstream": "ws://c", "listen": "9000"}, "HOST:PORT"),
        ({"upstream": "ws://c", "validation": "loose"}, "validation must be"),
        ({"upstream": "ws://c", "tls_cert": "a.pem"}, "go together"),
        ({"upstream": "ws://c", "colour": "blue"}, "unknown setting 'colour'"),
        ({"upstream": "ws://c", "call_timeout": "soon"}, "call_timeout"),
    ],
    ids=["missing-upstream", "http-url", "no-host", "bad-choice", "half-tls", "typo", "bad-number"],
)
def test_bad_settings_are_refused_with_one_reason(overrides: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_config(None, overrides, {})


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("listen = ")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(bad, {"upstream": "ws://c"}, {})


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"charger_id_max_length": 256}, "between 1 and 255"),
        ({"handshake_timeout": 5.0, "connect_timeout": 5.0}, "handshake_timeout > connect_timeout"),
        ({"header_timeout": 0.0}, "0 < header_timeout"),
        ({"max_unauthenticated_per_source": 0}, "max_unauthenticated_per_source"),
        ({"soap_callback_allow": ("http://cp.example/",)}, "soap_callback_allow"),
        ({"tls_client_crl": "crl.pem"}, "need tls_client_ca"),
    ],
)
def test_hardening_settings_are_checked(setting: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BridgeConfig(upstream="ws://x/ocpp", **setting).check()  # type: ignore[arg-type]


def test_hardening_settings_read_from_the_environment() -> None:
    cfg = load_config(environ={
        "OCPPKIT_BRIDGE_UPSTREAM": "ws://x/ocpp",
        "OCPPKIT_BRIDGE_SOAP_CALLBACK_ALLOW": "10.0.0.0/8, cp.example",
        "OCPPKIT_BRIDGE_HEADER_TIMEOUT": "3",
        "OCPPKIT_BRIDGE_WS_COMPRESSION": "off",
    })  # fmt: skip
    assert cfg.soap_callback_allow == ("10.0.0.0/8", "cp.example")
    assert cfg.header_timeout == 3.0
    assert cfg.ws_compression is False


def test_the_upstream_version_is_set_globally_and_per_charger(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(
        'upstream = "ws://csms/ocpp"\nupstream_version = "1.6"\n\n'
        '[chargers.OLD16]\nupstream_version = "2.0.1"\n'
    )
    cfg = load_config(path, {}, {})
    assert cfg.upstream_version_for("ST1") == "1.6"
    assert cfg.upstream_version_for("OLD16") == "2.0.1"
    flagged = load_config(None, {"upstream": "ws://x/ocpp", "upstream_version": "1.6"}, {})
    assert flagged.upstream_version_for("any") == "1.6"
    assert load_config(None, {"upstream": "ws://x/ocpp"}, {}).upstream_version == "2.0.1"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('upstream_version = "1.5"', "upstream_version must be one of"),
        ('[chargers.A]\nupstream_version = "3.0"', "chargers.A.upstream_version must be one of"),
        ('[chargers.A]\ncolour = "red"', "chargers.A: unknown setting 'colour'"),
    ],
)
def test_a_wrong_upstream_version_is_one_readable_error(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text('upstream = "ws://csms/ocpp"\n' + text + "\n")
    with pytest.raises(ConfigError, match=fragment):
        load_config(path, {}, {})
