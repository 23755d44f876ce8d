"""The version-neutral charger engine: plays a :class:`ChargerPlan` on the simulated clock.

One task per charger walks the plan's steps in time order (plug-in, authorise, start,
samples, suspend, stop, unplug, faults, reboots, drops); between steps it waits on the
simulated clock (:class:`~.station.Station` sends Heartbeats and runs what the CSMS asked
for meanwhile). A step checks the session is still the one planned: the CSMS may have
stopped it early (remote stop, reset, refused card), and then the rest of its steps only
unplug the EV.

Subclasses (:mod:`.charger16`, :mod:`.charger201`) build the payloads and answer commands.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from ocppkit.toolkit.simulator.model import (
    DropPlan,
    FaultPlan,
    MeterSample,
    RebootPlan,
    SessionPlan,
    StopReason,
)
from ocppkit.toolkit.simulator.state import Connector, Live
from ocppkit.toolkit.simulator.station import Station
from ocppkit.toolkit.simulator.truth import ChargerTruth, SessionTruth

Step = tuple[datetime, int, Callable[[datetime], Awaitable[None]]]


class Charger(Station):
    """Base engine; subclasses set ``version`` and implement the ``on_*`` hooks."""

    # -- the main loop -------------------------------------------------------------------

    async def run(self) -> ChargerTruth:
        """Play the plan to the end of the period, then drain the queue and disconnect."""
        try:
            await self._try_online()
            for at, _, action in self._steps():
                await self._wait_until(at)
                await action(at)
            await self._wait_until(self.end)
            await self._drain()
            if self.connect_failure is not None:
                # A wrong URL must not look only like calls never acknowledged.
                self.record.errors.append(f"{self.connect_failure} (still failing at the end)")
        finally:
            await self.link.close()
        return self.truth()

    def _steps(self) -> list[Step]:
        """The plan as (time, priority, action) in time order; ties: back online first."""
        steps: list[Step] = []
        for s in self.plan.sessions:
            steps += [
                (s.plug_in, 2, partial(self._plug, s)),
                (s.authorized, 2, partial(self._authorize, s)),
                (s.start, 2, partial(self._start, s)),
                (s.stop, 3, partial(self._stop, s)),
                (s.unplug, 4, partial(self._unplug, s)),
            ]
            steps += [(m.at, 2, partial(self._sample, s, m)) for m in s.samples]
            if s.charging_end < s.stop:
                steps.append((s.charging_end, 2, partial(self._suspend, s)))
        for f in self.plan.faults:
            steps += [(f.start, 2, partial(self._fault, f)), (f.end, 2, partial(self._recover, f))]
        for r in self.plan.reboots:
            steps += [(r.at, 5, partial(self._planned_reboot, r)), (r.back, 1, self._back)]
        for d in self.plan.drops:
            steps += [(d.at, 5, partial(self._drop, d)), (d.back, 1, self._back)]
        steps.sort(key=lambda step: (step[0], step[1]))
        return steps

    async def _back(self, at: datetime) -> None:
        await self._try_online()

    # -- plan steps shared by both versions ----------------------------------------------

    def live_of(self, s: SessionPlan) -> Live | None:
        live = self.connectors[s.connector_id].live
        return live if live is not None and live.plan is s else None

    def meter_at(self, live: Live, at: datetime) -> int:
        """The energy register at ``at`` during ``live`` (last sample at or before it)."""
        s = live.plan
        if not live.energised:
            return live.meter_start
        if at >= s.charging_end:
            return s.meter_stop_wh
        value = s.meter_start_wh
        for m in s.samples:
            if m.at > at:
                break
            value = m.energy_wh
        return value

    async def _plug(self, s: SessionPlan, at: datetime) -> None:
        live = Live(plan=s, id_tag=s.id_tag, meter_start=s.meter_start_wh)
        self.connectors[s.connector_id].live = live
        self.record.lives.append(live)
        await self.on_plug(self.connectors[s.connector_id], live, at)

    async def _authorize(self, s: SessionPlan, at: datetime) -> None:
        live = self.live_of(s)
        if live is not None and not live.authorized:
            await self.on_authorize(self.connectors[s.connector_id], live, at)

    async def _start(self, s: SessionPlan, at: datetime) -> None:
        live = self.live_of(s)
        if live is not None and live.authorized and live.accepted and not live.energised:
            await self.on_start(self.connectors[s.connector_id], live, at)

    async def _sample(self, s: SessionPlan, m: MeterSample, at: datetime) -> None:
        live = self.live_of(s)
        if live is not None and live.active and live.energised:
            await self.on_sample(self.connectors[s.connector_id], live, m)

    async def _suspend(self, s: SessionPlan, at: datetime) -> None:
        live = self.live_of(s)
        if live is not None and live.active and live.energised:
            await self.on_suspend(self.connectors[s.connector_id], live, at)

    async def _stop(self, s: SessionPlan, at: datetime) -> None:
        live = self.live_of(s)
        if live is not None and live.active:
            await self.stop(self.connectors[s.connector_id], live, at, s.stop_reason)

    async def _unplug(self, s: SessionPlan, at: datetime) -> None:
        c = self.connectors[s.connector_id]
        live = self.live_of(s)
        if live is not None:
            await self.on_unplug(c, live, at)
            c.live = None

    async def stop_now(self, c: Connector, live: Live, reason: StopReason) -> None:
        """Stop ``live`` at the current simulated time (a CSMS command, a refused card)."""
        await self.stop(c, live, self.now(), reason)

    async def stop(self, c: Connector, live: Live, at: datetime, reason: StopReason) -> None:
        if not live.active:
            return  # a command raced the plan (or another command): stopped once only
        live.stopped_at, live.meter_stop = at, self.meter_at(live, at)
        await self.on_stop(c, live, at, reason)

    async def _fault(self, f: FaultPlan, at: datetime) -> None:
        c = self.connectors[f.connector_id]
        c.fault = f
        self.record.faults.append((f.connector_id, f.error_code, f.start, f.end))
        await self.on_fault(c, f, at)

    async def _recover(self, f: FaultPlan, at: datetime) -> None:
        c = self.connectors[f.connector_id]
        if c.fault is f:
            c.fault = None
            await self.on_recover(c, f, at)

    async def _drop(self, d: DropPlan, at: datetime) -> None:
        self.record.planned_drops += 1
        self.blocked_until = d.back
        await self.link.close()

    async def _planned_reboot(self, r: RebootPlan, at: datetime) -> None:
        await self._reboot(r.reason, at, r)

    async def _reboot(
        self,
        reason: str,
        at: datetime,
        r: RebootPlan | None = None,
        stop_reason: StopReason = StopReason.REBOOT,
    ) -> None:
        """Restart: transactions end, the link closes, BootNotification once back."""
        for c in self.connectors.values():
            if c.live is not None and c.live.active:
                await self.stop(c, c.live, at, stop_reason)
        self.record.reboots.append((at, reason))
        self.boot_reason, self.need_boot = reason, True
        self.blocked_until = r.back if r is not None else at + timedelta(seconds=30)
        await self.link.close()

    # -- hooks ---------------------------------------------------------------------------

    async def on_plug(self, c: Connector, live: Live, at: datetime) -> None: ...
    async def on_authorize(self, c: Connector, live: Live, at: datetime) -> None: ...
    async def on_start(self, c: Connector, live: Live, at: datetime) -> None: ...
    async def on_sample(self, c: Connector, live: Live, m: MeterSample) -> None: ...
    async def on_suspend(self, c: Connector, live: Live, at: datetime) -> None: ...
    async def on_unplug(self, c: Connector, live: Live, at: datetime) -> None: ...
    async def on_fault(self, c: Connector, f: FaultPlan, at: datetime) -> None: ...
    async def on_recover(self, c: Connector, f: FaultPlan, at: datetime) -> None: ...

    @abstractmethod
    async def on_stop(self, c: Connector, live: Live, at: datetime, reason: StopReason) -> None:
        """End the transaction the version's way (StopTransaction / TransactionEvent Ended)."""

    # -- truth ---------------------------------------------------------------------------

    def truth(self) -> ChargerTruth:
        stats = self.link.stats
        return ChargerTruth(
            charge_point_id=self.spec.charge_point_id,
            ocpp_version=self.version,
            faults=tuple(self.record.faults),
            reboots=tuple(self.record.reboots),
            planned_drops=self.record.planned_drops,
            unplanned_drops=self.record.unplanned_drops,
            connects=stats.connects,
            sent=dict(stats.sent),
            answered=dict(stats.answered),
            csms_violations=stats.csms_violations,
            errors=tuple(self.record.errors + stats.bugs),
        )

    def sessions(self) -> list[SessionTruth]:
        """Transactions that started (plug-ins that never started one are not sessions)."""
        out = []
        for live in self.record.lives:
            if live.started_at is None:
                continue
            out.append(
                SessionTruth(
                    charge_point_id=self.spec.charge_point_id,
                    ocpp_version=self.version,
                    connector_id=live.plan.connector_id,
                    transaction_id=live.tx_id,
                    id_tag=live.id_tag,
                    start_mode=live.start_mode,
                    started_at=live.started_at,
                    stopped_at=live.stopped_at or self.end,
                    meter_start_wh=live.meter_start,
                    meter_stop_wh=live.meter_stop
                    if live.meter_stop is not None
                    else live.meter_start,
                    stop_reason=live.stop_reason,
                    delivered=live.undelivered == 0 and live.stopped_at is not None,
                    id_tag_accepted=live.accepted,
                )
            )
        return out
