"""Password rotation followed through the bridge (issue #15 item 9d, OCTT TC_073).

The CSMS sets ``SecurityCtrlr.BasicAuthPassword``; the bridge sends the
charger ChangeConfiguration ``AuthorizationKey``; once the charger accepts,
the new key is what it must show downstream (durably: a restarted bridge
knows it), and what the bridge shows the CSMS upstream. The CSMS here is a
small 2.0.1 server that records the Authorization header of each connection.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from ocppkit.toolkit.gateway.server import Bridge
from tests.gateway import rotation_kit as kit
from tests.gateway.pg import pg_server, pg_url  # noqa: F401
from tests.gateway.rotation_kit import RecordingCsms, basic
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(60)
NEW_KEY = "0123456789abcdef0123456789abcdef"
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W1"}


def connect(bridge: Bridge, password: str) -> Any:
    return kit.connect(bridge, "CP1", "ocpp1.6", password)


async def refused(bridge: Bridge, password: str) -> int | None:
    return await kit.refused(bridge, "CP1", "ocpp1.6", password)


async def booted(ws: Any) -> None:
    await kit.booted(ws, BOOT)


async def set_password(csms: RecordingCsms, value: str) -> Any:
    data = {"setVariableData": [{
        "attributeValue": value,
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
    }]}  # fmt: skip
    return await csms.command("sv-1", "SetVariables", data)


async def rotate(bridge: Bridge, csms: RecordingCsms, status: str) -> tuple[Any, Any]:
    """The charger, with its old key, answers the CSMS's new key with ``status``;
    returns the command it got and the answer the CSMS got."""
    ws = await connect(bridge, "old-password-0001")
    await booted(ws)
    answer_task = asyncio.create_task(set_password(csms, NEW_KEY))
    command = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    await ws.send(orjson.dumps([3, command[1], {"status": status}]).decode())
    csms_answer = await answer_task
    await ws.close()
    return command, csms_answer


def test_a_rotated_authorization_key_is_stored_and_followed_on_both_legs(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        csms = RecordingCsms("ocpp2.0.1")
        await csms.start()
        out: dict[str, Any] = {}
        cfg = bridge_config(
            csms.url, tmp_path, charger_passwords={"CP1": "old-password-0001"},
            upstream_password="configured-upstream-1",
        )  # fmt: skip
        try:
            bridge = Bridge(cfg)
            await bridge.start()
            try:
                out["command"], out["csms_answer"] = await rotate(bridge, csms, "Accepted")
                # Until the new key has been seen once, the old one still works.
                out["old_before_new"] = await refused(bridge, "old-password-0001")
                ws = await connect(bridge, NEW_KEY)
                await booted(ws)
                await ws.close()
                out["old_after_new"] = await refused(bridge, "old-password-0001")
                out["rotations"] = bridge.metrics.value("ocppkit_bridge_credentials_rotated_total")
            finally:
                await bridge.stop()
            # A new process on the same state knows the key; the CSMS sees it upstream.
            bridge = Bridge(cfg)
            await bridge.start()
            try:
                out["old_after_restart"] = await refused(bridge, "old-password-0001")
                ws = await connect(bridge, NEW_KEY)
                await booted(ws)
                await ws.close()
            finally:
                await bridge.stop()
        finally:
            await csms.stop()
        out["upstream_auth"] = csms.auth
        return out

    out = asyncio.run(main())
    assert out["command"][2] == "ChangeConfiguration"
    assert out["command"][3] == {"key": "AuthorizationKey", "value": NEW_KEY}
    assert out["csms_answer"][0] == 3
    assert out["csms_answer"][2]["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert out["old_before_new"] is None
    assert out["old_after_new"] == 401
    assert out["old_after_restart"] == 401
    assert out["rotations"] == 1
    old_up = basic("CP1", "configured-upstream-1")["Authorization"]
    new_up = basic("CP1", NEW_KEY)["Authorization"]
    assert out["upstream_auth"][0] == old_up
    assert out["upstream_auth"][-1] == new_up  # the restarted bridge presents the new key


def test_a_key_rotated_on_one_instance_is_in_force_on_the_other_at_once(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    """HA: instance B, started before the rotation on A, takes the new key when
    the charger comes to it, shows the CSMS the new key, and once B has seen the
    new key, A refuses the old one too (both read the shared store per connection)."""

    async def main() -> dict[str, Any]:
        csms = RecordingCsms("ocpp2.0.1")
        await csms.start()
        out: dict[str, Any] = {}
        common = {"charger_passwords": {"CP1": "old-password-0001"},
                  "upstream_password": "configured-upstream-1", "state": pg_url}  # fmt: skip
        a = Bridge(bridge_config(csms.url, tmp_path / "a", instance="A", **common))
        b = Bridge(bridge_config(csms.url, tmp_path / "b", instance="B", **common))
        await a.start()
        await b.start()
        try:
            _, out["csms_answer"] = await rotate(a, csms, "Accepted")
            # The charger is sent to B: it may still show the old key, or the new one.
            out["old_on_b_before_new"] = await refused(b, "old-password-0001")
            ws = await connect(b, NEW_KEY)
            await booted(ws)
            await ws.close()
            out["old_on_a_after_new"] = await refused(a, "old-password-0001")
            out["new_on_a"] = await refused(a, NEW_KEY)
        finally:
            await a.stop()
            await b.stop()
            await csms.stop()
        out["upstream_auth"] = csms.auth
        return out

    out = asyncio.run(main())
    assert out["csms_answer"][2]["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert out["old_on_b_before_new"] is None
    assert out["old_on_a_after_new"] == 401
    assert out["new_on_a"] is None
    new_up = basic("CP1", NEW_KEY)["Authorization"]
    assert out["upstream_auth"][0] == basic("CP1", "configured-upstream-1")["Authorization"]
    assert out["upstream_auth"][1:] and set(out["upstream_auth"][1:]) == {new_up}


def test_a_rejected_authorization_key_changes_nothing(tmp_path: Path) -> None:
    async def main() -> tuple[int | None, int | None]:
        csms = RecordingCsms("ocpp2.0.1")
        await csms.start()
        cfg = bridge_config(csms.url, tmp_path, charger_passwords={"CP1": "old-password-0001"})
        bridge = Bridge(cfg)
        await bridge.start()
        try:
            await rotate(bridge, csms, "Rejected")
            return await refused(bridge, NEW_KEY), await refused(bridge, "old-password-0001")
        finally:
            await bridge.stop()
            await csms.stop()

    new, old = asyncio.run(main())
    assert new == 401 and old is None


def test_without_configured_passwords_only_a_rotated_charger_needs_its_key(tmp_path: Path) -> None:
    from ocppkit.toolkit.gateway.credentials import Credentials
    from ocppkit.toolkit.gateway.metrics import Metrics
    from ocppkit.toolkit.gateway.store import Store
    from ocppkit.translators.frames import Call, CallResult

    async def main() -> tuple[bool, bool, tuple[str, ...], str | None]:
        store = Store(tmp_path / "b.db")
        cfg = bridge_config("ws://127.0.0.1:9/ocpp", tmp_path)
        creds = Credentials(cfg, store, Metrics(), logging.getLogger("t"))
        creds.sent("CP1", Call("m1", "ChangeConfiguration", {"key": "AuthorizationKey",
                                                             "value": NEW_KEY}))  # fmt: skip
        creds.answered("CP1", CallResult("m1", {"status": "Accepted"}))
        await store.commit([])  # the writes queued before this one have landed
        store.close()
        reopened = Store(tmp_path / "b.db")
        again = Credentials(cfg, reopened, Metrics(), creds.log)
        try:
            return (
                again.requires_password("CP1"),
                again.requires_password("CP2"),
                again.downstream("CP1"),
                again.upstream_passwords().get("CP1"),
            )
        finally:
            reopened.close()

    cp1, cp2, accepted, upstream = asyncio.run(main())
    assert cp1 and not cp2
    assert accepted == (NEW_KEY,)
    assert upstream == NEW_KEY


def test_a_refresh_never_undoes_a_rotation_this_instance_is_still_storing(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    """The charger reconnects while the new key's write waits on the database (a
    lock held here): the refresh reads the store's older rows, and the key stays."""
    import psycopg

    from ocppkit.toolkit.gateway.credentials import Credentials
    from ocppkit.toolkit.gateway.metrics import Metrics
    from ocppkit.toolkit.gateway.state import open_store
    from ocppkit.translators.frames import Call, CallResult

    async def main() -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        store = await open_store(pg_url)
        cfg = bridge_config("ws://127.0.0.1:9/ocpp", tmp_path,
                            charger_passwords={"CP1": "old-password-0001"})  # fmt: skip
        creds = Credentials(cfg, store, Metrics(), logging.getLogger("t"), stored={})
        with psycopg.connect(pg_url) as blocker:
            blocker.execute("LOCK TABLE passwords IN EXCLUSIVE MODE")  # writes wait, reads go
            creds.sent("CP1", Call("m1", "ChangeConfiguration",
                                   {"key": "AuthorizationKey", "value": NEW_KEY}))  # fmt: skip
            creds.answered("CP1", CallResult("m1", {"status": "Accepted"}))
            await asyncio.sleep(0.2)  # the write is queued behind the lock
            stored_meanwhile = await store.passwords("CP1")
            await creds.refresh("CP1")
            during = creds.downstream("CP1")
            blocker.rollback()
        await store.commit([])  # the queued write has landed
        await creds.refresh("CP1")
        after = creds.downstream("CP1")
        await store.aclose()
        return during, after, stored_meanwhile == {}

    during, after, store_was_behind = asyncio.run(main())
    assert store_was_behind  # so the refresh did read rows older than the key in memory
    assert during == (NEW_KEY, "old-password-0001")
    assert after == (NEW_KEY, "old-password-0001")
