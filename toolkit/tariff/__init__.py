"""Tariffs: an OCPI 2.2.1 model, a simple hand-written form, and session pricing.

Pure apart from :func:`load_tariff`, which reads one file. Used by the
built-in CSMS (``totalCost``) and by the cost analysis.
"""

from ocppkit.toolkit.tariff.cost import cost_of_segments, cost_of_session
from ocppkit.toolkit.tariff.model import (
    CostBreakdown,
    DayOfWeek,
    Dimension,
    PriceComponent,
    Restrictions,
    Tariff,
    TariffElement,
)
from ocppkit.toolkit.tariff.parse import (
    load_tariff,
    tariff_from_dict,
    tariff_from_ocpi,
    tariff_from_simple,
)
from ocppkit.toolkit.tariff.segments import Segment, segments

__all__ = [
    "CostBreakdown",
    "DayOfWeek",
    "Dimension",
    "PriceComponent",
    "Restrictions",
    "Segment",
    "Tariff",
    "TariffElement",
    "cost_of_segments",
    "cost_of_session",
    "load_tariff",
    "segments",
    "tariff_from_dict",
    "tariff_from_ocpi",
    "tariff_from_simple",
]
