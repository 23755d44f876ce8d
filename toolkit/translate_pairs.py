"""The OCPP-J translator pairs, as the conversation converter hosts them.

A recorded conversation in one version has two roles, and each role needs a
different pair of the translators (:mod:`ocppkit.translators`):

============================  ===========================  ==========================
conversion                    the charger's own messages   the CSMS's own commands
============================  ===========================  ==========================
1.6 -> 2.0.1                  1.6 charger / 2.0.1 CSMS     2.0.1 station / 1.6 CSMS
                              (``charger16_csms201``)             (``station201_csms16``)
2.0.1 -> 1.6                  2.0.1 station / 1.6 CSMS     1.6 charger / 2.0.1 CSMS
                              (``station201_csms16``)             (``charger16_csms201``)
2.0.1 -> 2.1                  2.0.1 station / 2.1 CSMS     2.1 station / 2.0.1 CSMS
                              (``lift21.session``)         (``lift21.session_down``)
2.1 -> 2.0.1                  the same two, swapped
============================  ===========================  ==========================

1.6 -> 2.1 (and 1.5 -> 2.1) is 1.6 -> 2.0.1 followed by 2.0.1 -> 2.1, record by record
(:class:`~ocppkit.toolkit.translate_stream.Chain`).

The *commands* pair turns a source-version command into the target-version
command a target CSMS would have sent; the *session* pair (the charger's)
then turns that command back into the source version, which tells how to
read the charger's recorded answer, and translates the answer. No table is
written twice: both directions of every command come from the pairs.

This module is the one place the converter names the pair packages:
:func:`session_16_to_201` / :func:`session_201_to_16` build the two
:class:`~ocppkit.toolkit.translate_base.SessionSpec` records. What the two
pairs must share, and this module alone knows how:

- :func:`share_16_to_201` / :func:`share_201_to_16`: the transaction ids the
  session pair holds, copied into the commands pair's state before each
  command (a RemoteStopTransaction names the integer the session pair
  knows);
- :func:`align_201_to_16`: ids the reverse pair mints when it re-derives a
  2.0.1 command (remoteStartId, requestId) renamed to the recorded ones, so
  the station's later messages, which carry the recorded ids, are understood;
- :func:`answer_for_201`: a recorded 2.0.1 answer to a command the 1.6 side
  had to split (SetVariables with several entries: one ChangeConfiguration
  each; GetInstalledCertificateIds for several types: one call per type) cut
  down to each part;
- :func:`held_201` / :func:`still_held_201`: which station events the reverse
  pair keeps until a StartTransaction can carry them (a transaction started
  before its idToken is known).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppkit.toolkit.translate_base import CommandSpec, SessionSpec
from ocppkit.translators.frames import Call, CallError, CallResult, Frame
from ocppkit.translators.pending import Side, pending_key
from ocppkit.translators.versions import OcppVersion


def _same_answer(answer: CallResult | CallError, derived: Call) -> CallResult | CallError:
    if isinstance(answer, CallError):
        return CallError(
            derived.message_id, answer.error_code, answer.error_description, answer.error_details
        )
    return CallResult(derived.message_id, answer.payload)


# -- 1.6 -> 2.0.1: commands through the reverse pair ---------------------------


def share_16_to_201(session: Any, commands: Any) -> None:
    """The forward pair's transactions, as the reverse pair keeps them."""
    from ocppkit.translators.station201_csms16 import StationTransaction

    commands.transactions = {
        tx.id201: StationTransaction(
            id201=tx.id201,
            evse_id=tx.evse_id,
            id16=tx.id16,
            id_tag=tx.id_tag,
            meter_start=tx.meter_start,
            started_at=tx.started_at,
            start_sent=True,
            ended=tx.ended,
        )
        for tx in session.transactions.values()
    }
    # Remote starts are remembered by the forward pair from the 2.0.1 command
    # (its remoteStartId); the reverse pair's own copy would only grow.
    commands.remote_starts.clear()


def _no_alignment(session: Any, recorded: Call, derived: Call) -> None:
    return None


def commands_16_to_201() -> CommandSpec:
    from ocppkit.translators.station201_csms16 import StationState, from_charger, from_csms

    return CommandSpec(
        new_state=lambda cp: StationState(charge_point_id=cp),
        from_csms=from_csms,
        from_charger=from_charger,
        share=share_16_to_201,
        align=_no_alignment,
        answer_for=_same_answer,
    )


# -- 2.0.1 -> 1.6: commands through the forward pair ---------------------------


def share_201_to_16(session: Any, commands: Any) -> None:
    """The reverse pair's transactions the 1.6 side knows, as the forward pair keeps them."""
    from ocppkit.translators.charger16_csms201.state import Transaction

    transactions: dict[str, Any] = {}
    active: dict[str, int] = {}
    for tx in session.transactions.values():
        if tx.id16 is None:
            continue  # not yet started for 1.6: no 1.6 command can name it
        transactions[str(tx.id16)] = Transaction(
            id16=tx.id16,
            id201=tx.id201,
            connector_id=tx.evse_id,
            evse_id=tx.evse_id,
            id_tag=tx.id_tag or "",
            meter_start=tx.meter_start or 0,
            started_at=tx.started_at,
            ended=tx.ended,
        )
        if not tx.ended:
            active[str(tx.evse_id)] = tx.id16
    commands.transactions = transactions
    commands.active_by_connector = active


# 2.0.1 action -> (field the reverse pair mints, state map keyed by str(value)).
_MINTED: dict[str, tuple[str, str]] = {
    "RequestStartTransaction": ("remoteStartId", "remote_starts"),
    "GetLog": ("requestId", "log_requests"),
    "UpdateFirmware": ("requestId", "firmware_requests"),
}
# The pending data field naming the same minted value, by 2.0.1 action.
_MINTED_IN_PENDING: dict[str, str] = {"RequestStartTransaction": "remote_start_id"}


def align_201_to_16(session: Any, recorded: Call, derived: Call) -> None:
    """Give the reverse pair the ids the recorded 2.0.1 CSMS chose, not its own."""
    row = _MINTED.get(derived.action)
    if row is None or recorded.action != derived.action:
        return
    field, attribute = row
    minted, wanted = derived.payload.get(field), recorded.payload.get(field)
    if minted is None or wanted is None or minted == wanted:
        return
    table: dict[str, Any] = getattr(session, attribute)
    if str(minted) in table:
        table[str(wanted)] = table.pop(str(minted))
    pending = session.pending.get(pending_key(Side.CHARGER, derived.message_id))
    key = _MINTED_IN_PENDING.get(derived.action)
    if pending is not None and key is not None and key in pending.data:
        pending.data[key] = wanted


def _variable_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    """How the reverse pair matches a variable result (names compared without case)."""
    instance = entry["variable"].get("instance")
    return (
        str(entry["component"]["name"]).lower(),
        str(entry["variable"]["name"]).lower(),
        str(instance).lower() if instance is not None else "",
    )


def _set_variables_part(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The results of the entries one ChangeConfiguration carried."""
    wanted = {_variable_key(e) for e in asked["setVariableData"]}
    rows = [r for r in answer.get("setVariableResult", []) if _variable_key(r) in wanted]
    return {**answer, "setVariableResult": rows}


def _certificates_part(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The certificates of the types one 1.6 call asked (1.6 asks one type per call)."""
    types = set(asked.get("certificateType", []))
    chains = [
        c for c in answer.get("certificateHashDataChain", []) if c["certificateType"] in types
    ]
    out = {k: v for k, v in answer.items() if k != "certificateHashDataChain"}
    if chains:
        out["certificateHashDataChain"] = chains
    elif answer.get("status") == "Accepted":
        out["status"] = "NotFound"  # 2.0.1 M03: none of the asked type installed
    return out


# 2.0.1 commands the 1.6 side splits into several calls: 2.0.1 action ->
# (request part, whole recorded answer) -> the answer to that part.
_PARTS: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "SetVariables": _set_variables_part,
    "GetInstalledCertificateIds": _certificates_part,
}


def answer_for_201(answer: CallResult | CallError, derived: Call) -> CallResult | CallError:
    """A recorded 2.0.1 answer, as the answer to one re-derived 2.0.1 call."""
    part = _PARTS.get(derived.action)
    if part is None or isinstance(answer, CallError):
        return _same_answer(answer, derived)
    return CallResult(derived.message_id, part(derived.payload, answer.payload))


def commands_201_to_16() -> CommandSpec:
    from ocppkit.translators.charger16_csms201 import session
    from ocppkit.translators.charger16_csms201.state import BridgeState

    return CommandSpec(
        new_state=lambda cp: BridgeState(charge_point_id=cp),
        from_csms=session.from_csms,
        from_charger=session.from_charger,
        share=share_201_to_16,
        align=align_201_to_16,
        answer_for=answer_for_201,
    )


# -- events the reverse pair holds ---------------------------------------------


def held_201(state: Any, call: Call) -> str | None:
    """The key of a station event the reverse pair keeps for later, or None."""
    if call.action != "TransactionEvent":
        return None
    info = call.payload.get("transactionInfo") or {}
    id201, seq_no = info.get("transactionId"), call.payload.get("seqNo")
    tx = state.transactions.get(id201)
    if tx is None or not any(e.get("seqNo") == seq_no for e in tx.buffered):
        return None
    return f"{id201}\x00{seq_no}"


def still_held_201(state: Any, key: str) -> bool:
    id201, seq_no = key.split("\x00")
    tx = state.transactions.get(id201)
    return tx is not None and any(str(e.get("seqNo")) == seq_no for e in tx.buffered)


def why_held_201(state: Any, key: str) -> str:
    id201 = key.split("\x00")[0]
    tx = state.transactions.get(id201)
    if tx is not None and tx.id_tag is None:
        return (
            f"transaction {id201} never carried an idToken in the conversation: "
            "1.6 has no StartTransaction for it"
        )
    return f"transaction {id201}: its StartTransaction was never answered in the conversation"


# -- the two session specs -----------------------------------------------------


def session_16_to_201() -> SessionSpec:
    """A 1.6 conversation read as a 1.6 charger behind a 2.0.1 CSMS would be."""
    from ocppkit.translators.charger16_csms201 import session
    from ocppkit.translators.charger16_csms201.meter_values import SCHEMA_SAFE
    from ocppkit.translators.charger16_csms201.replay import ANSWERS_UP, answer_up
    from ocppkit.translators.charger16_csms201.state import BridgeState

    csms = Side.CSMS  # an Enum class attribute costs a lookup per frame

    def replay(state: BridgeState, frame: Frame) -> Frame | None:
        if isinstance(frame, Call):
            return None
        pending = state.pending.get(pending_key(csms, frame.message_id))
        if pending is None or pending.action not in ANSWERS_UP:
            return None
        assert not isinstance(frame, Call)
        return answer_up(state, pending, frame.message_id, frame)

    return SessionSpec(
        source=OcppVersion.V16,
        target=OcppVersion.V201,
        new_state=lambda cp: BridgeState(charge_point_id=cp),
        # The pair's own entry points (bound methods): one call less per frame.
        from_charger=session.PAIR.from_charger,
        from_csms=session.PAIR.from_csms,
        replay_answer=replay,
        commands=commands_16_to_201(),
        proven=SCHEMA_SAFE,
    )


def session_201_to_16() -> SessionSpec:
    """A 2.0.1 conversation read as a 2.0.1 station behind a 1.6 CSMS would be."""
    from ocppkit.translators.station201_csms16 import (
        StationState,
        from_charger,
        from_csms,
        replay_answer,
    )

    return SessionSpec(
        source=OcppVersion.V201,
        target=OcppVersion.V16,
        new_state=lambda cp: StationState(charge_point_id=cp),
        from_charger=from_charger,
        from_csms=from_csms,
        replay_answer=replay_answer,
        commands=commands_201_to_16(),
        held=held_201,
        still_held=still_held_201,
        why_held=why_held_201,
    )


def _lift21_commands(charger: OcppVersion, csms: OcppVersion) -> CommandSpec:
    """A recorded CSMS's commands, through the 2.0.1 <-> 2.1 pair the other way round.

    The fitting keeps every id as it is: nothing to share or rename between the pairs.
    """
    from ocppkit.translators.engine import find_pair
    from ocppkit.translators.lift21.state import LiftState

    pair = find_pair(charger, csms)

    def nothing(*_: Any) -> None:
        return None

    return CommandSpec(
        new_state=lambda cp: LiftState(charge_point_id=cp),
        from_csms=pair.from_csms,
        from_charger=pair.from_charger,
        share=nothing,
        align=nothing,
        answer_for=_same_answer,
    )


def session_lift21(source: OcppVersion, target: OcppVersion) -> SessionSpec:
    """A 2.0.1 conversation read as a 2.0.1 station behind a 2.1 CSMS would be, or a 2.1
    one as a 2.1 station behind a 2.0.1 CSMS (:mod:`ocppkit.translators.lift21`)."""
    from ocppkit.translators.engine import Notes, find_pair, respell
    from ocppkit.translators.lift21.fit import fit
    from ocppkit.translators.lift21.pairs import rules_for
    from ocppkit.translators.lift21.state import LiftState
    from ocppkit.translators.schemas import Kind

    pair = find_pair(source, target)

    def replay(state: LiftState, frame: Frame) -> Frame | None:
        """A recorded source-version CSMS answer, fitted to the target version's."""
        if isinstance(frame, Call):
            return None
        pending = state.pending.get(pending_key(Side.CSMS, frame.message_id))
        if pending is None:
            return None
        if isinstance(frame, CallError):
            return respell(frame, frame.message_id, target)[0]
        assert isinstance(frame, CallResult)
        notes = Notes(None, pending.action)
        rules = rules_for(target)
        payload = fit(frame.payload, target, pending.action, Kind.RESPONSE, rules, notes)
        return CallResult(frame.message_id, payload)

    return SessionSpec(
        source=source,
        target=target,
        new_state=lambda cp: LiftState(charge_point_id=cp),
        from_charger=pair.from_charger,
        from_csms=pair.from_csms,
        replay_answer=replay,
        commands=_lift21_commands(target, source),
    )
