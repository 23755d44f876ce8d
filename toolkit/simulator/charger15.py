"""OCPP 1.5 SOAP charger: the 1.6 behaviour, lowered to 1.5 on the wire.

1.5 and 1.6 share the session flow and the operation names (1.6 added statuses, reasons
and messages); :class:`Charger15` is the 1.6 charger with a SOAP link
(:mod:`.soap_link`), so the plan plays the same on both. What 1.5 cannot say is lost the
way :func:`ocppkit.translators.soap15.lower` documents (e.g. Preparing/Charging/SuspendedEV all
become Occupied, StopTransaction has no reason); the truth keeps the 1.6 meaning.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from ocppkit.toolkit.simulator.charger16 import Charger16
from ocppkit.toolkit.simulator.link import Link
from ocppkit.toolkit.simulator.soap_link import CallbackServer, SoapLink
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion


class Charger15(Charger16):
    version = OcppVersion.V15
    schema_version = OcppVersion.V16  # payloads are built and checked as 1.6, then lowered

    def __init__(self, *args: Any, callback: CallbackServer, soap_url: str, **kw: Any) -> None:
        self._callback, self._soap_url = callback, soap_url
        super().__init__(*args, **kw)

    def make_link(
        self, http: aiohttp.ClientSession, csms_url: str, validator: Validator, timeout: float
    ) -> Link:
        return SoapLink(http, self._soap_url, self.spec.charge_point_id, validator,
                        self._handle, self._callback, timeout=timeout)  # fmt: skip
