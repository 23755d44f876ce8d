"""A 2.0.1 station and a 1.6 CSMS wired through the reverse translator, in memory.

:class:`Bridge` feeds frames to :func:`from_charger` / :func:`from_csms` and
checks **every** frame the translator emits against the official schema of the
side it goes to (strict validation: unknown properties are errors too). It
knows which action each answer belongs to because it saw every call go by.

:class:`ScriptedCsms` and :class:`ScriptedStation` answer the calls the
translator sends, as a real peer would, so whole sessions can run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ocppkit.translators.context import Context, fixed_context
from ocppkit.translators.errors import ERROR_CODE_BY_WIRE
from ocppkit.translators.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    frame_from_list,
    frame_to_list,
)
from ocppkit.translators.outcome import Step
from ocppkit.translators.schemas import Kind
from ocppkit.translators.station201_csms16 import StationState, from_charger, from_csms
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion

V16 = OcppVersion.V16
V201 = OcppVersion.V201
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VALIDATOR = Validator(ValidationMode.STRICT)

_V16_CODES = {
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
    "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
    "TypeConstraintViolation", "GenericError",
}  # fmt: skip


def check_frame(frame: Frame, version: OcppVersion, action: str) -> None:
    """``frame`` is a valid ``version`` frame for ``action`` (strict schema)."""
    if isinstance(frame, Call):
        VALIDATOR.validate(version, frame.action, Kind.REQUEST, frame.payload)
    elif isinstance(frame, CallResult):
        VALIDATOR.validate(version, action, Kind.RESPONSE, frame.payload)
    else:
        assert len(frame.error_description) <= 255
        if version is V16:
            assert frame.error_code in _V16_CODES, frame.error_code
        else:
            assert frame.error_code in ERROR_CODE_BY_WIRE, frame.error_code
    # Every frame survives the wire: JSON and back to the same frame.
    again = frame_from_list(orjson.loads(orjson.dumps(frame_to_list(frame))), version)
    assert again == frame


@dataclass
class Bridge:
    """The translator between a 2.0.1 station and a 1.6 CSMS, every output checked."""

    state: StationState = field(default_factory=StationState)
    ctx: Context = field(default_factory=lambda: fixed_context(MOMENT, "bridge"))
    # message id -> action of calls each side sent (to know what answers answer)
    station_calls: dict[str, str] = field(default_factory=dict)
    csms_calls: dict[str, str] = field(default_factory=dict)
    # calls the translator sent to each side, id -> action
    sent_to_station: dict[str, str] = field(default_factory=dict)
    sent_to_csms: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    def _check(self, step: Step) -> Step:
        for frame in step.to_charger:
            if isinstance(frame, Call):
                self.sent_to_station[frame.message_id] = frame.action
                check_frame(frame, V201, frame.action)
            else:
                check_frame(frame, V201, self.station_calls[frame.message_id])
        for frame in step.to_csms:
            if isinstance(frame, Call):
                self.sent_to_csms[frame.message_id] = frame.action
                check_frame(frame, V16, frame.action)
            else:
                check_frame(frame, V16, self.csms_calls[frame.message_id])
        self.steps.append(step)
        return step

    def station(self, frame: Frame, *, check_input: bool = True) -> Step:
        """The station sends ``frame`` (checked valid 2.0.1 first, unless told not to)."""
        if isinstance(frame, Call):
            if check_input:
                VALIDATOR.validate(V201, frame.action, Kind.REQUEST, frame.payload)
            self.station_calls[frame.message_id] = frame.action
        return self._check(from_charger(self.state, frame, self.ctx))

    def csms(self, frame: Frame, *, check_input: bool = True) -> Step:
        """The CSMS sends ``frame`` (checked valid 1.6 first, unless told not to)."""
        if isinstance(frame, Call):
            if check_input:
                VALIDATOR.validate(V16, frame.action, Kind.REQUEST, frame.payload)
            self.csms_calls[frame.message_id] = frame.action
        return self._check(from_csms(self.state, frame, self.ctx))


Answer = Callable[[dict[str, Any]], dict[str, Any]]


def _empty(payload: dict[str, Any]) -> dict[str, Any]:
    return {}


class ScriptedCsms:
    """A 1.6 CSMS: hands out transaction ids from 1000, accepts every tag."""

    def __init__(self) -> None:
        self.ids = itertools.count(1000)
        self.received: list[Call] = []
        self.answers: dict[str, Answer] = {
            "BootNotification": lambda p: {
                "status": "Accepted",
                "currentTime": "2026-03-01T12:00:00Z",
                "interval": 300,
            },
            "Heartbeat": lambda p: {"currentTime": "2026-03-01T12:00:00Z"},
            "Authorize": lambda p: {"idTagInfo": {"status": "Accepted"}},
            "StartTransaction": lambda p: {
                "idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP"},
                "transactionId": next(self.ids),
            },
            "StopTransaction": lambda p: {"idTagInfo": {"status": "Accepted"}},
            "DataTransfer": lambda p: {"status": "Accepted", "data": "ok"},
            "SignCertificate": lambda p: {"status": "Accepted"},
        }

    def answer(self, call: Call) -> CallResult:
        self.received.append(call)
        return CallResult(call.message_id, self.answers.get(call.action, _empty)(call.payload))


class ScriptedStation:
    """A 2.0.1 station answering the CSMS commands the bridge sends down."""

    def __init__(self) -> None:
        self.received: list[Call] = []
        self.variables: dict[tuple[str, str], str] = {
            ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
            ("SmartChargingCtrlr", "RateUnit"): "A,W",
        }
        self.answers: dict[str, Answer] = {
            "GetVariables": self._get,
            "SetVariables": self._set,
            "GetLocalListVersion": lambda p: {"versionNumber": 3},
            "GetCompositeSchedule": lambda p: {
                "status": "Accepted",
                "schedule": {
                    "evseId": p["evseId"],
                    "duration": p["duration"],
                    "scheduleStart": "2026-03-01T12:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 15.96}],
                },
            },
            "UnlockConnector": lambda p: {"status": "Unlocked"},
            "GetLog": lambda p: {"status": "Accepted", "filename": "log.tgz"},
            "GetInstalledCertificateIds": lambda p: {"status": "NotFound"},
            "DataTransfer": lambda p: {"status": "Accepted"},
        }

    def _get(self, p: dict[str, Any]) -> dict[str, Any]:
        results = []
        for entry in p["getVariableData"]:
            key = (entry["component"]["name"], entry["variable"]["name"])
            result: dict[str, Any] = {
                "component": entry["component"],
                "variable": entry["variable"],
                "attributeStatus": "Accepted" if key in self.variables else "UnknownComponent",
            }
            if key in self.variables:
                result["attributeValue"] = self.variables[key]
            results.append(result)
        return {"getVariableResult": results}

    def _set(self, p: dict[str, Any]) -> dict[str, Any]:
        results = []
        for entry in p["setVariableData"]:
            key = (entry["component"]["name"], entry["variable"]["name"])
            known = key in self.variables
            if known:
                self.variables[key] = entry["attributeValue"]
            results.append(
                {
                    "component": entry["component"],
                    "variable": entry["variable"],
                    "attributeStatus": "Accepted" if known else "UnknownVariable",
                }
            )
        return {"setVariableResult": results}

    def answer(self, call: Call) -> CallResult:
        self.received.append(call)
        default: Answer = lambda p: {"status": "Accepted"}  # noqa: E731
        return CallResult(call.message_id, self.answers.get(call.action, default)(call.payload))


@dataclass
class Session:
    """Bridge + scripted peers: a frame in, every consequence played out."""

    bridge: Bridge = field(default_factory=Bridge)
    csms_peer: ScriptedCsms = field(default_factory=ScriptedCsms)
    station_peer: ScriptedStation = field(default_factory=ScriptedStation)
    to_station: list[Frame] = field(default_factory=list)  # what the station received
    to_csms: list[Frame] = field(default_factory=list)  # what the CSMS received

    def _run(self, step: Step) -> None:
        pending = [(True, f) for f in step.to_csms] + [(False, f) for f in step.to_charger]
        while pending:
            up, frame = pending.pop(0)
            (self.to_csms if up else self.to_station).append(frame)
            if not isinstance(frame, Call):
                continue
            if up:
                nxt = self.bridge.csms(self.csms_peer.answer(frame))
            else:
                nxt = self.bridge.station(self.station_peer.answer(frame))
            pending += [(True, f) for f in nxt.to_csms] + [(False, f) for f in nxt.to_charger]

    def station(self, call: Call) -> CallResult | CallError:
        """The station sends ``call``; returns the answer it gets."""
        self._run(self.bridge.station(call))
        return self.answer_for(self.to_station, call.message_id)

    def csms(self, call: Call) -> CallResult | CallError:
        """The CSMS sends ``call``; returns the answer it gets."""
        self._run(self.bridge.csms(call))
        return self.answer_for(self.to_csms, call.message_id)

    @staticmethod
    def answer_for(frames: list[Frame], message_id: str) -> CallResult | CallError:
        found = [f for f in frames if not isinstance(f, Call) and f.message_id == message_id]
        assert len(found) == 1, f"{len(found)} answers to {message_id}"
        answer = found[0]
        assert not isinstance(answer, Call)
        return answer
