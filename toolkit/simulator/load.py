"""Load mode: N chargers in steady state, each call's round trip timed (for ``ocppkit bench``).

Each charger connects, boots, reports its connector Available and starts one transaction;
once every charger is ready they all send a steady stream for ``duration`` seconds: nine
MeterValues (1.6) or TransactionEvent Updated (2.0.1) to one Heartbeat, one call at a time
each, spread evenly so the fleet as a whole sends ``rate`` calls per second. Only the
steady-state calls are timed. Frames are strictly validated before sending, as in the fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ocppkit.toolkit.simulator.link import CallRejected, CallTimeout, Link, LinkDown, not_supported
from ocppkit.toolkit.simulator.model import iso
from ocppkit.translators.errors import FrameError
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion

HEARTBEAT_EVERY = 10  # one call in ten is a Heartbeat
_POWER_W = 11_000


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Outcome of :func:`run_load`.

    Attributes:
        latencies: wall seconds from send to answer, one per timed call.
        sent: timed calls sent.
        errors: timed calls without a CALLRESULT (timeouts, CALLERRORs, drops), plus
            chargers that could not connect or set up.
        connected: chargers that reached the steady state.
        wall_seconds: length of the steady-state phase.
    """

    latencies: tuple[float, ...]
    sent: int
    errors: int
    connected: int
    wall_seconds: float

    @property
    def rate(self) -> float:
        """Answered calls per wall second in the steady state."""
        return len(self.latencies) / self.wall_seconds if self.wall_seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in seconds (``q`` in 0..100); 0.0 when nothing was timed."""
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        cuts = statistics.quantiles(self.latencies, n=1000, method="inclusive")
        return cuts[min(len(cuts) - 1, max(0, round(q * 10) - 1))]


async def run_load(
    url: str,
    n: int,
    rate: float,
    duration: float,
    version: OcppVersion | str = OcppVersion.V16,
    *,
    prefix: str = "LOAD",
    timeout: float = 10.0,
    connect_concurrency: int = 64,
) -> LoadResult:
    """Drive ``n`` chargers at ``rate`` calls per second in total for ``duration`` seconds.

    Args:
        url: CSMS base URL; charger ``<prefix>00001`` connects to ``{url}/<prefix>00001``.
        n: number of chargers (WebSocket connections).
        rate: calls per second summed over the fleet (each charger sends ``rate / n``).
        duration: seconds of steady state to measure.
        version: 1.6 or 2.0.1.
        prefix: charger id prefix.
        timeout: seconds to wait for a connection or an answer.
        connect_concurrency: connections opened at once while ramping up.

    Returns:
        per-call latencies, calls sent and errors.
    """
    version = OcppVersion.parse(version) if isinstance(version, str) else version
    if version not in (OcppVersion.V16, OcppVersion.V201) or n < 1 or rate <= 0:
        raise ValueError("load needs a JSON version, n >= 1 and a positive rate")
    validator = Validator(ValidationMode.STRICT)
    gate = asyncio.Semaphore(connect_concurrency)
    ready, go = asyncio.Barrier(n + 1), asyncio.Event()
    interval = n / rate
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        bots = [
            _Bot(http, f"{url.rstrip('/')}/{prefix}{i:05d}", version, validator, timeout)
            for i in range(1, n + 1)
        ]
        tasks = [
            asyncio.create_task(b.run(gate, ready, go, interval, i / n, duration))
            for i, b in enumerate(bots)
        ]
        await ready.wait()
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        wall = min(time.perf_counter() - started, duration)
    timed = [lat for b in bots for lat in b.link.stats.latencies]
    return LoadResult(
        latencies=tuple(timed),
        sent=sum(b.sent for b in bots),
        errors=sum(b.errors for b in bots) + sum(not b.ok for b in bots),
        connected=sum(b.ok for b in bots),
        wall_seconds=wall,
    )


class _Bot:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        version: OcppVersion,
        validator: Validator,
        timeout: float,
    ) -> None:
        self.version = version
        self.link = Link(http, url, version, validator, self._refuse, timeout=timeout)
        self.ok, self.sent, self.errors, self._ids = False, 0, 0, 0
        self.tx: Any = None
        self.register, self.seq = 1_000_000, 0

    async def _refuse(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        raise not_supported(action)  # a load bot answers no command

    async def _call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._ids += 1
        return await self.link.call(self.link.new_call(str(self._ids), action, payload))

    async def run(
        self,
        gate: asyncio.Semaphore,
        ready: asyncio.Barrier,
        go: asyncio.Event,
        interval: float,
        phase: float,
        duration: float,
    ) -> None:
        try:
            async with gate:
                await self._setup()
            self.ok = True
        except (LinkDown, CallTimeout, CallRejected, FrameError, KeyError):
            pass
        await ready.wait()
        await go.wait()
        if not self.ok:
            return
        self.link.record_latency = True
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline, k = start + duration, 0
        try:
            while True:
                slot = start + (phase + k) * interval
                if slot >= deadline:
                    return
                await asyncio.sleep(max(0.0, slot - loop.time()))
                k += 1
                self.sent += 1
                try:
                    await self._steady(k)
                except (CallTimeout, CallRejected):
                    self.errors += 1
                except LinkDown:
                    self.errors += 1
                    return
                # A slow answer skips the slots it overran (closed loop, no bursts).
                k = max(k, int((loop.time() - start) / interval - phase) + 1)
        finally:
            with contextlib.suppress(Exception):
                await self.link.close()

    async def _setup(self) -> None:
        await self.link.connect()
        now = iso(datetime.now(UTC))
        if self.version is OcppVersion.V16:
            await self._call(
                "BootNotification", {"chargePointVendor": "ocppkit", "chargePointModel": "load"}
            )
            await self._call(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            )
            answer = await self._call(
                "StartTransaction",
                {"connectorId": 1, "idTag": "LOAD", "meterStart": self.register, "timestamp": now},
            )
            self.tx = answer["transactionId"]
        else:
            await self._call(
                "BootNotification",
                {
                    "reason": "PowerUp",
                    "chargingStation": {"vendorName": "ocppkit", "model": "load"},
                },
            )
            await self._call(
                "StatusNotification",
                {"timestamp": now, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
            )
            self.tx = self.link.url.rsplit("/", 1)[-1]
            await self._call("TransactionEvent", self._event("Started", "Authorized"))

    def _event(self, kind: str, trigger: str) -> dict[str, Any]:
        now = iso(datetime.now(UTC))
        self.seq += 1
        event: dict[str, Any] = {
            "eventType": kind,
            "timestamp": now,
            "triggerReason": trigger,
            "seqNo": self.seq - 1,
            "transactionInfo": {"transactionId": self.tx, "chargingState": "Charging"},
            "meterValue": [{"timestamp": now, "sampledValue": [
                {"value": self.register, "measurand": "Energy.Active.Import.Register"},
                {"value": _POWER_W, "measurand": "Power.Active.Import"}]}],
        }  # fmt: skip
        if kind == "Started":
            event["evse"] = {"id": 1, "connectorId": 1}
            event["idToken"] = {"idToken": "LOAD", "type": "Central"}
        return event

    async def _steady(self, k: int) -> None:
        if k % HEARTBEAT_EVERY == 0:
            await self._call("Heartbeat", {})
            return
        self.register += 3
        if self.version is OcppVersion.V201:
            await self._call("TransactionEvent", self._event("Updated", "MeterValuePeriodic"))
            return
        now = iso(datetime.now(UTC))
        await self._call("MeterValues", {"connectorId": 1, "transactionId": self.tx,
                         "meterValue": [{"timestamp": now, "sampledValue": [
                             {"value": str(self.register)},
                             {"value": str(_POWER_W), "measurand": "Power.Active.Import",
                              "unit": "W"}]}]})  # fmt: skip
