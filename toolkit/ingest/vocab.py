"""The analysis vocabulary: every version's values mapped onto 2.0.1's.

Tables, not branches (house style), and not copies: stop reasons, connector
statuses and charging states, units and the actions each role sends are built
from the translators' own tables (the 1.6 -> 2.0.1 pair, the 2.0.1 -> 1.6
pair, the 1.5 lift) and the official schemas, so ingest reads a log exactly
as the bridge would translate it. Each lossy row stays marked;
:mod:`ocppkit.toolkit.ingest.sessions` counts and flags every lossy or unknown
value it meets.
"""

from __future__ import annotations

import dataclasses

from ocppkit.translators.charger16_csms201 import meter_values as _meter16
from ocppkit.translators.charger16_csms201 import status as _status16
from ocppkit.translators.charger16_csms201 import transactions as _tx16
from ocppkit.translators.engine import PAIR_MODULES, Side, find_pair
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.schemas import actions
from ocppkit.translators.soap15 import lift_tables as _lift15
from ocppkit.translators.station201_csms16 import tables as _tables201
from ocppkit.translators.versions import OcppVersion

# The forward pair's reason table (mapping-research §3.3; EVerest
# conversions.cpp `to_ocpp_reason`), with ingest's fallback for a value no
# version defines. Absent reason = Local in both versions (1.6 §6.49
# StopTransaction.req "reason": "Local" is assumed when omitted; 2.0.1
# TransactionInfo.stoppedReason "MAY only be omitted when the reason is Local").
STOP_REASON_16: EnumMap = dataclasses.replace(_tx16.STOP_REASON, default="Other")
# Every 2.0.1 ReasonEnumType value: the keys of the reverse pair's table.
STOP_REASONS_201 = frozenset(_tables201.STOP_REASON_UP.rows)
DEFAULT_STOP_REASON = "Local"

# 1.6 ChargePointStatus -> (2.0.1 ConnectorStatus, ChargingState), from the
# forward pair's two status tables (mapping-research §3.4). Preparing is
# ambiguous in 1.6 (also sent for a tag without a cable): EVConnected.
# Finishing: the transaction has ended, the cable is still in.
STATUS_16: dict[str, tuple[str, str | None]] = {
    status: (connector, _status16.CHARGING_STATE.rows.get(status))
    for status, connector in _status16.CONNECTOR_STATUS.rows.items()
}
# 1.5 ChargePointStatus, through the 1.5 lift: a lossy lift (Occupied cannot
# tell charging from suspended; SteVe maps it to Charging and says so) keeps
# the connector status and leaves the charging state unknown.
STATUS_15: dict[str, tuple[str, str | None]] = {
    status: (
        STATUS_16[status16][0],
        None if status in _lift15.STATUS_UP.lossy else STATUS_16[status16][1],
    )
    for status, status16 in _lift15.STATUS_UP.rows.items()
}
CONNECTOR_STATUS_201 = frozenset(_status16.CONNECTOR_STATUS.rows.values())
CHARGING = "Charging"
NO_ERROR = "NoError"


def _units() -> dict[str, tuple[str, float]]:
    # 1.6 units through the forward pair (k-prefixed units: multiplier 3),
    # then the 1.5 spellings (Amp, Volt; SteVe issue #59) and the 2.0.1 ones
    # (Hz) through their own tables onto those. 1.6's "Celcius" is a typo in
    # its own schema.
    out = {
        unit: (norm, 1000.0 if unit != norm and unit.startswith("k") else 1.0)
        for unit, norm in _meter16.UNIT.rows.items()
    }
    for table in (_lift15.UNIT_UP, _tables201.UNIT_UP):
        for unit, unit16 in table.rows.items():
            out.setdefault(unit, out[unit16])
    # Apparent energy registers: meters report them, no enum of 1.5 or 1.6 lists them.
    out.update({"VAh": ("VAh", 1.0), "kVAh": ("VAh", 1000.0)})
    return out


# Unit -> (normalised unit, factor) (mapping-research §3.5).
UNITS: dict[str, tuple[str, float]] = _units()

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER_IMPORT = "Power.Active.Import"
DEFAULT_MEASURAND = ENERGY_REGISTER
DEFAULT_CONTEXT = "Sample.Periodic"
DEFAULT_LOCATION = "Outlet"
DEFAULT_UNIT = "Wh"

# Actions a charging station initiates: those every pair takes from the
# charger side (translated, or refused for want of a counterpart); every other
# action is sent by the CSMS. Used only when a log does not say the direction.
CS_ACTIONS = frozenset(
    action
    for versions in PAIR_MODULES
    for pair in (find_pair(*versions),)
    for action in (*pair.calls[Side.CHARGER], *pair.refusals.get(Side.CHARGER, {}))
)

# Actions the official schemas define for one version only, for guessing the
# version of a log that does not say it.
ONLY_201 = actions(OcppVersion.V201) - actions(OcppVersion.V16)
ONLY_16 = actions(OcppVersion.V16) - actions(OcppVersion.V201)
ONLY_21 = actions(OcppVersion.V21) - actions(OcppVersion.V201)

# The versions of 2.0.1's message set (TransactionEvent, evse, unitOfMeasure): 2.1
# keeps every 2.0.1 message, so a 2.1 log reads as a 2.0.1 one; its added values
# (a 2.1-only stoppedReason) map onto 2.0.1's like any other version's.
V2X = frozenset({OcppVersion.V201, OcppVersion.V21})


def stop_reason(version: str, wire: str | None) -> tuple[str, bool]:
    """(2.0.1 ReasonEnumType value, lossy?) for a reason as sent in ``version``."""
    if wire is None:
        return DEFAULT_STOP_REASON, False
    if version in V2X:
        return (wire, False) if wire in STOP_REASONS_201 else ("Other", True)
    return STOP_REASON_16(wire)


def connector_state(version: str, status: str) -> tuple[str | None, str | None]:
    """(connector status, charging state) in 2.0.1's vocabulary for a reported status."""
    if version in V2X:
        return (status if status in CONNECTOR_STATUS_201 else None), None
    table = STATUS_15 if version == OcppVersion.V15 else STATUS_16
    return table.get(status, (None, None))
