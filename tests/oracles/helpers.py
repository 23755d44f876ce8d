"""Shared by the oracle tests: what the ocpp-rpc oracle saw of 2.0.1 transactions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.oracles.ocpp_rpc.oracle import OcppRpcOracle

Payload = dict[str, Any]


def energy_of(event: Payload, context: str) -> int | None:
    """The energy register in a TransactionEvent's meter values with this reading context."""
    for mv in event.get("meterValue", []):
        for sv in mv["sampledValue"]:
            if sv.get("context") == context and sv.get("measurand") == (
                "Energy.Active.Import.Register"
            ):
                return int(sv["value"])
    return None


def transactions_seen(oracle: OcppRpcOracle) -> dict[str, list[Payload]]:
    """The TransactionEvent payloads the oracle received, by 2.0.1 transactionId."""
    events: dict[str, list[Payload]] = defaultdict(list)
    for call in oracle.calls:
        if call["action"] == "TransactionEvent":
            events[call["params"]["transactionInfo"]["transactionId"]].append(call["params"])
    return events


def token_of(events: list[Payload]) -> str | None:
    """The idToken a transaction's events carry, if any does."""
    return next((e["idToken"]["idToken"] for e in events if "idToken" in e), None)
