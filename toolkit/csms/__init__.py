"""A small built-in OCPP 2.0.1 CSMS: the strict reference peer for tests and demos.

Not a product: it validates every frame, authorises from an allow-list,
prices transactions with a tariff, records a journal, and lets a test send
CSMS-initiated calls and inspect what it saw.
"""

from ocppkit.toolkit.csms.handlers import CsmsSettings, Responder
from ocppkit.toolkit.csms.records import StationInfo, TransactionSeen, energy_samples
from ocppkit.toolkit.csms.server import CallRejected, Csms, CsmsError

__all__ = [
    "CallRejected",
    "Csms",
    "CsmsError",
    "CsmsSettings",
    "Responder",
    "StationInfo",
    "TransactionSeen",
    "energy_samples",
]
