"""Bring a database to the newest schema with Alembic (`mamori db upgrade`, and on `mamori serve`),
and keep the planner's statistics (ANALYZE) after each upgrade and daily."""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from server.cluster import migration_lock
from server.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate; if that changed the schema, gather statistics for the new indexes. Several servers
    starting together on PostgreSQL take turns: the first migrates, the others find nothing to do."""
    engine = make_engine(database_url)
    try:
        with migration_lock(engine):
            before = current_revision(database_url)
            command.upgrade(alembic_config(database_url), revision)
            start_chain(database_url)
            if current_revision(database_url) != before:
                analyze(database_url)
    finally:
        engine.dispose()


def start_chain(database_url: str) -> int:
    """Triggers for every registered evidence kind, and the rows an upgrade found already there
    chained (in table order): how many links that added (docs/evidence.md)."""
    from server.evidence import capture, chain

    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            if not inspect(conn).has_table("chain_head"):
                return 0  # a revision from before the chain
            capture.sync(conn)
            return chain.append(conn, everything=True)
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def analyze(database_url: str) -> float:
    """ANALYZE the whole database; returns the seconds it took.

    SQLite gathers no statistics by itself, and without them its planner reads today's visits
    through ix_visits_state (nearly every row) and walks whole indexes for the day's lists
    (docs/performance.md, "Scale"): 0.8 s on a 1.2 GB database. PostgreSQL's autovacuum does the
    same where it runs; doing it here as well costs a sample of each table."""
    engine = make_engine(database_url)
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return time.perf_counter() - started
