"""`ocppkit bench`: ocppkit's speed, each figure against a baseline of the same run.

These machines are noisy, so no figure stands alone: every suite measures
ocppkit and a reference on the same input, in the same process, moments
apart, and reports the ratio. Suites live with the code they measure and are
registered in :data:`SUITES` (name -> module path of a ``run(quick) -> dict``);
each returns at least ``value``, ``unit``, ``baseline``, ``baseline_unit``,
``ratio`` and ``target``.
"""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import version
from typing import Any

import orjson

from ocppkit.translators.frames import Call, parse_frame, serialize_frame
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion

SUITES: dict[str, str] = {
    "validate": "ocppkit.toolkit.bench:run_validate",
    "translate": "ocppkit.toolkit.bench_translate:run",
    "bridge": "ocppkit.toolkit.gateway.bench:run",
    "scale": "ocppkit.toolkit.gateway.bench:run_scale",
    "failover": "ocppkit.toolkit.gateway.bench_failover:run",
    "ingest": "ocppkit.toolkit.ingest.bench:run",
    "report": "ocppkit.toolkit.analysis.bench:run",
}


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    libs = ", ".join(
        f"{name} {version(name)}"
        for name in ("ocpp", "fastjsonschema", "orjson", "pyarrow", "aiohttp")
    )
    return f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; {libs}"


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Items per second of ``fn`` (which returns how many items it did), over ~``seconds``."""
    fn()  # warm up: compile validators, fill caches
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += fn()
    return done / elapsed


def interleaved(
    fns: dict[str, Callable[[], int]], seconds: float, rounds: int = 5
) -> dict[str, float]:
    """Items per second of each of ``fns``, measured in ``rounds`` alternating slices.

    On a shared machine the load changes within a second; taking turns puts
    every contender under the same weather, so their ratios hold even when
    the absolute rates do not.
    """
    for fn in fns.values():
        fn()  # warm up
    done = dict.fromkeys(fns, 0)
    spent = dict.fromkeys(fns, 0.0)
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds / rounds:
                done[name] += fn()
            spent[name] += elapsed
    return {name: done[name] / spent[name] for name in fns}


def meter_values_frames(count: int) -> list[bytes]:
    """Realistic 1.6 MeterValues CALLs: a periodic sample of 6 measurands."""
    frames = []
    for i in range(count):
        stamp = f"2026-03-02T08:{i // 60 % 60:02d}:{i % 60:02d}.000Z"
        sampled = [
            {"value": str(125000 + i * 25), "measurand": "Energy.Active.Import.Register",
             "unit": "Wh", "context": "Sample.Periodic", "location": "Outlet"},
            {"value": "10.8", "measurand": "Power.Active.Import", "unit": "kW",
             "context": "Sample.Periodic"},
            *({"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": p,
               "context": "Sample.Periodic"} for p in ("L1", "L2", "L3")),
            {"value": "57", "measurand": "SoC", "unit": "Percent", "context": "Sample.Periodic",
             "location": "EV"},
        ]  # fmt: skip
        payload = {"connectorId": 1, "transactionId": 4711,
                   "meterValue": [{"timestamp": stamp, "sampledValue": sampled}]}  # fmt: skip
        frames.append(orjson.dumps([2, f"mv-{i}", "MeterValues", payload]))
    return frames


VALIDATE_TARGET_OCPP = 100.0  # x the ocpp package's validate_payload
VALIDATE_TARGET_PARSE = 0.75  # x bare orjson.loads of the same frames


def run_validate(quick: bool) -> dict[str, Any]:
    """1.6 MeterValues validation: ocppkit's compiled validator vs the ocpp package's,
    and vs the parse floor (``orjson.loads`` of the same frames), all in alternating slices."""
    from ocpp.messages import Call as OcppCall
    from ocpp.messages import _validate_payload, validate_payload

    seconds = 1.0 if quick else 3.0
    frames = meter_values_frames(200)
    calls = [parse_frame(f) for f in frames]
    assert all(isinstance(c, Call) for c in calls)
    payloads = [c.payload for c in calls if isinstance(c, Call)]
    validator = Validator()
    validate = validator.validate
    v16, request = OcppVersion.V16, Kind.REQUEST

    def ours() -> int:
        for p in payloads:
            validate(v16, "MeterValues", request, p)
        return len(payloads)

    def parse_floor() -> int:
        loads = orjson.loads
        for f in frames:
            loads(f)
        return len(frames)

    def theirs() -> int:
        for i, p in enumerate(payloads):
            # The library's synchronous path (no thread hop): the fastest it offers.
            _validate_payload(OcppCall(str(i), "MeterValues", p), "1.6")
        return len(payloads)

    def pipeline() -> int:
        for f in frames:
            frame = parse_frame(f)
            assert isinstance(frame, Call)
            validate(v16, frame.action, request, frame.payload)
            serialize_frame(frame)
        return len(frames)

    def theirs_public() -> int:
        # The library's public coroutine, as a charge point calls it (it hops
        # to a thread executor for every frame).
        async def all_frames() -> None:
            for i, p in enumerate(payloads):
                await validate_payload(OcppCall(str(i), "MeterValues", p), "1.6")

        asyncio.run(all_frames())
        return len(payloads)

    rates = interleaved(
        {"ours": ours, "orjson": parse_floor, "ocpp": theirs_public, "ocpp_sync": theirs},
        seconds * 3,
    )
    value, baseline, floor = rates["ours"], rates["ocpp"], rates["orjson"]
    full = rate(pipeline, seconds)
    ratio, ratio_floor = value / baseline, value / floor
    return {
        "value": round(value),
        "unit": "frames/s",
        "baseline": round(baseline),
        "baseline_unit": "frames/s (ocpp package validate_payload, same frames)",
        "ratio": round(ratio, 1),
        "target": f">= {VALIDATE_TARGET_OCPP:g}x the ocpp package and "
        f">= {VALIDATE_TARGET_PARSE}x bare orjson.loads of the same frames",
        "met": ratio >= VALIDATE_TARGET_OCPP and ratio_floor >= VALIDATE_TARGET_PARSE,
        "baseline_orjson": round(floor),
        "baseline_orjson_unit": "frames/s (orjson.loads of the same frames, nothing else)",
        "ratio_orjson": round(ratio_floor, 2),
        "met_orjson": ratio_floor >= VALIDATE_TARGET_PARSE,
        "met_ocpp": ratio >= VALIDATE_TARGET_OCPP,
        "baseline_sync": round(rates["ocpp_sync"]),
        "ratio_sync": round(value / rates["ocpp_sync"], 1),
        "parse_validate_serialise": round(full),
        "parse_validate_serialise_target": ">= 100,000 frames/s on one core",
    }


def run_suites(names: list[str], quick: bool) -> dict[str, Any]:
    """Run the named suites; a suite whose code has not landed is reported as such."""
    results: dict[str, Any] = {"machine": machine_line(), "quick": quick}
    for name in names:
        module, _, attr = SUITES[name].partition(":")
        try:
            fn = getattr(import_module(module), attr)
        except ModuleNotFoundError as exc:
            results[name] = {"error": f"suite not available: {exc.name} is not installed/built"}
            continue
        results[name] = fn(quick)
    return results
