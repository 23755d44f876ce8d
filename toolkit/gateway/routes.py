"""Which version pair a charger's session bridges, and with which translator.

A :class:`Route` is the little the shell needs to host a pair on the one
bridge core: the versions on each leg, the session translator, and how its
state is made and restored. The route of a charger follows from the
upstream version configured for it (``upstream_version``, globally or in
``[chargers.<id>]``):

==================  =======================  ==========================
upstream version    charger speaks           route
==================  =======================  ==========================
2.0.1 (default)     1.6J (or 1.5 SOAP)       1.6 charger -> 2.0.1 CSMS
1.6                 2.0.1                    2.0.1 station -> 1.6 CSMS
==================  =======================  ==========================

A charger that already speaks the upstream version is piped through
unchanged (:mod:`ocppkit.toolkit.gateway.passthrough`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ocppkit.translators.bridge import Translator
from ocppkit.translators.charger16_csms201 import session as charger16_csms201
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.station201_csms16 import session as station201_csms16
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201


@dataclass(frozen=True, slots=True)
class Route:
    """One version pair as a session hosts it.

    Attributes:
        charger_version: spoken on the charger's leg.
        csms_version: spoken on the CSMS's leg.
        translator: the session translator (``from_charger`` / ``from_csms``).
        new_state: a fresh state for a charger id.
        restore: a state from its stored JSON form.
    """

    charger_version: OcppVersion
    csms_version: OcppVersion
    translator: Translator | ModuleType
    new_state: Callable[[str], Any]
    restore: Callable[[dict[str, Any]], Any]


FORWARD = Route(
    V16,
    V201,
    charger16_csms201,
    lambda cp_id: BridgeState(charge_point_id=cp_id),
    BridgeState.from_dict,
)
REVERSE = Route(
    V201,
    V16,
    station201_csms16,
    lambda cp_id: StationState(charge_point_id=cp_id),
    StationState.from_dict,
)
# upstream version -> the route for chargers that do not speak it
BY_UPSTREAM: dict[OcppVersion, Route] = {V201: FORWARD, V16: REVERSE}
