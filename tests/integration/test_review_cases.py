"""Sequences a careful reviewer found: late taps, held tags, timeouts, a stalled database, late decisions."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import select

from gateway import protocol
from server.checkouts.models import CabinetSession
from server.db import make_engine, make_session_factory
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from tests.support.databases import PG_ADMIN_URL
from tests.support.office import Office

pytestmark = pytest.mark.integration

ALICE, BOB = "0123456789ABCDEF", "0123456789ABCDEE"
FOLDER = "04A1B2C3D4E5F6"


@pytest.fixture
def office(office):
    """The running office, stocked for this module."""
    trained = datetime.now(UTC).date() - timedelta(days=10)
    office.add_reader("cabinet-1", "cabinet")
    office.add_person("佐藤 花子", ALICE, key_holder=True, training_on=trained)
    office.add_person("鈴木 次郎", BOB, key_holder=True, training_on=trained)
    office.add_item("調査ファイル R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
    office.cabinet = office.readers[-1]
    yield office


def _ms(value: datetime) -> datetime:
    """Times travel on the wire to the millisecond."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _sessions(office: Office) -> list[CabinetSession]:
    with office.factory() as db:
        return list(db.scalars(select(CabinetSession).order_by(CabinetSession.opened_at)))


def test_a_folder_held_at_the_antenna_is_one_checkout_not_a_checkout_and_a_return(office):
    cabinet = office.cabinet
    cabinet.wait_decision(cabinet.tap(ALICE))
    first = cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a"))
    again = cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a"))
    assert first.action == again.action == "checkout"
    assert len(office.get("/checkouts", state="open")) == 1


def test_a_card_tap_that_arrives_late_is_a_session_that_ended_when_the_next_card_came(office):
    cabinet = office.cabinet
    now = datetime.now(UTC)
    assert cabinet.wait_decision(cabinet.tap(ALICE, at=now)).action == "session_open"
    late = cabinet.tap(BOB, at=now - timedelta(seconds=5))  # seen before Alice's, delivered after
    assert cabinet.wait_acked(late)
    assert cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a")).action == "checkout"
    [row] = office.get("/checkouts", state="open")
    assert row["person"]["name"] == "佐藤 花子"
    bob, alice = _sessions(office)
    assert (bob.closed_reason, _ms(bob.closed_at)) == ("next_card", _ms(alice.opened_at))
    assert alice.closed_at is None


def test_closing_the_door_long_after_a_timeout_records_the_timeout(office):
    cabinet = office.cabinet
    t0 = datetime.now(UTC) - timedelta(minutes=15)
    opened = cabinet.tap(ALICE, at=t0)
    closed = cabinet.event("door_closed", at=t0 + timedelta(minutes=10))
    assert cabinet.wait_acked([opened, closed])
    [session] = _sessions(office)
    assert session.closed_reason == "timeout"
    assert session.closed_at == _ms(t0) + timedelta(seconds=60)


class _Wire:
    """The broker side of the worker, recorded: what would have gone out on MQTT."""

    connected = True

    def __init__(self):
        self.sent: list[tuple[str, bytes]] = []
        self.pubacks: list[int] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.sent.append((topic, payload))

    def ack(self, mid: int, qos: int, connection: int) -> None:
        self.pubacks.append(mid)


def _worker(office: Office, clock) -> tuple[IngestWorker, _Wire]:
    wire = _Wire()
    factory = make_session_factory(make_engine(office.database_url, pre_ping=False))
    return IngestWorker(factory, IngestService(office.settings), wire, clock), wire


def _scan_message(at: datetime, received: datetime, uid: str = ALICE) -> Incoming:
    scan = protocol.Scan(v=1, id=f"late-{time.monotonic_ns()}", uid=uid, tech="felica", at=at)
    return Incoming("mamori/v1/nerima/cabinet-1/scan", protocol.encode(scan), received, mid=7, qos=1)


def test_a_decision_that_would_arrive_too_late_is_not_sent_but_the_scan_is_recorded_and_acked(office):
    arrived = datetime.now(UTC)
    worker, wire = _worker(office, clock=lambda: arrived + timedelta(seconds=30))  # the commit took 30 s
    msg = _scan_message(arrived, arrived)
    worker.process([msg])
    channels = [topic.rsplit("/", 1)[1] for topic, _ in wire.sent]
    assert channels == ["ack"] and wire.pubacks == [7]
    assert [s["id"] for s in office.get("/scans")] == [protocol.decode(msg.payload, protocol.Scan).id]


def test_the_decision_carries_the_time_it_was_sent(office):
    arrived = datetime.now(UTC)
    sent_at = arrived + timedelta(seconds=2)
    worker, wire = _worker(office, clock=lambda: sent_at)
    worker.process([_scan_message(arrived, arrived)])
    [decision] = [protocol.decode(p, protocol.Decision) for t, p in wire.sent if t.endswith("/decision")]
    assert decision.result == "unlock" and decision.at == _ms(sent_at)


def test_the_ingest_survives_a_read_only_database_and_records_the_scan_when_it_is_writable(office, request):
    if not office.database_url.startswith("postgresql"):
        pytest.skip("a read-only switch is a PostgreSQL failover's symptom")
    dbname = office.database_url.rsplit("/", 1)[1]

    def switch(read_only: bool) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{dbname}" SET default_transaction_read_only = {"on" if read_only else "off"}')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))

    switch(True)
    request.addfinalizer(lambda: switch(False))
    cabinet = office.cabinet
    scan_id = cabinet.tap(BOB)
    assert not cabinet.wait_acked(scan_id, timeout=2)  # nothing is acked while nothing can be written
    switch(False)
    assert cabinet.wait_acked(scan_id, timeout=30)
    assert office.ingest.worker.alive
    assert [s["id"] for s in office.get("/scans")] == [scan_id]


def test_a_scan_whose_id_ends_in_a_newline_is_refused_and_the_ingest_goes_on(office):
    """`$` in a Python pattern also matches before a final newline; such an id must not reach an ack."""
    import paho.mqtt.client as mqtt

    cabinet = office.cabinet
    poison = json.dumps({"v": 1, "id": "abcdefgh\n", "uid": ALICE, "tech": "felica",
                         "at": datetime.now(UTC).isoformat()}).encode()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="poison", protocol=mqtt.MQTTv311)
    client.connect(office.ingest.link.host, office.ingest.link.port)
    client.loop_start()
    client.publish("mamori/v1/nerima/cabinet-1/scan", poison, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
    decision = cabinet.wait_decision(cabinet.tap(ALICE), timeout=10)
    assert decision is not None and decision.action == "session_open"
    letters = office.get("/dead-letters")
    assert [d["reason"] for d in letters] == ["invalid_payload"]


def test_a_late_card_between_a_session_and_its_checkout_takes_the_cabinet_over_as_it_did_at_the_time(office):
    """Bob's card was read between Alice's and the folder: the folder went out in Bob's session."""
    cabinet = office.cabinet
    now = datetime.now(UTC)
    opened = cabinet.tap(ALICE, at=now - timedelta(seconds=40))
    taken = cabinet.tap(FOLDER, tech="iso14443a", at=now - timedelta(seconds=10))
    assert cabinet.wait_acked([opened, taken])
    late = cabinet.tap(BOB, at=now - timedelta(seconds=30))  # read between the two, delivered after
    assert cabinet.wait_acked(late)
    [row] = office.get("/checkouts", state="open")
    assert row["person"]["name"] == "鈴木 次郎"
    back = cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a"))
    assert back.action == "return"
    [row] = office.get("/checkouts", state="returned")
    assert row["person"]["name"] == row["returned_by"]["name"] == "鈴木 次郎"
    alice, bob = _sessions(office)
    assert (alice.closed_reason, _ms(alice.closed_at)) == ("next_card", _ms(bob.opened_at))
