"""The built-in CSMS in 2.1 mode: the same strict peer, on ``ocpp2.1`` and the 2.1 schemas.

The full session of the 2.0.1 tests is a valid 2.1 session too (2.1 keeps every 2.0.1
message); what 2.1 adds to the frame layer is checked here: a SEND is taken and never
answered, a station's unusable CALLRESULT is answered with a CALLRESULTERROR.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from ocppkit.toolkit.csms import CsmsSettings
from ocppkit.toolkit.csms.server import Csms
from ocppkit.toolkit.textio import iter_lines
from ocppkit.translators.errors import FrameError
from ocppkit.translators.journal import decode_record
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion
from tests.csms.station import connected, running_csms, wait_for
from tests.csms.test_csms_server import TARIFF, full_session

V21 = OcppVersion.V21
SETTINGS = CsmsSettings(tokens=frozenset({"TAG-1"}), tariff=TARIFF, ocpp_version=V21)
STREAM = {"id": 1, "pending": 0, "basetime": "2026-03-02T10:00:00.000Z",
          "data": [{"t": 0, "v": "230.1"}]}  # fmt: skip


def test_a_21_csms_serves_a_full_session_with_2_1_valid_answers(tmp_path: Path) -> None:
    async def scenario() -> Csms:
        async with running_csms(SETTINGS, tmp_path / "journal") as csms:
            async with connected(csms, protocols=("ocpp2.1",)) as station:
                assert station.ws.protocol == "ocpp2.1"
                *_, ended = await full_session(station)
                assert ended["totalCost"] == 4.60
            await wait_for(lambda: not csms.connected_stations())
            return csms

    csms = asyncio.run(scenario())
    assert csms.violations == 0 and csms.internal_errors == []
    assert csms.transactions["TX-1"].energy_wh == Decimal(11000)
    records = [decode_record(line) for _, line in iter_lines(*(tmp_path / "journal").iterdir())]
    assert {r.ocpp_version for r in records} == {V21}
    validator, asked = Validator(), {}
    for r in records:
        if r.message[0] == 2:
            asked[r.message[1]] = r.message[2]
        elif r.message[0] == 3:
            validator.validate(V21, asked[r.message[1]], Kind.RESPONSE, r.message[2])


@pytest.mark.parametrize("protocols", [("ocpp2.0.1",), ("ocpp1.6",)])
def test_a_21_csms_refuses_a_handshake_without_ocpp21(protocols: tuple[str, ...]) -> None:
    async def scenario() -> None:
        async with running_csms(SETTINGS) as csms:
            with pytest.raises(aiohttp.WSServerHandshakeError, match="400"):
                async with connected(csms, protocols=protocols):
                    pass

    asyncio.run(scenario())


def test_a_send_is_taken_and_never_answered() -> None:
    async def scenario() -> Csms:
        async with running_csms(SETTINGS) as csms:
            async with connected(csms, protocols=("ocpp2.1",)) as station:
                await station.send([6, "p1", "NotifyPeriodicEventStream", STREAM])
                beat = await station.call("Heartbeat", {})  # the next frame answers this
                assert beat[0] == 3
                await wait_for(lambda: bool(csms.sends))
            return csms

    csms = asyncio.run(scenario())
    assert csms.sends == [("CP-1", "NotifyPeriodicEventStream", STREAM)]
    assert csms.violations == 0


def test_an_unusable_station_result_gets_a_callresulterror() -> None:
    async def scenario() -> list[object]:
        async with (
            running_csms(SETTINGS) as csms,
            connected(csms, protocols=("ocpp2.1",)) as station,
        ):
            pending = asyncio.create_task(csms.call("CP-1", "Reset", {"type": "Immediate"}))
            call = await station.receive()
            await station.send([3, call[1], {"status": "Perhaps"}])
            with pytest.raises(FrameError):
                await pending
            refused: list[object] = await station.receive()
            return refused

    refused = asyncio.run(scenario())
    assert refused[0] == 5 and refused[2] == "PropertyConstraintViolation"
