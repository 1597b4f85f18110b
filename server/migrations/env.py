"""Alembic environment: the URL comes from the caller (server.migrate) or MAMORI_DATABASE_URL."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning

from server.config import get_settings
from server.db import make_engine
from server.models import Base

config = context.config
url = config.attributes.get("database_url") or get_settings().database_url


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


def _migrate(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (copy, DROP, rename); with foreign keys on, SQLite refuses
        # to drop people or readers while cards, attendance or scans point at them. Checked after.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite,
                      compare_type=True)
    with context.begin_transaction(), warnings.catch_warnings():
        # A batch migration reflects the tables its table points at; SQLite cannot reflect the visits'
        # expression indexes (0009) and SQLAlchemy says so on every fresh install. They are not altered.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index",
                                SAWarning)
        context.run_migrations()
        if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").first()) is not None:
            raise RuntimeError(f"the migration left a row pointing nowhere: {tuple(broken)}")
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


run()
