"""What a charger is told when the CSMS refuses the bridge's handshake for it.

The bridge opens the charger's CSMS link before it admits the charger (the
offline policy in :mod:`ocppkit.toolkit.gateway.server`). A CSMS that cannot
be reached gets the charger a 503 with a short ``Retry-After``: try again soon.
A CSMS that answers and refuses (401, 403: it will not take this station; 404:
it does not know it) will refuse the next attempt too, so the charger is told
so with a status it has no reason to retry hot and a long ``Retry-After``,
and the bridge's own reconnects to the CSMS for it back off to the longest
delay at once. The 401 becomes 403 towards the charger: the credentials the
CSMS refused are the bridge's, not the charger's.
"""

from __future__ import annotations

from dataclasses import dataclass

REFUSED_RETRY_AFTER = 300  # seconds


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # the HTTP status the charger gets
    reason: str  # the refusal reason (metrics label, log, body)
    retry_after: int  # seconds, the Retry-After header


# CSMS handshake status -> what the charger is told.
CSMS_REFUSALS: dict[int, Refusal] = {
    401: Refusal(403, "csms_refused_credentials", REFUSED_RETRY_AFTER),
    403: Refusal(403, "csms_forbidden", REFUSED_RETRY_AFTER),
    404: Refusal(404, "csms_unknown_charger", REFUSED_RETRY_AFTER),
}
UNREACHABLE = Refusal(503, "upstream_unreachable", 10)


def refusal_for(csms_status: int | None) -> Refusal:
    """The answer for a charger whose CSMS link is not up; ``csms_status`` is
    the status of the CSMS's last handshake refusal, None when it gave none."""
    return CSMS_REFUSALS.get(csms_status or 0, UNREACHABLE)


def refused_for_good(csms_status: int | None) -> bool:
    return (csms_status or 0) in CSMS_REFUSALS
