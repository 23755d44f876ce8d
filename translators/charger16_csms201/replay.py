"""A recorded 1.6 central system's answers, as a 2.0.1 CSMS would have given them.

When a whole 1.6 conversation is converted to 2.0.1 (``ocppkit translate``),
the central system's confirmations are 1.6 too. Each answers a charger call
the session translated into a 2.0.1 call; :func:`answer_up` turns the 1.6
confirmation into the 2.0.1 response to that call, so it can be written out
and fed back into the session (which then advances its state exactly as if
a 2.0.1 CSMS had answered).

The rows go the opposite way of the session's answer converters and are
lossless: every 1.6 confirmation field has a 2.0.1 home (2.0.1 is a
superset), except StartTransaction.conf's transactionId, which is *adopted*
(:func:`~ocppkit.translators.charger16_csms201.transactions.adopt_transaction_id`) so the
charger's later messages, which use it, find their transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppkit.translators.charger16_csms201.id_tokens import id_token_info
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.charger16_csms201.transactions import adopt_transaction_id
from ocppkit.translators.engine import respell
from ocppkit.translators.frames import CallError, CallResult
from ocppkit.translators.pending import Pending
from ocppkit.translators.versions import OcppVersion

Converter = Callable[[dict[str, Any]], dict[str, Any]]


def _empty(p: dict[str, Any]) -> dict[str, Any]:
    return {}


def _boot(p: dict[str, Any]) -> dict[str, Any]:
    return {"currentTime": p["currentTime"], "interval": p["interval"], "status": p["status"]}


def _id_info(p: dict[str, Any]) -> dict[str, Any]:
    return {"idTokenInfo": id_token_info(p["idTagInfo"])} if "idTagInfo" in p else {}


def _status(p: dict[str, Any]) -> dict[str, Any]:
    return {"status": p["status"]}


def _data_transfer(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("status", "data") if k in p}


# 2.0.1 action of the translated call -> 1.6 confirmation -> 2.0.1 response
ANSWERS_UP: dict[str, Converter] = {
    "BootNotification": _boot,
    "Heartbeat": lambda p: {"currentTime": p["currentTime"]},
    "Authorize": _id_info,
    "TransactionEvent": _id_info,
    "DataTransfer": _data_transfer,
    "SignCertificate": _status,
    "StatusNotification": _empty,
    "NotifyEvent": _empty,
    "MeterValues": _empty,
    "LogStatusNotification": _empty,
    "FirmwareStatusNotification": _empty,
    "SecurityEventNotification": _empty,
}


def answer_up(
    state: BridgeState, pending: Pending, message_id: str, answer: CallResult | CallError
) -> CallResult | CallError:
    """The 2.0.1 answer (id ``message_id``) standing for a recorded 1.6 one.

    Raises:
        KeyError: no row for ``pending.action`` (the caller reports it).
    """
    if isinstance(answer, CallError):
        return respell(answer, message_id, OcppVersion.V201)[0]
    convert = ANSWERS_UP[pending.action]
    if pending.origin_action == "StartTransaction" and "transactionId" in answer.payload:
        adopt_transaction_id(state, pending.data["id201"], answer.payload["transactionId"])
    return CallResult(message_id, convert(answer.payload))
