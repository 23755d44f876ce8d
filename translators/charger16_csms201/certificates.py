"""Certificate management, through the 1.6 security whitepaper messages.

The whitepaper ("Improved security for OCPP 1.6-J", edition 2) gave 1.6 the
2.0.1 certificate messages under the same names; they differ only in the
certificate types a 1.6 charger knows: CentralSystemRootCertificate (2.0.1
CSMSRootCertificate) and ManufacturerRootCertificate. V2G and MO
certificates (ISO 15118) have no 1.6 counterpart: the bridge answers those
itself (Rejected / NotFound). A charger without the whitepaper answers the
1.6 call with a CALLERROR, which is passed up.

GetInstalledCertificateIds asks 1.6 for one type per call; a 2.0.1 request
for several types (or all: no type) becomes one call per type, sent one
after the other, with the hashes collected in the pending data.
"""

from __future__ import annotations

from typing import Any

from ocppkit.translators.charger16_csms201.command_kit import (
    local_answer,
    relay_error,
    reply,
    same_values,
    send_down,
    status_info,
    status_result,
)
from ocppkit.translators.charger16_csms201.handlers import Side, expect_answer
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import Step
from ocppkit.translators.pending import Pending

_WP = "1.6 security whitepaper ed. 2"
CERTIFICATE_TYPE = EnumMap(
    "certificateType (2.0.1 -> 1.6)",
    {
        "CSMSRootCertificate": "CentralSystemRootCertificate",
        "ManufacturerRootCertificate": "ManufacturerRootCertificate",
    },
    reference=f"{_WP} CertificateUseEnumType; 2.0.1 M03/M05 (V2G/MO types: no 1.6 value)",
)
CERTIFICATE_TYPE_UP = EnumMap(
    "certificateType (1.6 -> 2.0.1)",
    {v: k for k, v in CERTIFICATE_TYPE.rows.items()},
    reference=CERTIFICATE_TYPE.reference,
)
INSTALL_STATUS = same_values(
    "InstallCertificate status", ("Accepted", "Failed", "Rejected"), f"{_WP}; 2.0.1 M05"
)
DELETE_STATUS = same_values(
    "DeleteCertificate status", ("Accepted", "Failed", "NotFound"), f"{_WP}; 2.0.1 M04"
)
SIGNED_STATUS = same_values(
    "CertificateSigned status", ("Accepted", "Rejected"), f"{_WP}; 2.0.1 A02"
)
TABLES = (CERTIFICATE_TYPE, CERTIFICATE_TYPE_UP, INSTALL_STATUS, DELETE_STATUS, SIGNED_STATUS)

_HASH_FIELDS = ("hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber")


def _hash(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in _HASH_FIELDS}


def install_certificate(state: BridgeState, call: Call, ctx: Context) -> Step:
    """InstallCertificate -> InstallCertificate (whitepaper)."""
    kind = call.payload["certificateType"]
    if kind not in CERTIFICATE_TYPE.rows:
        info = status_info("UnsupportedParam", f"a 1.6 charger holds no {kind}")
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, kind)
    payload = {
        "certificateType": CERTIFICATE_TYPE(kind)[0],
        "certificate": call.payload["certificate"],
    }
    return send_down(state, call, "InstallCertificate", payload)


def delete_certificate(state: BridgeState, call: Call, ctx: Context) -> Step:
    """DeleteCertificate -> DeleteCertificate (whitepaper)."""
    payload = {"certificateHashData": _hash(call.payload["certificateHashData"])}
    return send_down(state, call, "DeleteCertificate", payload)


def certificate_signed(state: BridgeState, call: Call, ctx: Context) -> Step:
    """CertificateSigned -> CertificateSigned (whitepaper); V2G certificates refused."""
    if (
        call.payload.get("certificateType", "ChargingStationCertificate")
        != "ChargingStationCertificate"
    ):
        info = status_info("UnsupportedParam", "1.6 has no V2G certificate")
        return local_answer(call, {"status": "Rejected", "statusInfo": info}, "V2GCertificate")
    payload = {"certificateChain": call.payload["certificateChain"]}
    return send_down(state, call, "CertificateSigned", payload)


def get_installed_certificate_ids(state: BridgeState, call: Call, ctx: Context) -> Step:
    """GetInstalledCertificateIds -> one whitepaper call per 1.6 certificate type."""
    wanted = call.payload.get("certificateType", list(CERTIFICATE_TYPE.rows))
    types = [CERTIFICATE_TYPE(t)[0] for t in CERTIFICATE_TYPE.rows if t in wanted]
    if not types:
        info = status_info("UnsupportedParam", "a 1.6 charger holds none of these types")
        return local_answer(call, {"status": "NotFound", "statusInfo": info}, "types")
    first, rest = types[0], types[1:]
    data = {"queue": rest, "chains": [], "asked": first}
    return send_down(
        state, call, "GetInstalledCertificateIds", {"certificateType": first}, data=data
    )


def installed_ids(
    state: BridgeState, pending: Pending, answer: CallResult | CallError, ctx: Context
) -> Step:
    """Collect one type's hashes; ask for the next type or answer the CSMS."""
    if isinstance(answer, CallError):
        return relay_error(pending, answer)
    chains = list(pending.data["chains"])
    queue = list(pending.data["queue"])
    kind = CERTIFICATE_TYPE_UP(pending.data["asked"])[0]
    for item in answer.payload.get("certificateHashData", []):
        chains.append({"certificateType": kind, "certificateHashData": _hash(item)})
    if queue and pending.origin_id is not None:
        call16 = Call(ctx.new_id(), "GetInstalledCertificateIds", {"certificateType": queue[0]})
        data = {"queue": queue[1:], "chains": chains, "asked": queue[0]}
        expect_answer(
            state,
            Side.CHARGER,
            call16,
            origin_action=pending.origin_action,
            origin_id=pending.origin_id,
            data=data,
        )
        return Step(to_charger=(call16,))
    out: dict[str, Any] = {"status": "Accepted" if chains else "NotFound"}
    if chains:
        out["certificateHashDataChain"] = chains
    return reply(pending, out)


CALLS = {
    "InstallCertificate": install_certificate,
    "DeleteCertificate": delete_certificate,
    "CertificateSigned": certificate_signed,
    "GetInstalledCertificateIds": get_installed_certificate_ids,
}
RESULTS = {
    ("InstallCertificate", "InstallCertificate"): status_result(
        INSTALL_STATUS, "InstallCertificate"
    ),
    ("DeleteCertificate", "DeleteCertificate"): status_result(DELETE_STATUS, "DeleteCertificate"),
    ("CertificateSigned", "CertificateSigned"): status_result(SIGNED_STATUS, "CertificateSigned"),
    ("GetInstalledCertificateIds", "GetInstalledCertificateIds"): installed_ids,
}
