"""End to end: the ``new_transaction`` and ``reboot`` dangling rules over real sockets.

A 1.6 charger (the independent ``ocpp`` package) abandons transactions the
two ways the rules are for: it starts a new one on a connector whose
transaction it never stopped, or it reboots with one open and never sends
its StopTransaction. The strict built-in 2.0.1 CSMS must see each abandoned
transaction Ended, with the rule's reasons, and nothing left open; a charger
that does send its StopTransaction within the grace after a reboot (OCTT
TC_032) wins over the rule. The in-memory rules are in
tests/translators/charger16_csms201/test_field_semantics.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.journal_writer import JournalWriter
from tests.gateway.harness import connected, journal_records, now
from tests.gateway.test_e2e_session import bridge_config

pytestmark = [pytest.mark.timeout(90), pytest.mark.network]

GRACE = 2.0  # seconds the bridge waits for the charger's own StopTransaction


async def start(ch: Any, tag: str, wh: int) -> int:
    await ch.status(1, "Preparing")
    answer = await ch.call(
        call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=wh, timestamp=now())
    )
    assert answer.id_tag_info["status"] == "Accepted"
    await ch.status(1, "Charging")
    tx: int = answer.transaction_id
    return tx


def ended_events(directory: Path) -> dict[str, dict[str, Any]]:
    """transactionId -> the Ended TransactionEvent the CSMS received."""
    out = {}
    for rec in journal_records(directory):
        msg = rec.message
        ended = isinstance(msg, list) and msg[0] == 2 and msg[2] == "TransactionEvent"
        if ended and msg[3]["eventType"] == "Ended":
            out[msg[3]["transactionInfo"]["transactionId"]] = msg[3]
    return out


def run(tmp_path: Path, scenario: Any) -> tuple[Csms, dict[str, float]]:
    async def main() -> tuple[Csms, dict[str, float]]:
        journal = JournalWriter(tmp_path / "csms-journal")
        csms = Csms(CsmsSettings(strict_one_call=True), journal=journal)
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path, dangling_grace=GRACE))
        await bridge.start()
        try:
            await scenario(f"ws://127.0.0.1:{bridge.port}/ocpp")
            counts = {
                rule: bridge.metrics.value("ocppkit_bridge_dangling_transactions_total", rule=rule)
                for rule in ("new_transaction", "reboot", "status")
            }
        finally:
            await bridge.stop()
            await csms.stop()
            journal.close()
        return csms, counts

    return asyncio.run(main())


def by_tag(csms: Csms) -> dict[str, Any]:
    return {tx.id_token: tx for tx in csms.transactions.values()}


def test_a_new_start_on_a_connector_ends_the_transaction_the_charger_never_stopped(
    tmp_path: Path,
) -> None:
    async def scenario(url: str) -> None:
        async with connected(url, "CP-NEWTX") as ch:
            await ch.boot()
            await ch.status(1, "Available")
            await start(ch, "TAG-OLD", 1000)  # never stopped
            tx = await start(ch, "TAG-NEW", 5000)
            await ch.status(1, "Finishing")
            await ch.call(
                call16.StopTransaction(transaction_id=tx, meter_stop=5600, timestamp=now(),
                                       reason="Local")
            )  # fmt: skip
            await ch.status(1, "Available")

    csms, counts = run(tmp_path, scenario)
    assert csms.violation_log == [] and csms.internal_errors == []
    txs = by_tag(csms)
    assert set(txs) == {"TAG-OLD", "TAG-NEW"}
    assert all(tx.event_types[-1] == "Ended" for tx in txs.values())  # nothing left open
    ended = ended_events(tmp_path / "csms-journal")
    old = ended[txs["TAG-OLD"].transaction_id]
    assert (old["triggerReason"], old["transactionInfo"]["stoppedReason"]) == (
        "AbnormalCondition",
        "Other",
    )
    assert txs["TAG-NEW"].stopped_reason == "Local"  # the charger's own stop
    assert counts == {"new_transaction": 1, "reboot": 0, "status": 0}


def test_a_reboot_ends_an_open_transaction_unless_the_charger_stops_it_within_the_grace(
    tmp_path: Path,
) -> None:
    async def scenario(url: str) -> None:
        async with connected(url, "CP-BOOT") as ch:
            await ch.boot()
            await ch.status(1, "Available")
            lost = await start(ch, "TAG-LOST", 1000)
        async with connected(url, "CP-BOOT") as ch:  # power back: a new connection, a new boot
            await ch.boot()
            await asyncio.sleep(GRACE + 0.5)  # no StopTransaction comes for TAG-LOST ...
            await ch.call(call16.Heartbeat())  # ... the next frame lets the bridge end it
            await ch.status(1, "Available")
            kept = await start(ch, "TAG-KEPT", 2000)
        async with connected(url, "CP-BOOT") as ch:
            await ch.boot()  # TC_032: the charger kept its StopTransaction across the outage
            await ch.call(
                call16.StopTransaction(transaction_id=kept, meter_stop=2500, timestamp=now(),
                                       reason="PowerLoss")
            )  # fmt: skip
            await ch.status(1, "Available")
            await asyncio.sleep(GRACE + 0.5)
            await ch.call(call16.Heartbeat())
        assert lost != kept

    csms, counts = run(tmp_path, scenario)
    assert csms.violation_log == [] and csms.internal_errors == []
    txs = by_tag(csms)
    assert all(tx.event_types[-1] == "Ended" for tx in txs.values())
    ended = ended_events(tmp_path / "csms-journal")
    lost = ended[txs["TAG-LOST"].transaction_id]
    assert (lost["triggerReason"], lost["transactionInfo"]["stoppedReason"]) == (
        "AbnormalCondition",
        "Reboot",
    )
    assert txs["TAG-KEPT"].stopped_reason == "PowerLoss"  # the charger's stop won
    assert txs["TAG-KEPT"].event_types.count("Ended") == 1
    assert counts == {"new_transaction": 0, "reboot": 1, "status": 0}
