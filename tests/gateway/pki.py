"""A throw-away PKI for the mutual-TLS tests, made with ``cryptography``.

A CA, a server certificate for 127.0.0.1, client certificates whose subject
CN is a charger id, CSR signing (for certificate renewal) and CRLs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM = serialization.Encoding.PEM


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@dataclass
class Issued:
    cert: Path
    key: Path
    serial: int


class Pki:
    def __init__(self, where: Path) -> None:
        self.where = where
        where.mkdir(parents=True, exist_ok=True)
        self.ca_key = _key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ocppkit test CA")])
        now = datetime.now(UTC)
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.ca_path = where / "ca.pem"
        self.ca_path.write_bytes(self.ca.public_bytes(PEM))
        self.revoked: list[int] = []
        self._crls = 0

    def _sign(self, subject: x509.Name, public_key: object, *, server: bool) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(self.ca_key, hashes.SHA256())

    def _write(self, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
        cert_path, key_path = self.where / f"{name}.pem", self.where / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(PEM))
        key_path.write_bytes(_key_pem(key))
        return Issued(cert_path, key_path, cert.serial_number)

    def server(self) -> Issued:
        key = _key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        return self._write("server", self._sign(subject, key.public_key(), server=True), key)

    def client(self, cn: str, name: str | None = None) -> Issued:
        key = _key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        return self._write(name or cn, self._sign(subject, key.public_key(), server=False), key)

    @staticmethod
    def csr(cn: str) -> tuple[str, bytes]:
        """A CSR as a charger makes one for SignCertificate: (PEM, its private key PEM)."""
        key = _key()
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .sign(key, hashes.SHA256())
        )
        return request.public_bytes(PEM).decode(), _key_pem(key)

    def sign_csr(self, csr_pem: str) -> str:
        """What the CSMS's CA answers: the certificate for the CSR, PEM."""
        request = x509.load_pem_x509_csr(csr_pem.encode())
        cert = self._sign(request.subject, request.public_key(), server=False)
        return cert.public_bytes(PEM).decode()

    def crl(self, *serials: int) -> Path:
        """Write (or rewrite) the CRL revoking ``serials``; its path."""
        now = datetime.now(UTC)
        self._crls += 1  # each CRL newer than the last: OpenSSL uses the newest
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca.subject)
            .last_update(now - timedelta(minutes=30) + timedelta(minutes=self._crls))
            .next_update(now + timedelta(days=1))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .add_extension(x509.CRLNumber(self._crls), critical=False)
        )
        for serial in serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - timedelta(minutes=1))
                .build()
            )
        self.revoked = list(serials)
        path = self.where / "crl.pem"
        path.write_bytes(builder.sign(self.ca_key, hashes.SHA256()).public_bytes(PEM))
        return path
