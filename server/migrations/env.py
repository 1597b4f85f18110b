"""Alembic environment: the URL comes from the caller (server.migrate) or MAMORI_DATABASE_URL."""

from __future__ import annotations

from alembic import context

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
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


run()
