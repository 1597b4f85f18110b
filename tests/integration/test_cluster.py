"""What several servers share through the database (server/cluster.py): the leader of the periodic jobs,
a batch's locks, one migration at a time; and SQLite refusing a second server."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from server.cluster import MIGRATION_KEY, AlreadyServing, Leader, migration_lock, serialise, sole_server
from server.db import make_engine
from server.periodic import Periodic

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_one_leader_at_a_time_and_the_next_takes_over_when_it_goes(engine, database_kind):
    first, second = Leader(engine, check_every_s=60), Leader(engine, check_every_s=60)
    try:
        first.start()
        second.start()
        if database_kind == "sqlite":  # one process only: it leads
            assert first.leading and second.leading
            return
        assert first.leading and not second.leading
        first.stop()  # its connection closed: the lock is free
        assert second.check()
        assert not first.check()  # and the old leader, asking again, finds it taken
    finally:
        first.stop()
        second.stop()


def test_a_job_runs_its_rounds_only_while_its_process_leads():
    class Counting(Periodic):
        name = "counting"
        rounds = 0

        def check(self) -> int:
            self.rounds += 1
            return 1

    leading = threading.Event()
    job = Counting(0.01)
    job.gate = leading.is_set
    job.start()
    try:
        threading.Event().wait(0.1)
        assert job.rounds == 0
        leading.set()
        threading.Event().wait(0.1)
        assert job.rounds > 0
    finally:
        job.stop()


def test_two_batches_of_the_same_card_wait_for_each_other_and_of_other_cards_do_not(engine, database_kind):
    if database_kind == "sqlite":
        pytest.skip("SQLite: one server, whose writes are serialised already")
    with engine.connect() as holder, engine.connect() as other:
        serialise(holder, ["reader:cabinet-1", "uid:0123"])
        other.execute(text("SET lock_timeout = '200ms'"))
        serialise(other, ["uid:4567", "reader:entrance"])  # nothing in common: at once
        with pytest.raises(OperationalError, match="lock timeout"):
            serialise(other, ["uid:4567", "uid:0123"])
        other.rollback()
        holder.commit()  # the transaction's end lets go
        serialise(other, ["uid:0123"])
        other.rollback()


def test_a_second_migration_waits_for_the_first(engine, database_kind):
    if database_kind == "sqlite":
        pytest.skip("SQLite: one server")
    with engine.connect() as other:
        with migration_lock(engine):
            other.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError):
                other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_KEY})
            other.rollback()
        assert other.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_KEY})
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_KEY})


def test_sqlite_refuses_a_second_server_on_the_same_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'office.db'}"
    held = sole_server(url)
    try:
        with pytest.raises(AlreadyServing, match="PostgreSQL"):
            sole_server(url)
        serve = subprocess.run([sys.executable, "-m", "server.cli", "serve"], capture_output=True, text=True,
                               env={"MAMORI_DATABASE_URL": url, "PATH": ""}, timeout=60)
        assert serve.returncode == 2 and "SQLite takes one server only" in serve.stderr
    finally:
        held.close()
    assert sole_server("postgresql+psycopg://x@127.0.0.1/y") is None
