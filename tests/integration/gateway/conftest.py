"""A cabinet office (server, broker, people, a folder) and a gateway on a pty RDM6300 with mock pins."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gateway.app import Gateway
from server.db import unit_of_work
from server.readers.models import Reader
from tests.support.databases import migrated_sqlite
from tests.support.gateway import CABINET_KEY, FOLDER, OTHER_STAFF, STAFF, config_for, rdm6300, wait_for
from tests.support.office import SITE, Office
from tests.support.rdm6300 import FobField


@pytest.fixture
def database_url(tmp_path):
    # The gateway does not care which database the server uses; the server's own tests cover both.
    return migrated_sqlite(tmp_path / "mamori.db")


@pytest.fixture
def fobs():
    field = FobField()
    yield field
    field.close()


@pytest.fixture
def office(database_url, broker):
    with Office(database_url, broker.url, unlock_s=1, allowlist_check_s=0.2) as office:
        office.wait_connected()
        office.post("/readers", {"id": "cabinet-1", "site": SITE, "role": "cabinet", "name": "キャビネット"})
        with unit_of_work(office.factory) as db:
            db.get(Reader, "cabinet-1").allowlist_key = CABINET_KEY
        office.add_person("調査 花子", STAFF, key_holder=True, training_on=date.today() - timedelta(days=30))
        office.add_person("調査 次郎", OTHER_STAFF, key_holder=False)
        office.add_item("調査書類 2026-0001", "folder", FOLDER, "cabinet-1", case="2026-0001")
        yield office


@pytest.fixture
def make_gateway(tmp_path, broker, fobs, pins):
    started: list[Gateway] = []

    def make(**changes) -> Gateway:
        changes = {"allowlist_key": CABINET_KEY, **changes}
        config = config_for("cabinet.yaml", tmp_path, broker_url=broker.url, card_reader=rdm6300(fobs.port),
                            **changes)
        gateway = Gateway(config).start()
        started.append(gateway)
        wait_for(gateway.publisher.connected.is_set, what="the gateway to reach the broker")
        wait_for_serial(gateway)
        return gateway

    yield make
    for gateway in started:
        gateway.stop()


def wait_for_serial(gateway: Gateway) -> None:
    # A frame written before the reader opens its port is lost, as with a real module.
    wait_for(lambda: gateway.reader is not None and gateway.reader._port is not None, what="the serial port")
