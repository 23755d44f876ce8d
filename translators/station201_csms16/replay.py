"""A recorded 2.0.1 CSMS's answers, as a 1.6 CSMS would have given them.

When a whole 2.0.1 conversation is converted to 1.6 (``ocppkit translate
--from 2.0.1 --to 1.6``), the CSMS's answers are 2.0.1. Each answers a station
call the session sent on as a 1.6 call with the same message id;
:func:`replay_answer` turns the 2.0.1 answer into the 1.6 confirmation of that
call, to be written out and fed to :func:`~ocppkit.translators.station201_csms16.from_csms`
(which then settles its state as if a 1.6 CSMS had answered).

One answer has no 2.0.1 source: StartTransaction.conf's integer
transactionId. The replay mints it from ``state.next_replay_id16``, the way a
1.6 CSMS would have. Authorization statuses 1.6 lacks become Invalid
(:data:`AUTH_STATUS_UP`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppkit.translators.engine import respell
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call, CallError, CallResult, Frame
from ocppkit.translators.jsontext import dumps_text
from ocppkit.translators.station201_csms16.common import V16
from ocppkit.translators.station201_csms16.handlers import Side, pending_key
from ocppkit.translators.station201_csms16.state import StationState

AUTH_STATUS_UP = EnumMap(
    "idTokenInfo.status -> idTagInfo.status",
    {
        **{v: v for v in ("Accepted", "Blocked", "ConcurrentTx", "Expired", "Invalid")},
        **{
            v: "Invalid"
            for v in ("NoCredit", "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime")
        },
        "Unknown": "Invalid",
    },
    lossy=frozenset(
        {"NoCredit", "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime", "Unknown"}
    ),
    reference="mapping research §3.1 (Authorize row)",
)

Converter = Callable[[StationState, dict[str, Any]], dict[str, Any]]


def _id_tag_info(info: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"status": AUTH_STATUS_UP(info["status"])[0]}
    if "cacheExpiryDateTime" in info:
        out["expiryDate"] = info["cacheExpiryDateTime"]
    group = (info.get("groupIdToken") or {}).get("idToken")
    if group and len(group) <= 20:
        out["parentIdTag"] = group
    return out


def _info_or(default: dict[str, Any] | None) -> Converter:
    def convert(state: StationState, p: dict[str, Any]) -> dict[str, Any]:
        if "idTokenInfo" in p:
            return {"idTagInfo": _id_tag_info(p["idTokenInfo"])}
        return {} if default is None else {"idTagInfo": default}

    return convert


def _start(state: StationState, p: dict[str, Any]) -> dict[str, Any]:
    id16 = state.next_replay_id16
    state.next_replay_id16 += 1
    return {**_info_or({"status": "Accepted"})(state, p), "transactionId": id16}


def _data_transfer(state: StationState, p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"status": p["status"]}
    data = p.get("data")
    if data is not None:
        out["data"] = data if isinstance(data, str) else dumps_text(data)
    return out


def _empty(state: StationState, p: dict[str, Any]) -> dict[str, Any]:
    return {}


# 1.6 action of the call the bridge sent -> 2.0.1 answer -> 1.6 confirmation
ANSWERS_UP: dict[str, Converter] = {
    "BootNotification": lambda s, p: {k: p[k] for k in ("currentTime", "interval", "status")},
    "Heartbeat": lambda s, p: {"currentTime": p["currentTime"]},
    "Authorize": _info_or({"status": "Invalid"}),
    "StartTransaction": _start,
    "StopTransaction": _info_or(None),
    "DataTransfer": _data_transfer,
    "SignCertificate": lambda s, p: {"status": p["status"]},
    **{
        action: _empty
        for action in (
            "StatusNotification",
            "MeterValues",
            "FirmwareStatusNotification",
            "SignedFirmwareStatusNotification",
            "DiagnosticsStatusNotification",
            "LogStatusNotification",
            "SecurityEventNotification",
        )
    },
}


def replay_answer(state: StationState, frame: Frame) -> Frame | None:
    """The 1.6 answer standing for a recorded 2.0.1 CSMS answer, or None.

    None when ``frame`` is a call, or answers no call the bridge sent the
    CSMS under that message id (e.g. an event the bridge answered itself).
    """
    if isinstance(frame, Call):
        return None
    pending = state.pending.get(pending_key(Side.CSMS, frame.message_id))
    if pending is None:
        return None
    if isinstance(frame, CallError):
        return respell(frame, frame.message_id, V16)[0]
    convert = ANSWERS_UP.get(pending.action)
    if convert is None:
        return None
    return CallResult(frame.message_id, convert(state, frame.payload))
