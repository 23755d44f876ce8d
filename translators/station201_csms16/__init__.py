"""A 2.0.1 charging station behind a 1.6J CSMS: the translation both ways.

Public API:

- :func:`from_charger` / :func:`from_csms`: one frame in, a
  :class:`~ocppkit.translators.outcome.Step` out (see :mod:`.session`);
- :class:`StationState`: the per-station state to keep and persist;
- :func:`replay_answer`: a recorded 2.0.1 CSMS answer as the 1.6 answer
  (for ``ocppkit translate --from 2.0.1 --to 1.6`` over 2.0.1 journals);
- :data:`PAIR`: the pair's record, as :mod:`ocppkit.translators.engine` hosts it;
- :data:`TABLES`: every enum mapping (for docs/mapping.md);
- :data:`COVERAGE`: each action's outcome (for the coverage table).
"""

from ocppkit.translators.station201_csms16.coverage import COVERAGE, CoverageRow
from ocppkit.translators.station201_csms16.replay import replay_answer
from ocppkit.translators.station201_csms16.session import PAIR, from_charger, from_csms
from ocppkit.translators.station201_csms16.state import StationState, StationTransaction

TABLES = PAIR.tables

__all__ = [
    "COVERAGE",
    "PAIR",
    "TABLES",
    "CoverageRow",
    "StationState",
    "StationTransaction",
    "from_charger",
    "from_csms",
    "replay_answer",
]
