"""/admin/grants, revoking a lost card, and /access-review: managers change and sign, everything audited.

The pages without the MQTT half (tests/support/web.py Site), SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from server.alerts.models import Alert
from server.db import unit_of_work
from server.grants.models import AccessReview, CabinetGrant, GrantOneOff
from server.grants.review import ReviewChecker
from server.people.models import Card, Person
from server.readers.models import Reader
from tests.support.web import PASSWORDS, Site, logged_in, page_client
from tests.support.words import facts, visible_text

pytestmark = pytest.mark.integration
CARD = "0123456789ABCDEF"


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    site.clock.now = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # Thursday 10:00 in Tokyo
    with page_client(site.app):
        with unit_of_work(site.factory) as db:
            db.add(Reader(id="folders", site="nerima", role="cabinet", name="書類キャビネット", created_at=site.clock.now))
            person = Person(name="調査 花子", key_holder=True, training_on=date(2026, 6, 1), roles=["surveyor"],
                            created_at=site.clock.now)
            db.add(person)
            db.flush()
            db.add(Card(uid=CARD, person_id=person.id, created_at=site.clock.now))
            site.person_id = person.id
        yield site


def audits(site, action: str) -> list[dict]:
    from server.audit.models import AuditEvent

    with site.factory() as db:
        return [facts(e.detail) for e in db.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_a_manager_grants_weekdays_8_to_19_adds_a_saturday_and_a_closed_day(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    before = client.get("/admin/grants").text
    assert "鍵を持つ職員なら誰でも、いつでも開けられます" in before and 'href="/admin/grants"' in before
    assert "勤労感謝の日" not in before and "元日" in visible_text(before)  # the library's holidays ahead

    bad = client.post("/admin/grants", data={"csrf": csrf, "cabinet": "folders", "who": f"person:{site.person_id}",
                                             "days": ["0", "1"], "starts": "19:00", "ends": "08:00"})
    assert bad.status_code == 422
    assert re.search(r'id="f-ends-error">終了は開始より後にしてください。', bad.text)
    assert 'name="days" value="1" checked' in bad.text and 'name="days" value="2" checked' not in bad.text  # kept
    added = client.post("/admin/grants", data={"csrf": csrf, "cabinet": "folders", "who": f"person:{site.person_id}",
                                               "days": ["0", "1", "2", "3", "4"], "starts": "08:00", "ends": "19:00",
                                               "expires_on": "2027-03-31"})
    assert added.status_code == 303, added.text
    page = client.get("/admin/grants").text
    assert "月〜金 08:00〜19:00" in page and "2027/04/01" in page  # valid through 3/31: ends at midnight
    with site.factory() as db:
        grant = db.scalars(select(CabinetGrant)).one()
        assert grant.hours[0] == [0, "08:00", "19:00"] and len(grant.hours) == 5
    [fact] = audits(site, "grant_added")
    assert fact["cabinet"] == "folders" and fact["person"] == "調査 花子"

    no_reason = client.post(f"/admin/grants/{grant.id}/one-offs",
                            data={"csrf": csrf, "day": "2026-12-05", "starts": "09:00", "ends": "12:00", "reason": ""})
    assert no_reason.status_code == 422 and f'id="f-o{grant.id}-reason-error"' in no_reason.text
    one_off = client.post(f"/admin/grants/{grant.id}/one-offs", data={
        "csrf": csrf, "day": "2026-12-05", "starts": "09:00", "ends": "12:00", "reason": "締切前の書類整理"})
    assert one_off.status_code == 303
    with site.factory() as db:
        assert db.scalars(select(GrantOneOff.reason)).all() == ["締切前の書類整理"]
    assert "締切前の書類整理" in client.get("/admin/grants").text

    closed = client.post("/admin/closed-days", data={"csrf": csrf, "day": "2026-12-28", "label": "庁舎停電"})
    assert closed.status_code == 303
    again = client.post("/admin/closed-days", data={"csrf": csrf, "day": "2026-12-28", "label": "庁舎停電"})
    assert again.status_code == 422 and "この日はすでに休業日です" in again.text

    last = client.post(f"/admin/grants/{grant.id}/remove", data={"csrf": csrf})
    assert last.status_code == 422 and "最後の利用権限は削除できません" in last.text
    audit_page = visible_text(client.get("/audit").text)
    assert "利用権限の追加" in audit_page and "月〜金 08:00〜19:00" in audit_page and "臨時の利用の追加" in audit_page

    auditor, auditor_csrf = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    assert auditor.get("/admin/grants").status_code == 200
    assert auditor.post("/admin/grants", data={"csrf": auditor_csrf, "cabinet": "folders"}).status_code == 403


def test_a_lost_card_is_revoked_in_one_action_and_audited(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    page = client.get(f"/admin/people/{site.person_id}").text
    assert "紛失として無効にする" in page and f"/cards/{CARD}/revoke" in page
    revoked = client.post(f"/admin/people/{site.person_id}/cards/{CARD}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 303
    with site.factory() as db:
        assert db.get(Card, CARD).active is False
    assert audits(site, "card_revoked") == [{"person": "調査 花子", "card": CARD}]
    assert "カードを無効にしました" in client.get(revoked.headers["location"]).text


def test_the_quarterly_review_is_signed_kept_and_its_overdue_alert_raised_once(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    page = client.get("/access-review").text
    assert "2026-Q4 の点検はまだ承認されていません" in page and "書類キャビネット（いつでも）" in page
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)
    assert client.post("/access-review", data={"csrf": csrf, "digest": "0" * 64}).status_code == 409

    checker = ReviewChecker(site.factory, site.clock, site.app.state.settings)
    assert checker.check() == 0  # Q4 is not over yet
    site.clock.now = datetime(2027, 1, 4, 0, 0, tzinfo=UTC)  # Q1 2027: Q4 2026 was never signed
    assert checker.check() == 1 and checker.check() == 0  # once per quarter
    with site.factory() as db:
        [alert] = db.scalars(select(Alert).where(Alert.type == "access_review_overdue")).all()
        assert alert.state == "open" and alert.fold_key == "access_review_overdue:2026-Q4"
    january, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    assert "前の四半期の利用権限の点検が、期限までに承認されていません" in january.get("/dashboard").text

    site.clock.now = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)  # back in Q4 for the test's sake: signed there
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    signed = client.post("/access-review", data={"csrf": csrf, "digest": digest, "note": "異動者なし"})
    assert signed.status_code == 303
    after = client.get(signed.headers["location"]).text
    assert "2026-Q4 の点検は承認済みです" in after and "異動者なし" in after
    with site.factory() as db:
        review = db.scalars(select(AccessReview)).one()
        assert (review.quarter, review.digest, review.lines, review.signed_by) == ("2026-Q4", digest, 1, "manager")
        assert db.scalars(select(Alert.state).where(Alert.type == "access_review_overdue")).one() == "resolved"
    assert audits(site, "access_review_signed")[0]["digest"] == digest
    auditor, auditor_csrf = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    assert auditor.post("/access-review", data={"csrf": auditor_csrf, "digest": digest}).status_code == 403
