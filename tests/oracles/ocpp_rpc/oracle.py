"""A second, independent strict CSMS for end-to-end tests: ``ocpp-rpc`` (npm) in strictMode.

ocppkit checks its own frames with :class:`ocppkit.translators.validation.Validator`; a bug shared
by that validator and the code it checks would go unseen. This oracle validates every frame
with a different implementation (ocpp-rpc's bundled official schemas, checked by ajv) in a
different runtime (Node), so the two checks can only agree by both being right.

:func:`ensure_installed` runs ``npm ci`` into ``node_modules/`` beside this file the first
time (bounded, under a file lock for parallel test workers); :class:`OcppRpcOracle` runs
``csms.js`` as a child process and collects its event stream (one JSON object per line, see
the header of ``csms.js``). A strict-mode failure is never silent: ocpp-rpc's
``strictValidationFailure`` and ``badMessage`` events, a refused handshake and an unexpected
exit of the process all land in :attr:`OcppRpcOracle.violations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODE_MIN_MAJOR = 18  # ocpp-rpc 2.x needs timers/promises with AbortSignal
NPM_TIMEOUT = 120.0
# Event kinds that mean "a frame broke the protocol" (or the oracle could not judge).
VIOLATION_EVENTS = frozenset({"violation", "bad_message", "refused", "fatal", "exited"})

Event = dict[str, Any]


class OracleUnavailable(Exception):
    """Node, npm or the npm packages are missing and cannot be installed: skip, not fail."""


class OracleCallError(Exception):
    """A command sent by the oracle got a CALLERROR, a timeout or an invalid answer."""

    def __init__(self, answer: Event) -> None:
        self.code: str = answer["error"].get("code", "")
        self.details: Any = answer["error"].get("details")
        super().__init__(f"{answer.get('action')}: {self.code}: {answer['error'].get('message')}")


def _installed() -> bool:
    """True when node_modules holds exactly the locked ocpp-rpc."""
    try:
        lock = json.loads((HERE / "package-lock.json").read_text(encoding="utf-8"))
        have = json.loads(
            (HERE / "node_modules" / "ocpp-rpc" / "package.json").read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return False
    return bool(have.get("version") == lock["packages"]["node_modules/ocpp-rpc"]["version"])


def ensure_installed(timeout: float = NPM_TIMEOUT) -> str:
    """Find Node and install the locked npm packages if needed.

    Args:
        timeout: upper bound for ``npm ci`` in seconds.

    Returns:
        the path of the ``node`` executable.

    Raises:
        OracleUnavailable: node or npm is missing or too old, or ``npm ci`` failed or timed
            out (e.g. offline with an empty npm cache).
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise OracleUnavailable("node and npm are needed for the ocpp-rpc oracle")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < NODE_MIN_MAJOR:
        raise OracleUnavailable(f"node {version} is older than {NODE_MIN_MAJOR}")
    if _installed():
        return node
    lock_path = Path(tempfile.gettempdir()) / "ocppkit-ocpp-rpc-npm-ci.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one npm ci at a time across test workers
        if _installed():
            return node
        cmd = [npm, "ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund",
               "--fetch-retries=1", "--fetch-timeout=30000"]  # fmt: skip
        try:
            done = subprocess.run(
                cmd, cwd=HERE, capture_output=True, text=True, timeout=timeout, check=False,
                env={**os.environ, "npm_config_update_notifier": "false"},
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise OracleUnavailable(f"npm ci took more than {timeout:.0f} s") from None
        if done.returncode != 0 or not _installed():
            said = [ln for ln in (done.stderr + done.stdout).splitlines()
                    if ln.strip() and not ln.startswith("npm warn")]  # fmt: skip
            raise OracleUnavailable("npm ci failed: " + " | ".join(said[:4]))
    return node


class OcppRpcOracle:
    """``csms.js`` as a child process: a strict ocpp-rpc CSMS on 127.0.0.1.

    Use as ``async with OcppRpcOracle() as oracle:``; stations connect to
    ``f"{oracle.url}/{station_id}"``.

    Args:
        protocols: subprotocols offered, in order of preference.
        call_timeout: seconds the oracle waits for a station to answer a command.
        answer_delay: seconds every answer is held (a slow CSMS, to expose stations that
            send a CALL before the previous one was answered).
    """

    def __init__(
        self,
        protocols: Iterable[str] = ("ocpp2.0.1",),
        *,
        call_timeout: float = 15.0,
        answer_delay: float = 0.0,
    ) -> None:
        self.protocols = tuple(protocols)
        self.call_timeout = call_timeout
        self.answer_delay = answer_delay
        self.port = 0
        self.events: list[Event] = []
        self.stderr: list[str] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._answers: dict[int, asyncio.Future[Event]] = {}
        self._next_id = 0
        self._changed = asyncio.Event()
        self._stopping = False

    # -- what was seen -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def violations(self) -> list[Event]:
        """Every schema failure, malformed frame, refused handshake or crash, in order."""
        return [e for e in self.events if e["event"] in VIOLATION_EVENTS]

    @property
    def calls(self) -> list[Event]:
        """Every CALL the stations sent: ``station``, ``action``, ``params``, ``messageId``,
        and ``outstanding``, the station's CALLs not yet answered when it arrived (OCPP-J
        4.1.1 wants 0)."""
        return [e for e in self.events if e["event"] == "call"]

    def of(self, kind: str) -> list[Event]:
        """The events of one kind (``connect``, ``disconnect``, ``unhandled``, ...)."""
        return [e for e in self.events if e["event"] == kind]

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The first event (past or future) matching ``predicate``; TimeoutError if none."""

        async def look() -> Event:
            while True:
                found = next((e for e in self.events if predicate(e)), None)
                if found is not None:
                    return found
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(look(), timeout)

    # -- commands ------------------------------------------------------------------------

    async def send(self, station: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CSMS-initiated CALL and return the station's (strictly valid) answer.

        Raises:
            OracleCallError: CALLERROR, timeout, station not connected, or an answer that
                failed strict validation (which is also in :attr:`violations`).
        """
        assert self._proc is not None and self._proc.stdin is not None, "oracle not started"
        self._next_id += 1
        ident = self._next_id
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._answers[ident] = future
        line = {"id": ident, "station": station, "action": action, "payload": payload}
        self._proc.stdin.write(json.dumps(line).encode() + b"\n")
        await self._proc.stdin.drain()
        answer = await asyncio.wait_for(future, self.call_timeout + 5)
        if "error" in answer:
            raise OracleCallError(answer)
        result: dict[str, Any] = answer["result"]
        return result

    # -- life cycle ----------------------------------------------------------------------

    async def start(self, timeout: float = 20.0) -> None:
        """Install if needed (in a thread: npm ci may take a while), spawn, await the port.

        Raises:
            OracleUnavailable: see :func:`ensure_installed`.
            RuntimeError: the process exited before listening.
        """
        node = await asyncio.to_thread(ensure_installed)
        self._proc = await asyncio.create_subprocess_exec(
            node, str(HERE / "csms.js"), "--port", "0",
            "--protocols", ",".join(self.protocols), "--call-timeout", str(self.call_timeout),
            "--answer-delay", str(self.answer_delay),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=HERE,
        )  # fmt: skip
        self._tasks = [asyncio.create_task(self._read_events()),
                       asyncio.create_task(self._read_stderr())]  # fmt: skip
        try:
            first = await self.wait_for(lambda e: e["event"] in ("listening", "exited"), timeout)
        except TimeoutError:
            await self.stop()
            raise
        if first["event"] != "listening":
            raise RuntimeError("ocpp-rpc oracle exited:\n" + "".join(self.stderr[-20:]))
        self.port = int(first["port"])

    async def stop(self, timeout: float = 10.0) -> None:
        """Close stdin (the oracle closes every connection and exits), then reap it."""
        if self._proc is None:
            return
        self._stopping = True
        if self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), timeout)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)

    async def __aenter__(self) -> OcppRpcOracle:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _read_events(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            try:
                event: Event = json.loads(line)
            except ValueError:
                event = {"event": "bad_output", "line": line.decode(errors="replace")}
            self._record(event)
            if event["event"] == "answer" and event.get("id") in self._answers:
                future = self._answers.pop(event["id"])
                if not future.done():
                    future.set_result(event)
        code = await self._proc.wait()
        if not self._stopping or code != 0:
            self._record({"event": "exited", "code": code, "stderr": self.stderr[-20:]})
        for future in self._answers.values():
            if not future.done():
                future.set_result({"event": "answer", "error": {"code": "OracleExited"}})

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while line := await self._proc.stderr.readline():
            self.stderr.append(line.decode(errors="replace"))

    def _record(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()
