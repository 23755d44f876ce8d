"""Small helpers every handler of the reverse bridge uses.

Kept apart from the handlers so each handler reads as its mapping: build the
target payload, note what was lost, send or answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.engine import Notes as Notes  # the handlers' note collector
from ocppkit.translators.engine import answer as answer
from ocppkit.translators.engine import answer_locally
from ocppkit.translators.engine import relay as relay
from ocppkit.translators.engine import relay_error as _relay_error
from ocppkit.translators.engine import send as send
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import ERROR_CODE_BY_WIRE, ErrorCode
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.settings import ISO14443_UID
from ocppkit.translators.station201_csms16.handlers import CallHandler, ResultHandler, Side
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.station201_csms16.tables import AUTH_STATUS_DOWN
from ocppkit.translators.versions import OcppVersion

V16 = OcppVersion.V16
V201 = OcppVersion.V201

ID_TAG_MAX = 20  # 1.6 CiString20Type
# The idToken type a 1.6 idTag gets on the way down, by the command carrying
# it (mapping research §3.8: the choice is ambiguous). A remote start is
# authorised by the CSMS itself (lbbrhzn/ocpp uses Central); local-list and
# reservation tags are what a driver presents, most often an RFID card (MaEVe
# hard-codes ISO14443).
ID_TOKEN_TYPE_DOWN: dict[str, str] = {
    "RemoteStartTransaction": "Central",
    "ReserveNow": "ISO14443",
    "SendLocalList": "ISO14443",
    "parentIdTag": "Central",
}


VERSION = {Side.CHARGER: V201, Side.CSMS: V16}


local_answer = answer_locally  # the handlers' name for the engine's local answer


def put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is a value (optional fields stay absent)."""
    if value is not None:
        target[key] = value


def wire_code(error_code: str, target: OcppVersion) -> str:
    """A peer's CALLERROR code re-spelled for the other side's version."""
    code = ERROR_CODE_BY_WIRE.get(error_code, ErrorCode.GENERIC_ERROR)
    return code.wire(target)


def relay_error(pending: Pending, error: CallError, to: Side) -> Step:
    """Pass a CALLERROR on to the side whose call caused the failed one."""
    return _relay_error(pending, error, to, VERSION[to])


# -- idTag <-> IdToken (mapping research §3.8) --------------------------------


def id_tag_of(id_token: dict[str, Any] | None) -> tuple[str | None, str]:
    """The 1.6 idTag for a 2.0.1 idToken, or None and why it has none.

    NoAuthorization tokens carry no identity; tokens longer than 20
    characters do not fit 1.6's CiString20 and are never truncated (a
    truncated tag could authorise someone else).
    """
    if not id_token:
        return None, "no idToken"
    if id_token["type"] == "NoAuthorization":
        return None, "idToken of type NoAuthorization"
    value: str = id_token["idToken"]
    if not value:
        return None, "empty idToken"
    if len(value) > ID_TAG_MAX:
        return None, f"idToken longer than {ID_TAG_MAX} characters"
    return value, ""


def id_token_down(id_tag: str, action: str) -> dict[str, Any]:
    """The 2.0.1 IdTokenType for a 1.6 idTag sent by ``action``.

    ISO14443 only for a tag shaped like a card UID (8 or 14 hex characters):
    a strict station refuses any other ISO14443 value; other tags are Central.
    """
    type_ = ID_TOKEN_TYPE_DOWN[action]
    if type_ == "ISO14443" and not ISO14443_UID.fullmatch(id_tag):
        type_ = "Central"
    return {"idToken": id_tag, "type": type_}


def id_token_info_down(info: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """1.6 IdTagInfo -> 2.0.1 IdTokenInfoType (statuses are a subset)."""
    out: dict[str, Any] = {"status": notes.enum(AUTH_STATUS_DOWN, info["status"], "status")}
    put(out, "cacheExpiryDateTime", info.get("expiryDate"))
    if "parentIdTag" in info:
        out["groupIdToken"] = id_token_down(info["parentIdTag"], "parentIdTag")
    return out


def cut(value: str, limit: int, field: str, notes: Notes) -> str:
    """``value`` shortened to ``limit`` characters, noting the cut."""
    return notes.cut(value, limit, field)


# -- 1:1 relays ----------------------------------------------------------------

Convert = Callable[[dict[str, Any], Notes], dict[str, Any]]


def empty(_payload: dict[str, Any], _notes: Notes) -> dict[str, Any]:
    """The converter of payloads with no fields (e.g. Heartbeat, ClearCache)."""
    return {}


def relay_call(target_action: str, convert: Convert, to: Side) -> CallHandler:
    """A handler sending a call on to ``to`` as ``target_action``, same message id.

    ``convert`` builds the target payload and may raise
    :class:`~ocppkit.translators.errors.TranslationError` (nothing is changed then).
    """

    def handler(state: StationState, call: Call, ctx: Context) -> Step:
        notes = Notes(state, call.action)
        payload = convert(call.payload, notes)
        out = relay(state, to, call, target_action, payload)
        return notes.step(to_charger=(out,)) if to is Side.CHARGER else notes.step(to_csms=(out,))

    return handler


def relay_result(convert: Convert, to: Side) -> ResultHandler:
    """A handler translating the answer of a relayed call back to ``to``."""

    def handler(
        state: StationState, pending: Pending, frame: CallResult | CallError, ctx: Context
    ) -> Step:
        if isinstance(frame, CallError):
            return relay_error(pending, frame, to)
        notes = Notes(state, pending.origin_action)
        return answer(pending, convert(frame.payload, notes), to) + notes.step()

    return handler


def status_only(table: EnumMap) -> Convert:
    """A converter of ``{status}`` answers through ``table`` (extra fields dropped)."""

    def convert(payload: dict[str, Any], notes: Notes) -> dict[str, Any]:
        if "statusInfo" in payload:
            notes.lossy("statusInfo", "no 1.6 field")
        return {"status": notes.enum(table, payload["status"], "status")}

    return convert
