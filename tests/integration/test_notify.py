"""Notices end to end: made once in the caller's transaction, delivered to a real SMTP server and a
real webhook receiver, retried on the documented schedule, chosen by each person on their page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, select

from server.accounts.models import User
from server.accounts.service import add_user
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.migrate import alembic_config, upgrade
from server.notify.models import Notice
from server.notify.queue import notify
from server.notify.recipients import accounts_of_people
from server.notify.repository import claim_due
from server.notify.sender import NoticeSender
from server.people.models import Person
from server.visits.arrivals import tell_hosts
from server.visits.models import Visit
from tests.support.notify import SmtpServer, WebhookReceiver
from tests.support.web import PASSWORDS, Clock, Site, logged_in, page_client

pytestmark = pytest.mark.integration
SECRET = "webhook-secret-for-tests"
SUBJECTS = {"ja": "来所者が到着しました: 山田様", "en": "Your visitor has arrived: Ms Yamada"}


@pytest.fixture
def factory(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def settings(_factory, **values) -> Settings:
    """The notice settings; the sender and notify() take their database from the caller."""
    return Settings(public_url="https://mamori.example.jp", mail_from="mamori@example.jp", **values)


def account(db, name: str, *, role="surveyor", email: str | None = None, language="ja", off=(), person=None) -> User:
    user = add_user(db, name, role, PASSWORDS["surveyor"], datetime.now(UTC))
    user.email, user.language, user.notices_off, user.person_id = email, language, list(off), person
    db.flush()
    return user


def arrival(lang: str) -> tuple[str, str]:
    body = ("山田様（株式会社サンプル）が受付に到着しました。" if lang == "ja" else
            "Ms Yamada (Sample Co.) is at reception.")
    return SUBJECTS[lang], body


def visitor_arrived(db, config: Settings, users, visit_id: int = 42) -> int:
    return notify(db, datetime(2026, 11, 27, 0, 30, tzinfo=UTC), settings=config, kind="visitor_arrived",
                  key=f"visitor_arrived:{visit_id}", users=users, message=arrival, payload={"visit_id": visit_id})


def notices(factory) -> list[Notice]:
    with factory() as db:
        return list(db.scalars(select(Notice).order_by(Notice.id)))


def test_a_visitor_arrival_is_mailed_once_to_the_host(factory):
    with SmtpServer() as smtp:
        config = settings(factory, smtp_url=smtp.url)
        with factory.begin() as db:
            host = Person(name="佐藤 花子", created_at=datetime.now(UTC))
            db.add(host)
            db.flush()
            account(db, "sato", email="sato@example.jp", person=host.id)
            account(db, "someone-else", email="else@example.jp")
            host_id = host.id
        for expected_new in (1, 0):  # the second call (a replay, another process) adds nothing
            with factory.begin() as db:
                assert visitor_arrived(db, config, accounts_of_people(db, [host_id])) == expected_new
        sender = NoticeSender(factory, config, Clock())
        assert sender.send_due().sent == 1
        assert sender.send_due().sent == 0
    [mail] = smtp.received
    assert mail.rcpt_tos == ["sato@example.jp"] and mail.message["To"] == "sato@example.jp"
    assert mail.message["Subject"] == SUBJECTS["ja"]
    assert mail.message["From"] == "mamori@example.jp" and mail.message["Date"]
    assert mail.message.get_content().strip() == arrival("ja")[1]
    [notice] = notices(factory)
    assert mail.message["Message-ID"] == f"<notice-{notice.id}@mamori.example.jp>"
    assert notice.sent_at is not None and notice.attempts == 1 and notice.user_id is not None


def test_a_stored_legacy_visitor_name_with_a_newline_still_sends_the_arrival_email(factory):
    """Names were not checked for line breaks before; such a name must not make the notice unsendable."""
    with SmtpServer() as smtp:
        config = settings(factory, smtp_url=smtp.url)
        now = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)
        with factory.begin() as db:
            host = Person(name="佐藤 花子", created_at=now)
            db.add(host)
            db.flush()
            account(db, "sato", email="sato@example.jp", person=host.id)
            visit = Visit(visitor_name="山田\r\nBcc: thief@example.com\n太郎", organisation="株式会社\nサンプル",
                          host_person_id=host.id, state="in", registered_at=now)
            db.add(visit)
            db.flush()
            assert tell_hosts(db, now, config, [(visit.id, now)]) == 1
        assert NoticeSender(factory, config, Clock()).send_due().sent == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == ["sato@example.jp"] and mail.message["Bcc"] is None
    assert mail.message["Subject"] == "【mamori】来所者 山田 Bcc: thief@example.com 太郎 様（株式会社 サンプル）が到着しました"
    [notice] = notices(factory)
    assert notice.sent_at is not None and notice.attempts == 1


def test_each_person_gets_the_notice_in_their_own_language(factory):
    with SmtpServer() as smtp:
        config = settings(factory, smtp_url=smtp.url)
        with factory.begin() as db:
            users = [account(db, "ja-host", email="ja@example.jp"), account(db, "en-host", email="en@example.jp",
                                                                            language="en")]
            visitor_arrived(db, config, users)
        NoticeSender(factory, config, Clock()).send_due()
    assert {m.rcpt_tos[0]: m.message["Subject"] for m in smtp.received} == {
        "ja@example.jp": SUBJECTS["ja"], "en@example.jp": SUBJECTS["en"]}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # a test server on loopback
def test_the_smtp_login_is_used_when_a_user_name_is_set(factory):
    with SmtpServer(login=("mamori", "smtp-pass")) as smtp:
        for password, sent in (("wrong", 0), ("smtp-pass", 1)):
            config = settings(factory, smtp_url=smtp.url, smtp_username="mamori", smtp_password=password)
            with factory.begin() as db:
                visitor_arrived(db, config, [account(db, f"host-{password}", email="h@example.jp")])
            assert NoticeSender(factory, config, Clock()).send_due().sent == sent
    assert len(smtp.received) == 1


def test_who_gets_an_email_follows_each_persons_choices(factory):
    config = settings(factory, smtp_url="smtp://127.0.0.1:1")
    with factory.begin() as db:
        wants = account(db, "wants", email="wants@example.jp", off=["overdue"])
        account(db, "turned-off", email="off@example.jp", off=["visitor_arrived"])
        account(db, "no-address")
        gone = account(db, "gone", email="gone@example.jp")
        gone.active = False
        visitor_arrived(db, config, db.scalars(select(User)).all())
        notify(db, datetime.now(UTC), settings=config, kind="escalated", key="escalated:7",
               users=[wants], message=arrival, payload={})  # a surveyor gets no escalations
        wants_id = wants.id
    assert [(n.kind, n.user_id) for n in notices(factory)] == [("visitor_arrived", wants_id)]


def test_without_an_smtp_server_no_email_notices_are_made(factory):
    with factory.begin() as db:
        assert visitor_arrived(db, settings(factory), [account(db, "host", email="host@example.jp")]) == 0
    assert notices(factory) == []


def test_a_webhook_is_signed_and_carries_the_event(factory):
    with WebhookReceiver(SECRET) as hook:
        config = settings(factory, webhook_url=hook.url, webhook_secret=SECRET)
        with factory.begin() as db:
            assert visitor_arrived(db, config, []) == 1
        assert NoticeSender(factory, config, Clock()).send_due().sent == 1
    [delivery] = hook.deliveries
    [notice] = notices(factory)
    assert delivery.signed_right and delivery.answered == 200
    assert delivery.headers["X-Mamori-Delivery"] == str(notice.id)
    assert delivery.headers["X-Mamori-Timestamp"] == str(int(Clock().now.timestamp()))
    assert delivery.json == {"v": 1, "kind": "visitor_arrived", "key": "visitor_arrived:42",
                             "at": "2026-11-27T00:30:00+00:00", "visit_id": 42}
    assert notice.user_id is None and notice.subject == SUBJECTS["ja"]


def test_a_webhook_signed_with_another_secret_is_refused_and_kept(factory):
    with WebhookReceiver(SECRET) as hook:
        config = settings(factory, webhook_url=hook.url, webhook_secret="not-the-receivers-secret")
        with factory.begin() as db:
            visitor_arrived(db, config, [])
        assert NoticeSender(factory, config, Clock()).send_due().retried == 1
    assert [d.answered for d in hook.deliveries] == [401]
    [notice] = notices(factory)
    assert notice.sent_at is None and notice.failed_at is None and "401" in notice.last_error


def test_a_failed_webhook_is_retried_after_30_then_60_seconds(factory):
    clock = Clock()
    with WebhookReceiver(SECRET, failures=[500, 500]) as hook:
        config = settings(factory, webhook_url=hook.url, webhook_secret=SECRET)
        with factory.begin() as db:
            visitor_arrived(db, config, [])
        sender = NoticeSender(factory, config, clock)
        rounds = []
        for seconds in (0, 29, 1, 59, 1):  # at 0, 29, 30, 89 and 90 s
            clock.advance(seconds=seconds)
            rounds.append(sender.send_due())
    assert [(r.sent, r.retried) for r in rounds] == [(0, 1), (0, 0), (0, 1), (0, 0), (1, 0)]
    assert [d.answered for d in hook.deliveries] == [500, 500, 200]
    assert len({d.headers["X-Mamori-Delivery"] for d in hook.deliveries}) == 1
    [notice] = notices(factory)
    assert notice.attempts == 3 and notice.sent_at == clock.now


def test_a_notice_is_given_up_after_the_last_attempt(factory, caplog):
    clock = Clock()
    with WebhookReceiver(SECRET, failures=[500] * 5) as hook:
        config = settings(factory, webhook_url=hook.url, webhook_secret=SECRET, notice_max_attempts=2)
        with factory.begin() as db:
            visitor_arrived(db, config, [])
        sender = NoticeSender(factory, config, clock)
        with caplog.at_level(logging.ERROR, logger="mamori.notify"):
            assert sender.send_due().retried == 1
            clock.advance(seconds=30)
            assert sender.send_due().failed == 1
            clock.advance(hours=2)
            assert sender.send_due().failed == 0
    assert len(hook.deliveries) == 2
    [notice] = notices(factory)
    assert notice.failed_at is not None and notice.sent_at is None and notice.attempts == 2
    assert any("given up" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_a_notice_claimed_by_one_sender_is_not_claimed_by_another(factory):
    config = settings(factory, webhook_url="http://127.0.0.1:1/", webhook_secret=SECRET)
    with factory.begin() as db:
        visitor_arrived(db, config, [])
    now = Clock().now
    with factory.begin() as db:
        assert len(claim_due(db, now, 20)) == 1
    with factory.begin() as db:
        assert claim_due(db, now, 20) == []


def test_the_migration_goes_down_and_up_again(factory, database_url):
    command.downgrade(alembic_config(database_url), "0004")
    engine = make_engine(database_url)
    try:
        assert "notices" not in inspect(engine).get_table_names()
        assert "email" not in {c["name"] for c in inspect(engine).get_columns("users")}
    finally:
        engine.dispose()
    upgrade(database_url)


@pytest.fixture
def site(database_url):
    site = Site(database_url, smtp_url="smtp://127.0.0.1:1")
    with page_client(site.app):
        yield site


def test_a_person_sets_their_address_and_chooses_their_notices(site):
    client, csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    form = client.get("/account/notices").text
    assert "来所者の到着" in form and "返却期限超過" in form and "返却期限超過（督促）" not in form
    response = client.post("/account/notices", data={"csrf": csrf, "email": "yamada@@example", "kinds": []})
    assert response.status_code == 422 and "メールアドレスの形式が正しくありません" in response.text
    response = client.post("/account/notices", data={"csrf": csrf, "email": " yamada@example.jp ",
                                                     "kinds": ["visitor_arrived", "overdue"]})
    assert response.status_code == 303
    assert "保存しました" in client.get(response.headers["location"]).text
    with site.factory() as db:
        user = db.scalars(select(User).where(User.name == "surveyor")).one()
    assert user.email == "yamada@example.jp"
    assert user.notices_off == ["case_deadline_near", "case_deadline_passed", "case_folder_out", "case_report_late",
                                "due_soon", "not_erased", "training_due", "training_lapsed"]
    assert ("notices_changed", "surveyor") in site.audit()


def test_an_admin_links_an_account_to_its_staff_member(site):
    with site.factory.begin() as db:
        person = Person(name="山田 太郎", created_at=datetime.now(UTC))
        db.add(person)
        db.flush()
        person_id = person.id
        target = db.scalars(select(User.id).where(User.name == "receptionist")).one()
    client, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    response = client.post(f"/admin/accounts/{target}/contact", data={"csrf": csrf, "email": "uketsuke@example.jp",
                                                                      "person_id": str(person_id)})
    assert response.status_code == 303
    assert "uketsuke@example.jp" in client.get("/admin/accounts").text
    with site.factory() as db:
        assert [u.name for u in accounts_of_people(db, [person_id])] == ["receptionist"]
        other = db.scalars(select(User.id).where(User.name == "manager")).one()
    response = client.post(f"/admin/accounts/{other}/contact", data={"csrf": csrf, "person_id": str(person_id)})
    assert response.status_code == 422 and "既に別のアカウントに紐付いています" in response.text
    assert ("account_contact_changed", "admin") in site.audit()
