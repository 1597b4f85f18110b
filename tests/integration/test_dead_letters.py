"""Refused payloads are bounded: folded per reader and reason, limited per reader, pruned after retention.

20,000 bad payloads from one reader once left 15,128 dead-letter rows (17 MB) that were never deleted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from server.alerts.models import Alert
from server.db import make_engine, make_session_factory, unit_of_work
from server.ingest.intake import Incoming
from server.ingest.refusals import DeadLetterBook, RefusalLimit
from server.ledger.models import DeadLetter, ScanRecord
from server.ledger.retention import prune_dead_letters
from server.migrate import upgrade
from tests.integration.test_cli import mamori
from tests.support.office import SITE, Office

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
CABINET = f"mamori/v1/{SITE}/cabinet-1/scan"


@pytest.fixture
def factory(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def refuse(factory, limit: RefusalLimit, letters: list[tuple[str, bytes, datetime, str]],
           fold: timedelta = timedelta(hours=1)) -> None:
    with unit_of_work(factory) as db:
        book = DeadLetterBook(db, limit, fold)
        for topic, payload, at, reason in letters:
            book.refuse(Incoming(topic, payload, at), reason, f"{reason} detail")


def rows(factory) -> list[DeadLetter]:
    with factory() as db:
        return list(db.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def test_one_readers_repeated_refusals_are_one_row_with_a_count_and_the_first_payload(factory):
    limit = RefusalLimit(per_s=100, burst=1000)
    first = [(CABINET, f"bad {n}".encode(), T0 + timedelta(seconds=n), "invalid_json") for n in range(30)]
    refuse(factory, limit, first[:10])
    refuse(factory, limit, first[10:])  # a later unit of work folds into the same row
    refuse(factory, limit, [(CABINET, b"{}", T0 + timedelta(seconds=40), "invalid_payload"),
                            (f"mamori/v1/{SITE}/entrance/scan", b"x", T0 + timedelta(seconds=41), "invalid_json")])
    folded, other_reason, other_reader = rows(factory)
    assert (folded.count, folded.payload, folded.source) == (30, b"bad 0", f"mamori/v1/{SITE}/cabinet-1")
    assert folded.received_at == T0 and folded.last_received_at == T0 + timedelta(seconds=29)
    assert (other_reason.reason, other_reason.count) == ("invalid_payload", 1)
    assert (other_reader.source, other_reader.count) == (f"mamori/v1/{SITE}/entrance", 1)


def test_a_refusal_after_the_fold_window_starts_a_new_row(factory):
    limit = RefusalLimit(per_s=100, burst=1000)
    refuse(factory, limit, [(CABINET, b"a", T0, "invalid_json")])
    refuse(factory, limit, [(CABINET, b"b", T0 + timedelta(hours=2), "invalid_json")])
    assert [(r.payload, r.count) for r in rows(factory)] == [(b"a", 1), (b"b", 1)]


def test_refusals_past_the_limit_are_counted_into_the_next_row_kept(factory):
    limit = RefusalLimit(per_s=1, burst=5)
    refuse(factory, limit, [(CABINET, b"x", T0, "invalid_json")] * 20)
    [row] = rows(factory)
    assert row.count == 5 and limit.held[(f"mamori/v1/{SITE}/cabinet-1", "invalid_json")] == 15
    refuse(factory, limit, [(CABINET, b"y", T0 + timedelta(seconds=10), "invalid_json")])
    [row] = rows(factory)
    assert row.count == 21 and not limit.held


def test_dead_letters_older_than_the_retention_are_pruned(factory):
    limit = RefusalLimit(per_s=100, burst=1000)
    refuse(factory, limit, [(CABINET, b"old", T0 - timedelta(days=91), "invalid_json"),
                            (CABINET, b"new", T0 - timedelta(days=89), "invalid_payload")], fold=timedelta(0))
    with unit_of_work(factory) as db:
        assert prune_dead_letters(db, T0, days=90) == 1
    assert [r.payload for r in rows(factory)] == [b"new"]


def test_the_daily_retention_command_prunes_dead_letters(database_url, factory):
    refuse(factory, RefusalLimit(per_s=1, burst=10), [(CABINET, b"old", T0 - timedelta(days=400), "invalid_json")])
    run = mamori(database_url, "dead-letters", "prune", MAMORI_DEAD_LETTER_RETENTION_DAYS="30")
    assert run.returncode == 0, run.stderr
    assert "deleted 1 dead letters last refused more than 30 days ago" in run.stdout
    assert rows(factory) == []
    service = (ROOT / "deploy/mamori-retention.service").read_text()
    assert "ExecStart=/opt/mamori/.venv/bin/mamori dead-letters prune" in service


def test_a_flood_of_bad_payloads_from_one_reader_leaves_few_rows_no_alerts_and_every_valid_scan(database_url,
                                                                                              broker):
    with Office(database_url, broker.url, refused_per_reader_burst=20,
                refused_per_reader_per_s=0.001) as office:
        office.wait_connected()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        office.add_person("佐藤 花子", "0A0B0C0D", key_holder=True, training_on=datetime.now(UTC).date())
        flood = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="flood", protocol=mqtt.MQTTv311)
        flood.connect(office.ingest.link.host, office.ingest.link.port)
        flood.loop_start()
        try:
            for n in range(2000):
                flood.publish(CABINET, b"not json %d" % n if n % 2 else json.dumps({"v": 1}).encode(), qos=1)
            flood.publish(CABINET, b"last", qos=1).wait_for_publish(10)
        finally:
            flood.disconnect()
            flood.loop_stop()
        # A replay of an outbox after the flood: old, valid scans, every one recorded (none gets a decision).
        replayed = [cabinet.tap("0A0B0C0D", at=datetime.now(UTC) - timedelta(hours=2, seconds=-n)) for n in range(500)]
        assert cabinet.wait_acked(replayed, timeout=60)
        with office.factory() as db:
            assert db.scalar(select(func.count()).select_from(ScanRecord)) == 500
            letters = list(db.scalars(select(DeadLetter)))
            assert db.scalar(select(func.count()).select_from(Alert)) == 0
        held = sum(office.ingest.worker.refusals.held.values())
        assert {d.reason for d in letters} == {"invalid_json", "invalid_payload"} and len(letters) == 2
        assert sum(d.count for d in letters) + held == 2001
        assert held >= 2001 - 21  # past the burst (and one token at most while the test runs): counted, not kept


