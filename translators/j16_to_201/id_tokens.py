"""1.6 idTag <-> 2.0.1 IdToken, and idTagInfo <-> idTokenInfo.

A 1.6 idTag is a bare string of at most 20 characters; a 2.0.1 IdToken is a
value (<= 36) plus a **type** (IdTokenEnumType). 1.6 does not say what kind
of token a tag is, so the bridge chooses, and keeps its choice consistent:
one tag has one type in every Authorize, TransactionEvent and local list.

The rule (:func:`token_type`, first answer wins):

1. a type the CSMS itself gave the tag (RequestStartTransaction,
   SendLocalList, ReserveNow): ``state.id_token_types``, so the tag comes
   back as the CSMS knows it (CSMSs match tokens by value *and* type);
2. the operator's ordered rules (``Settings.token_rules``: a prefix or a
   regular expression -> type, for the whole fleet or listed chargers);
3. ``ISO14443`` when the tag looks like a 4- or 7-byte card UID: 8 or 14
   hexadecimal characters (2.0.1 IdTokenEnumType; strict CSMSs such as
   CitrineOS refuse any other ISO14443 value);
4. otherwise ``Settings.token_default_type`` (``Central`` by default).
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.j16_to_201.command_kit import lossy, mapped
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note
from ocppkit.translators.settings import ISO14443_UID

DEFAULT_ID_TOKEN_TYPE = "Central"  # Settings.token_default_type's default
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


def computed_type(ctx: Context, charge_point_id: str, id_tag: str) -> str:
    """The type the operator's rules and the UID shape give ``id_tag`` (steps 2-4)."""
    settings = ctx.settings
    for rule in settings.token_rules:
        if rule.matches(charge_point_id, id_tag):
            return rule.type
    if ISO14443_UID.fullmatch(id_tag):
        return "ISO14443"
    return settings.token_default_type


def token_type(state: BridgeState, ctx: Context, id_tag: str) -> str:
    """The 2.0.1 IdTokenEnumType the bridge uses for ``id_tag``."""
    known = state.id_token_types.get(id_tag)
    return known if known is not None else computed_type(ctx, state.charge_point_id, id_tag)


def remember_type(state: BridgeState, ctx: Context, id_tag: str, type_: str) -> None:
    """Use ``type_`` for ``id_tag`` from now on (only types the rules would not give are kept)."""
    if type_ == computed_type(ctx, state.charge_point_id, id_tag):
        state.id_token_types.pop(id_tag, None)
    else:
        state.id_token_types[id_tag] = type_


def id_token(state: BridgeState, ctx: Context, id_tag: str) -> dict[str, Any]:
    """The 2.0.1 IdTokenType for a 1.6 idTag."""
    return {"idToken": id_tag, "type": token_type(state, ctx, id_tag)}


def refusal_down(token: dict[str, Any]) -> str:
    """Why a 2.0.1 IdToken cannot become a 1.6 idTag ("" when it can).

    Never truncated: a cut tag could authorise somebody else. A
    NoAuthorization token names nobody, and every 1.6 message that carries
    an idTag needs one.
    """
    if len(token["idToken"]) > MAX_ID_TAG:
        return f"idToken of {len(token['idToken'])} characters: a 1.6 idTag holds {MAX_ID_TAG}"
    if token["type"] == "NoAuthorization" or not token["idToken"]:
        return f"idToken type {token['type']} with no identity: 1.6 has no such idTag"
    return ""


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

    parentIdTag becomes groupIdToken of type Central (a group is the CSMS's
    own notion).
    """
    out: dict[str, Any] = {"status": ID_TOKEN_STATUS(info16["status"])[0]}
    if "expiryDate" in info16:
        out["cacheExpiryDateTime"] = info16["expiryDate"]
    if "parentIdTag" in info16:
        out["groupIdToken"] = {"idToken": info16["parentIdTag"], "type": DEFAULT_ID_TOKEN_TYPE}
    return out
