"""1.6 idTag <-> 2.0.1 IdToken, and idTagInfo <-> idTokenInfo.

A 1.6 idTag is a bare string of at most 20 characters; a 2.0.1 IdToken is a
value (<= 36) plus a **type** (IdTokenEnumType). 1.6 does not say what kind
of token a tag is, so the bridge chooses, and keeps its choice consistent:
one tag has one type in every Authorize and TransactionEvent it appears in.

Choice (mapping-research §3.8): the type is :data:`DEFAULT_ID_TOKEN_TYPE`
(ISO14443, the RFID cards most 1.6 chargers read; MaEVe makes the same
choice) unless ``state.id_token_types`` names another type for that tag.
That table is the configuration point: an operator (or a translator that
learned the type, e.g. from a 2.0.1 RequestStartTransaction) records the
type with :func:`remember_type`, and it is persisted with the state.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.charger16_csms201.command_kit import lossy, mapped
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.outcome import Note

DEFAULT_ID_TOKEN_TYPE = "ISO14443"
MAX_ID_TAG = 20  # 1.6 IdToken is CiString20Type (1.6 §7.28)

# 2.0.1 AuthorizationStatusEnumType -> 1.6 AuthorizationStatus (1.6 §7.2).
ID_TAG_STATUS = EnumMap(
    "idTokenInfo.status -> idTagInfo.status (2.0.1 -> 1.6)",
    {
        "Accepted": "Accepted",
        "Blocked": "Blocked",
        "ConcurrentTx": "ConcurrentTx",
        "Expired": "Expired",
        "Invalid": "Invalid",
        # 2.0.1-only statuses: the charger must not start, which 1.6 says
        # with Invalid (mapping-research §3.1).
        "NoCredit": "Invalid",
        "NotAllowedTypeEVSE": "Invalid",
        "NotAtThisLocation": "Invalid",
        "NotAtThisTime": "Invalid",
        "Unknown": "Invalid",
    },
    lossy=frozenset(
        {"NoCredit", "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime", "Unknown"}
    ),
    reference="1.6 §7.2 AuthorizationStatus; 2.0.1 AuthorizationStatusEnumType; "
    "mapping-research §3.1",
)

# 1.6 -> 2.0.1, used when a 1.6 CSMS's answer is replayed as a 2.0.1 one.
ID_TOKEN_STATUS = EnumMap(
    "idTagInfo.status -> idTokenInfo.status (1.6 -> 2.0.1)",
    {s: s for s in ("Accepted", "Blocked", "ConcurrentTx", "Expired", "Invalid")},
    reference="1.6 §7.2; 2.0.1 AuthorizationStatusEnumType (a superset)",
)

# idTokenInfo fields 1.6 idTagInfo has no place for.
DROPPED_INFO = ("chargingPriority", "language1", "language2", "evseId", "personalMessage")

TABLES: tuple[EnumMap, ...] = (ID_TAG_STATUS, ID_TOKEN_STATUS)


def token_type(state: BridgeState, id_tag: str) -> str:
    """The 2.0.1 IdTokenEnumType the bridge uses for ``id_tag``."""
    return state.id_token_types.get(id_tag, DEFAULT_ID_TOKEN_TYPE)


def remember_type(state: BridgeState, id_tag: str, type_: str) -> None:
    """Use ``type_`` for ``id_tag`` from now on (only non-default types are stored)."""
    if type_ == DEFAULT_ID_TOKEN_TYPE:
        state.id_token_types.pop(id_tag, None)
    else:
        state.id_token_types[id_tag] = type_


def id_token(state: BridgeState, id_tag: str) -> dict[str, Any]:
    """The 2.0.1 IdTokenType for a 1.6 idTag."""
    return {"idToken": id_tag, "type": token_type(state, id_tag)}


def id_tag_info(
    state: BridgeState, info: dict[str, Any], action: str
) -> tuple[dict[str, Any], list[Note]]:
    """2.0.1 IdTokenInfoType -> 1.6 IdTagInfo, with a note per loss.

    cacheExpiryDateTime -> expiryDate and groupIdToken -> parentIdTag (when
    it fits 20 characters) are kept; the rest has no 1.6 field.
    """
    status, found = mapped(state, ID_TAG_STATUS, info["status"], action, "idTokenInfo.status")
    notes = list(found)
    out: dict[str, Any] = {"status": status}
    if "cacheExpiryDateTime" in info:
        out["expiryDate"] = info["cacheExpiryDateTime"]
    group = info.get("groupIdToken")
    if group is not None:
        if len(group["idToken"]) <= MAX_ID_TAG:
            out["parentIdTag"] = group["idToken"]
        else:
            notes.append(lossy(state, action, "groupIdToken", "longer than a 1.6 parentIdTag"))
    dropped = [k for k in DROPPED_INFO if k in info]
    if dropped:
        notes.append(lossy(state, action, "idTokenInfo", f"no 1.6 field for {', '.join(dropped)}"))
    return out, notes


def id_token_info(info16: dict[str, Any]) -> dict[str, Any]:
    """1.6 IdTagInfo -> 2.0.1 IdTokenInfoType (lossless: 2.0.1 is a superset).

    parentIdTag becomes groupIdToken with the default token type.
    """
    out: dict[str, Any] = {"status": ID_TOKEN_STATUS(info16["status"])[0]}
    if "expiryDate" in info16:
        out["cacheExpiryDateTime"] = info16["expiryDate"]
    if "parentIdTag" in info16:
        out["groupIdToken"] = {"idToken": info16["parentIdTag"], "type": DEFAULT_ID_TOKEN_TYPE}
    return out
