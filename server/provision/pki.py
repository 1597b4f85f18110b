"""The office CA: its key, the certificates it issued (an append-only log), and the revocation list.

ECDSA P-256 throughout: small, quick to make on a Raspberry Pi, and spoken by Mosquitto (OpenSSL)
and Python's ssl. A reader's certificate names the reader in its CN, which Mosquitto's
`use_identity_as_username` makes the broker user name the ACL is written for.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.provision.files import append_line, write_file

CA_YEARS = 20  # longer than the readers will live: an expired CA stops every reader at once
LEAF_YEARS = 10
CRL_DAYS = 3650  # Mosquitto refuses every client once its CRL's next update has passed


class PkiError(ValueError):
    """Something the person must fix (no CA yet, a CA already there, nothing to revoke)."""


@dataclass(frozen=True)
class Issued:
    serial: int
    name: str
    kind: str  # reader, server (the mamori server's MQTT client) or broker
    at: str
    not_after: str
    revoked_at: str | None = None


@dataclass(frozen=True)
class Credential:
    cert_pem: bytes
    key_pem: bytes
    serial: int


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class OfficeCA:
    """The CA in `folder`: ca.key (0600), ca.crt, issued.jsonl (every issue and revocation), office.json."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    key_path = property(lambda self: self.folder / "ca.key")
    cert_path = property(lambda self: self.folder / "ca.crt")
    log_path = property(lambda self: self.folder / "issued.jsonl")
    office_path = property(lambda self: self.folder / "office.json")

    def exists(self) -> bool:
        return self.key_path.exists()

    def create(self, name: str, hosts: list[str], now: datetime) -> None:
        """A new CA; refuses to overwrite one (every reader trusts the old one)."""
        if self.exists():
            raise PkiError(f"an office CA already exists in {self.folder}: every reader and the broker trust it; "
                           "keep it (a new one means provisioning every reader again)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mamori")])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365 * CA_YEARS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=True, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        write_file(self.key_path, _key_pem(key), mode=0o600)
        write_file(self.cert_path, cert.public_bytes(serialization.Encoding.PEM))
        write_file(self.office_path, json.dumps({"name": name, "hosts": hosts}, ensure_ascii=False, indent=1))
        self.log_path.touch(mode=0o600)

    def office(self) -> dict:
        self._require()
        return json.loads(self.office_path.read_text(encoding="utf-8"))

    def _require(self) -> None:
        if not self.exists():
            raise PkiError(f"no office CA in {self.folder}: make it first with `mamori ca init`")

    def _signer(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        self._require()
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    def ca_pem(self) -> bytes:
        self._require()
        return self.cert_path.read_bytes()

    def issue(self, name: str, kind: str, now: datetime, *, hosts: list[str] = ()) -> Credential:
        """A key and a certificate for `name`: a client certificate, or (kind broker) a server one for `hosts`."""
        ca_key, ca_cert = self._signer()
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.SERVER_AUTH if kind == "broker" else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                   .issuer_name(ca_cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(days=365 * LEAF_YEARS))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False))
        if hosts:
            builder = builder.add_extension(x509.SubjectAlternativeName([_alt_name(h) for h in hosts]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        append_line(self.log_path, json.dumps({
            "event": "issued", "serial": format(cert.serial_number, "x"), "name": name, "kind": kind,
            "at": now.isoformat(), "not_after": cert.not_valid_after_utc.isoformat()}))
        return Credential(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key), cert.serial_number)

    def issued(self) -> list[Issued]:
        """Every certificate issued, oldest first, with its revocation time if it was revoked."""
        self._require()
        found: dict[int, Issued] = {}
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            serial = int(entry["serial"], 16)
            if entry["event"] == "issued":
                found[serial] = Issued(serial, entry["name"], entry["kind"], entry["at"], entry["not_after"])
            elif serial in found:
                found[serial] = Issued(**{**found[serial].__dict__, "revoked_at": entry["at"]})
        return list(found.values())

    def live(self, name: str, kind: str) -> list[Issued]:
        return [c for c in self.issued() if c.name == name and c.kind == kind and c.revoked_at is None]

    def revoke(self, name: str, kind: str, now: datetime) -> list[Issued]:
        """Revoke every live certificate of `name`; the caller writes the new CRL."""
        live = self.live(name, kind)
        for cert in live:
            append_line(self.log_path, json.dumps({"event": "revoked", "serial": format(cert.serial, "x"),
                                                   "name": name, "at": now.isoformat()}))
        return live

    def crl_pem(self, now: datetime) -> bytes:
        """The revocation list of every revoked certificate, signed now."""
        ca_key, ca_cert = self._signer()
        builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
                   .last_update(now - timedelta(minutes=5)).next_update(now + timedelta(days=CRL_DAYS)))
        for cert in self.issued():
            if cert.revoked_at:
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(cert.serial)
                    .revocation_date(datetime.fromisoformat(cert.revoked_at)).build())
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
