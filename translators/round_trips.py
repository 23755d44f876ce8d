"""Which value table undoes which: the round trips the pairs promise.

A row an :class:`~ocppkit.translators.enum_map.EnumMap` calls lossless must
come back: taken one way by one pair (or the 1.5 lift) and back by the table
the other way, it is the value it was. This module says, as data, which table
undoes which (:data:`ROUND_TRIPS`), and why a table has no inverse at all
(:data:`ONE_WAY`); ``tests/translators/test_round_trips.py`` checks every
lossless row against it, and that no table of a pair is left out.

A pair for a new version adds its tables' rows here (2.1: :mod:`~ocppkit.translators.lift21`).

Some rows come back through another field rather than the inverse table (the
1.6 errorCode travels as NotifyEvent techCode, a kilo prefix as
unitOfMeasure.multiplier) or as a second spelling of one unit:
:attr:`RoundTrip.via` says so, per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ocppkit.translators.charger16_csms201 import (
    authorization,
    certificates,
    charger_messages,
    config_keys,
    firmware,
    id_tokens,
    meter_values,
    remote,
    smart_charging,
    station,
    status,
    transactions,
    variables,
)
from ocppkit.translators.enum_map import EnumMap
from ocppkit.translators.lift21 import tables as lift21
from ocppkit.translators.soap15 import lift_tables
from ocppkit.translators.station201_csms16 import replay, tables
from ocppkit.translators.station201_csms16 import status as status201


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """Every lossless row of ``there`` comes back through ``back``.

    Attributes:
        there: the table applied first.
        back: the table(s) the other way; the first holding the value is
            applied (a pair that picks its table by value, e.g. TriggerMessage
            vs ExtendedTriggerMessage).
        via: rows that do not come back as the same string, and where their
            meaning travels instead (another field, or a second spelling).
    """

    there: EnumMap
    back: tuple[EnumMap, ...]
    via: Mapping[str, str] = field(default_factory=dict)

    def undo(self, value: str) -> str | None:
        """``value`` taken there and back, or None when no back table holds it."""
        target, _ = self.there(value)
        for table in self.back:
            if target in table.rows:
                return table(target)[0]
        return None


def _both(a: EnumMap, b: EnumMap) -> tuple[RoundTrip, RoundTrip]:
    return RoundTrip(a, (b,)), RoundTrip(b, (a,))


_ACCEPTED_REJECTED = tables.ACCEPTED_REJECTED_UP
_KILO = {u: "unitOfMeasure.multiplier 3" for u in ("kWh", "kvarh", "kW", "kVA", "kvar")}

ROUND_TRIPS: tuple[RoundTrip, ...] = (
    # charger messages: up through the forward pair, back up through the reverse one
    *_both(charger_messages.DIAGNOSTICS_STATUS, tables.DIAGNOSTICS_STATUS_UP),
    *_both(charger_messages.LOG_STATUS, tables.LOG_STATUS_UP),
    *_both(charger_messages.FIRMWARE_STATUS, tables.FIRMWARE_STATUS_UP),
    *_both(charger_messages.SIGNED_FIRMWARE_STATUS, tables.SIGNED_FIRMWARE_STATUS_UP),
    *_both(charger_messages.DATA_TRANSFER_STATUS, tables.DATA_TRANSFER_STATUS),
    *_both(charger_messages.SIGN_CERTIFICATE_STATUS, _ACCEPTED_REJECTED),
    *_both(id_tokens.ID_TAG_STATUS, tables.AUTH_STATUS_DOWN),
    *_both(id_tokens.ID_TOKEN_STATUS, replay.AUTH_STATUS_UP),
    *_both(transactions.STOP_REASON, tables.STOP_REASON_UP),
    *_both(meter_values.MEASURAND, tables.MEASURAND_UP),
    RoundTrip(meter_values.UNIT, (tables.UNIT_UP,), _KILO),
    RoundTrip(
        tables.UNIT_UP,
        (meter_values.UNIT,),
        {**_KILO, "Hz": "1.6 Hertz, the same unit", "Celcius": "Celsius: 1.6's typo, corrected"},
    ),
    *_both(status.CONNECTOR_STATUS, tables.CONNECTOR_STATUS_UP),
    # 1.6 Available comes back through connectorStatus: the reverse pair reads
    # chargingState only while the connector is Occupied.
    RoundTrip(status.CHARGING_STATE, (tables.CHARGING_STATE_UP,), {"Available": "connectorStatus"}),
    RoundTrip(tables.CHARGING_STATE_UP, (status.CHARGING_STATE,)),
    RoundTrip(
        status.ERROR_COMPONENT,
        (status201.FAULT_COMPONENT_UP,),
        {code: "techCode" for code in ("OverVoltage", "UnderVoltage", "ResetFailure")},
    ),
    RoundTrip(status201.FAULT_COMPONENT_UP, (status.ERROR_COMPONENT,)),
    # CSMS commands: down through one pair, back down through the other
    *_both(config_keys.RATE_UNIT_VALUES, config_keys.RATE_UNIT_VALUES_DOWN),
    *_both(remote.REMOTE_START_STATUS, _ACCEPTED_REJECTED),
    *_both(remote.REMOTE_STOP_STATUS, _ACCEPTED_REJECTED),
    *_both(remote.UNLOCK_STATUS, tables.UNLOCK_STATUS_UP),
    *_both(remote.TRIGGER, tables.TRIGGER_MESSAGE_DOWN),
    RoundTrip(remote.EXTENDED_TRIGGER, (tables.EXTENDED_TRIGGER_DOWN,)),
    RoundTrip(
        tables.EXTENDED_TRIGGER_DOWN,
        (remote.EXTENDED_TRIGGER, remote.TRIGGER),
        # The forward pair asks a 1.6 charger for a log the only way plain 1.6 can.
        {"LogStatusNotification": "TriggerMessage DiagnosticsStatusNotification (lossy there)"},
    ),
    *_both(remote.TRIGGER_STATUS, tables.TRIGGER_STATUS_UP),
    *_both(station.RESET_TYPE, tables.RESET_TYPE_DOWN),
    *_both(station.RESET_STATUS, tables.RESET_STATUS_UP),
    *_both(station.AVAILABILITY_TYPE, tables.AVAILABILITY_TYPE_DOWN),
    *_both(station.AVAILABILITY_STATUS, tables.AVAILABILITY_STATUS_UP),
    *_both(station.CLEAR_CACHE_STATUS, _ACCEPTED_REJECTED),
    *_both(station.DATA_TRANSFER_STATUS, tables.DATA_TRANSFER_STATUS),
    *_both(variables.CHANGE_CONFIGURATION_STATUS, tables.SET_VARIABLE_STATUS_UP),
    *_both(smart_charging.PURPOSE_DOWN, tables.PROFILE_PURPOSE_DOWN),
    *_both(smart_charging.PURPOSE_UP, smart_charging.PURPOSE_DOWN),
    *_both(smart_charging.PROFILE_STATUS, tables.SET_PROFILE_STATUS_UP),
    *_both(smart_charging.CLEAR_STATUS, tables.CLEAR_PROFILE_STATUS_UP),
    *_both(smart_charging.COMPOSITE_STATUS, tables.COMPOSITE_STATUS_UP),
    *_both(authorization.SEND_LOCAL_LIST_STATUS, tables.SEND_LOCAL_LIST_STATUS_UP),
    *_both(authorization.RESERVATION_STATUS, tables.RESERVE_STATUS_UP),
    *_both(authorization.CANCEL_STATUS, _ACCEPTED_REJECTED),
    *_both(firmware.SIGNED_FIRMWARE_STATUS, tables.UPDATE_FIRMWARE_STATUS_UP),
    *_both(firmware.LOG_STATUS, tables.GET_LOG_STATUS_UP),
    *_both(certificates.CERTIFICATE_TYPE, tables.CERTIFICATE_TYPE_DOWN),
    *_both(certificates.CERTIFICATE_TYPE_UP, tables.CERTIFICATE_TYPE_UP),
    *_both(certificates.INSTALL_STATUS, tables.INSTALL_CERTIFICATE_STATUS_UP),
    *_both(certificates.DELETE_STATUS, tables.DELETE_CERTIFICATE_STATUS_UP),
    *_both(certificates.SIGNED_STATUS, _ACCEPTED_REJECTED),
    RoundTrip(tables.INSTALLED_IDS_STATUS_UP, (certificates.DELETE_STATUS,)),
    # the 1.5 lift: up to 1.6 and back down
    *_both(lift_tables.STATUS_UP, lift_tables.STATUS_DOWN),
    *_both(lift_tables.ERROR_CODE_UP, lift_tables.ERROR_CODE_DOWN),
    *_both(lift_tables.UNIT_UP, lift_tables.UNIT_DOWN),
    *_both(lift_tables.UNLOCK_STATUS_UP, lift_tables.UNLOCK_STATUS_DOWN),
)

# Tables with lossless rows and no inverse table, and why.
_SAME = "the other way copies the value: both versions share the enumeration"
ONE_WAY: dict[str, str] = {
    **{
        table.name: "2.1 -> 2.0.1 only, every row lossy; a 2.0.1 value is a 2.1 value as it is"
        for table in lift21.TABLES
    },
    charger_messages.REGISTRATION_STATUS.name: "the reverse pair relays BootNotification "
    "status unchanged: " + _SAME,
    transactions.STOP_TRIGGER.name: "triggerReason is derived; the reverse pair reads "
    "stoppedReason",
    meter_values.CONTEXT.name: _SAME,
    meter_values.PHASE.name: _SAME,
    meter_values.LOCATION.name: _SAME,
    meter_values.CONTEXT_TRIGGER.name: "triggerReason is derived; the reverse pair reads the "
    "sampledValue context",
    smart_charging.RATE_UNIT.name: _SAME,
    smart_charging.PROFILE_KIND.name: _SAME,
    smart_charging.RECURRENCY.name: _SAME,
    authorization.UPDATE_TYPE.name: _SAME,
    firmware.LOG_ACTION.name: "chooses the 1.6 action (GetDiagnostics or GetLog), not a value",
    lift_tables.MEASURAND_DOWN.name: "1.5 measurands are a subset of 1.6's: the lift copies them",
    lift_tables.CONTEXT_DOWN.name: "1.5 contexts are a subset of 1.6's: the lift copies them",
    lift_tables.LOCATION_DOWN.name: "1.5 locations are a subset of 1.6's: the lift copies them",
    lift_tables.REGISTRATION_DOWN.name: "1.5 registration statuses are a subset of 1.6's: the "
    "lift copies them",
    lift_tables.DIAGNOSTICS_STATUS_DOWN.name: "the lift copies 1.5 statuses (a subset of 1.6's)",
    lift_tables.FIRMWARE_STATUS_DOWN.name: "the lift copies 1.5 statuses (a subset of 1.6's)",
    lift_tables.CONFIGURATION_STATUS_DOWN.name: "the lift copies 1.5 statuses (a subset of 1.6's)",
    lift_tables.UPDATE_STATUS_UP.name: "the lowering copies 1.6 statuses, which 1.5 all has",
}
