"""What every charger session shares: settings, store, journal, metrics, clock.

One :class:`Services` per bridge process, passed to each session (no module
globals). :meth:`Services.journal_frame` is the one place frames are written
to the journal, so both legs are recorded the same way.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Protocol

import aiohttp
import orjson

from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.credentials import Credentials
from ocppkit.toolkit.gateway.metrics import Metrics
from ocppkit.toolkit.gateway.state import StateStore
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.frames import (
    MAX_DEPTH,
    AnyFrame,
    Call,
    CallResult,
    CallResultError,
    Frame,
    Send,
    depth_of,
    frame_to_list,
)
from ocppkit.translators.journal import Direction, JournalRecord, Leg, format_timestamp
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import actions
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion

_KNOWN_ACTIONS = frozenset().union(*(actions(v) for v in (OcppVersion.V16, OcppVersion.V201)))


class Translator(Protocol):
    """The session translator contract (see ``ocppkit.translators.charger16_csms201.session``)."""

    def from_charger(self, state: BridgeState, frame: Frame, ctx: Context) -> Step: ...

    def from_csms(self, state: BridgeState, frame: Frame, ctx: Context) -> Step: ...


def real_context() -> Context:
    """The wall clock and random UUIDs (36 characters, the OCPP-J id limit)."""
    return Context(now=lambda: datetime.now(UTC), new_id=lambda: str(uuid.uuid4()))


def frame_kind(frame: AnyFrame) -> str:
    if isinstance(frame, Call):
        return "call"
    if isinstance(frame, Send):
        return "send"  # OCPP 2.1
    if isinstance(frame, CallResultError):
        return "result_error"  # OCPP 2.1
    return "result" if isinstance(frame, CallResult) else "error"


def wire_message(raw: str) -> list[Any] | str:
    """What a journal record keeps of a frame as received: the array, else the text.

    An array nested deeper than the parse limit is kept as text: the journal
    must be able to write whatever it is given.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw or '""'
    if isinstance(value, list) and 3 <= len(value) <= 5 and depth_of(value) <= MAX_DEPTH:
        return value
    return raw or '""'


@dataclass
class Services:
    """The shared parts of one bridge process.

    Attributes:
        cfg: settings.
        store: durable state and outbox.
        journal: frame journal, or None when disabled.
        metrics: Prometheus metrics.
        translator: the 1.6J <-> 2.0.1 session translator.
        http: client session for the upstream links.
        ssl_context: TLS for ``wss://`` upstreams.
        ctx: clock and id source: handed to the translator, and the clock of
            the journal's record times (one clock for all the bridge stamps).
        log: structured logger.
    """

    cfg: BridgeConfig
    store: StateStore
    journal: JournalWriter | None
    metrics: Metrics
    translator: Translator | ModuleType
    http: aiohttp.ClientSession
    ssl_context: ssl.SSLContext | None
    ctx: Context = field(default_factory=real_context)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("ocppkit.bridge"))
    # Calls from chargers are checked as configured; everything the CSMS
    # sends, and everything we translate, strictly.
    charger_validator: Validator = field(default_factory=Validator)
    strict_validator: Validator = field(default_factory=Validator)
    # Passwords rotated through AuthorizationKey (None: not followed).
    credentials: Credentials | None = None
    # Called with a charger whose lease another instance took (its commit was fenced).
    lease_lost: Callable[[str], None] = field(default=lambda cp: None)
    # Heartbeat interval (s) each 1.5 SOAP charger was last told (soap.py idle close).
    soap_heartbeats: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.charger_validator = Validator(ValidationMode(self.cfg.validation))
        # The operator's translator rules travel with the clock (translators/settings.py).
        self.ctx = replace(self.ctx, settings=self.cfg.translator_settings())

    def journal_frame(
        self,
        charge_point_id: str,
        leg: Leg,
        direction: Direction,
        version: OcppVersion,
        message: AnyFrame | list[Any] | str,
        *,
        kind: str = "malformed",
        action: str = "",
        **meta: Any,
    ) -> None:
        """Record one frame as sent or received on ``leg``, and count it.

        ``message`` is a frame, or what arrived when it was not one (then
        ``kind`` says what it is: ``malformed`` by default, ``soap`` for a
        1.5 envelope, whose ``action`` the caller knows).
        """
        if isinstance(message, list | str):
            body: list[Any] | str = message
        else:
            kind = frame_kind(message)
            action = message.action if isinstance(message, Call | Send) else ""
            body = frame_to_list(message)
        self.metrics.inc(
            "ocppkit_bridge_messages_total",
            leg=leg.value,
            direction=direction.value,
            type=kind,
            # A peer chooses the action text: only known names become label
            # values, so a misbehaving charger cannot grow the series unbounded.
            action=action if action in _KNOWN_ACTIONS else ("other" if action else ""),
        )
        if self.journal is None:
            return
        self.journal.write(
            JournalRecord(
                timestamp=format_timestamp(self.ctx.now()),
                charge_point_id=charge_point_id,
                direction=direction,
                ocpp_version=version,
                message=body,
                leg=leg,
                meta={k: v for k, v in meta.items() if v is not None},
            )
        )
