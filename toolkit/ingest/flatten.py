"""Stateless payload readers: meter values and status reports into rows.

Every version's shape is read here, once: 1.6 ``meterValue[].sampledValue[]``
(value as text, ``unit`` enum), 2.0.1 the same names with a number and
``unitOfMeasure{unit, multiplier}``, 1.5 ``values[].value[]`` (the reading's
text under ``value``, as the 1.5 codec presents it). Defaults the specs imply
are applied (1.6 §7.45 SampledValue: context Sample.Periodic, format Raw,
measurand Energy.Active.Import.Register, location Outlet, unit Wh; 2.0.1
UnitOfMeasureType: unit Wh, multiplier 0), and units are normalised through
:data:`ocppkit.toolkit.ingest.vocab.UNITS`.
"""

from __future__ import annotations

from typing import Any

from ocppkit.toolkit.ingest import vocab
from ocppkit.translators.versions import OcppVersion

_UNITS = vocab.UNITS
_REG = vocab.ENERGY_REGISTER
_POWER = vocab.POWER_IMPORT


class MeterColumns:
    """Column lists of the meter_values table for one block.

    Group-level values (one per meterValue entry: its timestamp and where it
    came from) are stored once with a row count and repeated when the batch
    is built; only the per-sample values are appended per row.
    """

    __slots__ = (
        "context",
        "g_action",
        "g_conn",
        "g_count",
        "g_cp",
        "g_evse",
        "g_line",
        "g_ts",
        "g_tx",
        "g_version",
        "location",
        "measurand",
        "non_numeric",
        "phase",
        "signed",
        "unit",
        "value",
    )  # fmt: skip

    def __init__(self) -> None:
        self.g_ts: list[Any] = []
        self.g_cp: list[str | None] = []
        self.g_evse: list[int | None] = []
        self.g_conn: list[int | None] = []
        self.g_tx: list[str | None] = []
        self.g_action: list[str] = []
        self.g_version: list[str] = []
        self.g_line: list[int] = []
        self.g_count: list[int] = []
        self.measurand: list[str] = []
        self.phase: list[str | None] = []
        self.location: list[str] = []
        self.unit: list[str] = []
        self.value: list[float | None] = []
        self.context: list[str] = []
        self.signed: list[bool] = []
        self.non_numeric = 0

    def group(
        self, ts: Any, cp: str | None, evse: int | None, conn: int | None, tx: str | None,
        action: str, version: str, line: int, count: int,
    ) -> None:  # fmt: skip
        self.g_ts.append(ts)
        self.g_cp.append(cp)
        self.g_evse.append(evse)
        self.g_conn.append(conn)
        self.g_tx.append(tx)
        self.g_action.append(action)
        self.g_version.append(version)
        self.g_line.append(line)
        self.g_count.append(count)

    def register(
        self, ts: Any, cp: str | None, evse: int | None, conn: int | None, tx: str | None,
        action: str, version: str, line: int, wh: float, context: str,
    ) -> None:  # fmt: skip
        """One energy register reading not sent as a sampled value (meterStart/meterStop)."""
        self.group(ts, cp, evse, conn, tx, action, version, line, 1)
        self.measurand.append(_REG)
        self.phase.append(None)
        self.location.append(vocab.DEFAULT_LOCATION)
        self.unit.append("Wh")
        self.value.append(wh)
        self.context.append(context)
        self.signed.append(False)

    def samples(
        self, meter_values: list[Any], version: str, cp: str | None, evse: int | None,
        conn: int | None, tx: str | None, action: str, line: int,
    ) -> tuple[float | None, float | None, float | None, dict[str, float]]:  # fmt: skip
        """Append every sampled value; return (first register, last register, max power,
        {context: register} for Transaction.Begin/End)."""
        first = last = power = begin = None
        marks: dict[str, float] = {}
        measurand_a, phase_a, location_a = (
            self.measurand.append,
            self.phase.append,
            self.location.append,
        )
        unit_a, value_a, context_a, signed_a = (
            self.unit.append,
            self.value.append,
            self.context.append,
            self.signed.append,
        )
        legacy = version == OcppVersion.V15
        for mv in meter_values:
            if type(mv) is not dict:
                continue
            samples = mv.get("value") if legacy else mv.get("sampledValue")
            if type(samples) is not list:
                continue
            n = 0
            for sv in samples:
                if type(sv) is not dict:
                    continue
                n += 1
                measurand = sv.get("measurand", _REG)
                raw = sv.get("value")
                if version in vocab.V2X:
                    uom = sv.get("unitOfMeasure")
                    unit = uom.get("unit", "Wh") if uom else "Wh"
                    mult = uom.get("multiplier", 0) if uom else 0
                    signed = "signedMeterValue" in sv
                else:
                    unit = sv.get("unit", "Wh")
                    mult = 0
                    signed = sv.get("format") == "SignedData"
                norm = _UNITS.get(unit)
                if norm is None:
                    norm = (unit, 1.0)
                try:
                    value = float(raw) * norm[1] if not signed else None  # type: ignore[arg-type]
                    if mult and value is not None:
                        value *= 10.0**mult
                except (TypeError, ValueError):
                    value = None
                    self.non_numeric += 1
                measurand_a(measurand)
                phase = sv.get("phase")
                phase_a(phase)
                location_a(sv.get("location", "Outlet"))
                unit_a(norm[0])
                value_a(value)
                context = sv.get("context", "Sample.Periodic")
                context_a(context)
                signed_a(signed)
                if value is not None and phase is None:
                    if measurand == _REG:
                        # A Transaction.Begin sample (e.g. in a StopTransaction's
                        # transactionData) is the session's old baseline, not the
                        # latest reading: it must not count as the register falling.
                        if context == "Transaction.Begin":
                            if begin is None:
                                begin = value
                        elif first is None:
                            first = value
                        last = value
                        if context == "Transaction.Begin" or context == "Transaction.End":
                            marks[context] = value
                    elif measurand == _POWER and (power is None or value > power):
                        power = value
            if n:
                self.group(mv.get("timestamp"), cp, evse, conn, tx, action, version, line, n)
        return (begin if first is None else first), last, power, marks


def evse_of(version: str, payload: dict[str, Any]) -> tuple[int | None, int | None]:
    """(evse id, connector id) of a payload, by the 1.6 connector N = EVSE N rule."""
    if version in vocab.V2X:
        evse = payload.get("evse")
        if type(evse) is dict:
            return evse.get("id"), evse.get("connectorId")
        return payload.get("evseId"), payload.get("connectorId")
    conn = payload.get("connectorId")
    if type(conn) is not int:
        return None, None
    return conn, (1 if conn > 0 else None)
