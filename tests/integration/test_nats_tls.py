"""A NATS broker (docs/scale-out.md) with the credentials `mamori ca init` and `mamori readers provision`
make: MQTT over TLS only, each certificate mapped to its user in the generated nats-users.conf. The server
and a provisioned reader talk over it; a reader cannot speak for another, cannot read NATS's internal
deliveries, and a revoked reader is refused once the broker has restarted."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from gateway import protocol
from gateway.config import parse_config
from gateway.simulator import SimulatedReader
from server.config import Settings
from server.db import unit_of_work
from server.ledger.models import ScanRecord
from server.provision.service import init_office, provision_reader, revoke_reader
from tests.integration.gateway.test_tls import _scan, _tls
from tests.support.gateway import STAFF, wait_for
from tests.support.nats import NatsCluster, nats_binary
from tests.support.office import SITE, Office

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(nats_binary() is None, reason="nats-server is not installed (apt-get install "
                                 "nats-server; deploy/test.sh does it as root)")]


class NatsOffice:
    def __init__(self, tmp: Path, database_url: str):
        self.tmp = tmp
        self.settings = Settings(database_url=database_url, pki_dir=tmp / "ca", broker_dir=tmp / "broker")
        server = init_office(self.settings, datetime.now(UTC), name="test office", hosts=["127.0.0.1"],
                             server_dir=tmp / "mqtt")
        self.broker = NatsCluster(tmp / "nats", nodes=1, provisioned=self.settings.broker_dir).start()
        self.office = Office(database_url, self.broker.url, mqtt_ca_file=str(server.ca_file),
                             mqtt_client_cert=str(server.client_cert), mqtt_client_key=str(server.client_key))

    def provision(self, reader: str, role: str) -> Path:
        self.office.post("/readers", {"id": reader, "site": SITE, "role": role, "name": reader})
        with unit_of_work(self.office.factory) as db:
            provision_reader(db, self.settings, datetime.now(UTC), reader, out=self.tmp / reader,
                             on_pi=self.tmp / reader, actor="test")
        self.restart()
        return self.tmp / reader / f"{reader}.yaml"

    def restart(self) -> None:
        """A restart, not a reload: nats-server 2.9.10 stops delivering to the MQTT clients connected
        across a reload of its users (tried 2026-12-03), so the users file is taken in by a restart."""
        link = self.office.ingest.link
        before = link.connection
        self.broker.restart()
        wait_for(lambda: link.connection > before and link.connected, timeout=30, what="the server back on the broker")

    def scan_ids(self) -> set[str]:
        with self.office.factory() as db:
            return set(db.scalars(select(ScanRecord.id)))


@pytest.fixture
def nats(tmp_path, database_url):
    office = NatsOffice(tmp_path, database_url)
    try:
        with office.office:
            office.office.wait_connected(timeout=30)
            yield office
    finally:
        office.broker.stop()


def _connect(config_file: Path, port: int) -> tuple[mqtt.Client, list[object]]:
    """A bare client with a provisioned certificate; the second value collects its SUBACK codes."""
    config = parse_config(config_file.read_text(encoding="utf-8"))
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{config.reader}", protocol=mqtt.MQTTv311)
    client.tls_set_context(_tls(config.broker))
    granted: list[object] = []
    client.on_subscribe = lambda _c, _u, _mid, codes, _p: granted.extend(codes)
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    return client, granted


def test_a_provisioned_reader_is_answered_and_can_speak_and_listen_for_itself_only(nats):
    nats.office.add_person("調査 花子", STAFF, key_holder=True, training_on=date.today())
    entrance = nats.provision("entrance-2", "entrance")
    cabinet = nats.provision("cab-2", "cabinet")
    config = parse_config(entrance.read_text(encoding="utf-8"))
    reader = SimulatedReader(nats.broker.url, SITE, "entrance-2", tls=_tls(config.broker)).start()
    client, granted = _connect(cabinet, nats.broker.mqtt_ports[0])
    try:
        assert reader.wait_decision(reader.tap(STAFF), timeout=15).action == "entry"
        wait_for(client.is_connected, what="cab-2's connection")
        client.subscribe([(protocol.topic(SITE, "entrance-2", "decision"), 1)])
        client.subscribe([("$MQTT/sub/#", 0)])  # NATS's internal deliveries to every QoS 1 subscriber
        client.subscribe([(protocol.topic(SITE, "cab-2", "decision"), 1)])
        wait_for(lambda: len(granted) == 3, what="three SUBACKs")
        assert [code.is_failure for code in granted] == [True, True, False]
        forged = _scan(client, "entrance-2")
        own = _scan(client, "cab-2")
        wait_for(lambda: own in nats.scan_ids(), timeout=10, what="cab-2's own scan in the ledger")
        assert forged not in nats.scan_ids()
    finally:
        client.loop_stop()
        client.disconnect()
        reader.stop()


def test_a_revoked_reader_is_refused_after_the_restart(nats):
    cabinet = nats.provision("cab-2", "cabinet")
    with unit_of_work(nats.office.factory) as db:
        revoke_reader(db, nats.settings, datetime.now(UTC), "cab-2", actor="test")
    nats.restart()
    client, _granted = _connect(cabinet, nats.broker.mqtt_ports[0])
    try:
        time.sleep(2)
        assert not client.is_connected()
        assert nats.office.ingest.link.connected  # the server's own certificate still works
    finally:
        client.loop_stop()
        client.disconnect()
