"""The CSMS's answers to station-initiated CALLs (OCPP 2.0.1), free of I/O.

:class:`Responder` holds what the answers depend on (settings, stations,
transactions) and maps each action to one small function through the table
:data:`HANDLERS`. An action missing from the table is answered NotSupported by
the server ("recognized but not supported"); one missing from the official
schemas never reaches here (NotImplemented).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocppkit.toolkit.csms.records import (
    StationInfo,
    TransactionSeen,
    energy_samples,
    parse_ocpp_time,
)
from ocppkit.toolkit.csms.signing import CsrSigner
from ocppkit.toolkit.csms.tokens import TokenStore
from ocppkit.toolkit.tariff import Tariff, cost_of_session
from ocppkit.translators.journal import format_timestamp
from ocppkit.translators.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class CsmsSettings:
    """How the built-in CSMS behaves.

    Attributes:
        tokens: idTokens to accept; None accepts every token.
        tariff: prices transactions (``totalCost``); None sends no cost.
        heartbeat_interval: seconds, sent in BootNotificationResponse.
        strict_one_call: answer a CALL that arrives while the station has
            another CALL unanswered with a CALLERROR instead of serving it.
        answer_delay: seconds to wait before answering each CALL (answers
            then overlap, which makes concurrent CALLs observable).
        call_timeout: default seconds to wait for a station's answer.
        max_frame_bytes: larger frames get a FormatViolation CALLERROR.
        token_store: idTokens with statuses, groups, expiry (tokens.py);
            when set it decides instead of ``tokens``.
        strict_tokens: refuse an ISO14443 idToken that is not 8/14 hex
            characters with PropertyConstraintViolation, as CitrineOS does.
        station_passwords: per-station Basic auth passwords (security
            profile 1); a station not listed is refused when any is listed.
        signer: signs stations' CSRs (signing.py) for CertificateSigned.
        ocpp_version: 2.0.1 (default) or 2.1: the subprotocol and schemas spoken.
    """

    tokens: frozenset[str] | None = None
    tariff: Tariff | None = None
    heartbeat_interval: int = 300
    strict_one_call: bool = False
    answer_delay: float = 0.0
    call_timeout: float = 30.0
    max_frame_bytes: int = 256 * 1024
    token_store: TokenStore | None = None
    strict_tokens: bool = False
    station_passwords: Mapping[str, str] = field(default_factory=dict)
    signer: CsrSigner | None = None
    ocpp_version: OcppVersion = OcppVersion.V201


Payload = dict[str, Any]


class Responder:
    """Answers station CALLs and records what they say.

    Args:
        settings: the CSMS settings.
        now: the clock (``currentTime`` in answers).
    """

    def __init__(self, settings: CsmsSettings, now: Callable[[], datetime]) -> None:
        self.settings = settings
        self.now = now
        self.stations: dict[str, StationInfo] = {}
        self.transactions: dict[str, TransactionSeen] = {}

    def station(self, station_id: str) -> StationInfo:
        return self.stations.setdefault(station_id, StationInfo(station_id))

    def answer(self, station_id: str, action: str, payload: Payload) -> Payload | None:
        """The response payload for a valid request, or None when not handled."""
        handler = HANDLERS.get(action)
        if handler is None:
            return None
        station = self.station(station_id)
        station.calls[action] += 1
        return handler(self, station, payload)

    def token_info(self, id_token: Payload) -> Payload:
        # 2.0.1 IdTokenEnumType "NoAuthorization": no token to check.
        if id_token.get("type") == "NoAuthorization":
            return {"status": "Accepted"}
        if self.settings.token_store is not None:
            return self.settings.token_store.info(id_token, self.now())
        known = self.settings.tokens
        if known is None:
            return {"status": "Accepted"}
        return {"status": "Accepted" if id_token["idToken"] in known else "Unknown"}


def _boot(r: Responder, s: StationInfo, p: Payload) -> Payload:
    s.boot = p
    return {
        "currentTime": format_timestamp(r.now()),
        "interval": r.settings.heartbeat_interval,
        "status": "Accepted",
    }


def _heartbeat(r: Responder, s: StationInfo, p: Payload) -> Payload:
    return {"currentTime": format_timestamp(r.now())}


def _status(r: Responder, s: StationInfo, p: Payload) -> Payload:
    s.statuses[(p["evseId"], p["connectorId"])] = p["connectorStatus"]
    return {}


def _authorize(r: Responder, s: StationInfo, p: Payload) -> Payload:
    return {"idTokenInfo": r.token_info(p["idToken"])}


def _transaction_event(r: Responder, s: StationInfo, p: Payload) -> Payload:
    info = p["transactionInfo"]
    tid = info["transactionId"]
    tx = r.transactions.setdefault(tid, TransactionSeen(tid, s.station_id))
    at = parse_ocpp_time(p["timestamp"])
    if p["seqNo"] in tx.seq_nos:
        tx.duplicates += 1  # a retry: answer it again, record it once
    else:
        tx.seq_nos.append(p["seqNo"])
        tx.event_types.append(p["eventType"])
        tx.meter += energy_samples(p.get("meterValue", []))
        if "evse" in p:
            tx.evse_id = p["evse"]["id"]
        if p["eventType"] == "Started":
            tx.started_at = at
        if p["eventType"] == "Ended":
            tx.ended_at = at
            # 2.0.1 TransactionType: stoppedReason may be omitted only when "Local".
            tx.stopped_reason = info.get("stoppedReason", "Local")
        tx.last_at = max(at, tx.last_at or at)
    out: Payload = {}
    if "idToken" in p:
        tx.id_token = p["idToken"]["idToken"]
        out["idTokenInfo"] = r.token_info(p["idToken"])
    tariff = r.settings.tariff
    # totalCost: final in Ended (2.0.1 I03), running in Updated (I02).
    if tariff is not None and p["eventType"] in ("Updated", "Ended"):
        start = tx.started_at
        if start is None and tx.meter:  # Started lost: the first reading bounds it
            start = min(t for t, _ in tx.meter)
        stop = tx.ended_at or tx.last_at
        if start is not None and stop is not None and stop >= start:
            tx.cost = cost_of_session(tariff, start, stop, meter=tx.meter or None)
            out["totalCost"] = float(tx.cost.total)
    return out


def _empty(r: Responder, s: StationInfo, p: Payload) -> Payload:
    return {}


def _sign_certificate(r: Responder, s: StationInfo, p: Payload) -> Payload:
    # 2.0.1 A02/A03: the CSMS takes the CSR; the signed chain follows as
    # CertificateSigned (sent by an operator, e.g. through the admin API).
    s.csrs.append(p["csr"])
    return {"status": "Accepted"}


def _data_transfer(r: Responder, s: StationInfo, p: Payload) -> Payload:
    return {"status": "UnknownVendorId"}  # this CSMS knows no vendor extensions


HANDLERS: dict[str, Callable[[Responder, StationInfo, Payload], Payload]] = {
    "BootNotification": _boot,
    "Heartbeat": _heartbeat,
    "StatusNotification": _status,
    "Authorize": _authorize,
    "TransactionEvent": _transaction_event,
    "MeterValues": _empty,
    "NotifyEvent": _empty,
    "NotifyReport": _empty,
    "LogStatusNotification": _empty,
    "FirmwareStatusNotification": _empty,
    "SecurityEventNotification": _empty,
    "SignCertificate": _sign_certificate,
    "DataTransfer": _data_transfer,
}
