"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from server.db import make_engine
from server.migrate import upgrade
from server.models import Base

pytestmark = pytest.mark.integration


def test_migrations_build_exactly_what_the_models_describe(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            # The same options as server/migrations/env.py, plus server defaults; nothing is ignored.
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "compare_server_default": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "the models and the migrations differ; write a migration:\n" + "\n".join(
        map(repr, differences))


def test_upgrading_twice_changes_nothing(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        upgrade(database_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == before
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'mamori.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
    assert (tmp_path / "mamori.db-wal").exists() or (tmp_path / "mamori.db").exists()
