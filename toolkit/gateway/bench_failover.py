"""The ``failover`` suite of ``ocppkit bench``: several bridges on one PostgreSQL.

Two bridge processes share a throwaway PostgreSQL
(:mod:`ocppkit.toolkit.gateway.state.pgserver`, fsync off: it measures the
bridge, not a disk) behind HAProxy in TCP mode (health check
``/healthz/ready``), in front of the built-in CSMS in its own process.
Chargers send a StatusNotification every ``PACE`` seconds through the
balancer. A bridge is killed with SIGKILL, ``kills`` times (10; 3 with
``--quick``), the next one always the instance that came back last, and
restarted after each.

- **failover time**: for each charger whose connection the kill cut, from the
  kill to the first call of that charger answered again (so forwarded to the
  CSMS by the other instance and back); p50/p99 over all of them and the
  worst per kill. The charger waits ``RECONNECT_DELAY`` before reconnecting,
  as real chargers wait: the target is p99 < 5 s plus that delay, reported
  beside it.
- **PostgreSQL vs SQLite**: call round trips through a bridge on the
  PostgreSQL store and through one on a SQLite file, interleaved in the same
  run (one charger each, one call at a time); the added p50/p99 is the
  difference.

Needs PostgreSQL's server binaries, psycopg and HAProxy; without them the
suite reports why instead of a number.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from ocppkit.toolkit.gateway.bench import _READY, CSMS_SCRIPT, _spawn

PACE = 0.2  # seconds between a charger's calls
RECONNECT_DELAY = 0.5  # seconds a charger waits before it reconnects
TARGET_S = 5.0  # failover p99 below this plus the reconnect delay
_LISTENING = re.compile(rb"event=bridge_listening .*? port=(\d+)")
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Bench-1"}


def _port() -> int:
    """A free port below the ephemeral range (a restarted bridge binds it again)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 30000)
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free port")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Charger:
    """A 1.6J charger on an aiohttp WebSocket: one call at a time, reconnecting."""

    def __init__(self, url: str, cp_id: str) -> None:
        self.url, self.cp_id = url, cp_id
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.cut_at: float | None = None  # when its connection was lost
        self.samples: list[tuple[float, float]] = []  # (cut, answered again)
        self.n = 0

    async def connect(self) -> None:
        if self.http is None:
            self.http = aiohttp.ClientSession()
        while True:
            try:
                self.ws = await self.http.ws_connect(
                    f"{self.url}/{self.cp_id}", protocols=("ocpp1.6",), autoping=True,
                    timeout=aiohttp.ClientWSTimeout(ws_close=2),
                )  # fmt: skip
                return
            except (OSError, TimeoutError, aiohttp.ClientError):
                await asyncio.sleep(0.1)

    async def call(self, action: str, payload: dict[str, Any]) -> float:
        """Round trip of one call (s); raises ConnectionError when the link drops."""
        self.n += 1
        mid = f"{self.cp_id}-{self.n}"
        started = time.perf_counter()
        ws = self.ws
        if ws is None or ws.closed:
            raise ConnectionError("not connected")
        try:
            await ws.send_str(orjson.dumps([2, mid, action, payload]).decode())
            while True:
                msg = await asyncio.wait_for(ws.receive(), 10)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"link closed ({msg.type.name})")
                frame = orjson.loads(msg.data)
                if frame[0] in (3, 4) and frame[1] == mid:
                    return time.perf_counter() - started
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise ConnectionError(str(exc)) from None

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.http is not None:
            await self.http.close()

    async def run(self, stop: asyncio.Event, kills: list[float]) -> None:
        await self.connect()
        while not stop.is_set():
            try:
                await self.call("StatusNotification", STATUS)
                if self.cut_at is not None:
                    self.samples.append((self.cut_at, time.perf_counter()))
                    self.cut_at = None
                await asyncio.sleep(PACE)
            except ConnectionError:
                if self.cut_at is None:
                    self.cut_at = kills[-1] if kills else time.perf_counter()
                if self.ws is not None:
                    with contextlib.suppress(Exception):
                        await self.ws.close()
                await asyncio.sleep(RECONNECT_DELAY)
                await self.connect()
        await self.close()


def _haproxy_config(port: int, backends: list[int]) -> str:
    servers = "\n".join(
        f"    server b{i} 127.0.0.1:{p} check inter 300 fall 1 rise 2"
        for i, p in enumerate(backends)
    )
    return (
        "global\n    maxconn 4000\ndefaults\n    mode tcp\n    timeout connect 1s\n"
        "    timeout client 120s\n    timeout server 120s\n    retries 3\n"
        f"    option redispatch\nfrontend chargers\n    bind 127.0.0.1:{port}\n"
        "    default_backend bridges\nbackend bridges\n    balance roundrobin\n"
        f"    option httpchk GET /healthz/ready\n{servers}\n"
    )


async def _bridge(upstream: str, state: str, port: int, tmp: str, name: str) -> Any:
    for attempt in range(40):
        try:
            proc, _ = await _spawn(
                ["-m", "ocppkit.toolkit.gateway", "--listen", f"127.0.0.1:{port}",
                 "--upstream", upstream, "--state", state, "--instance", name,
                 "--journal", f"{tmp}/journal-{name}"],
                _LISTENING, "stderr",
            )  # fmt: skip
            return proc
        except RuntimeError:
            if attempt == 39:
                raise
            await asyncio.sleep(0.25)
    raise AssertionError("unreachable")


async def _latency(url_pg: str, url_sqlite: str, calls: int) -> dict[str, Any]:
    pg, lite = _Charger(url_pg, "LATPG"), _Charger(url_sqlite, "LATSQ")
    await asyncio.gather(pg.connect(), lite.connect())
    for c in (pg, lite):
        await c.call("BootNotification", BOOT)
    rtt: dict[str, list[float]] = {"postgresql": [], "sqlite": []}
    for _ in range(calls):  # interleaved: the same weather for both
        rtt["postgresql"].append(await pg.call("StatusNotification", STATUS))
        rtt["sqlite"].append(await lite.call("StatusNotification", STATUS))
    for c in (pg, lite):
        await c.close()
    out: dict[str, Any] = {}
    for name, values in rtt.items():
        out[f"{name}_p50_ms"] = round(1000 * _pct(values, 0.5), 3)
        out[f"{name}_p99_ms"] = round(1000 * _pct(values, 0.99), 3)
    out["added_p50_ms"] = round(out["postgresql_p50_ms"] - out["sqlite_p50_ms"], 3)
    out["added_p99_ms"] = round(out["postgresql_p99_ms"] - out["sqlite_p99_ms"], 3)
    return out


async def _bench(quick: bool) -> dict[str, Any]:
    from ocppkit.toolkit.gateway.state.pgserver import PgServer

    kills, chargers, calls = (3, 10, 200) if quick else (10, 20, 1000)
    haproxy = shutil.which("haproxy")
    assert haproxy is not None
    with tempfile.TemporaryDirectory(prefix="ocppkit-bench-failover-") as tmp:
        pg = PgServer().start()
        procs: list[Any] = []
        balancer: Any = None
        try:
            csms, csms_port = await _spawn(["-c", CSMS_SCRIPT], _READY, "stdout")
            procs.append(csms)
            upstream = f"ws://127.0.0.1:{csms_port}/ocpp"
            ports = [_port(), _port()]
            bridges = [
                await _bridge(upstream, pg.url, p, tmp, f"b{i}") for i, p in enumerate(ports)
            ]
            lite_port = _port()
            lite = await _bridge(upstream, f"{tmp}/lite.db", lite_port, tmp, "lite")
            procs += [lite]
            front = _port()
            cfg = Path(tmp) / "haproxy.cfg"
            cfg.write_text(_haproxy_config(front, ports))
            balancer = await asyncio.create_subprocess_exec(
                haproxy, "-db", "-f", str(cfg),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(1.0)  # the first health checks pass
            latency = await _latency(f"ws://127.0.0.1:{ports[0]}/ocpp",
                                     f"ws://127.0.0.1:{lite_port}/ocpp", calls)  # fmt: skip
            url = f"ws://127.0.0.1:{front}/ocpp"
            fleet = [_Charger(url, f"FO{i:03d}") for i in range(chargers)]
            stop = asyncio.Event()
            kill_times: list[float] = []
            running = [asyncio.create_task(c.run(stop, kill_times)) for c in fleet]
            await asyncio.sleep(2.0)
            victim = 0
            for _ in range(kills):
                kill_times.append(time.perf_counter())
                bridges[victim].kill()
                await bridges[victim].wait()
                # Every cut charger answers again before the next kill.
                deadline = time.perf_counter() + 30
                await asyncio.sleep(0.5)
                while time.perf_counter() < deadline and any(c.cut_at for c in fleet):
                    await asyncio.sleep(0.1)
                bridges[victim] = await _bridge(upstream, pg.url, ports[victim], tmp, f"b{victim}")
                await asyncio.sleep(1.5)  # the balancer sees it ready; chargers stay put
                victim = 1 - victim
            stop.set()
            await asyncio.gather(*running, return_exceptions=True)
        finally:
            for proc in [*procs, *locals().get("bridges", []), balancer]:
                if proc is not None and proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(proc.wait(), 10)
            pg.stop()
    samples = [done - cut for c in fleet for cut, done in c.samples]
    per_kill: dict[float, float] = {}
    for c in fleet:
        for cut, done in c.samples:
            per_kill[cut] = max(per_kill.get(cut, 0.0), done - cut)
    p50, p99 = _pct(samples, 0.5), _pct(samples, 0.99)
    limit = TARGET_S + RECONNECT_DELAY
    return {
        "value": round(p99, 3),
        "unit": "s p99",
        "baseline": RECONNECT_DELAY,
        "baseline_unit": "s reconnect delay",
        "ratio": round(p99 / RECONNECT_DELAY, 2),
        "target": f"failover p99 < {TARGET_S:g} s + the charger's reconnect delay "
        f"({RECONNECT_DELAY:g} s) = {limit:g} s",
        "met": p99 < limit,
        "failover_p50_s": round(p50, 3),
        "failover_p99_s": round(p99, 3),
        "reconnect_delay_s": RECONNECT_DELAY,
        "kills": kills,
        "chargers": chargers,
        "cut_connections": len(samples),
        "worst_per_kill_s": [round(v, 3) for v in per_kill.values()],
        "latency": latency,
        "pg_added_p50_ms": latency["added_p50_ms"],
        "pg_added_p99_ms": latency["added_p99_ms"],
        "postgres": "throwaway cluster, fsync off (pgserver.py)",
    }


def run(quick: bool) -> dict[str, Any]:
    """The suite's figures, or ``{"error": ...}`` when a part is missing here."""
    from ocppkit.toolkit.gateway.state.pgserver import find_bindir

    missing = [
        what
        for what, ok in (
            ("PostgreSQL server binaries", find_bindir() is not None),
            ("haproxy", shutil.which("haproxy") is not None),
            ("psycopg (pip install 'ocppkit[ha]')", _has_psycopg()),
        )
        if not ok
    ]
    if missing:
        return {"error": "needs " + ", ".join(missing)}
    return asyncio.run(_bench(quick))


def _has_psycopg() -> bool:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":  # pragma: no cover - a manual run
    print(orjson.dumps(run("--quick" in sys.argv), option=orjson.OPT_INDENT_2).decode())
    os._exit(0)
