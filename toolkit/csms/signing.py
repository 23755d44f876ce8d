"""The built-in CSMS as a certificate authority: it signs its stations' CSRs.

2.0.1 A02/A03 (1.6 security whitepaper, "Update Charge Point certificate"):
the station sends a CSR in SignCertificate, the CSMS has it signed and sends
the chain back in CertificateSigned; the station then connects with it.
With ``--signing-ca CERT --signing-ca-key KEY`` the CSMS signs with that CA
(the CA that the TLS side, e.g. the bridge's ``tls_client_ca``, trusts).
The certificate keeps the CSR's subject and public key, is valid for
:data:`VALIDITY` and is a client certificate (extendedKeyUsage clientAuth).

Needs the ``cryptography`` package (``pip install 'ocppkit[pki]'``); it is
imported only when a signing CA is configured.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ocppkit.translators.errors import ConfigError

VALIDITY = timedelta(days=365)


class CsrSigner:
    """Signs PEM CSRs with one CA.

    Args:
        ca_cert: PEM of the CA certificate.
        ca_key: PEM of its private key (unencrypted).

    Raises:
        ConfigError: ``cryptography`` is missing, or the PEMs do not load.
    """

    def __init__(self, ca_cert: bytes, ca_key: bytes) -> None:
        try:
            from cryptography import x509
            from cryptography.hazmat.primitives import serialization
        except ImportError:
            raise ConfigError(
                "signing CSRs needs the cryptography package: pip install 'ocppkit[pki]'"
            ) from None
        try:
            self._cert = x509.load_pem_x509_certificate(ca_cert)
            self._key: Any = serialization.load_pem_private_key(ca_key, password=None)
        except ValueError as exc:
            raise ConfigError(f"signing CA: {exc}") from None
        self.ca_pem = ca_cert.decode("ascii")

    def sign(self, csr_pem: str, now: datetime | None = None) -> str:
        """The PEM chain (certificate, then the CA) for ``csr_pem``.

        Raises:
            ValueError: not a PEM CSR, or its signature does not verify.
        """
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import ExtendedKeyUsageOID

        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not verify")
        at = now or datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self._cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(at - timedelta(minutes=5))
            .not_valid_after(at + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        leaf = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return leaf + self.ca_pem


def load_signer(cert_path: str | Path, key_path: str | Path) -> CsrSigner:
    """A signer from PEM files.

    Raises:
        ConfigError: a file cannot be read, or see :class:`CsrSigner`.
    """
    try:
        cert, key = Path(cert_path).read_bytes(), Path(key_path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"signing CA: cannot read {exc.filename}: {exc.strerror}") from None
    return CsrSigner(cert, key)
