"""What Mosquitto reads from the provisioning folder: password file, ACL, CA, its own certificate, the CRL;
and, for a NATS cluster instead, its users file.

`accounts.json` is the list the others are written from, whole, every time: one account for the
server (and each further server process) and one per provisioned reader. Nothing is edited in
place, so a revoked reader leaves no line behind.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from gateway import protocol
from server.provision.files import write_file

SERVER_ACCOUNT = "mamori-server"
BROKER_GROUP = "mosquitto"  # Mosquitto reads its files after dropping root
# Mosquitto's sha512-pbkdf2 entries (mosquitto_passwd -H sha512-pbkdf2): "$7$iterations$salt$hash", salt 12
# raw bytes and hash the 64-byte PBKDF2-HMAC-SHA512, both in standard base64. The password is 32 random bytes,
# so the iteration count guards nothing a guess could reach; Mosquitto pays it on every connect.
SALT_BYTES = 12
ITERATIONS = 1000
READER_WRITES = ("scan", "event", "status")
READER_READS = ("decision", "ack", "command", "allowlist")


def new_password() -> str:
    return secrets.token_urlsafe(32)


def password_entry(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class Account:
    name: str
    kind: str  # "server" or "reader"
    site: str | None
    password_hash: str


def acl_text(accounts: list[Account]) -> str:
    """Each reader: its own topics on its own site; the server: every reader's. Nothing else."""
    lines = ["# Written by mamori (`mamori ca init`, `mamori readers provision/revoke`): do not edit by hand.",
             "# Whatever is not granted here is denied; anonymous clients get nothing.", ""]
    for account in sorted(accounts, key=lambda a: (a.kind != "server", a.name)):
        lines.append(f"user {account.name}")
        if account.kind == "server":
            lines += [f"topic read {protocol.subscription(ch)}" for ch in READER_WRITES]
            lines += [f"topic write {protocol.subscription(ch)}" for ch in READER_READS]
        else:
            lines += [f"topic write {protocol.topic(account.site, account.name, ch)}" for ch in READER_WRITES]
            lines += [f"topic read {protocol.topic(account.site, account.name, ch)}" for ch in READER_READS]
        lines.append("")
    return "\n".join(lines)


def _subject(topic: str) -> str:
    """An MQTT topic filter as NATS names it: levels joined by dots, `+` as `*`."""
    return topic.replace("/", ".").replace("+", "*")


def nats_users_text(accounts: list[Account]) -> str:
    """The same grants as `acl_text`, for a NATS cluster's MQTT listener (docs/scale-out.md): each
    certificate, mapped to its user by its CN (`verify_and_map`), may use MQTT only."""
    lines = ["# Written by mamori (`mamori ca init`, `mamori readers provision/revoke`): do not edit by hand.",
             "# Included by deploy/nats/mamori-node.conf. Whatever is not granted here is denied.",
             "authorization {", "  users = ["]
    for account in sorted(accounts, key=lambda a: (a.kind != "server", a.name)):
        if account.kind == "server":
            publish = [_subject(protocol.subscription(ch)) for ch in READER_READS]
            subscribe = [_subject(protocol.subscription(ch)) for ch in READER_WRITES]
        else:
            publish = [_subject(protocol.topic(account.site, account.name, ch)) for ch in READER_WRITES]
            subscribe = [_subject(protocol.topic(account.site, account.name, ch)) for ch in READER_READS]
        # nats-server 2.9 delivers QoS 1 through an internal subject it checks against the user's own
        # grants; an MQTT client cannot subscribe to `$MQTT/…` itself (tests/integration/test_nats_tls.py).
        subscribe.append("$MQTT.sub.>")
        lines.append(f'    {{ user: "CN={account.name}", allowed_connection_types: ["MQTT"], '
                     f"permissions: {{ publish: {json.dumps(publish)}, subscribe: {json.dumps(subscribe)} }} }}")
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


class BrokerFolder:
    """The folder Mosquitto's config points at (/etc/mosquitto/mamori by default)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    accounts_path = property(lambda self: self.folder / "accounts.json")

    def accounts(self) -> list[Account]:
        if not self.accounts_path.exists():
            return []
        return [Account(**a) for a in json.loads(self.accounts_path.read_text(encoding="utf-8"))]

    def account(self, name: str) -> Account | None:
        return next((a for a in self.accounts() if a.name == name), None)

    def put(self, account: Account) -> None:
        self._write([a for a in self.accounts() if a.name != account.name] + [account])

    def remove(self, name: str) -> bool:
        accounts = self.accounts()
        kept = [a for a in accounts if a.name != name]
        self._write(kept)
        return len(kept) != len(accounts)

    def _write(self, accounts: list[Account]) -> None:
        accounts = sorted(accounts, key=lambda a: a.name)
        write_file(self.accounts_path, json.dumps([a.__dict__ for a in accounts], indent=1), mode=0o600)
        write_file(self.folder / "passwd", "".join(f"{a.name}:{a.password_hash}\n" for a in accounts),
                   mode=0o640, group=BROKER_GROUP)
        write_file(self.folder / "acl", acl_text(accounts), mode=0o640, group=BROKER_GROUP)
        write_file(self.folder / "nats-users.conf", nats_users_text(accounts))

    def write_tls(self, ca_pem: bytes, cert_pem: bytes, key_pem: bytes) -> None:
        write_file(self.folder / "ca.crt", ca_pem)
        write_file(self.folder / "broker.crt", cert_pem)
        write_file(self.folder / "broker.key", key_pem, mode=0o640, group=BROKER_GROUP)

    def write_crl(self, crl_pem: bytes) -> None:
        write_file(self.folder / "crl.pem", crl_pem)
