"""The reception desk as a receptionist meets it: landing on /reception, the walk-in form first,
who left moved out of the day's list, no red "no free badge" after a lend, and a walk-in without a
badge marked in and out at the desk, counted on the roll call and /api/v1/presence.

The pages without MQTT (a walk-in without a badge never taps), SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.people.models import VisitorBadge
from server.visits.models import Visit
from tests.support.web import PASSWORDS, Site, hidden, logged_in, page_client

pytestmark = pytest.mark.integration
BADGE = "11223344"


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):
        yield site


def register(client, csrf: str, **fields) -> int:
    response = client.post("/reception", data={"csrf": csrf, "visitor_name": "山田 太郎", **fields})
    assert response.status_code == 303, response.text
    return int(re.search(r"/reception/visits/(\d+)", response.headers["location"]).group(1))


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def test_each_role_lands_on_its_own_page_after_login(site):
    for role, landing in [("receptionist", "/reception"), ("surveyor", "/my"), ("manager", "/dashboard")]:
        client = page_client(site.app)
        form = client.get("/login").text
        response = client.post("/login", data={"name": role, "password": PASSWORDS[role],
                                                "csrf": hidden(form, "csrf"), "next": hidden(form, "next")})
        assert (response.status_code, response.headers["location"]) == (303, landing), role
    # A page asked for before logging in still wins.
    client = page_client(site.app)
    form = client.get("/login?next=/rollcall").text
    response = client.post("/login", data={"name": "receptionist", "password": PASSWORDS["receptionist"],
                                            "csrf": hidden(form, "csrf"), "next": hidden(form, "next")})
    assert response.headers["location"] == "/rollcall"


def test_the_walk_in_form_comes_before_the_days_lists(site):
    client, _csrf = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    html = client.get("/reception").text
    assert html.index('id="walk-in"') < html.index('aria-labelledby="today-h"') < html.index('aria-labelledby="left-h"')


def test_a_walk_in_without_a_badge_is_marked_in_and_out_at_the_desk_and_on_the_roll_call(site):
    client, csrf = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    visit_id = register(client, csrf, organisation="練馬区 介護保険課")
    page = client.get(f"/reception/visits/{visit_id}").text
    assert 'id="mark-in"' in page and "カードなし" in page

    assert client.post(f"/reception/visits/{visit_id}/in", data={"csrf": csrf}).status_code == 303
    with site.factory() as db:
        visit = db.get(Visit, visit_id)
        assert (visit.state, visit.entered_by, visit.entered_at is not None) == ("in", "receptionist", True)
    assert "受付で記録: receptionist" in client.get(f"/reception/visits/{visit_id}").text
    assert "山田 太郎" in client.get("/rollcall").text
    present = client.get("/api/v1/presence").json()
    assert [(p["kind"], p["name"], p["visit_id"]) for p in present] == [("visitor", "山田 太郎", visit_id)]
    assert "山田 太郎" in section(client.get("/reception").text, "inside-h")
    # Marked in twice is refused, with words, not a second entry.
    again = client.post(f"/reception/visits/{visit_id}/in", data={"csrf": csrf})
    assert again.status_code == 409 and "受付済み" in again.text

    site.clock.advance(minutes=5)
    assert client.post(f"/reception/visits/{visit_id}/out", data={"csrf": csrf}).status_code == 303
    assert client.get("/api/v1/presence").json() == []
    desk = client.get("/reception").text
    assert "山田 太郎" not in section(desk, "today-h") and "山田 太郎" in section(desk, "left-h")
    log = client.get("/entry-log").text
    assert "山田 太郎" in log and "受付で退室" in log
    with site.factory() as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.actor == "receptionist"))]
    assert "visit_marked_in" in actions and "visit_marked_out" in actions


def test_a_visitor_with_a_badge_taps_in_rather_than_being_marked(site):
    with unit_of_work(site.factory) as db:
        db.add(VisitorBadge(uid=BADGE, label="来訪者 01", created_at=datetime.now(UTC)))
    client, csrf = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    visit_id = register(client, csrf, badge_uid=BADGE)
    assert 'id="mark-in"' not in client.get(f"/reception/visits/{visit_id}").text
    refused = client.post(f"/reception/visits/{visit_id}/in", data={"csrf": csrf})
    assert refused.status_code == 409 and "読取機でカードをかざして" in refused.text


def test_lending_the_last_free_badge_shows_no_red_message(site):
    with unit_of_work(site.factory) as db:
        db.add(VisitorBadge(uid=BADGE, label="来訪者 01", created_at=datetime.now(UTC)))
    client, csrf = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    visit_id = register(client, csrf)
    lent = client.post(f"/reception/visits/{visit_id}/badge", data={"csrf": csrf, "badge_uid": BADGE})
    assert lent.status_code == 303
    page = client.get(lent.headers["location"]).text
    assert "カードを貸し出しました" in page
    assert "field-error" not in page and "貸出できる来訪者カード" not in page and BADGE not in page
    desk = client.get("/reception").text  # the walk-in form says it calmly: register without a badge
    assert re.search(r'<p class="muted" id="no-free-badge">[^<]*カードなしで受付', desk)
