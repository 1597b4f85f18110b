"""Every tap the reader kept reaches the ledger exactly once: through kill -9 and a forgetful broker."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from gateway.app import Gateway
from tests.integration.gateway.conftest import wait_for_serial
from tests.support.gateway import (
    GatewayProcess,
    config_for,
    derived_yaml,
    outbox_size,
    rdm6300,
    restart_ingest,
    wait_for,
)
from tests.support.office import SITE, Office

pytestmark = pytest.mark.integration


def fob(n: int) -> str:
    return f"C0{n:08X}"


def ledger(database_url: str) -> list[tuple[str, str]]:
    engine = create_engine(database_url)
    with engine.connect() as db:
        rows = db.execute(text("SELECT id, uid FROM scans WHERE reader_id = 'entrance'")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def stream(fobs, numbers, gap_s: float = 0.005) -> None:
    for n in numbers:
        fobs.tap(fob(n))
        time.sleep(gap_s)


@pytest.fixture
def entrance(office):
    office.post("/readers", {"id": "entrance", "site": SITE, "role": "entrance", "name": "受付"})


def test_a_gateway_killed_mid_stream_and_restarted_loses_and_repeats_nothing(
        office, entrance, broker, fobs, tmp_path):
    config = derived_yaml("entrance.yaml", tmp_path, broker_url=broker.url, card_reader=rdm6300(fobs.port))
    outbox = tmp_path / "entrance-outbox.sqlite3"

    first = GatewayProcess(config)
    wait_for(lambda: first.logged(r"(RDM6300 on)"), what="the first gateway to open the serial port")
    stream(fobs, range(0, 50))  # answered and acked as they come
    wait_for(lambda: len(first.kept()) >= 45 and outbox_size(outbox) == 0, what="the live part to be acked")
    office.ingest.stop()  # from here the server hears nothing: the rest waits in the outbox, unacked
    killer = threading.Timer(0.4, first.kill)  # kill -9 while taps keep coming
    killer.start()
    stream(fobs, range(50, 200))
    killer.join()
    kept_before = first.kept()
    assert outbox_size(outbox) >= 30, "the kill should leave scans that were kept but never acknowledged"

    restart_ingest(office)
    second = GatewayProcess(config)
    try:
        wait_for(lambda: second.logged(r"(RDM6300 on)"), what="the restarted gateway")
        stream(fobs, range(200, 300))
        wait_for(lambda: len(second.kept()) >= 90, what="the second stream to be kept")
        time.sleep(0.5)  # the last frames
        wait_for(lambda: outbox_size(outbox) == 0, timeout=60, what="every kept scan to be acknowledged")
    finally:
        second.stop()

    rows = ledger(office.database_url)
    ids = {scan_id for scan_id, _ in rows}
    uids = [uid for _, uid in rows]
    assert len(uids) == len(set(uids)), "a tap reached the ledger twice"
    assert set(kept_before) | set(second.kept()) <= ids, "a kept scan never reached the ledger"
    assert set(uids) <= {fob(n) for n in range(300)}
    assert {fob(n) for n in range(50)} | {fob(n) for n in range(210, 300)} <= set(uids)


@pytest.fixture
def forgetful_broker(broker):
    broker.restart(persistence=False)
    return broker


def test_a_broker_restarted_without_persistence_loses_nothing(
        forgetful_broker, database_url, fobs, pins, tmp_path):
    broker = forgetful_broker
    with Office(database_url, broker.url) as office:
        office.wait_connected()
        office.post("/readers", {"id": "entrance", "site": SITE, "role": "entrance", "name": "受付"})
        config = config_for("entrance.yaml", tmp_path, broker_url=broker.url, card_reader=rdm6300(fobs.port))
        gateway = Gateway(config).start()
        try:
            wait_for(gateway.publisher.connected.is_set, what="the gateway to reach the broker")
            wait_for_serial(gateway)
            stream(fobs, range(0, 100))
            wait_for(lambda: len(gateway.outbox) == 0, what="the first hundred acked")
            office.ingest.stop()  # the server is away: the broker queues the rest for its session ...
            stream(fobs, range(100, 200))
            wait_for(lambda: len(gateway.outbox) == 100, what="the second hundred kept, unacknowledged")
            broker.stop()  # ... and, restarted without persistence, forgets them all
            broker.start()
            restart_ingest(office)
            wait_for(lambda: len(gateway.outbox) == 0, timeout=60, what="the outbox to drain after the broker is back")
        finally:
            gateway.stop()

    uids = [uid for _, uid in ledger(database_url)]
    assert sorted(uids) == [fob(n) for n in range(200)]
