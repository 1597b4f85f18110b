"""The test harness's own shortcuts give what the slow way gave: a migrated copy is a fresh database
at the newest schema, an empty one has no tables, and remembered argon2 answers are argon2's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.accounts.passwords import hash_password, verify_password
from server.accounts.service import add_user
from server.db import make_engine, make_session_factory, unit_of_work
from server.migrate import alembic_config, current_revision
from server.models import Base
from tests.support.databases import throwaway_database

pytestmark = pytest.mark.integration


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def test_a_database_is_a_fresh_copy_at_the_newest_schema(database_kind, database_url, tmp_path):
    assert current_revision(database_url) == head_revision()
    assert set(Base.metadata.tables) <= set(_tables(database_url))
    with _session(database_url) as db:
        assert db.scalars(select(User)).all() == []
        add_user(db, "kanri", "admin", "Kanri-2026-pass", datetime.now(UTC))
    (tmp_path / "next").mkdir()
    with throwaway_database(database_kind, tmp_path / "next") as next_url, _session(next_url) as db:
        assert db.scalars(select(User)).all() == [], "a copy saw a row written to another copy"


@contextmanager
def _session(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            yield db
    finally:
        engine.dispose()


def _tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_an_empty_database_has_no_tables(empty_database_url):
    assert _tables(empty_database_url) == []
    assert current_revision(empty_database_url) is None


def test_remembered_argon2_answers_are_argon2s():
    stored = hash_password("Kanri-2026-pass")
    assert stored.startswith("$argon2id$") and PasswordHasher().verify(stored, "Kanri-2026-pass")
    assert hash_password("Kanri-2026-pass") == stored  # remembered, not hashed again
    for _ in range(2):  # the second time from memory
        assert verify_password(stored, "Kanri-2026-pass")
        assert not verify_password(stored, "Kanri-2026-pasS")
        assert not verify_password("not a hash", "Kanri-2026-pass")
