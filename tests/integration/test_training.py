"""情報セキュリティ教育 end to end, on SQLite and PostgreSQL: a surveyor whose only session was 13 months
ago is refused at the cabinet by a real scan through the ingest; a session recorded on the page lets
them in at the next tap, the roster shows the date and the allowlist carries their card again. The
reminder and the lapse alert come once each with a moved clock; attendance is append-only in the
database; the upgrade turns typed dates into carried-over sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from gateway import protocol
from server.accounts.service import add_user
from server.alerts.models import Alert
from server.checkouts.chase import chase
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.migrate import upgrade
from server.notify.models import Notice
from server.people.models import Person
from server.people.service import add_person
from server.readers.models import Reader
from server.training.models import Attendance, TrainingSession
from server.training.service import withdraw
from tests.support.gateway import CABINET_KEY, TopicWatcher, wait_for
from tests.support.office import ADMIN_PASSWORD, Office
from tests.support.training import record_training, withdraw_attendance
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration
CARD = "0A1B2C3D4E"


def allows(watcher: TopicWatcher, uid: str) -> bool:
    latest = watcher.latest()
    return latest is not None and protocol.allowlist_hash(latest.salt, uid, bytes.fromhex(CABINET_KEY)) in latest.hashes


@pytest.fixture
def office(database_url, broker):
    """The whole office; its allowlists compared every half second, so the republished one comes quickly."""
    with Office(database_url, broker.url, allowlist_check_s=0.5) as office:
        office.wait_connected()
        yield office


def test_a_lapsed_surveyor_is_refused_until_a_session_is_recorded_then_opens_at_the_next_tap(office, broker):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    with unit_of_work(office.factory) as db:
        db.get(Reader, "cabinet-1").allowlist_key = CABINET_KEY
    watcher = TopicWatcher(broker, "cabinet-1", "allowlist", protocol.Allowlist)
    try:
        today = datetime.now(office.settings.zone).date()
        person = office.add_person("佐藤 花子", CARD, key_holder=True, training_on=today - timedelta(days=396))
        assert cabinet.wait_decision(cabinet.tap(CARD)).reason == "training_expired"
        wait_for(lambda: watcher.latest() is not None, timeout=15, what="an allowlist")
        assert not allows(watcher, CARD)

        client, csrf = logged_in(office.app, "kanri", ADMIN_PASSWORD)
        recorded = client.post("/training/new", data={"csrf": csrf, "held_on": today.isoformat(),
                                                      "title": "情報セキュリティ教育（区の教材）", "material": "ward",
                                                      "instructor": "管理責任者", "minutes": "60",
                                                      "attendees": str(person["id"])})
        assert recorded.status_code == 303, recorded.text
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert cabinet.wait_decision(cabinet.tap(CARD, at=later)).result == "unlock"
        roster = client.get("/roster").text
        assert "佐藤 花子" in roster and f"{today:%Y/%m/%d}" in roster
        wait_for(lambda: allows(watcher, CARD), timeout=15, what="the card back on the allowlist")
        assert office.get(f"/people/{person['id']}")["training_on"] == today.isoformat()
    finally:
        watcher.close()


@pytest.fixture
def factory(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_the_reminder_and_the_lapse_alert_come_once_each_and_a_new_session_resolves_them(factory, database_url):
    settings = Settings(database_url=database_url, smtp_url="smtp://127.0.0.1:2525")
    trained = date(2025, 11, 1)
    with unit_of_work(factory) as db:
        now = datetime.now(UTC)
        sato = add_person(db, now, name="佐藤 花子", card_uid=None, roles=["surveyor"], training_on=trained)
        add_person(db, now, name="受付 一郎", card_uid=None, roles=["receptionist"], training_on=trained)
        manager = add_user(db, "kanri", "manager", "Kanri-2026-pass", now)
        manager.email = "kanri@example.jp"
        own = add_user(db, "sato", "surveyor", "Sato-2026-pass!", now)
        own.email, own.person_id = "sato@example.jp", sato.id
        sato_id = sato.id

    def round_at(day: date) -> list[tuple[str, date]]:
        with unit_of_work(factory) as db:
            moment = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
            return [(a.type, a.training_lapses_on) for a in chase(db, moment, settings)]

    last_day = trained + timedelta(days=365)
    assert round_at(last_day - timedelta(days=31)) == []
    assert round_at(last_day - timedelta(days=20)) == [("training_due", last_day)]
    assert round_at(last_day - timedelta(days=19)) == []  # once, not daily
    assert round_at(last_day + timedelta(days=1)) == [("training_lapsed", last_day)]
    assert round_at(last_day + timedelta(days=2)) == []
    with unit_of_work(factory) as db:
        kinds = dict(db.execute(select(Notice.kind, func.count()).group_by(Notice.kind)).all())
        assert kinds == {"training_due": 2, "training_lapsed": 2}  # the person and the manager, once each
        assert db.scalar(select(func.count()).select_from(Alert).where(Alert.person_id != sato_id)) == 0

    site = Site(database_url)
    with page_client(site.app):
        manager, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
        dashboard = manager.get("/dashboard").text
    assert "佐藤 花子 さんの情報セキュリティ教育は 2026/11/01(日) で期限が切れました" in dashboard
    record_training(factory, [sato_id], date.today())
    with unit_of_work(factory) as db:
        states = {a.type: (a.state, a.resolved_by) for a in db.scalars(select(Alert))}
        assert states == {"training_due": ("resolved", "mamori"), "training_lapsed": ("resolved", "kanri")}
        assert db.get(Person, sato_id).training_on == date.today()


def test_attendance_is_append_only_in_the_database_and_withdrawal_moves_the_date_back(factory):
    with unit_of_work(factory) as db:
        person = add_person(db, datetime.now(UTC), name="鈴木 次郎", card_uid=None, training_on=date(2025, 4, 1))
        person_id = person.id
    record_training(factory, [person_id], date(2026, 4, 1))
    for statement in ("UPDATE training_attendance SET person_id = person_id", "DELETE FROM training_attendance"):
        with pytest.raises(Exception, match="append-only|is evidence"), unit_of_work(factory) as db:
            db.execute(text(statement))
    with unit_of_work(factory) as db:
        newest = db.scalars(select(Attendance).join(TrainingSession, TrainingSession.id == Attendance.session_id)
                            .where(TrainingSession.held_on == date(2026, 4, 1))).one()
        withdraw(db, datetime.now(UTC), "kanri", newest.id, "別の職員と取り違え")
    with unit_of_work(factory) as db:
        assert db.get(Person, person_id).training_on == date(2025, 4, 1)  # the earlier session stands
    withdraw_attendance(factory, person_id)
    with unit_of_work(factory) as db:
        assert db.get(Person, person_id).training_on is None
        assert db.scalar(select(func.count()).select_from(Attendance)) == 4  # two attended, two withdrawn


def test_the_upgrade_turns_typed_training_dates_into_carried_over_sessions(empty_database_url):
    upgrade(empty_database_url, "0015")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            for name, trained in (("佐藤 花子", "2025-10-01"), ("鈴木 次郎", "2025-10-01"), ("田中 一郎", None)):
                conn.execute(text("INSERT INTO people (name, active, key_holder, training_on, roles, created_at) "
                                  "VALUES (:name, true, true, :trained, '[]', :at)"),
                             {"name": name, "trained": trained, "at": datetime(2025, 9, 1, tzinfo=UTC)})
        upgrade(empty_database_url)
        factory = make_session_factory(engine)
        with unit_of_work(factory) as db:
            [session] = db.scalars(select(TrainingSession)).all()
            assert (session.held_on, session.carried_over) == (date(2025, 10, 1), True)
            attended = db.scalars(select(Person.name).join(Attendance, Attendance.person_id == Person.id)
                                  .order_by(Person.name)).all()
            assert attended == ["佐藤 花子", "鈴木 次郎"]
            dates = {p.name: p.training_on for p in db.scalars(select(Person))}
            assert dates == {"佐藤 花子": date(2025, 10, 1), "鈴木 次郎": date(2025, 10, 1), "田中 一郎": None}
    finally:
        engine.dispose()
