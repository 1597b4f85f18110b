"""A reader that talks to the broker over TLS with its own client certificate (mqtts://)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from gateway.app import Gateway
from tests.integration.gateway.conftest import wait_for_serial
from tests.support.broker import Mosquitto, free_port
from tests.support.gateway import STAFF, config_for, lock_open, rdm6300, wait_for
from tests.support.office import SITE, Office

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make certificates"),
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> Path:
    """A CA, a broker certificate for 127.0.0.1, and a client certificate for the reader."""
    folder.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mamori test CA",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)
    for name, extra in (("broker", ["-addext", "subjectAltName=IP:127.0.0.1"]), ("cabinet-1", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", *extra,
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-copy_extensions", "copy", "-out", f"{name}.crt", cwd=folder)
    return folder


@pytest.fixture
def tls_broker(tmp_path):
    """Plain MQTT for the server, and a TLS listener that wants a client certificate for the reader."""
    certs = make_certificates(tmp_path / "certs")
    tls_port = free_port()
    broker = Mosquitto(tmp_path / "broker", extra_config="\n".join([
        f"listener {tls_port} 127.0.0.1",
        f"cafile {certs / 'ca.crt'}",
        f"certfile {certs / 'broker.crt'}",
        f"keyfile {certs / 'broker.key'}",
        "require_certificate true",
    ])).start()
    broker.tls_url = f"mqtts://127.0.0.1:{tls_port}"
    broker.certs = certs
    yield broker
    broker.kill()


def test_a_reader_with_its_client_certificate_is_answered_over_tls(tls_broker, database_url, fobs, pins, tmp_path):
    certs = tls_broker.certs
    with Office(database_url, tls_broker.url, unlock_s=1) as office:
        office.wait_connected()
        office.post("/readers", {"id": "cabinet-1", "site": SITE, "role": "cabinet", "name": "キャビネット"})
        office.add_person("調査 花子", STAFF, key_holder=True, training_on=date.today())
        config = config_for("cabinet.yaml", tmp_path, broker_url=tls_broker.url, card_reader=rdm6300(fobs.port))
        config = config.model_copy(update={"broker": config.broker.model_copy(update={
            "url": tls_broker.tls_url, "ca_file": certs / "ca.crt",
            "client_cert": certs / "cabinet-1.crt", "client_key": certs / "cabinet-1.key"})})
        gateway = Gateway(config).start()
        try:
            wait_for(gateway.publisher.connected.is_set, what="the TLS connection")
            wait_for_serial(gateway)
            fobs.tap(STAFF)
            wait_for(lambda: lock_open(gateway), timeout=3, what="the unlock over TLS")
        finally:
            gateway.stop()


def test_a_reader_without_a_client_certificate_is_refused_and_says_what_to_check(
        tls_broker, fobs, pins, tmp_path, caplog):
    config = config_for("cabinet.yaml", tmp_path, broker_url=tls_broker.url, card_reader=rdm6300(fobs.port))
    config = config.model_copy(update={"broker": config.broker.model_copy(update={
        "url": tls_broker.tls_url, "ca_file": tls_broker.certs / "ca.crt"})})
    gateway = Gateway(config).start()
    try:
        wait_for(lambda: "cannot reach the broker" in caplog.text, timeout=5, what="the warning")
        assert "client_cert" in caplog.text
        assert not gateway.publisher.connected.is_set()
    finally:
        gateway.stop()
