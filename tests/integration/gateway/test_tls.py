"""The shipped Mosquitto config (TLS only) with credentials made by `mamori ca init` and `mamori readers provision`:
the real gateway and the server talk over it, a reader cannot speak for another, a revoked reader is refused."""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from sqlalchemy import select

from gateway import protocol
from gateway.app import Gateway
from gateway.config import parse_config
from gateway.net import tls_context
from gateway.simulator import SimulatedReader, new_id
from server.audit.models import AuditEvent
from server.config import Settings
from server.db import unit_of_work
from server.ingest.mqtt import BrokerLink
from server.ledger.models import ScanRecord
from server.provision.pki import OfficeCA
from server.provision.service import init_office, provision_reader, provision_server_node, revoke_reader
from tests.integration.gateway.conftest import wait_for_serial
from tests.support.broker import ShippedMosquitto
from tests.support.gateway import STAFF, lock_open, rdm6300, wait_for
from tests.support.office import SITE, Office

pytestmark = pytest.mark.integration


class TlsOffice:
    """The CA, the shipped broker on its files, and the server connected with its own certificate."""

    def __init__(self, tmp: Path, database_url: str):
        self.tmp = tmp
        self.settings = Settings(database_url=database_url, pki_dir=tmp / "ca", broker_dir=tmp / "broker")
        server = init_office(self.settings, datetime.now(UTC), name="test office", hosts=["127.0.0.1"],
                             server_dir=tmp / "mqtt")
        self.broker = ShippedMosquitto(tmp / "mosquitto", self.settings.broker_dir).start()
        self.office = Office(database_url, self.broker.url, mqtt_ca_file=str(server.ca_file),
                             mqtt_client_cert=str(server.client_cert), mqtt_client_key=str(server.client_key))

    def provision(self, reader: str, role: str) -> Path:
        """Registered through the API, provisioned as `mamori readers provision` does, the broker reloaded."""
        self.office.post("/readers", {"id": reader, "site": SITE, "role": role, "name": reader})
        folder = self.tmp / reader
        with unit_of_work(self.office.factory) as db:
            provision_reader(db, self.settings, datetime.now(UTC), reader, out=folder, on_pi=folder,
                             actor="test")
        self.reload()
        return folder / f"{reader}.yaml"

    def reload(self) -> None:
        before = self.broker.log().count("Reloading config")
        self.broker.reload()
        wait_for(lambda: self.broker.log().count("Reloading config") > before, what="the broker's reload")

    def gateway(self, config_file: Path, fobs) -> Gateway:
        """The provisioned YAML as written, with the card reader, pins and outbox of this test machine."""
        data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        data["broker"]["url"] = self.broker.url
        data.update(card_reader=rdm6300(fobs.port), pin_factory="mock",
                    outbox={"path": str(self.tmp / f"{data['reader']}-outbox.sqlite3"), "resend_after_s": 2})
        return Gateway(parse_config(yaml.safe_dump(data), str(config_file))).start()

    def scan_ids(self) -> set[str]:
        with self.office.factory() as db:
            return set(db.scalars(select(ScanRecord.id)))


@pytest.fixture
def tls(tmp_path, database_url):
    office = TlsOffice(tmp_path, database_url)
    try:
        with office.office:
            office.office.wait_connected()
            yield office
    finally:
        office.broker.kill()


def test_the_shipped_broker_listens_with_tls_only(tls):
    opened = set(re.findall(r"Opening ipv[46] listen socket on port (\d+)", tls.broker.log()))
    assert opened == {str(tls.broker.port)}  # no plain listener, not even Mosquitto's default :1883
    plain = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="plain")
    plain.connect("127.0.0.1", tls.broker.port, keepalive=5)  # the TCP connection only
    for _ in range(20):
        plain.loop(0.05)
    assert not plain.is_connected()


def test_two_provisioned_readers_are_answered_over_tls_and_their_scans_are_in_the_ledger(tls, fobs, pins):
    tls.office.add_person("調査 花子", STAFF, key_holder=True, training_on=date.today())
    gateway = tls.gateway(tls.provision("cab-2", "cabinet"), fobs)
    entrance_config = parse_config(tls.provision("entrance-2", "entrance").read_text(encoding="utf-8"))
    # The entrance without hardware: the simulator, holding the entrance's provisioned certificate.
    entrance = SimulatedReader(tls.broker.url, SITE, "entrance-2", tls=_tls(entrance_config.broker)).start()
    try:
        wait_for(gateway.publisher.connected.is_set, what="the reader's TLS connection")
        wait_for_serial(gateway)
        fobs.tap(STAFF)
        wait_for(lambda: lock_open(gateway), timeout=3, what="the unlock decided by the server over TLS")
        assert entrance.wait_decision(entrance.tap(STAFF)).action == "entry"
        assert [s["uid"] for s in tls.office.get("/scans", reader="cab-2")] == [STAFF]
        assert [s["uid"] for s in tls.office.get("/scans", reader="entrance-2")] == [STAFF]
    finally:
        entrance.stop()
        gateway.stop()
    with tls.office.factory() as db:
        actions = list(db.scalars(select(AuditEvent.action)))
    assert "reader_provisioned" in actions


def _tls(broker):
    return tls_context(broker.ca_file, broker.client_cert, broker.client_key)


def _client(folder: Path, reader: str, port: int) -> mqtt.Client:
    """A bare MQTT client holding `reader`'s provisioned certificate."""
    config = parse_config((folder / f"{reader}.yaml").read_text(encoding="utf-8"))
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:6]}")
    client.tls_set_context(_tls(config.broker))
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    wait_for(client.is_connected, what=f"{reader}'s connection")
    return client


def _scan(client: mqtt.Client, reader: str) -> str:
    scan = protocol.Scan(v=1, id=new_id(), uid="0A00000001", tech="em4100", at=datetime.now(UTC))
    client.publish(protocol.topic(SITE, reader, "scan"), protocol.encode(scan), qos=1).wait_for_publish(5)
    return scan.id


def test_a_readers_certificate_cannot_publish_on_another_readers_topic(tls):
    cab = tls.provision("cab-2", "cabinet").parent
    tls.provision("entrance-2", "entrance")
    client = _client(cab, "cab-2", tls.broker.port)
    try:
        forged = _scan(client, "entrance-2")
        own = _scan(client, "cab-2")  # sent after the forged one: once it is stored, the forged one had its chance
        wait_for(lambda: own in tls.scan_ids(), what="cab-2's own scan in the ledger")
        assert forged not in tls.scan_ids()
    finally:
        client.loop_stop()
        client.disconnect()


def test_servers_sharing_a_subscription_over_tls_each_hear_a_part_and_together_all(tls):
    """Several `mamori serve` processes on the shipped broker (docs/scale-out.md): each with its own
    credentials from `mamori ca server`, joining the shared subscription."""
    heard: dict[str, list[str]] = {"a": [], "b": []}

    def listener(node: str) -> BrokerLink:
        files = provision_server_node(tls.settings, datetime.now(UTC), node, server_dir=tls.tmp / "mqtt")

        def received(msg: mqtt.MQTTMessage, connection: int) -> None:
            heard[node].append(protocol.decode(msg.payload, protocol.Scan).id)
            link.ack(msg.mid, msg.qos, connection)

        link = BrokerLink(tls.broker.url, f"mamori-server-{node}", received, ca_file=str(files.ca_file),
                          client_cert=str(files.client_cert), client_key=str(files.client_key),
                          clean_start=True, share_group="mamori")
        return link

    links = [listener(node) for node in heard]
    cab = tls.provision("cab-2", "cabinet").parent  # reloads the broker, which reads the nodes' accounts too
    for link in links:
        link.start()
    client = _client(cab, "cab-2", tls.broker.port)
    try:
        wait_for(lambda: all(link.connected for link in links), what="both servers' connections")
        time.sleep(0.5)  # the SUBACKs follow the CONNACK
        sent = [_scan(client, "cab-2") for _ in range(40)]
        wait_for(lambda: sorted(heard["a"] + heard["b"]) == sorted(sent), timeout=10, what="every scan, once")
        assert heard["a"] and heard["b"], heard
    finally:
        client.loop_stop()
        client.disconnect()
        for link in links:
            link.stop()


def test_a_revoked_reader_is_cut_off_at_the_reload_and_refused_when_it_reconnects(tls, fobs, pins, caplog):
    caplog.set_level(logging.INFO, logger="mamori.gateway.mqtt")
    config = tls.provision("cab-2", "cabinet")
    gateway = tls.gateway(config, fobs)
    try:
        wait_for(gateway.publisher.connected.is_set, what="the reader's TLS connection")
        with unit_of_work(tls.office.factory) as db:
            revoked = revoke_reader(db, tls.settings, datetime.now(UTC), "cab-2", actor="test")
        assert revoked == [format(c.serial, "x") for c in OfficeCA(tls.settings.pki_dir).issued()
                           if c.name == "cab-2"]
        tls.reload()  # `systemctl reload mosquitto`: the CRL, the password file and the ACL
        # Still connected (Mosquitto checks a certificate when a connection starts), but the ACL holds
        # nothing for it any more: its scans go nowhere.
        wait_for_serial(gateway)
        fobs.tap(STAFF)
        wait_for(lambda: len(gateway.outbox), what="the scan in the outbox")
        time.sleep(1.5)  # a decision comes within ~5 ms when the scan gets through
        assert tls.office.get("/scans", reader="cab-2") == [] and not lock_open(gateway)
    finally:
        gateway.stop()
    gateway = tls.gateway(config, fobs)  # the reader restarts, or its network comes back
    try:
        wait_for(lambda: "certificate revoked" in caplog.text, timeout=10, what="the reader's log saying why")
        assert not gateway.publisher.connected.is_set()
        assert tls.office.ingest.link.connected  # the server's own certificate still works
    finally:
        gateway.stop()
    with tls.office.factory() as db:
        assert "reader_revoked" in set(db.scalars(select(AuditEvent.action)))


def test_a_reader_without_a_client_certificate_is_refused_and_says_what_to_check(tls, fobs, pins, tmp_path, caplog):
    folder = tls.provision("cab-2", "cabinet").parent
    data = yaml.safe_load((folder / "cab-2.yaml").read_text(encoding="utf-8"))
    del data["broker"]["client_cert"], data["broker"]["client_key"]
    (folder / "no-cert.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    gateway = tls.gateway(folder / "no-cert.yaml", fobs)
    try:
        wait_for(lambda: "cannot reach the broker" in caplog.text, timeout=10, what="the warning")
        assert "client_cert" in caplog.text and "certificate required" in caplog.text
        assert not gateway.publisher.connected.is_set()
    finally:
        gateway.stop()


def test_a_server_without_its_client_certificate_says_so(tls, caplog):
    caplog.set_level(logging.WARNING, logger="mamori.mqtt")
    link = BrokerLink(tls.broker.url, "mamori-server-2", lambda _m, _c: None,
                      ca_file=str(tls.tmp / "mqtt" / "ca.crt"))
    link.start()
    try:
        wait_for(lambda: "cannot reach the broker" in caplog.text, timeout=10, what="the server's warning")
        assert "certificate required" in caplog.text and "MAMORI_MQTT_CLIENT_CERT" in caplog.text
        assert not link.connected
    finally:
        link.stop()
