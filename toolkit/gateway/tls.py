"""TLS on the listening port: security profile 2, and profile 3 (mutual TLS).

Profile 3 (1.6 security whitepaper §2; 2.0.1 A00.FR.4xx) authenticates a
charger by its client certificate. The bridge asks every TLS client for one
(``CERT_OPTIONAL``; ``CERT_REQUIRED`` when ``tls_client_required = ["*"]``),
verifies it against ``tls_client_ca`` and, when given, the CRL in
``tls_client_crl`` (leaf revocation; a revoked or untrusted certificate fails
the TLS handshake itself). Which charger the certificate belongs to is only
known from the URL, so the binding is checked at the WebSocket handshake
(:func:`certificate_problem`): the subject CN must equal the charger id,
and a charger listed in ``tls_client_required`` must show a certificate.

Renewal needs nothing of the bridge's own: a charger's SignCertificate goes
to the CSMS and the CSMS's CertificateSigned to the charger like any other
call; the renewed certificate is signed by the same CA, so the next
connection is verified as the first was. A CRL file that changes is read
again by :meth:`CrlWatch.check` (the bridge calls it once a second), so a
revocation takes effect for new connections without a restart.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

from ocppkit.toolkit.gateway.config import BridgeConfig


def server_ssl_context(cfg: BridgeConfig) -> ssl.SSLContext | None:
    """The listening port's TLS context, or None for plain ws://."""
    if not cfg.tls_cert:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
    if cfg.tls_client_ca:
        ctx.load_verify_locations(cafile=cfg.tls_client_ca)
        every = "*" in cfg.tls_client_required
        ctx.verify_mode = ssl.CERT_REQUIRED if every else ssl.CERT_OPTIONAL
        if cfg.tls_client_crl:
            ctx.load_verify_locations(cafile=cfg.tls_client_crl)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return ctx


class CrlWatch:
    """Reloads the CRL into the live context when its file changes."""

    def __init__(self, ctx: ssl.SSLContext | None, path: str) -> None:
        self.ctx = ctx
        self.path = path
        self._stamp = self._mtime()

    def _mtime(self) -> float | None:
        try:
            return os.stat(self.path).st_mtime if self.path else None
        except OSError:
            return None

    def check(self) -> bool:
        """Read the CRL again if it changed; True when it did."""
        stamp = self._mtime()
        if self.ctx is None or stamp is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        # OpenSSL adds the new CRL to the store; the newest one per issuer is used.
        self.ctx.load_verify_locations(cafile=self.path)
        return True


def _subject_cn(peercert: dict[str, Any]) -> str | None:
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def certificate_problem(cfg: BridgeConfig, cp_id: str, peercert: Any) -> str | None:
    """Why this charger may not connect with this (verified) certificate, or None.

    ``peercert`` is ``transport.get_extra_info("peercert")``: a dict when
    the charger showed a certificate that passed verification, else None/{}.
    """
    if not cfg.tls_client_ca:
        return None
    if peercert:
        return None if _subject_cn(peercert) == cp_id else "certificate_not_for_charger"
    if "*" in cfg.tls_client_required or cp_id in cfg.tls_client_required:
        return "certificate_required"
    return None


def has_certificate(cfg: BridgeConfig, peercert: Any) -> bool:
    return bool(cfg.tls_client_ca and peercert)
