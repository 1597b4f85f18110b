"""`mamori ca init`, `mamori readers provision` and `mamori readers revoke` as an office's IT person runs them.

(The credentials they make are tried on a real broker in tests/integration/gateway/test_tls.py.)
"""

from __future__ import annotations

import base64
import hashlib
import stat

import pytest
from cryptography import x509
from sqlalchemy import select

from gateway.config import load_config
from server.audit.models import AuditEvent
from server.cli import main
from server.db import make_engine, make_session_factory
from server.readers.models import Reader

pytestmark = pytest.mark.integration


@pytest.fixture
def mamori(monkeypatch, capsys, database_url, tmp_path):
    monkeypatch.setenv("MAMORI_DATABASE_URL", database_url)
    monkeypatch.setenv("MAMORI_PKI_DIR", str(tmp_path / "ca"))
    monkeypatch.setenv("MAMORI_BROKER_DIR", str(tmp_path / "broker"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        said = capsys.readouterr()
        return code, said.out, said.err

    return run


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_office_provisions_a_cabinet_and_revokes_it(mamori, tmp_path, database_url):
    code, out, _ = mamori("ca", "init", "--host", "mamori.local", "--host", "192.168.10.5",
                          "--server-dir", str(tmp_path / "mqtt"))
    assert code == 0 and f"MAMORI_MQTT_CLIENT_CERT={tmp_path / 'mqtt' / 'mamori-server.crt'}" in out
    assert mode(tmp_path / "ca" / "ca.key") == 0o600 and mode(tmp_path / "mqtt" / "mamori-server.key") == 0o640
    broker_cert = x509.load_pem_x509_certificate((tmp_path / "broker" / "broker.crt").read_bytes())
    names = broker_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"mamori.local", "localhost"} <= set(names.get_values_for_type(x509.DNSName))
    code, _, err = mamori("ca", "init", "--host", "mamori.local")
    assert code == 1 and "already exists" in err

    code, _, err = mamori("readers", "provision", "cab-2")
    assert code == 1 and "register it first" in err
    assert mamori("readers", "add", "cab-2", "--site", "nerima", "--role", "cabinet")[0] == 0
    bundle = tmp_path / "cab-2"
    code, out, _ = mamori("readers", "provision", "cab-2", "--out", str(bundle), "--on-pi", str(bundle))
    assert code == 0 and "cab-2.yaml" in out
    config = load_config(bundle / "cab-2.yaml")
    assert config.broker.url == "mqtts://mamori.local:8883" and config.broker.client_cert == bundle / "cab-2.crt"
    assert all(mode(bundle / f"cab-2.{ext}") == 0o600 for ext in ("key", "password", "allowlist-key"))
    cert = x509.load_pem_x509_certificate((bundle / "cab-2.crt").read_bytes())
    assert cert.subject.rfc4514_string() == "CN=cab-2"
    engine = make_engine(database_url)
    with make_session_factory(engine)() as db:
        assert config.offline_key() == bytes.fromhex(db.get(Reader, "cab-2").allowlist_key)
    # The password file holds the password given to the reader, as Mosquitto's $7$ (PBKDF2-SHA512) entry.
    entry = dict(line.split(":", 1) for line in (tmp_path / "broker" / "passwd").read_text().splitlines())["cab-2"]
    _, kind, rounds, salt, digest = entry.split("$")
    password = (bundle / "cab-2.password").read_text().strip()
    assert kind == "7" and base64.b64decode(digest) == hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(salt), int(rounds))
    assert "topic write mamori/v1/nerima/cab-2/scan" in (tmp_path / "broker" / "acl").read_text()
    code, _, err = mamori("readers", "provision", "cab-2")
    assert code == 1 and "revoke cab-2" in err

    code, out, err = mamori("readers", "revoke", "cab-2")
    assert code == 0 and format(cert.serial_number, "x") in out and "systemctl reload mosquitto" in err
    assert "cab-2" not in (tmp_path / "broker" / "passwd").read_text()
    assert "cab-2" not in (tmp_path / "broker" / "acl").read_text()
    crl = x509.load_pem_x509_crl((tmp_path / "broker" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    code, _, err = mamori("readers", "revoke", "cab-2")
    assert code == 1 and "no broker credentials" in err
    with make_session_factory(engine)() as db:
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    engine.dispose()
    assert actions[-2:] == ["reader_provisioned", "reader_revoked"]


def test_each_further_server_process_gets_its_own_credentials(mamori, tmp_path):
    """The broker makes a certificate's name the client id: two processes on one certificate would take
    each other's connection (docs/scale-out.md)."""
    assert mamori("ca", "init", "--host", "mamori.local", "--server-dir", str(tmp_path / "mqtt"))[0] == 0
    code, out, _ = mamori("ca", "server", "b", "--server-dir", str(tmp_path / "mqtt"))
    assert code == 0 and "MAMORI_NODE_ID=b" in out
    assert f"MAMORI_MQTT_CLIENT_CERT={tmp_path / 'mqtt' / 'mamori-server-b.crt'}" in out
    cert = x509.load_pem_x509_certificate((tmp_path / "mqtt" / "mamori-server-b.crt").read_bytes())
    assert cert.subject.rfc4514_string() == "CN=mamori-server-b"
    assert mode(tmp_path / "mqtt" / "mamori-server-b.key") == 0o640
    acl = (tmp_path / "broker" / "acl").read_text(encoding="utf-8")
    assert "user mamori-server-b\ntopic read mamori/v1/+/+/scan\n" in acl
    code, _, err = mamori("ca", "server", "b", "--server-dir", str(tmp_path / "mqtt"))
    assert code == 1 and "already has broker credentials" in err
    code, _, err = mamori("ca", "server", "Node B", "--server-dir", str(tmp_path / "mqtt"))
    assert code == 1 and "lower-case letters" in err
