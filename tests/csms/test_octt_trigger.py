"""The tzi-OCTT trigger API over real sockets: HTTP -> 2.0.1 CSMS -> bridge -> 1.6 charger.

The charger is the independent ``ocpp`` package (tests/gateway/harness.py);
the trigger is called the way the suite's ``1.6/trigger.py`` calls it (a
POST of the 1.6 request payload). What counts is what the 1.6 charger
receives, and that the CSMS sent it as 2.0.1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import websockets
from ocpp.v16 import call as call16

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.csms.octt_trigger import TRIGGERS, OcttTrigger
from ocppkit.toolkit.csms.tokens import parse_tokens
from ocppkit.toolkit.gateway.server import Bridge
from tests.gateway.harness import ChargerBehaviour, connected, now
from tests.gateway.test_e2e_session import bridge_config

pytestmark = [pytest.mark.timeout(90), pytest.mark.network]

CP = "CP16_SP1"
TOKENS = '[[token]]\nid = "TAG-001"\nstatus = "Accepted"'


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return response.status, await response.json()


def test_triggers_reach_the_16_charger_as_the_20_commands_an_operator_sends(
    tmp_path: Path,
) -> None:
    behaviour = ChargerBehaviour()
    behaviour.config["AuthorizationKey"] = ""

    async def scenario() -> tuple[Csms, dict[str, tuple[int, dict[str, Any]]], list[str]]:
        passwords = {CP: "test1234"}
        settings = CsmsSettings(
            token_store=parse_tokens(TOKENS, "toml"), station_passwords=passwords
        )
        csms = Csms(settings)
        await csms.start()
        trigger = OcttTrigger(csms)
        await trigger.start()
        cfg = bridge_config(
            csms.url, tmp_path, upstream_password="test1234", charger_passwords={CP: "test1234"}
        )
        bridge = Bridge(cfg)
        await bridge.start()
        base = f"{trigger.url}/api/octt/1.6/{CP}"
        got: dict[str, tuple[int, dict[str, Any]]] = {}
        statuses: list[str] = []
        try:
            url = f"ws://{CP}:test1234@127.0.0.1:{bridge.port}/ocpp"
            async with connected(url, CP, behaviour) as ch:
                assert (await ch.boot()).status == "Accepted"
                await ch.status(1, "Available")
                got["start"] = await post(
                    f"{base}/remote-start-transaction", {"idTag": "TAG-001", "connectorId": 1}
                )
                start = await ch.call(
                    call16.StartTransaction(connector_id=1, id_tag="TAG-001", meter_start=0,
                                            timestamp=now())
                )  # fmt: skip
                got["stop"] = await post(
                    f"{base}/remote-stop-transaction", {"transactionId": start.transaction_id}
                )
                got["config_all"] = await post(f"{base}/get-configuration", {})
                got["config_some"] = await post(
                    f"{base}/get-configuration", {"key": ["HeartbeatInterval"]}
                )
                got["change"] = await post(
                    f"{base}/change-configuration",
                    {"key": "MeterValueSampleInterval", "value": "30"},
                )
                got["reset"] = await post(f"{base}/reset", {"type": "Hard"})
                got["unknown"] = await post(f"{base}/no-such-action", {})
                got["invalid"] = await post(f"{base}/reset", {"type": "Sideways"})
                got["absent"] = await post(
                    f"{trigger.url}/api/octt/1.6/CP-ABSENT/reset", {"type": "Soft"}
                )
                got["token"] = await post(
                    f"{trigger.url}/api/octt/create-token",
                    {"token_id": "TAG-001", "status": "Blocked"},
                )
                statuses.append(
                    (await ch.call(call16.Authorize(id_tag="TAG-001"))).id_tag_info["status"]
                )
                # Password rotation (TC_073): the CSMS keeps the key the station took.
                got["rotate"] = await post(
                    f"{base}/change-configuration",
                    {
                        "key": "AuthorizationKey",
                        "value": "AABBCCDDEEFF00112233445566778899AABBCCDD",
                    },
                )
                statuses.append(passwords[CP])
                got["password"] = await post(
                    f"{trigger.url}/api/octt/set-basic-auth-password",
                    {"station_id": CP, "password": "test1234"},
                )
                statuses.append(passwords[CP])
        finally:
            await bridge.stop()
            await trigger.stop()
            await csms.stop()
        return csms, got, statuses

    csms, got, statuses = asyncio.run(scenario())
    assert csms.violation_log == [] and csms.internal_errors == []
    seen = behaviour.received
    # RemoteStart: RequestStartTransaction up, RemoteStartTransaction down, same tag and connector.
    assert got["start"][0] == 200 and got["start"][1]["action"] == "RequestStartTransaction"
    assert got["start"][1]["conf"] == {"status": "Accepted"}
    assert ("RemoteStartTransaction", {"id_tag": "TAG-001", "connector_id": 1}) in seen
    # RemoteStop names the CSMS's transaction; the charger gets its own integer back.
    (tx_id,) = csms.transactions
    assert got["stop"][1]["action"] == "RequestStopTransaction"
    assert got["stop"][1]["request"] == {"transactionId": tx_id}
    stops = [kw for action, kw in seen if action == "RemoteStopTransaction"]
    assert len(stops) == 1 and stops[0]["transaction_id"] > 0
    # GetConfiguration without keys is a full report; with keys, GetVariables.
    assert got["config_all"][1]["action"] == "GetBaseReport"
    assert got["config_some"][1]["action"] == "GetVariables"
    asked = [kw.get("key") for action, kw in seen if action == "GetConfiguration"]
    assert asked[0] is None and asked[1] == ["HeartbeatInterval"]
    # ChangeConfiguration is SetVariables of the device-model variable of the key.
    assert got["change"][1]["request"]["setVariableData"][0]["variable"]["name"] == (
        "TxUpdatedInterval"
    )
    assert got["change"][1]["conf"] == {"status": "Accepted"}
    assert ("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"}) in seen
    assert got["reset"][1]["request"] == {"type": "Immediate"}
    assert ("Reset", {"type": "Hard"}) in seen
    # Refusals: not a trigger, not a valid 1.6 payload, station not connected.
    assert got["unknown"][0] == 400 and got["invalid"][0] == 400 and got["absent"][0] == 404
    # create-token changes what Authorize answers; the rotated key is the CSMS's
    # until set-basic-auth-password sets another.
    assert got["token"][0] == 200
    assert statuses == ["Blocked", "AABBCCDDEEFF00112233445566778899AABBCCDD", "test1234"]
    assert got["rotate"][1]["request"]["setVariableData"][0]["variable"]["name"] == (
        "BasicAuthPassword"
    )


def test_every_trigger_of_the_suite_names_a_16_action_the_reverse_pair_translates() -> None:
    from ocppkit.translators.station201_csms16.session import CSMS_CALLS

    missing = {name for name, t in TRIGGERS.items() if t.action16 not in CSMS_CALLS}
    assert missing == set()


def test_certificate_signed_carries_the_stations_csr_signed_by_the_csms_ca(
    tmp_path: Path,
) -> None:
    """TC_074: the suite posts a self-signed stand-in; the station gets its CSR signed."""
    from cryptography.hazmat.primitives import serialization

    from ocppkit.toolkit.csms.signing import CsrSigner
    from tests.gateway.pki import Issued, Pki
    from tests.gateway.test_mtls import BOOT, attempt, client_tls, tls_bridge

    pki = Pki(tmp_path / "pki")
    first = pki.client("CP16_SP3")
    csr, new_key = Pki.csr("CP16_SP3")
    ca_key = pki.ca_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stand_in = first.cert.read_text()  # any chain: not what the station gets

    async def scenario() -> tuple[int, list[Any], str]:
        signer = CsrSigner(pki.ca_path.read_bytes(), ca_key)
        csms = Csms(CsmsSettings(signer=signer))
        await csms.start()
        trigger = OcttTrigger(csms)
        await trigger.start()
        try:
            async with tls_bridge(tmp_path, pki, csms.url, tls_client_required=("*",)) as bridge:
                url = f"wss://127.0.0.1:{bridge.port}/ocpp/CP16_SP3"
                async with websockets.connect(
                    url, subprotocols=["ocpp1.6"], ssl=client_tls(pki, first)
                ) as ws:
                    await ws.send(orjson.dumps([2, "b", "BootNotification", BOOT]).decode())
                    await asyncio.wait_for(ws.recv(), 10)
                    await ws.send(orjson.dumps([2, "s", "SignCertificate", {"csr": csr}]).decode())
                    await asyncio.wait_for(ws.recv(), 10)
                    posted = asyncio.create_task(
                        post(
                            f"{trigger.url}/api/octt/1.6/CP16_SP3/certificate-signed",
                            {"certificateChain": stand_in},
                        )
                    )
                    command = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                    await ws.send(orjson.dumps([3, command[1], {"status": "Accepted"}]).decode())
                    status, _ = await posted
                renewed = Issued(tmp_path / "renewed.pem", tmp_path / "renewed.key", 0)
                renewed.cert.write_text(command[3]["certificateChain"])
                renewed.key.write_bytes(new_key)
                result = await attempt(bridge, "CP16_SP3", client_tls(pki, renewed))
        finally:
            await trigger.stop()
            await csms.stop()
        return status, command, result

    status, command, result = asyncio.run(scenario())
    assert status == 200
    assert command[2] == "CertificateSigned"
    assert command[3]["certificateChain"] != stand_in
    assert command[3]["certificateChain"].endswith(pki.ca_path.read_text())
    assert result == "ok"  # the renewed certificate opens the next connection


# -- the rewrite, row by row (no sockets: the 2.0.1 call each trigger becomes) --------------

PROFILE16 = {
    "chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Absolute", "transactionId": 4711,
    "chargingSchedule": {"chargingRateUnit": "A", "startSchedule": "2026-12-03T08:00:00Z",
                         "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}]},
}  # fmt: skip
ROWS: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("reset", {"type": "Soft"}, "Reset", {"type": "OnIdle"}),
    ("unlock-connector", {"connectorId": 1}, "UnlockConnector", {"evseId": 1, "connectorId": 1}),
    ("change-availability", {"connectorId": 0, "type": "Inoperative"}, "ChangeAvailability",
     {"operationalStatus": "Inoperative"}),
    ("trigger-message", {"requestedMessage": "StatusNotification", "connectorId": 1},
     "TriggerMessage", {"requestedMessage": "StatusNotification",
                        "evse": {"id": 1, "connectorId": 1}}),
    ("trigger-message", {"requestedMessage": "DiagnosticsStatusNotification"}, "TriggerMessage",
     {"requestedMessage": "LogStatusNotification"}),
    ("extended-trigger-message", {"requestedMessage": "SignChargePointCertificate"},
     "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}),
    ("get-configuration", {}, "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}),
    ("cancel-reservation", {"reservationId": 3}, "CancelReservation", {"reservationId": 3}),
    ("get-local-list-version", {}, "GetLocalListVersion", {}),
    ("clear-cache", {}, "ClearCache", {}),
    ("get-composite-schedule", {"connectorId": 1, "duration": 60}, "GetCompositeSchedule",
     {"evseId": 1, "duration": 60}),
    ("clear-charging-profile", {"id": 7}, "ClearChargingProfile", {"chargingProfileId": 7}),
    ("get-diagnostics", {"location": "ftp://logs.example/up"}, "GetLog",
     {"logType": "DiagnosticsLog", "requestId": 1,
      "log": {"remoteLocation": "ftp://logs.example/up"}}),
    ("update-firmware", {"location": "https://fw.example/1.bin",
                         "retrieveDate": "2026-12-03T08:00:00Z"}, "UpdateFirmware",
     {"requestId": 1, "firmware": {"location": "https://fw.example/1.bin",
                                   "retrieveDateTime": "2026-12-03T08:00:00Z"}}),
    ("install-certificate", {"certificateType": "CentralSystemRootCertificate",
                             "certificate": "PEM"}, "InstallCertificate",
     {"certificateType": "CSMSRootCertificate", "certificate": "PEM"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "payload16", "action", "payload201"), ROWS)
def test_each_trigger_becomes_the_201_command_an_operator_sends(
    name: str, payload16: dict[str, Any], action: str, payload201: dict[str, Any]
) -> None:
    out = OcttTrigger(Csms()).rewrite(CP, TRIGGERS[name], payload16)
    assert not isinstance(out, dict), out
    assert (out.action, out.payload) == (action, payload201)


def test_a_16_transaction_id_names_the_transaction_running_at_the_station() -> None:
    from ocppkit.toolkit.csms.records import TransactionSeen

    csms = Csms()
    csms.transactions["tx-done"] = TransactionSeen("tx-done", CP, evse_id=1)
    csms.transactions["tx-done"].ended_at = csms.now()
    csms.transactions["tx-other-station"] = TransactionSeen("tx-other-station", "CP-2", evse_id=1)
    csms.transactions["tx-running"] = TransactionSeen("tx-running", CP, evse_id=1)
    trigger = OcttTrigger(csms)
    stop = trigger.rewrite(CP, TRIGGERS["remote-stop-transaction"], {"transactionId": 4711})
    profile = trigger.rewrite(
        CP, TRIGGERS["set-charging-profile"], {"connectorId": 1, "csChargingProfiles": PROFILE16}
    )
    assert not isinstance(stop, dict) and stop.payload == {"transactionId": "tx-running"}
    assert not isinstance(profile, dict) and profile.action == "SetChargingProfile"
    assert profile.payload["chargingProfile"]["transactionId"] == "tx-running"
    assert profile.payload["evseId"] == 1


def test_with_nothing_running_a_16_transaction_id_is_refused_without_a_call() -> None:
    out = OcttTrigger(Csms()).rewrite(
        CP, TRIGGERS["remote-stop-transaction"], {"transactionId": 999999}
    )
    assert out == {"status": "Rejected"}  # the 1.6 answer: nothing 2.0.1 could be asked
