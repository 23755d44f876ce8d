"""A strict 2.0.1 station (the ``ocpp`` package's v201 classes) through
``ocppkit bridge --upstream-version 1.6`` to the independent ocpp-rpc CSMS in strict mode,
speaking 1.6 (issue 14, "Reverse bridge, end to end": the second 1.6 oracle).

ocpp-rpc judges every 1.6 frame the bridge sends it and every answer to its commands
(GetConfiguration, ChangeConfiguration, RemoteStartTransaction, RemoteStopTransaction); the
station checks every 2.0.1 frame it receives (the ``ocpp`` package and ocppkit's validator).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.gateway.harness import BridgeProcess
from tests.gateway.reverse_peers import EVSE, Station201, plug_in_first_session, spawn
from tests.oracles.ocpp_rpc.oracle import OcppRpcOracle

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("ocpp_rpc_installed")]

CP = "ST-RPC"


def started(oracle: OcppRpcOracle) -> list[Any]:
    return [c for c in oracle.calls if c["action"] == "StartTransaction"]


def test_a_201_station_through_the_reverse_bridge_passes_the_strict_ocpp_rpc_16_csms(
    tmp_path: Path,
) -> None:
    answers: dict[str, Any] = {}

    async def scenario() -> tuple[OcppRpcOracle, Station201]:
        async with OcppRpcOracle(protocols=("ocpp1.6",)) as oracle:
            bridge = BridgeProcess(oracle.url, tmp_path / "b.db", tmp_path / "journal",
                                   "--upstream-version", "1.6")  # fmt: skip
            await bridge.start()
            try:
                async with websockets.connect(
                    f"{bridge.url}/{CP}", subprotocols=["ocpp2.0.1"]
                ) as ws:
                    st = Station201(CP, ws)
                    loop = spawn(st)
                    assert (await st.boot()).status == "Accepted"
                    await st.status("Available")
                    answers["plug"] = await plug_in_first_session(
                        st, "tx-plug", lambda: len(started(oracle))
                    )
                    answers["GetConfiguration"] = await oracle.send(
                        CP, "GetConfiguration", {"key": ["HeartbeatInterval"]}
                    )
                    answers["ChangeConfiguration"] = await oracle.send(
                        CP, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "90"}
                    )
                    answers["RemoteStartTransaction"] = await oracle.send(
                        CP, "RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1}
                    )
                    remote_start_id = st.got("RequestStartTransaction")[0]["remote_start_id"]
                    await st.event(
                        "Started", "tx-remote", "RemoteStart", 15.5, "Transaction.Begin",
                        info={"chargingState": "Charging", "remoteStartId": remote_start_id},
                        evse=EVSE, id_token={"idToken": "TAG-R", "type": "Central"},
                    )  # fmt: skip
                    answers["RemoteStopTransaction"] = await oracle.send(
                        CP, "RemoteStopTransaction", {"transactionId": 2}
                    )
                    await st.event(
                        "Ended", "tx-remote", "RemoteStop", 16.0, "Transaction.End",
                        info={"stoppedReason": "Remote"},
                    )  # fmt: skip
                    await ws.close()
                    loop.cancel()
            finally:
                assert await bridge.terminate() == 0
        return oracle, st

    oracle, st = asyncio.run(scenario())
    # Zero violations on the 1.6 side per ocpp-rpc, and on the 2.0.1 side per the station.
    assert oracle.violations == [], oracle.violations
    assert oracle.of("unhandled") == []
    assert [c for c in oracle.calls if c["outstanding"]] == []  # one CALL at a time
    assert st.audit.violations == [] and st.audit.frames > 0
    calls = [(c["action"], c["params"]) for c in oracle.calls]
    starts = [p for a, p in calls if a == "StartTransaction"]
    stops = [p for a, p in calls if a == "StopTransaction"]
    # csms.js mints 1, 2, ... in order: the plug-in session gets 1, the remote one 2.
    assert answers["plug"]["start_before_authorisation"] == 0
    assert [(p["idTag"], p["meterStart"]) for p in starts] == [("TAG-PLUG", 12345),
                                                               ("TAG-R", 15500)]  # fmt: skip
    assert [(p["transactionId"], p["meterStop"], p.get("reason")) for p in stops] == [
        (1, 15500, "EVDisconnected"), (2, 16000, "Remote"),
    ]  # fmt: skip
    meters = [p for a, p in calls if a == "MeterValues"]
    values = {
        (p["transactionId"], Decimal(s["value"]))
        for p in meters for mv in p["meterValue"] for s in mv["sampledValue"]
    }  # fmt: skip
    # kWh as the station sent them, each under the id the CSMS minted for its session.
    assert values == {(1, Decimal("12.345")), (1, Decimal("13.5")), (1, Decimal("14.75")),
                      (2, Decimal("15.5"))}  # fmt: skip
    assert answers["GetConfiguration"] == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
    }
    assert answers["ChangeConfiguration"] == {"status": "Accepted"}
    assert st.variables[("OCPPCommCtrlr", "HeartbeatInterval")] == "90"
    assert answers["RemoteStartTransaction"] == {"status": "Accepted"}
    assert answers["RemoteStopTransaction"] == {"status": "Accepted"}
    assert st.got("RequestStopTransaction") == [{"transaction_id": "tx-remote"}]
