"""The built-in CSMS's admin API: send any 2.0.1 CSMS command to a connected station.

A conformance suite (or an operator at a terminal) drives the CSMS side
through this small HTTP API on its own port, protected by a bearer token::

    POST /v1/stations/{stationId}/calls/{action}   body: the 2.0.1 request payload
    GET  /v1/stations                              connected and known stations
    GET  /openapi.json                             this API, described (OpenAPI 3.1)

A call waits for the station's answer and returns it:

======  ===========================================================
status  meaning
======  ===========================================================
200     ``{"payload": {...}}``: the station's CALLRESULT
400     the body is not JSON, the action is not a CSMS -> station
        2.0.1 action, or the payload fails the official schema
401     no ``Authorization: Bearer <token>``, or a wrong one
404     the station is not connected
502     ``{"errorCode", "errorDescription"}``: the station's CALLERROR,
        or an answer that broke the response schema
504     no answer within ``?timeout=`` seconds (default: the CSMS's)
======  ===========================================================

Every request and answer is validated like every other frame the CSMS sends
and receives; nothing is sent when the request is invalid.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from ocppkit.toolkit.csms.auth import bearer_ok
from ocppkit.toolkit.csms.http_app import HttpApp
from ocppkit.toolkit.csms.server import CallRejected, Csms, CsmsError
from ocppkit.translators.charger16_csms201.commands import CSMS_TO_STATION
from ocppkit.translators.errors import FrameError, ValidationFailed
from ocppkit.translators.schemas import Kind
from ocppkit.translators.versions import OcppVersion

V201 = OcppVersion.V201

MAX_TIMEOUT = 300.0
ACTIONS = sorted(CSMS_TO_STATION)


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _error(status: int, text: str) -> web.Response:
    return _json(status, {"error": text})


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the admin API."""
    error = {"type": "object", "properties": {"error": {"type": "string"}}}
    call_error = {
        "type": "object",
        "properties": {"errorCode": {"type": "string"}, "errorDescription": {"type": "string"}},
    }

    answered = {"type": "object", "properties": {"payload": {"type": "object"}}}

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": schema}}}

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ocppkit csms admin API",
            "version": "1",
            "description": "Send OCPP 2.0.1 CSMS commands to connected stations.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/stations": {
                "get": {
                    "summary": "Stations the CSMS knows, and whether each is connected",
                    "responses": {
                        "200": {
                            "description": "the stations",
                            **body(
                                {
                                    "type": "object",
                                    "properties": {
                                        "stations": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "id": {"type": "string"},
                                                    "connected": {"type": "boolean"},
                                                },
                                            },
                                        }
                                    },
                                }
                            ),
                        },
                        "401": {"description": "missing or wrong token", **body(error)},
                    },
                }
            },
            "/v1/stations/{stationId}/calls/{action}": {
                "post": {
                    "summary": "Send a 2.0.1 CSMS command and return the station's answer",
                    "parameters": [
                        {"name": "stationId", "in": "path", "required": True,
                         "schema": {"type": "string"}},
                        {"name": "action", "in": "path", "required": True,
                         "schema": {"type": "string", "enum": ACTIONS}},
                        {"name": "timeout", "in": "query", "required": False,
                         "schema": {"type": "number", "exclusiveMinimum": 0,
                                    "maximum": MAX_TIMEOUT}},
                    ],
                    "requestBody": {
                        "required": True,
                        "description": "the request payload, valid against the official "
                        "OCPP 2.0.1 schema of the action",
                        **body({"type": "object"}),
                    },
                    "responses": {
                        "200": {
                            "description": "the station's CALLRESULT",
                            **body(answered),
                        },
                        "400": {"description": "bad JSON, action or payload", **body(error)},
                        "401": {"description": "missing or wrong token", **body(error)},
                        "404": {"description": "station not connected", **body(error)},
                        "502": {"description": "the station's CALLERROR", **body(call_error)},
                        "504": {"description": "no answer in time", **body(error)},
                    },
                }
            },
        },
    }  # fmt: skip


class AdminApi(HttpApp):
    """The admin HTTP server of one :class:`Csms`.

    Args:
        csms: the CSMS whose stations it commands.
        token: the bearer token every request but /openapi.json must carry.
    """

    def __init__(self, csms: Csms, token: str) -> None:
        if not token:
            raise ValueError("the admin API needs a token")
        self.csms = csms
        self.token = token
        super().__init__()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/openapi.json", self._openapi)
        app.router.add_get("/v1/stations", self._stations)
        app.router.add_post("/v1/stations/{station}/calls/{action}", self._call)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path != "/openapi.json" and not bearer_ok(
            request.headers.get("Authorization", ""), self.token
        ):
            return _error(401, "missing or wrong bearer token")
        response: web.StreamResponse = await handler(request)
        return response

    async def _openapi(self, request: web.Request) -> web.Response:
        return _json(200, openapi())

    async def _stations(self, request: web.Request) -> web.Response:
        connected = self.csms.connected_stations()
        known = sorted(set(self.csms.stations) | connected)
        return _json(200, {"stations": [{"id": s, "connected": s in connected} for s in known]})

    async def _call(self, request: web.Request) -> web.Response:
        station, action = request.match_info["station"], request.match_info["action"]
        if action not in CSMS_TO_STATION:
            return _error(400, f"{action!r} is not an OCPP 2.0.1 CSMS -> station action")
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _error(400, "the body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "the body must be a JSON object (the request payload)")
        try:
            timeout = float(request.query.get("timeout", self.csms.settings.call_timeout))
        except ValueError:
            return _error(400, "timeout must be a number of seconds")
        if not 0 < timeout <= MAX_TIMEOUT:
            return _error(400, f"timeout must be in (0, {MAX_TIMEOUT:g}] seconds")
        try:
            self.csms.validator.validate(self.csms.version, action, Kind.REQUEST, payload)
        except ValidationFailed as exc:
            return _error(400, exc.description)
        if station not in self.csms.connected_stations():
            return _error(404, f"station {station!r} is not connected")
        try:
            answer = await self.csms.call(station, action, payload, timeout=timeout)
        except CallRejected as exc:
            return _json(
                502,
                {
                    "errorCode": exc.error.error_code,
                    "errorDescription": exc.error.error_description,
                },
            )
        except FrameError as exc:  # an answer that broke its schema
            return _json(502, {"errorCode": exc.code.value, "errorDescription": exc.description})
        except TimeoutError:
            return _error(504, f"no answer from {station!r} within {timeout:g} s")
        except CsmsError as exc:
            return _error(404, str(exc))
        return _json(200, {"payload": answer})
