"""A simulated 2.1 fleet against the built-in CSMS in 2.1 mode, over real WebSockets.

The CSMS checks every frame against the 2.1 schemas and the simulator every answer; the
sessions the CSMS billed are the sessions the simulator played.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from ocppkit.toolkit.csms import CsmsSettings
from ocppkit.toolkit.csms.server import Csms
from ocppkit.toolkit.simulator import FleetConfig, FleetResult, run_fleet
from ocppkit.translators.versions import OcppVersion
from tests.csms.station import running_csms

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]
V21 = OcppVersion.V21


def test_a_21_fleet_day_is_billed_by_a_21_csms_as_played() -> None:
    async def main() -> tuple[Csms, FleetResult]:
        async with running_csms(CsmsSettings(ocpp_version=V21)) as csms:
            config = FleetConfig(chargers=2, mix=((V21, 1.0),), seed=7,
                                 duration=timedelta(hours=12))  # fmt: skip
            return csms, await run_fleet(config, csms.url, speed=None)

    csms, result = asyncio.run(main())
    assert csms.violations == 0 and csms.internal_errors == []
    assert not result.failures and not result.errors
    assert result.sessions and all(s.ocpp_version is V21 for s in result.sessions)
    assert all(c.csms_violations == 0 for c in result.chargers)
    ended = {tx for tx, seen in csms.transactions.items() if seen.ended}
    assert ended == {s.transaction_id for s in result.sessions}
    for s in result.sessions:
        seen = csms.transactions[s.transaction_id]
        assert seen.energy_wh == s.meter_stop_wh - s.meter_start_wh
        assert seen.event_types[0] == "Started" and seen.event_types[-1] == "Ended"
