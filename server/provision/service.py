"""Provisioning: the office CA and the broker's files, a reader's credentials in one go, and revoking them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from server.audit.service import record
from server.config import Settings
from server.provision.broker import SERVER_ACCOUNT, Account, BrokerFolder, new_password, password_entry
from server.provision.bundle import ReaderFiles, write_bundle
from server.provision.files import write_file
from server.provision.pki import OfficeCA, PkiError
from server.readers.allowlist_key import new_allowlist_key
from server.readers.models import Reader

LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1"]  # the server reaches the broker on its own host
TLS_PORT = 8883
NODE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,15}")


@dataclass(frozen=True)
class ServerFiles:
    ca_file: Path
    client_cert: Path
    client_key: Path
    password_file: Path


def init_office(settings: Settings, now: datetime, *, name: str, hosts: list[str], server_dir: Path) -> ServerFiles:
    """The CA, the broker's certificate (for `hosts` and this host), an empty CRL, and the server's own
    client certificate and password; the broker's password file and ACL then hold the server alone."""
    if not hosts:
        raise PkiError("give the name (or address) the readers reach the broker at, e.g. --host mamori.local")
    ca = OfficeCA(settings.pki_dir)
    ca.create(name, hosts, now)
    broker = BrokerFolder(settings.broker_dir)
    cert = ca.issue(hosts[0], "broker", now, hosts=list(dict.fromkeys(hosts + LOCAL_HOSTS)))
    broker.write_tls(ca.ca_pem(), cert.cert_pem, cert.key_pem)
    broker.write_crl(ca.crl_pem(now))
    return _server_credentials(ca, broker, SERVER_ACCOUNT, now, server_dir)


def provision_server_node(settings: Settings, now: datetime, node_id: str, *, server_dir: Path) -> ServerFiles:
    """Another `mamori serve` process's own credentials (docs/scale-out.md): the broker makes a client's
    certificate name its client id, so processes sharing one certificate would take each other's session."""
    if not NODE_ID.fullmatch(node_id):
        raise PkiError(f"node id {node_id!r}: use lower-case letters, digits and '-', up to 16, e.g. b")
    ca = OfficeCA(settings.pki_dir)
    broker = BrokerFolder(settings.broker_dir)
    name = f"{SERVER_ACCOUNT}-{node_id}"
    if ca.live(name, "server") or broker.account(name):
        raise PkiError(f"server node {node_id} already has broker credentials")
    return _server_credentials(ca, broker, name, now, server_dir)


def _server_credentials(ca: OfficeCA, broker: BrokerFolder, name: str, now: datetime, server_dir: Path) -> ServerFiles:
    client = ca.issue(name, "server", now)
    password = new_password()
    broker.put(Account(name, "server", None, password_entry(password)))
    # The server runs as the mamori user: its key is readable by that group, nobody else.
    files = ServerFiles(server_dir / "ca.crt", server_dir / f"{name}.crt", server_dir / f"{name}.key",
                        server_dir / f"{name}.password")
    write_file(files.ca_file, ca.ca_pem())
    write_file(files.client_cert, client.cert_pem)
    write_file(files.client_key, client.key_pem, mode=0o640, group="mamori")
    write_file(files.password_file, password + "\n", mode=0o640, group="mamori")
    return files


def provision_reader(db: Session, settings: Settings, now: datetime, reader_id: str, *, out: Path,
                     on_pi: Path, broker_url: str | None = None, actor: str) -> tuple[ReaderFiles, list[Path]]:
    """A client certificate (CN = reader id), a password, the cabinet's allowlist key, the reader's YAML
    and its broker account, in one go. A reader that has live credentials is refused: revoke them first."""
    reader = db.get(Reader, reader_id)
    if reader is None:
        raise PkiError(f"no reader {reader_id}: register it first (mamori readers add {reader_id} --site … --role …)")
    ca = OfficeCA(settings.pki_dir)
    broker = BrokerFolder(settings.broker_dir)
    if ca.live(reader_id, "reader") or broker.account(reader_id):
        raise PkiError(f"reader {reader_id} already has broker credentials: `mamori readers revoke {reader_id}` "
                       "first, then provision it again")
    url = broker_url or f"mqtts://{ca.office()['hosts'][0]}:{TLS_PORT}"
    cert = ca.issue(reader_id, "reader", now)
    password = new_password()
    key = new_allowlist_key(db, reader_id) if reader.role == "cabinet" else None
    files = ReaderFiles(reader_id, reader.site, reader.role, url, ca.ca_pem(), cert.cert_pem, cert.key_pem,
                        password, key)
    written = write_bundle(files, out, on_pi)
    broker.put(Account(reader_id, "reader", reader.site, password_entry(password)))
    record(db, now, "reader_provisioned", actor, {"reader": reader_id, "site": reader.site,
                                                  "certificate": format(cert.serial, "x")})
    return files, written


def revoke_reader(db: Session, settings: Settings, now: datetime, reader_id: str, *, actor: str) -> list[str]:
    """Its certificates onto the CRL, its password and ACL lines out; the serials revoked. Then the broker is
    reloaded (SIGHUP): Mosquitto 2.0 re-reads all three, checks the CRL at each new connection and the ACL at
    each message, so the reader is cut off at once and refused from its next connection."""
    ca = OfficeCA(settings.pki_dir)
    broker = BrokerFolder(settings.broker_dir)
    revoked = [format(c.serial, "x") for c in ca.revoke(reader_id, "reader", now)]
    had_account = broker.remove(reader_id)
    if not revoked and not had_account:
        raise PkiError(f"reader {reader_id} has no broker credentials to revoke")
    broker.write_crl(ca.crl_pem(now))
    record(db, now, "reader_revoked", actor, {"reader": reader_id, "certificate": ", ".join(revoked)})
    return revoked
