"""Security-event names: the 1.6 security whitepaper's vocabulary vs 2.0.1's.

SecurityEventNotification.type is an open string in both versions (vendors
add their own), but the standard events were renamed where 1.6 said
"Central System" or "Charge Point" (1.6 security whitepaper §A, 2.0.1
Appendices "Security events"). Strict CSMSs check the 2.0.1 names, so the
bridge renames through :data:`UP` (1.6 -> 2.0.1) and :data:`DOWN`
(2.0.1 -> 1.6); any other name (shared or vendor-specific) passes unchanged.
"""

from __future__ import annotations

UP: dict[str, str] = {
    "FailedToAuthenticateAtCentralSystem": "FailedToAuthenticateAtCsms",
    "CentralSystemFailedToAuthenticate": "CsmsFailedToAuthenticate",
    "InvalidCentralSystemCertificate": "InvalidCsmsCertificate",
    "InvalidChargePointCertificate": "InvalidChargingStationCertificate",
}
DOWN: dict[str, str] = {v: k for k, v in UP.items()}


def up(name: str) -> str:
    """The 2.0.1 name of a 1.6 security event."""
    return UP.get(name, name)


def down(name: str) -> str:
    """The 1.6 name of a 2.0.1 security event."""
    return DOWN.get(name, name)
