"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from server.db import make_engine
from server.migrate import analyze, upgrade
from server.models import Base
from tests.support.databases import throwaway_postgres

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(empty_database_url):
    """These tests run the migrations themselves, from an empty database."""
    return empty_database_url


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


def _index_definitions(url: str) -> dict[str, str]:
    """Every index as the database itself states it (SQLite: its CREATE text; PostgreSQL: pg_indexes)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                         "AND sql IS NOT NULL")).all()
            else:
                rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes "
                                         "WHERE schemaname = current_schema()")).all()
    finally:
        engine.dispose()
    return {name: re.sub(r"\s+", " ", definition.replace('"', "")) for name, definition in rows}


def test_every_index_reads_as_the_models_write_it(database_url, tmp_path):
    """What compare_metadata cannot see: Alembic skips expression indexes on SQLite (it cannot reflect
    them) and compares no partial index's WHERE on either database. So build the schema a second way,
    from the models alone, and compare each index's definition as the database keeps it."""
    upgrade(database_url)
    with ExitStack() as stack:
        if database_url.startswith("sqlite"):
            from_models = f"sqlite:///{tmp_path / 'from_models.db'}"
        else:
            from_models = stack.enter_context(throwaway_postgres())
        engine = make_engine(from_models)
        try:
            Base.metadata.create_all(engine)
        finally:
            engine.dispose()
        expected = _index_definitions(from_models)
    migrated = _index_definitions(database_url)
    migrated.pop("alembic_version_pkc", None)
    assert "ix_visits_moment" in expected and "WHERE" in expected["ix_visits_in"]
    assert migrated == expected


def test_statistics_are_gathered_after_an_upgrade_and_on_demand(database_url):
    """SQLite never gathers statistics by itself, and without them it plans the day's lists badly
    (docs/performance.md, "Scale"): an upgrade that changed the schema analyzes, and so does the
    daily `mamori visits anonymise` through analyze()."""
    engine = make_engine(database_url)
    sqlite = engine.dialect.name == "sqlite"
    stats = (text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'readers'") if sqlite else
             text("SELECT greatest(reltuples, 0) FROM pg_class WHERE relname = 'readers'"))
    try:
        upgrade(database_url)
        with engine.begin() as conn:
            if sqlite:
                assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
            conn.execute(text("INSERT INTO readers (id, site, role, name, created_at) "
                              "VALUES ('entrance-1', 'ward', 'entrance', '入口', CURRENT_TIMESTAMP)"))
            assert conn.execute(stats).scalar() == 0
        upgrade(database_url)  # nothing to migrate: no ANALYZE
        with engine.connect() as conn:
            assert conn.execute(stats).scalar() == 0
        analyze(database_url)
        with engine.connect() as conn:
            assert conn.execute(stats).scalar() == 1
    finally:
        engine.dispose()


def test_alert_folding_fills_last_at_from_opened_at_and_downgrades_to_0009(database_url):
    from alembic import command

    from server.migrate import alembic_config

    upgrade(database_url, "0009")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO alerts (type, severity, state, opened_at, subject) "
                              "VALUES ('tamper', 'high', 'open', '2026-12-01 09:00:00', 'entrance: tamper')"))
        upgrade(database_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count, last_at = opened_at, fold_key FROM alerts")).one() == (1, True, None)
        command.downgrade(alembic_config(database_url), "0009")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT type FROM alerts")).scalars().all() == ["tamper"]
            columns = {c["name"] for c in inspect(conn).get_columns("alerts")}
            assert {"count", "last_at", "fold_key"}.isdisjoint(columns)
            assert not inspect(conn).has_table("alert_occurrences")
    finally:
        engine.dispose()
