"""Bridge settings: one frozen object, from a TOML file, environment variables and flags.

Precedence, lowest first: defaults, the TOML file (``--config``), environment
variables ``OCPPKIT_BRIDGE_<KEY>`` (e.g. ``OCPPKIT_BRIDGE_UPSTREAM``), command
line flags. Every key of the file is a field of :class:`BridgeConfig`; unknown
keys are refused so a typo cannot silently fall back to a default.

Example file::

    listen = "0.0.0.0:9000"
    upstream = "wss://csms.example.com/ocpp"
    state = "/var/lib/ocppkit/bridge.db"
    journal = "/var/log/ocppkit/journal"
    upstream_ca = "/etc/ocppkit/csms-ca.pem"
    allow = ["CP001", "CP002"]

    [charger_passwords]     # OCPP 1.6 security profile 1, per charger
    CP001 = "s3cret"

    [upstream_passwords]    # OCPP 2.0.1 security profile 1/2 towards the CSMS
    CP001 = "an0ther"

    token_default_type = "Central"   # 1.6 idTags that are no 8/14-hex card UID
    [[token_rules]]                  # ordered: the first match decides
    prefix = "APP-"
    type = "Central"
    [[token_rules]]
    regex = "[0-9]{6}"
    type = "KeyCode"
    chargers = ["CP002"]             # only for these chargers; absent: the fleet

    dangling_grace = 120             # seconds before the bridge ends an abandoned transaction
    dangling_rules = ["new_transaction", "reboot", "status"]
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ocppkit.toolkit.gateway.callbacks import callback_rules
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.settings import DANGLING_RULES, Settings, TokenRule

ENV_PREFIX = "OCPPKIT_BRIDGE_"


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """Everything the bridge needs to know; safe defaults throughout.

    Attributes:
        listen: ``HOST:PORT`` of the one listening port (WebSocket, /metrics, /healthz).
        upstream: base URL of the CSMS; each charger goes to ``{upstream}/{id}``.
        upstream_version: what the CSMS speaks: ``2.0.1`` (1.6J and 1.5 chargers
            are translated up, 2.0.1 stations piped through) or ``1.6`` (2.0.1
            stations are translated down, 1.6J chargers piped through).
        chargers: per-charger tables (``[chargers.<id>]``); today they may
            set ``upstream_version``.
        state: where translator state and the outbox live: a path or
            ``sqlite:///path`` (SQLite, one bridge), or ``postgresql://...``
            (several bridges sharing one database; see the README's "Running
            several bridges").
        instance: this bridge's name in the lease table (default: ``local``
            with SQLite; host name and process id with PostgreSQL).
        lease_seconds: how long a charger stays owned by an instance that
            stopped renewing (died) before another adopts its stored calls;
            a charger that reconnects elsewhere is taken over at once.
        journal: directory of the frame journal; empty for none.
        journal_max_bytes: bytes per journal file before it rotates.
        journal_compress: gzip the journal files.
        call_timeout: seconds a peer has to answer a call; then the CALLERROR.
        connect_timeout: seconds a connecting charger waits for its upstream
            link; after that its handshake is refused with HTTP 503.
        upstream_grace: seconds a charger stays connected while its upstream
            link is down; after that it is disconnected (it then queues).
        backoff_min: first upstream reconnect delay, seconds.
        backoff_max: largest upstream reconnect delay, seconds.
        ping_interval: WebSocket ping interval on both legs, seconds (0: off).
        drain_timeout: seconds SIGTERM waits for in-flight calls.
        validation: ``strict`` (refuse unknown fields) or ``lenient`` for
            calls from chargers; the CSMS side is always checked strictly.
        sync: SQLite ``synchronous``: ``full`` survives power loss,
            ``normal`` survives a crash of the process (kill -9) only.
        max_frame_bytes: larger frames are refused with a CALLERROR.
        max_in_flight: calls for the CSMS one charger may have queued;
            beyond it its calls are refused with GenericError (0: no cap).
        overlap_commits: a charger's call goes to the CSMS while its commit
            is being written (the charger is answered only once both
            landed); false: only after the commit (see ``session.py``).
        poison_attempts: times the same call may be sent to the CSMS and
            lose the link before it is given up as a dead letter and its
            caller answered InternalError (0: never). Between the resends the
            call waits ``backoff_min`` doubling up to ``backoff_max``.
        allow: charger ids allowed to connect; empty: any.
        charger_passwords: per-charger Basic auth passwords (1.6 security
            profile 1); empty: no authentication.
        tls_cert: PEM certificate chain for TLS on the listening port (profile 2).
        tls_key: its private key.
        tls_client_ca: CA bundle that signs chargers' client certificates
            (1.6 security profile 3, mutual TLS); empty: none are asked for.
        tls_client_crl: a PEM CRL file; certificates it lists are refused.
        tls_client_required: chargers that must show a client certificate;
            ``"*"`` for all. Others may show one (then it is checked too) or
            authenticate with Basic auth. A certificate's subject CN must
            equal the charger id.
        charger_id_max_length: longest charger id accepted at the handshake
            (2.0.1 Part 4 §3.1.1: 48; at most 255, the journal's limit).
        header_timeout: seconds a new connection (or an idle keep-alive one)
            has to send complete request headers.
        handshake_timeout: seconds from the headers to the admitted WebSocket
            (or the end of an HTTP request); above ``connect_timeout``.
        max_unauthenticated_per_source: connections one source address may
            hold open before they are admitted; more are closed at once.
        unknown_subprotocol: what a handshake offering no subprotocol the
            bridge speaks gets: ``close`` (OCPP-J 1.6 and 2.0.1 Part 4
            §3.1.2: completed without a Sec-WebSocket-Protocol header, then
            closed) or ``refuse`` (HTTP 400, no upgrade: what OCA's OCTT
            TC_088 expects and what the built-in CSMS does).
        ws_compression: accept permessage-deflate from chargers. Each
            compressed connection keeps zlib state (some 100 KiB); with heavy
            reconnect churn, turn it off to keep the memory flat.
        soap_idle_timeout: seconds a 1.5 SOAP charger may stay silent before the
            bridge closes its CSMS connection (reopened at its next request);
            0: three heartbeat intervals, the interval being the one of the last
            BootNotification answer it got (300 s until one is seen).
        soap_callback_allow: hosts or networks (``192.0.2.0/24``, ``cp.example``)
            the bridge may POST 1.5 SOAP callbacks to; empty: only the source
            address of the charger's own request.

        upstream_password: Basic auth password towards the CSMS for every charger.
        upstream_passwords: per-charger passwords towards the CSMS (override).
        upstream_ca: CA bundle to verify the CSMS (security profile 2).
        upstream_cert: client certificate for mutual TLS (security profile 3).
        upstream_key: its private key.
        log_format: ``kv`` (key=value) or ``json``.
        log_level: a :mod:`logging` level name.
        token_default_type: 2.0.1 idToken type of a 1.6 idTag that no rule
            claims and that is not an 8/14-hex card UID.
        token_rules: ordered ``{prefix|regex, type, chargers?}`` tables.
        dangling_grace: seconds a charger has to send StopTransaction
            (connector Available/Finishing, or after a reboot) before the
            bridge ends the transaction upstream.
        dangling_rules: which dangling-transaction rules are on.
    """

    upstream: str = ""
    upstream_version: str = "2.0.1"
    chargers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    listen: str = "127.0.0.1:9000"
    state: str = "bridge.db"
    instance: str = ""
    lease_seconds: float = 10.0
    journal: str = ""
    journal_max_bytes: int = 64 * 1024 * 1024
    journal_compress: bool = False
    call_timeout: float = 20.0  # below the 30 s most chargers wait for an answer
    connect_timeout: float = 5.0
    upstream_grace: float = 10.0
    backoff_min: float = 0.5
    backoff_max: float = 30.0
    ping_interval: float = 30.0
    drain_timeout: float = 25.0
    validation: str = "strict"
    sync: str = "full"
    max_frame_bytes: int = 256 * 1024
    max_in_flight: int = 50
    overlap_commits: bool = True
    poison_attempts: int = 5
    allow: tuple[str, ...] = ()
    charger_passwords: Mapping[str, str] = field(default_factory=dict)
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    tls_client_crl: str = ""
    tls_client_required: tuple[str, ...] = ()
    charger_id_max_length: int = 48
    header_timeout: float = 10.0
    handshake_timeout: float = 15.0
    max_unauthenticated_per_source: int = 128
    unknown_subprotocol: str = "close"
    ws_compression: bool = True
    soap_idle_timeout: float = 0.0
    soap_callback_allow: tuple[str, ...] = ()
    upstream_password: str = ""
    upstream_passwords: Mapping[str, str] = field(default_factory=dict)
    upstream_ca: str = ""
    upstream_cert: str = ""
    upstream_key: str = ""
    log_format: str = "kv"
    log_level: str = "INFO"
    token_default_type: str = "Central"
    token_rules: tuple[Mapping[str, Any], ...] = ()
    dangling_grace: float = 120.0
    dangling_rules: tuple[str, ...] = DANGLING_RULES

    def translator_settings(self) -> Settings:
        """The translators' part of the settings (token typing, dangling rules).

        Raises:
            ConfigError: a token rule or rule name is wrong.
        """
        rules = []
        for i, rule in enumerate(self.token_rules):
            unknown = set(rule) - {"prefix", "regex", "type", "chargers"}
            if unknown or "type" not in rule:
                raise ConfigError(
                    f"token_rules[{i}]: needs type and prefix or regex (and optional chargers)"
                )
            rules.append(
                TokenRule(
                    type=str(rule["type"]),
                    prefix=str(rule.get("prefix", "")),
                    regex=str(rule.get("regex", "")),
                    chargers=_as_list(rule.get("chargers", ())),
                )
            )
        return Settings(
            token_default_type=self.token_default_type,
            token_rules=tuple(rules),
            dangling_grace=self.dangling_grace,
            dangling_rules=self.dangling_rules,
        )

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0] or "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    def upstream_version_for(self, charge_point_id: str) -> str:
        """The version the CSMS speaks for this charger (its table, else the global one)."""
        return self.chargers.get(charge_point_id, {}).get("upstream_version", self.upstream_version)

    def upstream_password_for(self, charge_point_id: str) -> str:
        return self.upstream_passwords.get(charge_point_id, self.upstream_password)

    def check(self) -> BridgeConfig:
        """Refuse inconsistent settings with one readable reason.

        Raises:
            ConfigError: the first problem found.
        """
        if not self.upstream:
            raise ConfigError("no upstream CSMS URL (--upstream or upstream = ... in the file)")
        if not self.upstream.startswith(("ws://", "wss://")):
            raise ConfigError(f"upstream must be a ws:// or wss:// URL, not {self.upstream!r}")
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"listen must be HOST:PORT, not {self.listen!r}")
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}")
        for cp_id, table in self.chargers.items():
            for key, value in table.items():
                if key not in _PER_CHARGER:
                    raise ConfigError(f"chargers.{cp_id}: unknown setting {key!r}")
                if value not in _CHOICES[key]:
                    choices = ", ".join(_CHOICES[key])
                    raise ConfigError(f"chargers.{cp_id}.{key} must be one of {choices}")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("tls_cert and tls_key go together")
        if bool(self.upstream_cert) != bool(self.upstream_key):
            raise ConfigError("upstream_cert and upstream_key go together")
        from ocppkit.toolkit.gateway.state import parse_state

        parse_state(self.state)  # an unknown scheme is refused here
        if self.lease_seconds <= 0:
            raise ConfigError("lease_seconds must be > 0")
        if self.backoff_min <= 0 or self.backoff_max < self.backoff_min:
            raise ConfigError("need 0 < backoff_min <= backoff_max")
        if self.poison_attempts < 0:
            raise ConfigError("poison_attempts must be >= 0 (0: never give a call up)")
        if self.soap_idle_timeout < 0:
            raise ConfigError("soap_idle_timeout must be >= 0 (0: three heartbeat intervals)")
        if self.tls_client_ca and not self.tls_cert:
            raise ConfigError("tls_client_ca needs tls_cert and tls_key (mutual TLS is TLS)")
        if (self.tls_client_crl or self.tls_client_required) and not self.tls_client_ca:
            raise ConfigError("tls_client_crl and tls_client_required need tls_client_ca")
        if self.handshake_timeout <= self.connect_timeout or self.header_timeout <= 0:
            raise ConfigError("need 0 < header_timeout and handshake_timeout > connect_timeout")
        if not 1 <= self.charger_id_max_length <= 255:
            # The journal keeps ids of up to 255 characters (translators/journal.py).
            raise ConfigError("charger_id_max_length must be between 1 and 255")
        if self.max_unauthenticated_per_source < 1:
            raise ConfigError("max_unauthenticated_per_source must be >= 1")
        try:
            callback_rules(self.soap_callback_allow)
        except ValueError as exc:
            raise ConfigError(f"soap_callback_allow: {exc}") from None
        self.translator_settings()
        return self


_CHOICES = {
    "upstream_version": ("2.0.1", "1.6", "2.1"),
    "validation": ("strict", "lenient"),
    "sync": ("full", "normal"),
    "log_format": ("kv", "json"),
    "unknown_subprotocol": ("close", "refuse"),
}


_PER_CHARGER = frozenset({"upstream_version"})


def _as_charger_tables(value: Any) -> dict[str, dict[str, str]]:
    if not isinstance(value, Mapping) or not all(isinstance(t, Mapping) for t in value.values()):
        raise ValueError("expected [chargers.<id>] tables")
    return {str(cp): {str(k): str(v) for k, v in t.items()} for cp, t in value.items()}


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _as_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)


def _as_table(value: Any) -> dict[str, str]:
    if isinstance(value, str):  # env form: "CP1=pw1,CP2=pw2"
        pairs = (item.partition("=") for item in value.split(",") if item.strip())
        return {k.strip(): v.strip() for k, _, v in pairs}
    if not isinstance(value, Mapping):
        raise ValueError("expected a table of charger id = password")
    return {str(k): str(v) for k, v in value.items()}


def _as_rules(value: Any) -> tuple[Mapping[str, Any], ...]:
    if isinstance(value, str):  # env form: a JSON array of tables
        value = json.loads(value)
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError("expected an array of tables ([[token_rules]])")
    return tuple(dict(v) for v in value)


# How each field is read from TOML/env text; anything not listed is a str.
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "journal_max_bytes": int,
    "max_frame_bytes": int,
    "max_in_flight": int,
    "poison_attempts": int,
    "journal_compress": _as_bool,
    "overlap_commits": _as_bool,
    "ws_compression": _as_bool,
    "charger_id_max_length": int,
    "max_unauthenticated_per_source": int,
    "header_timeout": float,
    "handshake_timeout": float,
    "tls_client_required": _as_list,
    "soap_callback_allow": _as_list,
    "soap_idle_timeout": float,
    "call_timeout": float,
    "connect_timeout": float,
    "upstream_grace": float,
    "backoff_min": float,
    "backoff_max": float,
    "ping_interval": float,
    "drain_timeout": float,
    "lease_seconds": float,
    "allow": _as_list,
    "charger_passwords": _as_table,
    "upstream_passwords": _as_table,
    "chargers": _as_charger_tables,
    "token_rules": _as_rules,
    "dangling_grace": float,
    "dangling_rules": _as_list,
}
FIELD_NAMES = frozenset(f.name for f in fields(BridgeConfig))


def _converted(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in FIELD_NAMES:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        try:
            out[key] = _CONVERT.get(key, str)(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{origin}: {key}: {exc}") from None
    return out


def load_config(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> BridgeConfig:
    """Build the settings from a file, the environment and flags, and check them.

    Args:
        path: a TOML file, or None.
        overrides: values from command line flags; None values are ignored.
        environ: the environment (default ``os.environ``).

    Raises:
        ConfigError: unreadable file, unknown key, bad value or inconsistent settings.
    """
    merged: dict[str, Any] = {}
    if path:
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        merged.update(_converted(doc, str(path)))
    env = os.environ if environ is None else environ
    from_env = {
        k.removeprefix(ENV_PREFIX).lower(): v for k, v in env.items() if k.startswith(ENV_PREFIX)
    }
    merged.update(_converted(from_env, "environment"))
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    merged.update(_converted(flags, "flags"))
    return replace(BridgeConfig(), **merged).check()
