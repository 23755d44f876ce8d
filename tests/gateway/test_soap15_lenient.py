"""``validation = lenient`` through the running bridge: a vasyas-shaped 1.5 MeterValues arrives.

No WSDL needed: the envelopes are written by hand from the field description
(a ``meterValue`` element where 1.5 has ``values``). Strict refuses it with
a Sender fault; lenient repairs it, logs the repair, and the strict 2.0.1
CSMS receives the readings.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from tests.gateway.test_e2e_session import bridge_config
from tests.translators.soap15.test_lenient import METER_VALUE_ELEMENT, envelope

pytestmark = [pytest.mark.timeout(60), pytest.mark.network]

BOOT = envelope(
    "<cs:bootNotificationRequest><cs:chargePointVendor>vasyas</cs:chargePointVendor>"
    "<cs:chargePointModel>sim</cs:chargePointModel></cs:bootNotificationRequest>"
)
SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}


@pytest.mark.parametrize(("validation", "meter_status"), [("strict", 400), ("lenient", 200)])
def test_vasyas_meter_values_are_refused_strict_and_lifted_lenient(
    tmp_path: Path, validation: str, meter_status: int
) -> None:
    async def main() -> tuple[int, int, list[Any], int]:
        csms = Csms(CsmsSettings(strict_tokens=True))
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path, validation=validation))
        await bridge.start()
        try:
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{bridge.port}/ocpp/soap15"
                async with http.post(url, data=BOOT, headers=SOAP) as resp:
                    boot = resp.status
                async with http.post(url, data=METER_VALUE_ELEMENT, headers=SOAP) as resp:
                    meter = resp.status
            readings = [m for m in csms.stations["SIM-15"].calls if m == "MeterValues"]
            lossy = bridge.metrics.value("ocppkit_bridge_translation_notes_total", kind="lossy")
        finally:
            await bridge.stop()
            await csms.stop()
        return boot, meter, readings, int(lossy)

    boot, meter, readings, lossy = asyncio.run(main())
    assert boot == 200
    assert meter == meter_status
    assert readings == (["MeterValues"] if validation == "lenient" else [])
    if validation == "lenient":
        assert lossy > 0
