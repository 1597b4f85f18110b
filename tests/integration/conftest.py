"""A running office (API + MQTT ingest) per test, on a real broker and each database."""

from __future__ import annotations

import pytest

from tests.support.office import Office


@pytest.fixture
def office(database_url, broker):
    with Office(database_url, broker.url) as office:
        office.wait_connected()
        yield office
