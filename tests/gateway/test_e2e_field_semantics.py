"""End to end: 1.6J tags of every shape charge through ``ocppkit bridge`` into a strict CSMS.

The built-in CSMS runs in its CitrineOS-like mode: ISO14443 idTokens must be
8 or 14 hexadecimal characters (PropertyConstraintViolation otherwise),
date-times carry at most milliseconds (FormatViolation otherwise), tokens
are matched from a token store. The charger is the independent ``ocpp``
package; it sends microsecond timestamps, as Python chargers do. A token
answered ConcurrentTx leaves its transaction to the bridge's dangling rule.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.csms.tokens import parse_tokens
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.journal import Leg
from tests.gateway.harness import connected, journal_records, lib_violations
from tests.gateway.test_e2e_session import bridge_config

pytestmark = [pytest.mark.timeout(90), pytest.mark.network]

CP = "CP-TAGS"
GRACE = 3.0  # seconds; Finishing comes before StopTransaction, well within it
TAGS = ("TAG-A1", "04A2B3C4", "ABC328XYZ")
TOKENS = "\n".join(
    [*(f'[[token]]\nid = "{t}"\nstatus = "Accepted"' for t in TAGS),
     '[[token]]\nid = "BUSY-1"\nstatus = "ConcurrentTx"']
)  # fmt: skip


def micro_now() -> str:
    """A charger's timestamp with microseconds (``...33.383026Z``)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


async def charge(ch: Any, tag: str, start_wh: int) -> tuple[str, str]:
    auth = await ch.call(call16.Authorize(id_tag=tag))
    await ch.status(1, "Preparing")
    start = await ch.call(
        call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=start_wh,
                                timestamp=micro_now())
    )  # fmt: skip
    if start.id_tag_info["status"] != "Accepted":
        await ch.status(1, "Available")  # as the SAP simulator does: no StopTransaction
        return auth.id_tag_info["status"], start.id_tag_info["status"]
    await ch.status(1, "Charging")
    await ch.meter(1, start.transaction_id, start_wh + 700)
    await ch.status(1, "Finishing")
    await ch.call(
        call16.StopTransaction(transaction_id=start.transaction_id, meter_stop=start_wh + 1400,
                               timestamp=micro_now(), id_tag=tag, reason="Local")
    )  # fmt: skip
    await ch.status(1, "Available")
    return auth.id_tag_info["status"], start.id_tag_info["status"]


def test_tags_of_every_shape_charge_through_the_bridge_into_a_strict_csms(tmp_path: Path) -> None:
    async def scenario() -> tuple[Csms, dict[str, tuple[str, str]], float]:
        journal = JournalWriter(tmp_path / "csms-journal")
        settings = CsmsSettings(
            token_store=parse_tokens(TOKENS, "toml"), strict_tokens=True, strict_one_call=True
        )
        csms = Csms(settings, journal=journal)
        await csms.start()
        bridge = Bridge(bridge_config(csms.url, tmp_path, dangling_grace=GRACE))
        await bridge.start()
        results: dict[str, tuple[str, str]] = {}
        try:
            async with connected(f"ws://127.0.0.1:{bridge.port}/ocpp", CP) as ch:
                assert (await ch.boot()).status == "Accepted"
                await ch.status(1, "Available")
                for i, tag in enumerate((*TAGS, "BUSY-1")):
                    results[tag] = await charge(ch, tag, 1000 * (i + 1))
                await asyncio.sleep(GRACE + 0.5)  # the charger idles past the grace ...
                await ch.call(call16.Heartbeat())  # ... and its next frame ends the transaction
            dangling = bridge.metrics.value(
                "ocppkit_bridge_dangling_transactions_total", rule="status"
            )
        finally:
            await bridge.stop()
            await csms.stop()
            journal.close()
        return csms, results, dangling

    csms, results, dangling = asyncio.run(scenario())
    assert csms.violation_log == [] and csms.internal_errors == []
    assert results == {**{t: ("Accepted", "Accepted") for t in TAGS},
                       "BUSY-1": ("ConcurrentTx", "ConcurrentTx")}  # fmt: skip
    by_tag = {t.id_token: t for t in csms.transactions.values()}
    assert set(by_tag) == {*TAGS, "BUSY-1"}
    for tag in TAGS:
        assert by_tag[tag].event_types[0] == "Started" and by_tag[tag].event_types[-1] == "Ended"
        assert by_tag[tag].stopped_reason == "Local"
    # Nothing left open: the refused start was ended by the bridge, by rule.
    assert by_tag["BUSY-1"].event_types[-1] == "Ended"
    assert by_tag["BUSY-1"].stopped_reason == "DeAuthorized"
    assert dangling == 1
    # The types the CSMS saw: ISO14443 only for the card UID, one type per tag.
    records = journal_records(tmp_path / "csms-journal")
    types: dict[str, set[str]] = {}
    for rec in records:
        msg = rec.message
        if isinstance(msg, list) and msg[0] == 2 and "idToken" in msg[3]:
            token = msg[3]["idToken"]
            types.setdefault(token["idToken"], set()).add(token["type"])
    assert types == {"TAG-A1": {"Central"}, "04A2B3C4": {"ISO14443"},
                     "ABC328XYZ": {"Central"}, "BUSY-1": {"Central"}}  # fmt: skip
    # Second oracle on the bridge's journal: the ocpp package's own schemas.
    bridged = journal_records(tmp_path / "journal")
    assert lib_violations([r for r in bridged if r.leg is Leg.UPSTREAM], "2.0.1") == []
