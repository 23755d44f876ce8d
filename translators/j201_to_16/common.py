"""Small helpers every handler of the reverse bridge uses.

Kept apart from the handlers so each handler reads as its mapping: build the
target payload, note what was lost, send or answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.errors import ERROR_CODE_BY_WIRE, ErrorCode
from ocppkit.translators.frames import Call, CallError, CallResult, Frame
from ocppkit.translators.j201_to_16.handlers import CallHandler, ResultHandler, Side, expect_answer
from ocppkit.translators.j201_to_16.state import StationState
from ocppkit.translators.j201_to_16.tables import AUTH_STATUS_DOWN
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending
from ocppkit.translators.settings import ISO14443_UID
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


class Notes:
    """Collects the notes of one step and counts the lossy ones in the state."""

    def __init__(self, state: StationState, action: str) -> None:
        self.state = state
        self.action = action
        self.items: list[Note] = []

    def add(self, kind: NoteKind, detail: str, action: str | None = None) -> None:
        self.items.append(Note(kind, action or self.action, detail))

    def lossy(self, field: str, detail: str) -> None:
        self.state.count_lossy(f"{self.action}.{field}")
        self.add(NoteKind.LOSSY, f"{field}: {detail}")

    def enum(self, table: EnumMap, value: str, field: str) -> str:
        """``table(value)``, noting the row when it is lossy."""
        target, lossy = table(value)
        if lossy:
            self.lossy(field, f"{value} -> {target}")
        return target

    def step(self, to_charger: tuple[Frame, ...] = (), to_csms: tuple[Frame, ...] = ()) -> Step:
        return Step(to_charger, to_csms, tuple(self.items))


def put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is a value (optional fields stay absent)."""
    if value is not None:
        target[key] = value


def send(
    state: StationState,
    side: Side,
    action: str,
    payload: dict[str, Any],
    *,
    message_id: str,
    origin_action: str,
    origin_id: str | None,
    data: dict[str, Any] | None = None,
) -> Call:
    """A call for ``side``, registered so its answer can be translated."""
    call = Call(message_id, action, payload)
    expect_answer(state, side, call, origin_action=origin_action, origin_id=origin_id, data=data)
    return call


def relay(
    state: StationState,
    side: Side,
    call: Call,
    action: str,
    payload: dict[str, Any],
    data: dict[str, Any] | None = None,
) -> Call:
    """``call`` passed on to ``side`` as ``action``: same message id, answer due to the caller."""
    return send(
        state,
        side,
        action,
        payload,
        message_id=call.message_id,
        origin_action=call.action,
        origin_id=call.message_id,
        data=data,
    )


def wire_code(error_code: str, target: OcppVersion) -> str:
    """A peer's CALLERROR code re-spelled for the other side's version."""
    code = ERROR_CODE_BY_WIRE.get(error_code, ErrorCode.GENERIC_ERROR)
    return code.wire(target)


def relay_error(pending: Pending, error: CallError, to: Side) -> Step:
    """Pass a CALLERROR on to the side whose call caused the failed one."""
    if pending.origin_id is None:
        return Step(
            notes=(
                Note(
                    NoteKind.ORPHAN,
                    pending.action,
                    f"{error.error_code}: {error.error_description}"[:255],
                ),
            )
        )
    frame = CallError(
        pending.origin_id,
        wire_code(error.error_code, V201 if to is Side.CHARGER else V16),
        error.error_description[:255],
        error.error_details,
    )
    return Step(to_charger=(frame,)) if to is Side.CHARGER else Step(to_csms=(frame,))


def answer(pending: Pending, payload: dict[str, Any], to: Side) -> Step:
    """The translated CALLRESULT for the origin of ``pending`` (if any)."""
    if pending.origin_id is None:
        return Step()
    frame = CallResult(pending.origin_id, payload)
    return Step(to_charger=(frame,)) if to is Side.CHARGER else Step(to_csms=(frame,))


def local_answer(call: Call, payload: dict[str, Any], to: Side, detail: str) -> Step:
    """Answer ``call`` from the bridge itself, with a note saying why."""
    frame = CallResult(call.message_id, payload)
    note = (Note(NoteKind.LOCAL_ANSWER, call.action, detail),)
    if to is Side.CHARGER:
        return Step(to_charger=(frame,), notes=note)
    return Step(to_csms=(frame,), notes=note)


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
    if len(value) <= limit:
        return value
    notes.lossy(field, f"cut to {limit} characters")
    return value[:limit]


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
