"""Today's evidence joins the chain on upgrade: training, the roster's changes, self-inspections, access
reviews, grants and closed days, card checks. Rows written before their kind was registered are chained
by `mamori db upgrade`, and a tampered one is named by `mamori ledger verify`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.card_keys.models import CardCheck
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.evidence import capture
from server.evidence.chain import kinds, position
from server.evidence.runs import snapshot_verify
from server.grants.models import AccessReview, CabinetGrant, ClosedDay, GrantOneOff
from server.inspection.models import SelfInspection
from server.migrate import alembic_config, upgrade
from server.people.models import Person
from server.readers.models import Reader
from server.training.models import Attendance, PersonChange, TrainingSession
from tests.integration.test_evidence_chain import mamori_verify
from tests.support.evidence import tamper

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)
NEW_KINDS = {"training_sessions": False, "training_attendance": True, "person_changes": True,
             "self_inspections": True, "access_reviews": True, "cabinet_grants": False, "grant_one_offs": False,
             "closed_days": False, "card_checks": True}


@pytest.fixture
def database_url(empty_database_url):
    return empty_database_url


def _written_before_registration(db) -> dict[str, object]:
    """One row of each new kind; the row ids by table."""
    person = Person(name="佐藤 花子", created_at=NOW)
    cabinet = Reader(id="cab-1", site="main", role="cabinet", name="書庫", created_at=NOW)
    db.add_all([person, cabinet])
    db.flush()
    session = TrainingSession(held_on=date(2026, 11, 2), title="情報セキュリティ教育", by_name="管理者", created_at=NOW)
    grant = CabinetGrant(cabinet_id="cab-1", person_id=person.id, hours=[[0, "08:00", "19:00"]], created_at=NOW,
                         created_by="管理者")
    db.add_all([session, grant])
    db.flush()
    rows = [Attendance(session_id=session.id, person_id=person.id, action="attended", at=NOW, by_name="管理者"),
            PersonChange(person_id=person.id, at=NOW, fields={"name": [None, "佐藤 花子"]}, by_name="管理者"),
            SelfInspection(month="2026-11", answered_at=NOW, answered_by="管理者", answers={"q1": {"ok": True}}),
            AccessReview(quarter="2026-Q4", signed_at=NOW, signed_by="管理者", digest="0" * 64, lines=1),
            GrantOneOff(grant_id=grant.id, day=date(2026, 12, 5), starts=time(19), ends=time(21), reason="決算",
                        created_at=NOW, created_by="管理者"),
            ClosedDay(day=date(2026, 12, 28), label="仕事納め", created_at=NOW, created_by="管理者"),
            CardCheck(scan_id="s-1", uid="04AABBCCDDEEFF", kind="ntag424_sun", ok=True, counter=7, at=NOW)]
    db.add_all(rows)
    db.flush()
    return {row.__tablename__: (row.day if isinstance(row, ClosedDay) else row.scan_id
                                if isinstance(row, CardCheck) else row.id)
            for row in [session, grant, *rows]}


def test_upgrade_chains_the_new_kinds_and_verify_names_a_tampered_row(database_url):
    assert {name: kinds()[name].immutable for name in NEW_KINDS} == NEW_KINDS
    command.upgrade(alembic_config(database_url), "head")  # the schema, triggers only for 0016's kinds
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert not set(NEW_KINDS) & capture.installed(conn)
        with unit_of_work(make_session_factory(engine)) as db:
            ids = _written_before_registration(db)
        upgrade(database_url)  # `mamori db upgrade`: triggers, and what was there chained
        with engine.connect() as conn:
            assert set(kinds()) <= capture.installed(conn)
            assert all(position(conn, table, row_id) is not None for table, row_id in ids.items()), ids
        assert snapshot_verify(engine, Settings().zone).ok
        assert mamori_verify(database_url) == 0

        with unit_of_work(make_session_factory(engine)) as db:  # written after: chained by its commit
            db.add(ClosedDay(day=date(2026, 12, 29), label="年末", created_at=NOW, created_by="管理者"))
        with engine.connect() as conn:
            assert position(conn, "closed_days", date(2026, 12, 29)) is not None

        sqlite = database_url.startswith("sqlite")
        tamper(database_url, *(["DROP TRIGGER training_attendance_no_update"] if sqlite else []),
               f"UPDATE training_attendance SET by_name = '別人' WHERE id = {ids['training_attendance']}",
               "UPDATE closed_days SET label = '営業日' WHERE day = '2026-12-28'")
        named = {(p.what, p.kind, p.row_id, p.columns) for p in snapshot_verify(engine, Settings().zone).problems}
        assert named == {("differs", "training_attendance", str(ids["training_attendance"]), ("by_name",)),
                         ("differs", "closed_days", "2026-12-28", ("label",))}
        assert mamori_verify(database_url) == 1
        if not sqlite:  # the chain's own refusal for an immutable kind without a trigger of its own
            with pytest.raises(DBAPIError, match="is evidence"), engine.begin() as conn:
                conn.execute(text("UPDATE card_checks SET ok = false"))
            with engine.connect() as conn:
                assert conn.execute(select(CardCheck.ok)).scalar() is True
    finally:
        engine.dispose()
