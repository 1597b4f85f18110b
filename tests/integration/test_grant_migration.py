"""Migration 0020: no office is locked out by the upgrade, and sign-offs cannot be edited afterwards."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.db import make_engine
from server.migrate import alembic_config, upgrade

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(empty_database_url):
    return empty_database_url


def test_every_key_holder_gets_every_cabinet_at_any_time_and_reviews_are_append_only(database_url):
    upgrade(database_url, "0015")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            for reader, role in (("cab-1", "cabinet"), ("cab-2", "cabinet"), ("door", "entrance")):
                conn.execute(text("INSERT INTO readers (id, site, role, name, created_at) "
                                  "VALUES (:id, 'nerima', :role, :id, '2026-12-01 09:00:00')"), {"id": reader, "role": role})
            for pid, holder in ((1, True), (2, True), (3, False)):
                conn.execute(text("INSERT INTO people (id, name, active, key_holder, roles, created_at) "
                                  "VALUES (:id, 'x', :kh, :kh, '[]', '2026-12-01 09:00:00')"), {"id": pid, "kh": holder})
        upgrade(database_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT cabinet_id, person_id, role, expires_at FROM cabinet_grants "
                                     "ORDER BY cabinet_id, person_id")).all()
            assert [tuple(r) for r in rows] == [("cab-1", 1, None, None), ("cab-1", 2, None, None),
                                                ("cab-2", 1, None, None), ("cab-2", 2, None, None)]
            assert {str(h) for h in conn.execute(text("SELECT hours FROM cabinet_grants")).scalars()} <= {"[]"}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO access_reviews (quarter, signed_at, signed_by, digest, lines) "
                              "VALUES ('2026-Q4', '2026-12-01 09:00:00', 'kanri', :d, 2)"), {"d": "0" * 64})
        for change in ("UPDATE access_reviews SET signed_by = 'someone'", "DELETE FROM access_reviews"):
            with pytest.raises(DBAPIError, match="append-only|is evidence"), engine.begin() as conn:
                conn.execute(text(change))
        command.downgrade(alembic_config(database_url), "0015")
        upgrade(database_url)  # and up again, from a clean 0015
    finally:
        engine.dispose()
