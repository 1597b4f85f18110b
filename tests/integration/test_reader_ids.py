"""A reader may not be registered under the server's own broker account (issue: nothing lost, nobody in).

Readers log in to Mosquitto with their id (their certificate's CN): a reader called `mamori-server` would
share the server's login and rights.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.provision.broker import SERVER_ACCOUNT, Account, acl_text
from server.readers.models import Reader
from server.readers.service import BROKER_ACCOUNTS, reserved_ids
from tests.integration.test_cli import mamori
from tests.support.office import SITE

pytestmark = pytest.mark.integration

def test_every_server_account_of_the_written_acl_is_reserved():
    acl = acl_text([Account(SERVER_ACCOUNT, "server", None, "$7$…"), Account("cabinet-1", "reader", SITE, "$7$…")])
    users = set(re.findall(r"^user\s+(\S+)", acl, re.M)) - {"cabinet-1"}
    assert users and users <= BROKER_ACCOUNTS


def test_the_configured_broker_user_and_client_id_are_reserved():
    settings = Settings(mqtt_username="Broker-Kanri", mqtt_client_id="office-server")
    assert {"mamori-server", "broker-kanri", "office-server"} <= reserved_ids(settings)


@pytest.mark.parametrize("reader_id", ["mamori-server", "client-id"])
def test_the_api_refuses_a_reader_named_like_the_server(office, reader_id):
    reader_id = office.settings.mqtt_client_id if reader_id == "client-id" else reader_id
    refused = office.post("/readers", {"id": reader_id, "site": SITE, "role": "cabinet", "name": "書庫"}, expect=422)
    assert "broker account" in refused["detail"] and "choose another id" in refused["detail"]
    with unit_of_work(office.factory) as db:
        assert db.get(Reader, reader_id) is None



def test_the_cli_registers_a_reader_and_refuses_the_servers_broker_user(database_url):
    added = mamori(database_url, "readers", "add", "cabinet-1", "--site", SITE, "--role", "cabinet", "--name", "書庫")
    assert added.returncode == 0, added.stderr
    for reader_id, env in (("mamori-server", {}), ("broker-user", {"MAMORI_MQTT_USERNAME": "broker-user"})):
        refused = mamori(database_url, "readers", "add", reader_id, "--site", SITE, "--role", "cabinet", **env)
        assert refused.returncode == 2
        assert "broker account" in refused.stderr and "Traceback" not in refused.stderr
    engine = make_engine(database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            assert list(db.scalars(select(Reader.id))) == ["cabinet-1"]
    finally:
        engine.dispose()
