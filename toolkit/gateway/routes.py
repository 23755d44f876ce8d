"""Which version pair a charger's session bridges, and with which translator.

A :class:`Route` is the little the shell needs to host a pair on the one
bridge core: the versions on each leg, the session translator, and how its
state is made and restored. The route of a charger follows from the
upstream version configured for it (``upstream_version``, globally or in
``[chargers.<id>]``):

==================  =======================  ==================================
upstream version    charger speaks           route
==================  =======================  ==================================
2.0.1 (default)     1.6J (or 1.5 SOAP)       1.6 charger -> 2.0.1 CSMS
2.0.1               2.1                      2.1 station -> 2.0.1 CSMS
1.6                 2.0.1                    2.0.1 station -> 1.6 CSMS
2.1                 1.6J (or 1.5 SOAP)       1.6 -> 2.0.1 -> 2.1 (a chain)
2.1                 2.0.1                    2.0.1 station -> 2.1 CSMS
==================  =======================  ==================================

A charger that already speaks the upstream version is piped through
unchanged (:mod:`ocppkit.toolkit.gateway.passthrough`); which route a
charger takes follows from the subprotocols it offers (:func:`pick`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ocppkit.translators.bridge import Translator
from ocppkit.translators.charger16_csms201 import session as charger16_csms201
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.engine import ChainState, find_translator
from ocppkit.translators.lift21 import session as station201_csms21
from ocppkit.translators.lift21 import session_down as station21_csms201
from ocppkit.translators.lift21.state import LiftState
from ocppkit.translators.station201_csms16 import session as station201_csms16
from ocppkit.translators.station201_csms16.state import StationState
from ocppkit.translators.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21


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
UP21 = Route(
    V201,
    V21,
    station201_csms21,
    lambda cp_id: LiftState(charge_point_id=cp_id),
    LiftState.from_dict,
)
DOWN21 = Route(
    V21,
    V201,
    station21_csms201,
    lambda cp_id: LiftState(charge_point_id=cp_id),
    LiftState.from_dict,
)
_CHAIN16_21 = find_translator(V16, V21)


def _chain16_21_state(cp_id: str) -> ChainState:
    state = _CHAIN16_21.new_state()
    state.stages[0].charge_point_id = cp_id
    for stage in state.stages[1:]:
        stage.charge_point_id = cp_id
    return state


CHAIN16_21 = Route(V16, V21, _CHAIN16_21, _chain16_21_state, _CHAIN16_21.load_state)
# upstream version -> the routes for chargers that do not speak it, by preference
ROUTES: dict[OcppVersion, tuple[Route, ...]] = {
    V201: (FORWARD, DOWN21),
    V16: (REVERSE,),
    V21: (CHAIN16_21, UP21),
}
# upstream version -> the route a charger's session takes unless its subprotocol says otherwise
BY_UPSTREAM: dict[OcppVersion, Route] = {v: routes[0] for v, routes in ROUTES.items()}


def pick(upstream: OcppVersion, offered: tuple[str, ...] | list[str]) -> Route | None:
    """The route for a charger offering ``offered`` subprotocols; None: pipe it through.

    A 1.6J charger in front of a 2.0.1 CSMS is bridged even when it offers
    2.0.1 too (as always); otherwise a charger offering the upstream version is
    piped through, and the others take the first route whose version they offer.
    Returns the first route when none fits (the caller refuses the charger).
    """
    routes = ROUTES[upstream]
    first = routes[0]
    if first is FORWARD and (first.charger_version.subprotocol or "") in offered:
        return first
    if (upstream.subprotocol or "") in offered:
        return None
    for route in routes:
        if (route.charger_version.subprotocol or "") in offered:
            return route
    return first


def for_16(upstream: OcppVersion) -> Route:
    """The route of a 1.6J charger (or a 1.5 one, lifted) in front of ``upstream``."""
    return next((r for r in ROUTES[upstream] if r.charger_version is V16), FORWARD)


def charger16_state(state: Any) -> BridgeState | None:
    """The 1.6-charger state inside a route's state (itself, or a chain's first stage)."""
    first = state.stages[0] if isinstance(state, ChainState) else state
    return first if isinstance(first, BridgeState) else None
