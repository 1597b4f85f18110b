"""`mamori backup` and `mamori restore` on SQLite and PostgreSQL, with an office's ingest writing meanwhile.

A backup taken mid-stream must be a ledger its own scans imply (not a torn copy): fed every scan
again, as readers re-send what the server lost, it becomes the live ledger. A backup taken at rest
restores to the same ledger.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from server.backup.dump import BackupError, restore, take_backup
from server.cli import main
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.grants.models import ClosedDay
from server.ingest.intake import Incoming
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from server.migrate import current_revision, upgrade
from tests.support.databases import throwaway_database
from tests.support.evidence import tamper
from tests.support.ledger import NoWire, snapshot
from tests.support.office import Office

pytestmark = pytest.mark.integration

PEOPLE = [f"0A000000{n:02d}" for n in range(30)]
TAGS = [f"04A1B2C3D4E5{n:02X}" for n in range(30)]
KEY_HOLDER = "0B00000001"


def _office_day(office: Office) -> tuple[list, threading.Thread]:
    """Thirty people in at the entrance and thirty folders out of the cabinet, tapped in a thread."""
    entrance = office.add_reader("entrance", "entrance")
    cabinet = office.add_reader("cabinet-1", "cabinet")
    office.add_person("鍵 管理者", KEY_HOLDER, key_holder=True, training_on=date.today() - timedelta(days=3))
    for n, (card, tag) in enumerate(zip(PEOPLE, TAGS)):
        office.add_person(f"職員 {n}", card)
        office.add_item(f"調査ファイル {n}", "folder", tag, "cabinet-1")
    cabinet.wait_decision(cabinet.tap(KEY_HOLDER))
    sent: list[str] = []

    def tap() -> None:
        for card, tag in zip(PEOPLE, TAGS):
            sent.append(entrance.tap(card))
            sent.append(cabinet.tap(tag, tech="iso14443a"))
            time.sleep(0.02)

    return [entrance, cabinet, sent], threading.Thread(target=tap)


def _replay(database_url: str, readers) -> None:
    """Every scan the readers ever sent, to an ingest on `database_url` (the known ones are skipped)."""
    engine = make_engine(database_url)
    try:
        worker = IngestWorker(make_session_factory(engine), IngestService(Settings(database_url=database_url)),
                              NoWire(), clock=lambda: datetime.now(UTC))
        sent = [message for reader in readers for message in reader._sent.values()]
        messages = [Incoming(topic, payload, datetime.now(UTC), mid=n, qos=1) for n, (topic, payload) in enumerate(sent)]
        worker.process(messages)
    finally:
        engine.dispose()


def _ledger(database_url: str) -> dict:
    engine = make_engine(database_url)
    try:
        return snapshot(make_session_factory(engine))
    finally:
        engine.dispose()


def test_a_backup_taken_while_the_ingest_writes_restores_to_a_whole_ledger(database_kind, database_url, broker,
                                                                         tmp_path):
    with Office(database_url, broker.url) as office:
        office.wait_connected()
        (entrance, cabinet, sent), tapping = _office_day(office)
        tapping.start()
        time.sleep(0.3)
        during = take_backup(database_url, tmp_path / "backups", datetime.now(UTC))
        tapping.join()
        assert entrance.wait_acked(sent[::2]) and cabinet.wait_acked(sent[1::2])
        at_rest = take_backup(database_url, tmp_path / "backups", datetime.now(UTC) + timedelta(seconds=1))
        live = snapshot(office.factory)
    assert len(live["checkouts"]) == len(TAGS) and len(live["presence"]) == len(PEOPLE)

    with throwaway_database(database_kind, tmp_path / "a", migrated=False) as first, \
            throwaway_database(database_kind, tmp_path / "b", migrated=False) as second:
        said = restore(at_rest, first)
        assert "newest schema" in said and "its evidence chain verifies" in said
        assert _ledger(first) == live
        assert "its evidence chain verifies" in restore(during, second)  # a snapshot: no write half-chained
        assert set(_ledger(second)["scans"]) <= set(live["scans"])
        _replay(second, [entrance, cabinet])
        assert _ledger(second) == live


def test_restore_refuses_a_database_that_is_not_empty_and_a_damaged_file(database_kind, database_url, tmp_path,
                                                                         monkeypatch, capsys):
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [datetime(2026, 1, d, 17, tzinfo=UTC) for d in (1, 2)]  # two January days: one month kept, one file
    for at in old:
        (folder / f"mamori-{at:%Y%m%dT%H%M%SZ}.sqlite3").write_bytes(b"old")
    for name, value in (("DATABASE_URL", database_url), ("BACKUP_KEEP_DAILY", "1"), ("BACKUP_KEEP_MONTHLY", "2")):
        monkeypatch.setenv(f"MAMORI_{name}", value)
    assert main(["backup", "--to", str(folder)]) == 0
    made = sorted(p.name for p in folder.iterdir())
    assert len(made) == 3 and "mamori-20260102T170000Z.sqlite3" in made  # today's (and its .sha256), January's newest
    backup = next(p for p in folder.iterdir() if p.suffix in (".sqlite3", ".pgdump") and p.stat().st_size > 3)

    capsys.readouterr()
    assert main(["restore", str(backup), "--database", database_url]) == 1
    said = capsys.readouterr().err
    assert "already has" in said and "empty database" in said
    assert current_revision(database_url) is not None

    damaged = tmp_path / backup.name
    data = backup.read_bytes()
    damaged.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    (tmp_path / f"{backup.name}.sha256").write_text((folder / f"{backup.name}.sha256").read_text())
    (tmp_path / "empty").mkdir()
    with throwaway_database(database_kind, tmp_path / "empty", migrated=False) as empty:
        with pytest.raises(BackupError, match="does not match"):
            restore(damaged, empty)
        assert current_revision(empty) is None


def test_a_postgresql_backup_without_pg_dump_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="postgresql-client"):
        take_backup("postgresql+psycopg://postgres@127.0.0.1/x", tmp_path / "b", datetime.now(UTC))
    assert not list(Path(tmp_path / "b").glob("mamori-*"))


def test_a_backup_of_an_older_schema_restores_and_says_to_upgrade(database_kind, empty_database_url, tmp_path):
    upgrade(empty_database_url, "0014")
    backup = take_backup(empty_database_url, tmp_path / "backups", datetime.now(UTC))
    (tmp_path / "new").mkdir()
    with throwaway_database(database_kind, tmp_path / "new", migrated=False) as new:
        said = restore(backup, new)
        assert "at schema 0014, older than this mamori's" in said and "mamori db upgrade" in said
        assert current_revision(new) == "0014"


def test_a_backup_whose_evidence_was_edited_restores_and_says_its_chain_does_not_verify(database_kind, database_url,
                                                                                        tmp_path, capsys):
    engine = make_engine(database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            db.add(ClosedDay(day=date(2026, 12, 28), label="仕事納め", created_at=datetime.now(UTC), created_by="kanri"))
    finally:
        engine.dispose()
    tamper(database_url, "UPDATE closed_days SET label = '営業日'")
    backup = take_backup(database_url, tmp_path / "backups", datetime.now(UTC))
    (tmp_path / "new").mkdir()
    with throwaway_database(database_kind, tmp_path / "new", migrated=False) as new:
        assert main(["restore", str(backup), "--database", new]) == 1
        said = capsys.readouterr().err
        assert "restored, but its evidence chain does not verify" in said and "closed_days" in said
