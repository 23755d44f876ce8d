"""The tzi-OCTT trigger API: 1.6 operator actions, sent by a 2.0.1 CSMS.

The tzi-OCTT conformance suite (tzi-app/tzi-OCTT, folder ``1.6/``) plays a
1.6J charge point and asks the CSMS under test to send it commands over
HTTP (its ``1.6/README.md`` and ``1.6/trigger.py``)::

    POST /api/octt/1.6/{stationId}/{kebab-action}   body: the 1.6 request payload
    POST /api/octt/set-basic-auth-password          {"station_id", "password"}
    POST /api/octt/create-token                     {"token_id", "status"}

Here the CSMS under test is this 2.0.1 CSMS with ``ocppkit bridge`` in front
of it, so each trigger becomes the 2.0.1 command an operator would send for
the same intent (what the admin API, :mod:`.admin`, would send), and the
bridge turns it back into 1.6 for the suite's charge point. The 1.6 -> 2.0.1
rewrite is the reverse pair's (:mod:`ocppkit.translators.station201_csms16`,
the translation a 2.0.1 station behind a 1.6 CSMS needs): one
:class:`~ocppkit.translators.station201_csms16.state.StationState` per station
gives it its request-id counters. Where the operator knows something the
1.6 payload does not say, the table row names it (:data:`TRIGGERS`):

- ``transaction``: a 1.6 transactionId is an integer the bridge handed the
  charger; a 2.0.1 CSMS never sees it, and names the transaction by its own
  id. The operator means the transaction running at that station (on that
  connector, when the payload names one), so that one is sent.
- ``full_report``: GetConfiguration without keys is "everything": the 2.0.1
  operator asks GetBaseReport(FullInventory), which the bridge sends as
  GetConfiguration without keys (the reverse pair would list the well-known
  keys instead, all a 2.0.1 station could be asked for one by one).
- ``signed_csr``: a CSMS answers a station's SignCertificate with the CSR
  signed by its CA (2.0.1 A02). The suite cannot know that CA, so it posts a
  self-signed stand-in made from its CSR; a CSMS started with a signing CA
  (:mod:`.signing`) sends the station's last CSR signed instead, so the
  station can connect with it afterwards (TC_074). Without a CA, or
  without a CSR, the posted chain is sent as it is.

A trigger answers 200 ``{"action", "request", "response", "conf"}``: the
2.0.1 call sent, the station's 2.0.1 answer, and the 1.6 confirmation it
stands for; a trigger answered without a call (nothing 2.0.1 can say) has
only ``conf`` and ``local``. Errors are 400 (bad body, unknown action),
404 (station not connected), 502 (the station's CALLERROR) and 504.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from ocppkit.toolkit.csms.http_app import HttpApp
from ocppkit.toolkit.csms.server import CallRejected, Csms, CsmsError
from ocppkit.toolkit.csms.tokens import STATUSES, TokenEntry
from ocppkit.translators.context import Context
from ocppkit.translators.errors import FrameError, OcppkitError, ValidationFailed
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.schemas import Kind
from ocppkit.translators.station201_csms16 import session as reverse
from ocppkit.translators.station201_csms16.state import StationState, StationTransaction
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Trigger:
    """One trigger of the suite.

    Attributes:
        action16: the 1.6 action the suite's charge point must receive.
        knows: what the operator adds to the 1.6 payload (module docstring):
            ``transaction`` (the running transaction), ``full_report``.
    """

    action16: str
    knows: str = ""


# tzi-OCTT 1.6/README.md "Trigger API endpoints", every row.
TRIGGERS: dict[str, Trigger] = {
    "remote-start-transaction": Trigger("RemoteStartTransaction"),
    "remote-stop-transaction": Trigger("RemoteStopTransaction", "transaction"),
    "reset": Trigger("Reset"),
    "unlock-connector": Trigger("UnlockConnector"),
    "get-configuration": Trigger("GetConfiguration", "full_report"),
    "change-configuration": Trigger("ChangeConfiguration"),
    "change-availability": Trigger("ChangeAvailability"),
    "reserve-now": Trigger("ReserveNow"),
    "cancel-reservation": Trigger("CancelReservation"),
    "trigger-message": Trigger("TriggerMessage"),
    "extended-trigger-message": Trigger("ExtendedTriggerMessage"),
    "set-charging-profile": Trigger("SetChargingProfile", "transaction"),
    "clear-charging-profile": Trigger("ClearChargingProfile"),
    "get-composite-schedule": Trigger("GetCompositeSchedule"),
    "update-firmware": Trigger("UpdateFirmware"),
    "signed-update-firmware": Trigger("SignedUpdateFirmware"),
    "get-diagnostics": Trigger("GetDiagnostics"),
    "get-log": Trigger("GetLog"),
    "clear-cache": Trigger("ClearCache"),
    "send-local-list": Trigger("SendLocalList"),
    "get-local-list-version": Trigger("GetLocalListVersion"),
    "install-certificate": Trigger("InstallCertificate"),
    "get-installed-certificate-ids": Trigger("GetInstalledCertificateIds"),
    "delete-certificate": Trigger("DeleteCertificate"),
    "certificate-signed": Trigger("CertificateSigned", "signed_csr"),
    "data-transfer": Trigger("DataTransfer"),
}

# The suite's create-token: "Only 'Expired' and 'Blocked' statuses are
# accepted by the CSMS" (1.6/trigger.py); any 2.0.1 status is taken here.
TOKEN_STATUSES = STATUSES


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _error(status: int, text: str) -> web.Response:
    return _json(status, {"error": text})


class TriggerError(OcppkitError):
    """A trigger the adapter cannot send (its HTTP status and reason)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class OcttTrigger(HttpApp):
    """The trigger HTTP server of one :class:`Csms`.

    Args:
        csms: the CSMS that sends the commands; its ``station_passwords``
            must be a mutable mapping for set-basic-auth-password, and its
            ``token_store`` set for create-token.
    """

    def __init__(self, csms: Csms) -> None:
        self.csms = csms
        self.states: dict[str, StationState] = {}
        self._ids = itertools.count(1)
        super().__init__()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/octt/1.6/{station}/{action}", self._trigger)
        app.router.add_post("/api/octt/set-basic-auth-password", self._set_password)
        app.router.add_post("/api/octt/create-token", self._create_token)
        return app

    # -- the 1.6 -> 2.0.1 rewrite ------------------------------------------------

    def _context(self) -> Context:
        return Context(now=lambda: datetime.now(UTC), new_id=lambda: str(uuid.uuid4()))

    def _state(self, station: str) -> StationState:
        return self.states.setdefault(station, StationState(charge_point_id=station))

    def _running(self, station: str, connector: int | None) -> str | None:
        """The 2.0.1 id of the transaction running at ``station`` (on ``connector``)."""
        running = [  # oldest first: the last is the newest
            tx
            for tx in self.csms.transactions.values()
            if tx.station_id == station
            and tx.ended_at is None
            and (not connector or tx.evse_id in (None, connector))
        ]
        return running[-1].transaction_id if running else None

    def _teach_transaction(self, station: str, payload: Payload) -> None:
        """Name the running transaction under the 1.6 integer the payload uses."""
        state = self._state(station)
        if "csChargingProfiles" in payload:
            id16 = payload["csChargingProfiles"].get("transactionId")
            connector = payload.get("connectorId")
        else:
            id16, connector = payload.get("transactionId"), None
        if id16 is None or state.by_id16(id16) is not None:
            return
        id201 = self._running(station, connector)
        if id201 is None:
            return  # nothing runs: the reverse pair refuses the unknown id itself
        for tx in state.transactions.values():  # one 1.6 name per transaction
            if tx.id201 == id201:
                tx.id16 = id16
                return
        state.transactions[id201] = StationTransaction(id201, connector or 1, id16=id16)

    def _signed(self, station: str, payload: Payload) -> Payload:
        """The station's last CSR signed by the CSMS's CA, when it has both."""
        signer, info = self.csms.settings.signer, self.csms.stations.get(station)
        if signer is None or info is None or not info.csrs:
            return payload
        try:
            chain = signer.sign(info.csrs[-1])
        except ValueError as exc:
            raise TriggerError(400, f"the station's CSR cannot be signed: {exc}") from None
        return {**payload, "certificateChain": chain}

    def rewrite(self, station: str, trigger: Trigger, payload: Payload) -> Call | Payload:
        """The 2.0.1 call for one trigger, or the 1.6 answer when none can be sent.

        Raises:
            TriggerError: the 1.6 payload is not valid for its action.
        """
        try:
            self.csms.validator.validate(V16, trigger.action16, Kind.REQUEST, payload)
        except ValidationFailed as exc:
            raise TriggerError(400, exc.description) from None
        if trigger.knows == "full_report" and not payload.get("key"):
            request_id = self._state(station).mint_request_id()
            return Call(
                "", "GetBaseReport", {"requestId": request_id, "reportBase": "FullInventory"}
            )
        if trigger.knows == "transaction":
            self._teach_transaction(station, payload)
        if trigger.knows == "signed_csr":
            payload = self._signed(station, payload)
        call16 = Call(f"octt-{next(self._ids)}", trigger.action16, payload)
        step = reverse.from_csms(self._state(station), call16, self._context())
        if step.to_charger:
            out = step.to_charger[0]
            assert isinstance(out, Call)
            return out
        answer = step.to_csms[0] if step.to_csms else None
        if isinstance(answer, CallResult):
            return answer.payload
        raise TriggerError(400, getattr(answer, "error_description", "not translatable"))

    def conf16(self, station: str, call: Call, answer: Payload) -> Payload | None:
        """The 1.6 confirmation the station's 2.0.1 answer stands for."""
        if not call.message_id:
            return None
        step = reverse.from_charger(
            self._state(station), CallResult(call.message_id, answer), self._context()
        )
        out = step.to_csms[0] if step.to_csms else None
        return out.payload if isinstance(out, CallResult) else None

    def forget(self, station: str, call: Call) -> None:
        """The call got no answer: drop what the reverse pair waits for."""
        if call.message_id:
            error = CallError(call.message_id, "GenericError", "no answer", {})
            reverse.from_charger(self._state(station), error, self._context())

    # -- HTTP --------------------------------------------------------------------

    async def _body(self, request: web.Request) -> Payload:
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            raise TriggerError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise TriggerError(400, "the body must be a JSON object")
        return body

    async def _trigger(self, request: web.Request) -> web.Response:
        station, name = request.match_info["station"], request.match_info["action"]
        trigger = TRIGGERS.get(name)
        if trigger is None:
            return _error(400, f"{name!r} is not a tzi-OCTT 1.6 trigger")
        try:
            rewritten = self.rewrite(station, trigger, await self._body(request))
        except TriggerError as exc:
            return _error(exc.status, str(exc))
        if not isinstance(rewritten, Call):
            return _json(200, {"local": True, "conf": rewritten})
        call = rewritten
        try:
            answer = await self.csms.call(station, call.action, call.payload)
        except CallRejected as exc:
            self.forget(station, call)
            return _json(
                502,
                {
                    "errorCode": exc.error.error_code,
                    "errorDescription": exc.error.error_description,
                },
            )
        except (FrameError, TimeoutError, CsmsError) as exc:
            self.forget(station, call)
            status = 504 if isinstance(exc, TimeoutError) else 404
            if isinstance(exc, FrameError):
                status = 502
            return _error(status, str(exc) or type(exc).__name__)
        body = {
            "action": call.action,
            "request": call.payload,
            "response": answer,
            "conf": self.conf16(station, call, answer),
        }
        return _json(200, body)

    async def _set_password(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
        except TriggerError as exc:
            return _error(exc.status, str(exc))
        station, password = body.get("station_id"), body.get("password")
        if not isinstance(station, str) or not isinstance(password, str) or not password:
            return _error(400, "station_id and password must be non-empty strings")
        passwords = self.csms.settings.station_passwords
        if not isinstance(passwords, MutableMapping):
            return _error(409, "this CSMS was started without changeable station passwords")
        passwords[station] = password
        return _json(200, {"station_id": station, "status": "Accepted"})

    async def _create_token(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
        except TriggerError as exc:
            return _error(exc.status, str(exc))
        token, status = body.get("token_id"), body.get("status")
        if not isinstance(token, str) or not 0 < len(token) <= 36:
            return _error(400, "token_id must be 1 to 36 characters")
        if status not in TOKEN_STATUSES:
            return _error(400, f"status {status!r} is not a 2.0.1 AuthorizationStatus")
        store = self.csms.settings.token_store
        if store is None:
            return _error(409, "this CSMS was started without a token store (--tokens .toml/.csv)")
        old = store.entries.get(token)
        store.entries[token] = TokenEntry(
            token, str(status), old.type if old else None, old.group if old else None
        )
        return _json(200, {"token_id": token, "status": status})
