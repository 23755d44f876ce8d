"""Shadow answers: 2.0.1 questions a 1.6 charger cannot answer, answered from what the bridge saw.

Two 2.0.1 requests have no 1.6 message, yet strict CSMSs send them on their
own (CitrineOS asks GetChargingProfiles after every boot). The bridge knows
part of the truth, and answers from it (LOCAL_ANSWER notes say so):

- **GetChargingProfiles** (2.0.1 K09): answered from the profiles the CSMS
  installed *through the bridge* (``state.profiles``: kept when the charger
  accepted a SetChargingProfile, replaced as 1.6 §3.13.2 replaces them (same
  id, or same connector + purpose + stackLevel), removed by an accepted
  ClearChargingProfile; a TxProfile only while its transaction runs). The
  answer is Accepted and one ReportChargingProfiles per EVSE follows
  (chargingLimitSource CSO, ``tbc`` on all but the last), or NoProfiles.
- **GetTransactionStatus** (2.0.1 E14): ``messagesInQueue`` is true while
  the bridge holds a TransactionEvent of that transaction (any, without a
  transactionId) not yet answered by the CSMS; ``ongoingIndicator`` is
  whether the bridge knows the transaction as open.

How a shadow answer can be wrong: profiles installed before the bridge was
put in front of the charger, by a local tool, or by another CSMS are not
known; a profile the charger dropped on its own (reboot without
persistence, a 1.6 charger expiring ``validTo``) is still reported; a
charger's own offline queue (1.6 chargers queue transaction messages while
disconnected) is invisible, so ``messagesInQueue`` covers only what the
bridge holds.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.j16_to_201.command_kit import local_answer, strip_custom
from ocppkit.translators.j16_to_201.handlers import Side, expect_answer
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.pending import Pending

REPORT_ORIGIN = "GetChargingProfiles"


def remember_profile(state: BridgeState, evse_id: int, profile: dict[str, Any]) -> None:
    """The charger accepted ``profile`` on ``evse_id``: keep it, as 1.6 keeps it."""
    for key, held in list(state.profiles.items()):
        same_slot = (
            held["evseId"] == evse_id
            and held["profile"]["chargingProfilePurpose"] == profile["chargingProfilePurpose"]
            and held["profile"]["stackLevel"] == profile["stackLevel"]
        )
        if held["profile"]["id"] == profile["id"] or same_slot:
            del state.profiles[key]
    state.profiles[str(profile["id"])] = {"evseId": evse_id, "profile": strip_custom(profile)}


def forget_profiles(state: BridgeState, criteria: dict[str, Any]) -> None:
    """An accepted ClearChargingProfile (2.0.1 fields) removes what it names."""
    wanted_id = criteria.get("chargingProfileId")
    wanted = criteria.get("chargingProfileCriteria", {})
    for key, held in list(state.profiles.items()):
        profile = held["profile"]
        if wanted_id is not None and profile["id"] != wanted_id:
            continue
        if "evseId" in wanted and held["evseId"] != wanted["evseId"]:
            continue
        purpose = wanted.get("chargingProfilePurpose")
        if purpose is not None and profile["chargingProfilePurpose"] != purpose:
            continue
        if "stackLevel" in wanted and profile["stackLevel"] != wanted["stackLevel"]:
            continue
        del state.profiles[key]


def _live(state: BridgeState, profile: dict[str, Any]) -> bool:
    if profile["chargingProfilePurpose"] != "TxProfile" or "transactionId" not in profile:
        return profile["chargingProfilePurpose"] != "TxProfile" or any(
            not tx.ended for tx in state.transactions.values()
        )
    tx = state.by_id201(profile["transactionId"])
    return tx is not None and not tx.ended


def _selected(state: BridgeState, payload: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    criterion = payload["chargingProfile"]
    sources = criterion.get("chargingLimitSource")
    if sources is not None and "CSO" not in sources:
        return {}  # every profile the bridge relayed came from the CSMS (CSO)
    by_evse: dict[int, list[dict[str, Any]]] = {}
    for held in sorted(state.profiles.values(), key=lambda h: (h["evseId"], h["profile"]["id"])):
        profile, evse = held["profile"], held["evseId"]
        if "evseId" in payload and evse != payload["evseId"]:
            continue
        if "chargingProfileId" in criterion and profile["id"] not in criterion["chargingProfileId"]:
            continue
        purpose = criterion.get("chargingProfilePurpose")
        if purpose is not None and profile["chargingProfilePurpose"] != purpose:
            continue
        if "stackLevel" in criterion and profile["stackLevel"] != criterion["stackLevel"]:
            continue
        if _live(state, profile):
            by_evse.setdefault(evse, []).append(profile)
    return by_evse


def get_charging_profiles(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetChargingProfiles -> local answer + ReportChargingProfiles from ``state.profiles``."""
    found = _selected(state, call.payload)
    if not found:
        detail = "shadow answer: no profile installed through the bridge matches"
        return local_answer(call, {"status": "NoProfiles"}, detail)
    detail = "shadow answer from the profiles installed through the bridge"
    step = local_answer(call, {"status": "Accepted"}, detail)
    evses = sorted(found)
    for i, evse in enumerate(evses):
        report: dict[str, Any] = {
            "requestId": call.payload["requestId"],
            "chargingLimitSource": "CSO",
            "evseId": evse,
            "chargingProfile": found[evse],
        }
        if i < len(evses) - 1:
            report["tbc"] = True
        report_call = Call(ctx.new_id(), "ReportChargingProfiles", report)
        expect_answer(state, Side.CSMS, report_call, origin_action=REPORT_ORIGIN, origin_id=None)
        note = Note(NoteKind.DERIVED, "ReportChargingProfiles", f"evse {evse} (shadow)")
        step += Step(to_csms=(report_call,), notes=(note,))
    return step


def get_transaction_status(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetTransactionStatus -> local answer from the bridge's queue and transactions."""
    wanted = call.payload.get("transactionId")
    waiting = [
        p
        for key, p in state.pending.items()
        if key.startswith(Side.CSMS.value) and p.action == "TransactionEvent"
    ]
    if wanted is None:
        answer: dict[str, Any] = {"messagesInQueue": bool(waiting)}
    else:
        tx = state.by_id201(wanted)
        queued = any(p.data.get("id201") == wanted for p in waiting)
        answer = {"messagesInQueue": queued, "ongoingIndicator": tx is not None and not tx.ended}
    detail = "shadow answer from the bridge's queue (the charger's own queue is not visible)"
    return local_answer(call, answer, detail)


def report_answered(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    if isinstance(answer, CallError):
        detail = f"CSMS refused ReportChargingProfiles ({answer.error_code})"
        return Step(notes=(Note(NoteKind.ORPHAN, "ReportChargingProfiles", detail),))
    return Step()


CALLS = {
    "GetChargingProfiles": get_charging_profiles,
    "GetTransactionStatus": get_transaction_status,
}
RESULTS: dict[tuple[str, str], Any] = {}
CSMS_RESULTS = {"ReportChargingProfiles": report_answered}
