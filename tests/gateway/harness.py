"""Real peers for the gateway tests: the bridge as a process, a 1.6J charger on
the independent ``ocpp`` package over the ``websockets`` client, and oracles.

Everything listens on 127.0.0.1 only and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import websockets
import websockets.exceptions
from ocpp.messages import Call as LibCall
from ocpp.messages import CallResult as LibCallResult
from ocpp.messages import _validate_payload
from ocpp.routing import on
from ocpp.v16 import ChargePoint
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as call_result16
from ocpp.v16.enums import Action

from ocppkit.toolkit.textio import iter_lines
from ocppkit.translators.journal import decode_record

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"event=bridge_listening .*? port=(\d+)")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BridgeProcess:
    """``python -m ocppkit.toolkit.gateway`` as a child process (SIGKILL-able)."""

    def __init__(
        self,
        upstream: str,
        state: Path,
        journal: Path,
        *flags: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = env or {}
        self.args = [
            "--upstream", upstream, "--state", str(state), "--journal", str(journal),
            "--call-timeout", "5", "--upstream-grace", "1", *flags,
        ]  # fmt: skip
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def start(self, timeout: float = 20.0) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), **self.env}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ocppkit.toolkit.gateway", "--listen", f"127.0.0.1:{self.port}",
            *self.args, stderr=asyncio.subprocess.PIPE, env=env, cwd=REPO,
        )  # fmt: skip
        assert self.proc.stderr is not None
        stream = self.proc.stderr

        async def until_listening() -> None:
            while True:
                line = (await stream.readline()).decode()
                if not line:
                    raise RuntimeError("bridge exited:\n" + "".join(self.lines[-30:]))
                self.lines.append(line)
                m = LISTENING.search(line)
                if m:
                    self.port = int(m.group(1))
                    return

        await asyncio.wait_for(until_listening(), timeout)

        async def keep_reading() -> None:
            while line := await stream.readline():
                self.lines.append(line.decode())

        self._reader = asyncio.create_task(keep_reading())

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no cleanup, no flush beyond what was committed

    async def terminate(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout)
        return code

    async def wait_killed(self) -> None:
        assert self.proc is not None
        await asyncio.wait_for(self.proc.wait(), 10)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)

    def log_text(self) -> str:
        return "".join(self.lines)


@dataclass
class ChargerBehaviour:
    """What the test charger answers to CSMS commands, and what it saw."""

    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    config: dict[str, str] = field(
        default_factory=lambda: {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"}
    )


class Charger(ChargePoint):
    """An OCPP 1.6J charge point on the mobilityhouse ``ocpp`` package."""

    def __init__(self, cp_id: str, connection: Any, behaviour: ChargerBehaviour) -> None:
        super().__init__(cp_id, connection, response_timeout=15)
        self.behaviour = behaviour

    def _saw(self, action: str, **kwargs: Any) -> None:
        self.behaviour.received.append((action, kwargs))

    @on(Action.remote_start_transaction)
    def on_remote_start(self, **kw: Any) -> Any:
        self._saw("RemoteStartTransaction", **kw)
        return call_result16.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, **kw: Any) -> Any:
        self._saw("RemoteStopTransaction", **kw)
        return call_result16.RemoteStopTransaction(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, **kw: Any) -> Any:
        self._saw("GetConfiguration", **kw)
        keys = kw.get("key") or list(self.behaviour.config)
        known = [k for k in keys if k in self.behaviour.config]
        return call_result16.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": self.behaviour.config[k]} for k in known
            ],
            unknown_key=[k for k in keys if k not in self.behaviour.config] or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **kw: Any) -> Any:
        self._saw("ChangeConfiguration", key=key, value=value)
        known = key in self.behaviour.config
        if known:
            self.behaviour.config[key] = value
        return call_result16.ChangeConfiguration(status="Accepted" if known else "NotSupported")

    @on(Action.reset)
    def on_reset(self, **kw: Any) -> Any:
        self._saw("Reset", **kw)
        return call_result16.Reset(status="Accepted")

    @on(Action.trigger_message)
    def on_trigger(self, **kw: Any) -> Any:
        self._saw("TriggerMessage", **kw)
        return call_result16.TriggerMessage(status="Accepted")

    @on(Action.set_charging_profile)
    def on_set_profile(self, **kw: Any) -> Any:
        self._saw("SetChargingProfile", **kw)
        return call_result16.SetChargingProfile(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(self, **kw: Any) -> Any:
        self._saw("ChangeAvailability", **kw)
        return call_result16.ChangeAvailability(status="Accepted")

    # -- the messages a real charger sends ------------------------------------------

    async def boot(self) -> Any:
        return await self.call(
            call16.BootNotification(charge_point_model="Wallbox-1", charge_point_vendor="Acme")
        )

    async def status(self, connector: int, status: str) -> Any:
        return await self.call(
            call16.StatusNotification(connector_id=connector, error_code="NoError", status=status,
                                      timestamp=now())
        )  # fmt: skip

    async def meter(self, connector: int, tx: int | None, wh: int) -> Any:
        sample = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh",
                  "context": "Sample.Periodic"}  # fmt: skip
        return await self.call(
            call16.MeterValues(connector_id=connector, transaction_id=tx,
                               meter_value=[{"timestamp": now(), "sampledValue": [sample]}])
        )  # fmt: skip


@contextlib.asynccontextmanager
async def connected(
    url: str,
    cp_id: str,
    behaviour: ChargerBehaviour | None = None,
    *,
    attempts: int = 40,
) -> AsyncIterator[Charger]:
    """A charger connected to ``url/cp_id``, retrying refused handshakes like a real one."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            ws = await websockets.connect(f"{url}/{cp_id}", subprotocols=["ocpp1.6"],
                                          open_timeout=10, ping_interval=None)  # fmt: skip
            break
        except (OSError, websockets.exceptions.InvalidStatus, TimeoutError) as exc:
            last = exc
            await asyncio.sleep(0.25)
    else:
        raise AssertionError(f"charger could not connect: {last!r}")
    charger = Charger(cp_id, ws, behaviour or ChargerBehaviour())
    reader = asyncio.create_task(charger.start())
    try:
        yield charger
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
        await ws.close()


async def retry(coro_fn: Any, *, attempts: int = 60, pause: float = 0.25) -> Any:
    """Send a transaction message until it is answered, as a 1.6 charger queues them
    across disconnections (1.6 §4.7)."""
    last: BaseException | None = None
    for _ in range(attempts):
        try:
            return await coro_fn()
        except (websockets.exceptions.ConnectionClosed, TimeoutError, OSError,
                AssertionError) as exc:  # fmt: skip
            last = exc
            await asyncio.sleep(pause)
    raise AssertionError(f"never answered: {last!r}")


def journal_records(directory: Path) -> list[Any]:
    out = []
    for path in sorted(directory.glob("journal-*.jsonl*")):
        for _, line in iter_lines(str(path)):
            out.append(decode_record(line))
    return out


def lib_violations(records: list[Any], version: str) -> list[str]:
    """Second oracle: the ``ocpp`` package's own schema check on journaled frames."""
    found = []
    actions: dict[str, str] = {}
    for rec in records:
        msg = rec.message
        if not isinstance(msg, list) or rec.ocpp_version.value != version:
            continue
        try:
            if msg[0] == 2:
                actions[msg[1]] = msg[2]
                _validate_payload(LibCall(msg[1], msg[2], msg[3]), version)
            elif msg[0] == 3 and msg[1] in actions:
                _validate_payload(LibCallResult(msg[1], msg[2], action=actions[msg[1]]), version)
        except Exception as exc:
            found.append(f"{orjson.dumps(msg).decode()[:200]}: {exc}")
    return found


SEND_TIMEOUT = 6.0  # above the bridges' --call-timeout 5 in the kill tests


class ResendingLink:
    """A 1.6 charger's connection that is opened again whenever it drops, and a
    :meth:`send` that repeats the same request until it is answered, as a
    charger does after its CSMS (or the bridge in front of it) went away.

    ``url`` is read at each reconnect; ``on_send`` runs once the request is on
    the wire (a kill test may strike from then on); ``on_resend`` counts each
    attempt that was not answered.
    """

    def __init__(
        self,
        url: Callable[[], str],
        cp_id: str,
        *,
        rounds: int,
        on_send: Callable[[], None] = lambda: None,
        on_resend: Callable[[], None] = lambda: None,
    ) -> None:
        self.url, self.cp_id, self.rounds = url, cp_id, rounds
        self.on_send, self.on_resend = on_send, on_resend
        self.stack: contextlib.AsyncExitStack | None = None
        self.ch: Any = None

    async def open(self) -> Any:
        if self.ch is None or self.ch._connection.close_code is not None:
            await self.close()
            self.stack = contextlib.AsyncExitStack()
            self.ch = await self.stack.enter_async_context(
                connected(self.url(), self.cp_id, attempts=120)
            )
        return self.ch

    async def close(self) -> None:
        if self.stack is not None:
            with contextlib.suppress(Exception):
                await self.stack.aclose()
        self.stack, self.ch = None, None

    async def send(self, message: Any) -> Any:
        """Send until answered; the same request (same timestamp) every time."""
        for _ in range(self.rounds):
            try:
                ch = await self.open()
                answer = asyncio.ensure_future(ch.call(message))
                self.on_send()
                closed = asyncio.ensure_future(ch._connection.wait_closed())
                done, _ = await asyncio.wait({answer, closed}, timeout=SEND_TIMEOUT,
                                             return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                closed.cancel()
                if answer in done:
                    return answer.result()
                answer.cancel()
                raise TimeoutError("no answer" if not done else "connection lost")
            # InvalidHandshake: the bridge was killed during the opening handshake.
            except (websockets.exceptions.ConnectionClosed, websockets.exceptions.InvalidHandshake,
                    TimeoutError, OSError, AssertionError) as exc:  # fmt: skip
                self.on_resend()
                await self.close()
                if isinstance(exc, AssertionError) and "could not connect" not in str(exc):
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError(f"{self.cp_id}: never answered: {message!r}")


def meter(tx: int, wh: int) -> call16.MeterValues:
    """A periodic 1.6 MeterValues with one energy register reading, stamped now."""
    sample = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh",
              "context": "Sample.Periodic"}  # fmt: skip
    return call16.MeterValues(
        connector_id=1,
        transaction_id=tx,
        meter_value=[{"timestamp": now(), "sampledValue": [sample]}],
    )
